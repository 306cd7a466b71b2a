package diff

import (
	"context"
	"maps"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// createYAML creates one object from YAML as an administrator would, outside
// any Kustomization.
func createYAML(t *testing.T, c client.Client, doc string) {
	t.Helper()
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	if err := c.Create(context.Background(), obj); err != nil {
		t.Fatalf("create %s/%s: %v", obj.GetKind(), obj.GetName(), err)
	}
}

// Item 1: kustomize sets metadata.namespace (here from spec.targetNamespace)
// on every kind its built-in schema (Kubernetes 1.21) does not list as
// cluster-scoped: custom kinds like a ClusterIssuer and newer built-ins like
// ValidatingAdmissionPolicy. The API server drops the namespace, and
// kustomize-controller records the inventory entry from the server's answer
// (inventory.AddChangeSet over ssa's change set), so the entry has none. The
// next reconcile of the same objects finds them in its new inventory, so
// nothing is pruned: the issuer and the policy are unchanged, only the
// ConfigMap the pull request edits is configured.
func TestClusterScopedKindsGivenANamespaceAreNotPruned(t *testing.T) {
	ns := kubetest.Setup(t)
	group := ns.Name + ".example.com"
	createYAML(t, ns.Client, crdYAML(group, "ClusterIssuer", "clusterissuers", "Cluster", "{type: object, x-kubernetes-preserve-unknown-fields: true}"))
	waitEstablished(t, ns.Client, "clusterissuers."+group)
	issuer, policy := ns.Name+"-letsencrypt", ns.Name+"-policy"
	base := map[string]string{
		"app/issuer.yaml": "apiVersion: " + group + "/v1\nkind: ClusterIssuer\nmetadata: {name: " + issuer + "}\nspec: {acme: {server: https://acme.example}}\n",
		"app/policy.yaml": `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: ` + policy + `}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}]
  validations: [{expression: "true"}]
`,
		"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {level: info}\n",
	}
	ks := newKS(ns.Name, "certs", "./app")
	ks.Spec.TargetNamespace = ns.Name
	ks.Spec.Prune = true
	reconcile(t, ns, writeTree(t, ns.Name, base), ks)

	pr := maps.Clone(base)
	pr["app/cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {level: debug}\n"
	k := diffKS(t, ns, writeTree(t, ns.Name, pr), ks)
	wantRows(t, k,
		row{ActionUnchanged, "ClusterIssuer", "", issuer},
		row{ActionUnchanged, "ValidatingAdmissionPolicy", "", policy},
		row{ActionConfigured, "ConfigMap", ns.Name, "settings"},
	)
}

// Item 6: kustomize-controller prunes only after the apply succeeded
// (KustomizationReconciler.reconcile returns the apply error before prune,
// and ssa's ApplyAllStaged stops at the first stage with a failing dry-run),
// so with a failing object nothing is deleted yet. The deletion is shown
// with that condition, never as a plain deletion.
func TestPruneWaitsForASuccessfulApply(t *testing.T) {
	ns := kubetest.Setup(t)
	base := map[string]string{
		"app/keep.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep, namespace: __NS__}\ndata: {v: \"1\"}\n",
		"app/gone.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gone, namespace: __NS__}\ndata: {v: \"1\"}\n",
	}
	ks := newKS(ns.Name, "app", "./app")
	ks.Spec.Prune = true
	reconcile(t, ns, writeTree(t, ns.Name, base), ks)

	t.Run("with every object applying the removed one is deleted", func(t *testing.T) {
		k := diffKS(t, ns, writeTree(t, ns.Name, map[string]string{"app/keep.yaml": base["app/keep.yaml"]}), ks)
		wantRows(t, k, row{ActionUnchanged, "ConfigMap", ns.Name, "keep"}, row{ActionDeleted, "ConfigMap", ns.Name, "gone"})
		if c := change(t, k, "ConfigMap", "gone"); c.Reason != "" {
			t.Errorf("a plain deletion carries reason %q", c.Reason)
		}
	})
	t.Run("with a failing object the deletion waits for a successful apply", func(t *testing.T) {
		pr := writeTree(t, ns.Name, map[string]string{
			"app/keep.yaml": base["app/keep.yaml"],
			"app/bad.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name, namespace: __NS__}\n",
		})
		objs, err := Build(pr, ks, BuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rm := controllerManager(ns.Env)
		rm.SetOwnerLabels(objs, ks.Name, ks.Namespace)
		if _, err := rm.ApplyAllStaged(context.Background(), objs, controllerApplyOptions(ks)); err == nil {
			t.Fatal("the controller's apply succeeded; the fixture needs an object that fails")
		}
		k := diffKS(t, ns, pr, ks)
		wantRows(t, k,
			row{ActionUnchanged, "ConfigMap", ns.Name, "keep"},
			row{ActionFailed, "ConfigMap", ns.Name, "Bad_Name"},
			row{ActionDeleted, "ConfigMap", ns.Name, "gone"},
		)
		if c := change(t, k, "ConfigMap", "gone"); !strings.HasPrefix(c.Reason, "would be deleted after a successful apply") {
			t.Errorf("gone: reason %q", c.Reason)
		}
	})
}

// webDeployment is a Deployment manifest named name; extra is YAML placed
// under spec (indented two spaces).
func webDeployment(name, extra string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ` + name + `, namespace: __NS__}
spec:
` + extra + `  selector: {matchLabels: {app: ` + name + `}}
  template:
    metadata: {labels: {app: ` + name + `}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
`
}

// Item 2: before applying, kustomize-controller cleans up the live object
// (KustomizationReconciler.apply sets ssa.ApplyOptions.Cleanup; ssa's
// cleanupMetadata patches it): the fields of any kubectl* manager (Update or
// Apply), before-first-apply and its own Update entries become its own, and
// kubectl's last-applied-configuration annotation goes; objects marked
// ssa: Merge are left as they are. The apply that follows then removes the
// fields taken over that the manifest does not set, and ssa reports the
// object configured. The pull request changes nothing here; the expected
// result is what the controller's library does on the same cluster.
func TestControllerTakesOverKubectlFields(t *testing.T) {
	ns := kubetest.Setup(t)
	ctx := context.Background()
	root := writeTree(t, ns.Name, map[string]string{
		"app/cm.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: __NS__}\ndata: {level: info}\n",
		"app/merged.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: merged, namespace: __NS__, annotations: {kustomize.toolkit.fluxcd.io/ssa: Merge}}\ndata: {level: info}\n",
		"app/deploy.yaml": webDeployment("web", ""),
		"app/legacy.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: legacy, namespace: __NS__}\ndata: {level: info}\n",
	})
	ks := newKS(ns.Name, "app", "./app")
	reconcile(t, ns, root, ks)

	// kubectl edit adds a key to two ConfigMaps.
	for _, name := range []string{"settings", "merged"} {
		cm := &corev1.ConfigMap{}
		if err := ns.Client.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: name}, cm); err != nil {
			t.Fatal(err)
		}
		cm.Data["debug"] = "true"
		if err := ns.Client.Update(ctx, cm, client.FieldOwner("kubectl-edit")); err != nil {
			t.Fatal(err)
		}
	}
	// kubectl rollout restart stamps the pod template.
	restart := client.RawPatch(types.StrategicMergePatchType,
		[]byte(`{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-11-26T08:00:00Z"}}}}}`))
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "web"}}
	if err := ns.Client.Patch(ctx, dep, restart, client.FieldOwner("kubectl-rollout")); err != nil {
		t.Fatal(err)
	}
	// kubectl apply (client-side) re-applied one ConfigMap, leaving its
	// last-applied-configuration annotation.
	legacy := &corev1.ConfigMap{}
	if err := ns.Client.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: "legacy"}, legacy); err != nil {
		t.Fatal(err)
	}
	legacy.Annotations = map[string]string{corev1.LastAppliedConfigAnnotation: `{"apiVersion":"v1","kind":"ConfigMap"}`}
	if err := ns.Client.Update(ctx, legacy, client.FieldOwner("kubectl-client-side-apply")); err != nil {
		t.Fatal(err)
	}

	k := diffKS(t, ns, root, ks)
	wantRows(t, k,
		row{ActionConfigured, "ConfigMap", ns.Name, "settings"},
		row{ActionUnchanged, "ConfigMap", ns.Name, "merged"},
		row{ActionConfigured, "Deployment", ns.Name, "web"},
		row{ActionConfigured, "ConfigMap", ns.Name, "legacy"},
	)
	wantDiffLines(t, change(t, k, "ConfigMap", "settings"), `-  debug: "true"`)
	wantDiffLines(t, change(t, k, "Deployment", "web"), `-        kubectl.kubernetes.io/restartedAt: "2026-11-26T08:00:00Z"`)
	for name, manager := range map[string]string{"settings": "kubectl-edit", "legacy": corev1.LastAppliedConfigAnnotation} {
		if c := change(t, k, "ConfigMap", name); !strings.Contains(c.Reason, manager) {
			t.Errorf("%s: reason %q does not name %s", name, c.Reason, manager)
		}
	}
	for _, c := range k.Changes {
		wantControllerResult(t, ns, root, ks, c)
	}
}

// Item 14, HPA-managed replicas: a HorizontalPodAutoscaler scales through
// the scale subresource. A manifest without spec.replicas leaves them to it
// (server-side apply removes only fields kustomize-controller set, and the
// clean-up takes over no subresource entry); a manifest that sets them
// resets them on every reconcile.
func TestHPAManagedReplicas(t *testing.T) {
	ns := kubetest.Setup(t)
	ctx := context.Background()
	root := writeTree(t, ns.Name, map[string]string{
		"app/free.yaml":   webDeployment("free", ""),
		"app/pinned.yaml": webDeployment("pinned", "  replicas: 2\n"),
	})
	ks := newKS(ns.Name, "app", "./app")
	reconcile(t, ns, root, ks)
	for _, name := range []string{"free", "pinned"} {
		dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: name}}
		patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":5}}`))
		// The HPA controller runs in kube-controller-manager.
		if err := ns.Client.SubResource("scale").Patch(ctx, dep, patch, client.FieldOwner("kube-controller-manager")); err != nil {
			t.Fatal(err)
		}
	}
	k := diffKS(t, ns, root, ks)
	wantRows(t, k,
		row{ActionUnchanged, "Deployment", ns.Name, "free"},
		row{ActionConfigured, "Deployment", ns.Name, "pinned"},
	)
	wantDiffLines(t, change(t, k, "Deployment", "pinned"), "-  replicas: 5", "+  replicas: 2")
	for _, c := range k.Changes {
		wantControllerResult(t, ns, root, ks, c)
	}
}
