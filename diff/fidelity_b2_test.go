package diff

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// inventoryOf lists ConfigMaps (and Secrets, with kind "Secret") of ns as
// inventory entries; a name "Kind:name" gives the kind.
func inventoryOf(ns string, names ...string) *kustomizev1.ResourceInventory {
	inv := &kustomizev1.ResourceInventory{}
	for _, n := range names {
		kind, group, version := "ConfigMap", "", "v1"
		if k, name, ok := strings.Cut(n, ":"); ok {
			kind, n = k, name
		}
		if kind == kustomizev1.KustomizationKind {
			group, version = kustomizev1.GroupVersion.Group, kustomizev1.GroupVersion.Version
		}
		inv.Entries = append(inv.Entries, kustomizev1.ResourceRef{ID: ns + "_" + n + "_" + group + "_" + kind, Version: version})
	}
	return inv
}

// createLiveKS creates ks in the cluster, labelled as applied by the
// Kustomization parent (when set), with its status.
func createLiveKS(t *testing.T, c client.Client, ks *kustomizev1.Kustomization, parent string) {
	t.Helper()
	ks = ks.DeepCopy()
	status := ks.Status
	if parent != "" {
		ks.Labels = map[string]string{"kustomize.toolkit.fluxcd.io/name": parent, "kustomize.toolkit.fluxcd.io/namespace": ks.Namespace}
	}
	if err := c.Create(t.Context(), ks); err != nil {
		t.Fatal(err)
	}
	ks.Status = status
	if err := c.Status().Update(t.Context(), ks); err != nil {
		t.Fatal(err)
	}
}

// createSecret creates a Secret name in ns with data.
func createSecret(t *testing.T, c client.Client, ns, name string, data map[string]string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: data}
	if err := c.Create(t.Context(), s); err != nil {
		t.Fatal(err)
	}
}

// TestScenarioDeletedChildKustomizationFinalizes: when the parent prunes a
// child Kustomization, the child's finalizer (finalize in
// kustomize-controller) deletes every object of its inventory that carries
// its owner labels and is not marked prune: disabled or reconcile: disabled
// — unless finalizerShouldDeleteResources says no: a suspended child, or
// deletionPolicy Orphan, or MirrorPrune (the default) with prune: false.
func TestScenarioDeletedChildKustomizationFinalizes(t *testing.T) {
	ns := kubetest.Setup(t)
	applyLive(t, ns.Client, ns.Name, "child", `
apiVersion: v1
kind: ConfigMap
metadata: {name: app, namespace: __NS__}
data: {a: b}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: kept, namespace: __NS__, annotations: {kustomize.toolkit.fluxcd.io/prune: disabled}}
data: {a: b}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: __NS__}
stringData: {password: child-secret-5e1c}
`)
	applyLive(t, ns.Client, ns.Name, "", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: foreign, namespace: __NS__}\n")
	root := writeTree(t, ns.Name, map[string]string{
		"parent/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: __NS__}\n",
	})
	parent := newKS(ns.Name, "parent", "./parent")
	parent.Spec.Prune = true
	parent.Status.Inventory = inventoryOf(ns.Name, "Kustomization:child")
	childInventory := inventoryOf(ns.Name, "app", "kept", "foreign", "Secret:creds", "already-gone")

	tests := []struct {
		name    string
		edit    func(*kustomizev1.Kustomization)
		want    []row
		warning string
	}{
		{"with prune, the finalizer deletes what it owns", func(*kustomizev1.Kustomization) {}, []row{
			{ActionDeleted, "ConfigMap", ns.Name, "app"},
			{ActionDeleted, "Secret", ns.Name, "creds"},
			{ActionSkipped, "ConfigMap", ns.Name, "kept"},
			{ActionSkipped, "ConfigMap", ns.Name, "foreign"},
		}, "deleted by this change"},
		{"deletionPolicy Delete deletes without prune", func(k *kustomizev1.Kustomization) {
			k.Spec.Prune, k.Spec.DeletionPolicy = false, kustomizev1.DeletionPolicyDelete
		}, []row{
			{ActionDeleted, "ConfigMap", ns.Name, "app"},
			{ActionDeleted, "Secret", ns.Name, "creds"},
			{ActionSkipped, "ConfigMap", ns.Name, "kept"},
			{ActionSkipped, "ConfigMap", ns.Name, "foreign"},
		}, "deleted by this change"},
		{"a suspended child leaves its objects", func(k *kustomizev1.Kustomization) { k.Spec.Suspend = true }, nil, "it is suspended"},
		{"deletionPolicy Orphan leaves its objects", func(k *kustomizev1.Kustomization) { k.Spec.DeletionPolicy = kustomizev1.DeletionPolicyOrphan }, nil, "Orphan"},
		{"without prune its objects stay", func(k *kustomizev1.Kustomization) { k.Spec.Prune = false }, nil, "spec.prune is false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			child := newKS(ns.Name, "child", "./child")
			child.Spec.Prune = true
			child.Status.Inventory = childInventory
			tt.edit(child)
			createLiveKS(t, ns.Client, child, "parent")
			t.Cleanup(func() { _ = ns.Client.Delete(context.Background(), child) })

			rep, err := (&Differ{Client: ns.Client}).Diff(t.Context(), Request{Root: root, Kustomization: parent})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Kustomizations) != 2 {
				t.Fatalf("want the parent and the finalized child, got %d reports", len(rep.Kustomizations))
			}
			wantRows(t, rep.Kustomizations[0], row{ActionCreated, "ConfigMap", ns.Name, "other"}, row{ActionDeleted, "Kustomization", ns.Name, "child"})
			k := rep.Kustomizations[1]
			if k.Name != "child" || k.Parent != ns.Name+"/parent" {
				t.Errorf("finalized report %s with parent %q", k.Name, k.Parent)
			}
			if len(tt.want) == 0 && len(k.Changes) != 0 {
				t.Errorf("want no changes, got %v", rows(k))
			} else if len(tt.want) > 0 {
				wantRows(t, k, tt.want...)
			}
			if !strings.Contains(strings.Join(k.Warnings, "\n"), tt.warning) {
				t.Errorf("warnings %v lack %q", k.Warnings, tt.warning)
			}
			noLeak(t, rep, "child-secret-5e1c", b64("child-secret-5e1c"))
		})
	}
}

// canaryForms are the ways a value can appear in a rendering: as is, JSON-
// or YAML-escaped, base64.
func canaryForms(v string) []string {
	j, _ := json.Marshal(v)
	return []string{v, strings.Trim(string(j), `"`), strings.ReplaceAll(v, "'", "''"), b64(v)}
}

// noCanary fails when any rendering or error of rep holds one of values in
// any form.
func noCanary(t *testing.T, rep *Report, values ...string) {
	t.Helper()
	var forms []string
	for _, v := range values {
		forms = append(forms, canaryForms(v)...)
	}
	noLeak(t, rep, forms...)
	for _, k := range rep.Kustomizations {
		for _, f := range forms {
			if strings.Contains(k.Error+strings.Join(k.Warnings, "\n"), f) {
				t.Errorf("%s: an error or warning leaks %q", k.Name, f)
			}
		}
	}
}

// The canary values: short (below the text scrubber's length), quoted (YAML
// and JSON escape it) and long (YAML may fold it).
const (
	canaryShort  = "Zq9"
	canaryQuoted = `it's "Q7x" here`
	canaryLong   = "horse battery staple canary value that is long enough for YAML to fold it across lines, surely"
)

var canaryData = map[string]string{"short": canaryShort, "quoted": canaryQuoted, "long": canaryLong}

// canaryCM is a ConfigMap holding the canaries as the controller's last
// apply substituted them.
const canaryCM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: __NS__}\ndata:\n  short: Zq9\n  quoted: 'it''s \"Q7x\" here'\n  long: horse battery staple canary value that is long enough for YAML to fold it across lines, surely\n  plain: visible\n"

// TestCanarySecretValuesNeverAppear covers every path of item 11: the
// values of a substituteFrom Secret appear in no rendering and no error,
// whether the pull request drops the Secret reference with the ${VAR} it
// fed (the live Kustomization's spec still names it), or the object holding
// them is pruned, or deleted by a deleted child's finalizer.
func TestCanarySecretValuesNeverAppear(t *testing.T) {
	ns := kubetest.Setup(t)
	createSecret(t, ns.Client, ns.Name, "vars", canaryData)
	withVars := func(ks *kustomizev1.Kustomization) *kustomizev1.Kustomization {
		ks.Spec.PostBuild = &kustomizev1.PostBuild{SubstituteFrom: []kustomizev1.SubstituteReference{{Kind: "Secret", Name: "vars"}}}
		return ks
	}
	cm := func(name string) string { return strings.Replace(canaryCM, "%s", name, 1) }

	t.Run("a pull request drops the Secret reference and the variables it fed", func(t *testing.T) {
		applyLive(t, ns.Client, ns.Name, "dropper", cm("dropped"))
		createLiveKS(t, ns.Client, withVars(newKS(ns.Name, "dropper", "./dropper")), "")
		root := writeTree(t, ns.Name, map[string]string{
			"dropper/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dropped, namespace: __NS__}\ndata: {plain: visible}\n",
		})
		rep, err := (&Differ{Client: ns.Client}).Diff(t.Context(), Request{Root: root, Kustomization: newKS(ns.Name, "dropper", "./dropper")})
		if err != nil {
			t.Fatal(err)
		}
		wantRows(t, rep.Kustomizations[0], row{ActionConfigured, "ConfigMap", ns.Name, "dropped"})
		wantDiffLines(t, change(t, rep.Kustomizations[0], "ConfigMap", "dropped"), "-  short: '***'", "-  quoted: '***'", "   plain: visible")
		noCanary(t, rep, canaryShort, canaryQuoted, canaryLong, "horse battery")
	})
	t.Run("the object holding them is pruned", func(t *testing.T) {
		applyLive(t, ns.Client, ns.Name, "pruner", cm("pruned"))
		root := writeTree(t, ns.Name, map[string]string{"pruner/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stays, namespace: __NS__}\n"})
		ks := withVars(newKS(ns.Name, "pruner", "./pruner"))
		ks.Spec.Prune, ks.Status.Inventory = true, inventoryOf(ns.Name, "pruned")
		rep, err := (&Differ{Client: ns.Client}).Diff(t.Context(), Request{Root: root, Kustomization: ks})
		if err != nil {
			t.Fatal(err)
		}
		wantRows(t, rep.Kustomizations[0], row{ActionCreated, "ConfigMap", ns.Name, "stays"}, row{ActionDeleted, "ConfigMap", ns.Name, "pruned"})
		wantDiffLines(t, change(t, rep.Kustomizations[0], "ConfigMap", "pruned"), "-  short: '***'", "-  plain: visible")
		noCanary(t, rep, canaryShort, canaryQuoted, canaryLong, "horse battery")
	})
	t.Run("a deleted child's finalizer deletes it", func(t *testing.T) {
		applyLive(t, ns.Client, ns.Name, "leaf", cm("finalized"))
		leaf := withVars(newKS(ns.Name, "leaf", "./leaf"))
		leaf.Spec.Prune, leaf.Status.Inventory = true, inventoryOf(ns.Name, "finalized")
		createLiveKS(t, ns.Client, leaf, "trunk")
		root := writeTree(t, ns.Name, map[string]string{"trunk/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: trunk, namespace: __NS__}\n"})
		trunk := newKS(ns.Name, "trunk", "./trunk")
		trunk.Spec.Prune, trunk.Status.Inventory = true, inventoryOf(ns.Name, "Kustomization:leaf")
		rep, err := (&Differ{Client: ns.Client}).Diff(t.Context(), Request{Root: root, Kustomization: trunk})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Kustomizations) != 2 {
			t.Fatalf("want trunk and leaf, got %d reports", len(rep.Kustomizations))
		}
		wantRows(t, rep.Kustomizations[1], row{ActionDeleted, "ConfigMap", ns.Name, "finalized"})
		noCanary(t, rep, canaryShort, canaryQuoted, canaryLong, "horse battery")
	})
}
