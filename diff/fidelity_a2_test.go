package diff

import (
	"context"
	"strings"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/ssa"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// Item 10: with force (spec.force, or kustomize.toolkit.fluxcd.io/force:
// enabled on the manifest or the live object), an apply refused for an
// immutable field makes ssa's Apply delete the live object and apply the
// manifest as new; if the new object is refused too, it stays deleted. So a
// valid manifest reads "deleted and re-created" with a diff of what was set
// on the live object against the manifest (no server defaults), and an
// invalid one fails, as the controller's apply would after deleting.
func TestForceRecreation(t *testing.T) {
	ns := kubetest.Setup(t)
	ctx := context.Background()
	forced := "  selector: {matchLabels: {app: old}}\n  template:\n    metadata: {labels: {app: old}}\n    spec: {containers: [{name: web, image: \"nginx:1.27\"}]}\n"
	deploy := func(name, annotations, spec string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: __NS__, annotations: {" + annotations + "}}\nspec:\n" + spec
	}
	ks := newKS(ns.Name, "app", "./app")
	reconcile(t, ns, writeTree(t, ns.Name, map[string]string{
		"app/a.yaml": deploy("annotated", "kustomize.toolkit.fluxcd.io/force: enabled", forced),
		"app/b.yaml": deploy("broken", "kustomize.toolkit.fluxcd.io/force: enabled", forced),
		"app/c.yaml": deploy("plain", "", forced),
	}), ks)

	renewed := strings.ReplaceAll(forced, "app: old", "app: new")
	pr := writeTree(t, ns.Name, map[string]string{
		"app/a.yaml": deploy("annotated", "kustomize.toolkit.fluxcd.io/force: enabled", renewed),
		"app/b.yaml": deploy("broken", "kustomize.toolkit.fluxcd.io/force: enabled", "  replicas: -1\n"+renewed),
		"app/c.yaml": deploy("plain", "", renewed),
	})
	k := diffKS(t, ns, pr, ks)
	wantRows(t, k,
		row{ActionConfigured, "Deployment", ns.Name, "annotated"},
		row{ActionFailed, "Deployment", ns.Name, "broken"},
		row{ActionFailed, "Deployment", ns.Name, "plain"},
	)
	c := change(t, k, "Deployment", "annotated")
	if !strings.Contains(c.Reason, "deleted and re-created") {
		t.Errorf("annotated: reason %q", c.Reason)
	}
	wantDiffLines(t, c, "-      app: old", "+      app: new")
	for _, noise := range []string{"progressDeadlineSeconds", "revisionHistoryLimit", "terminationMessagePath", "dnsPolicy", "maxSurge", "imagePullPolicy"} {
		if strings.Contains(c.Diff, noise) {
			t.Errorf("annotated: the diff shows the server default %s:\n%s", noise, c.Diff)
		}
	}
	if c := change(t, k, "Deployment", "broken"); !strings.Contains(c.Reason, "fail to create") || !strings.Contains(c.Reason, "spec.replicas") {
		t.Errorf("broken: reason %q should say the new object is invalid", c.Reason)
	}
	if c := change(t, k, "Deployment", "plain"); !strings.Contains(c.Reason, "immutable") {
		t.Errorf("plain: reason %q should say the field is immutable", c.Reason)
	}

	// What the controller's library does with the same manifests.
	if action, after := controllerApply(t, ns, ks, builtObject(t, pr, ks, "Deployment", "annotated")); action != ssa.CreatedAction {
		t.Errorf("annotated: the controller's apply says %s, want created anew", action)
	} else if sel, _, _ := unstructured.NestedString(after.Object, "spec", "selector", "matchLabels", "app"); sel != "new" {
		t.Errorf("annotated: selector after the apply is %q", sel)
	}
	broken := builtObject(t, pr, ks, "Deployment", "broken")
	controllerManager(ns.Env).SetOwnerLabels([]*unstructured.Unstructured{broken}, ks.Name, ks.Namespace)
	if _, err := controllerManager(ns.Env).Apply(ctx, broken, controllerApplyOptions(ks)); err == nil {
		t.Error("broken: the controller's apply succeeded")
	}
	gone := &unstructured.Unstructured{}
	gone.SetGroupVersionKind(broken.GroupVersionKind())
	err := ns.Client.Get(ctx, client.ObjectKeyFromObject(broken), gone)
	if !apierrors.IsNotFound(err) && gone.GetDeletionTimestamp() == nil {
		t.Errorf("broken: after the controller's failed re-creation the object should be gone: %v", err)
	}
}

// Item 5: kustomize-controller applies CustomResourceDefinitions in a stage
// before custom resources (ssa's ApplyAllStaged), so custom resources are
// validated against the new schema. Only a refusal because the kind does
// not exist yet may read "not validated"; a custom resource that the new
// schema refuses fails, and one the current schema refuses but the new one
// accepts (a new field) is applied.
func TestChangedCRDDoesNotExcuseInvalidCustomResources(t *testing.T) {
	ns := kubetest.Setup(t)
	ctx := context.Background()
	group := ns.Name + ".example.com"
	oldSpec := "{type: object, properties: {teeth: {type: integer}}}"
	newSpec := "{type: object, properties: {teeth: {type: integer}, color: {type: string, enum: [red, blue]}}}"
	gear := func(name, spec string) string {
		return "apiVersion: " + group + "/v1\nkind: Gear\nmetadata: {name: " + name + ", namespace: __NS__}\nspec: " + spec + "\n"
	}
	ks := newKS(ns.Name, "app", "./app")
	reconcile(t, ns, writeTree(t, ns.Name, map[string]string{
		"app/crd.yaml": crdYAML(group, "Gear", "gears", "Namespaced", oldSpec),
		"app/a.yaml":   gear("painted", "{teeth: 12}"),
		"app/b.yaml":   gear("mistyped", "{teeth: 8}"),
		"app/c.yaml":   gear("offcolor", "{teeth: 8}"),
	}), ks)

	pr := writeTree(t, ns.Name, map[string]string{
		"app/crd.yaml": crdYAML(group, "Gear", "gears", "Namespaced", newSpec),
		"app/a.yaml":   gear("painted", "{teeth: 12, color: red}"),
		"app/b.yaml":   gear("mistyped", "{teeth: eight}"),
		"app/c.yaml":   gear("offcolor", "{teeth: 8, color: green}"),
	})
	k := diffKS(t, ns, pr, ks)
	wantRows(t, k,
		row{ActionConfigured, "CustomResourceDefinition", "", "gears." + group},
		row{ActionConfigured, "Gear", ns.Name, "painted"},
		row{ActionFailed, "Gear", ns.Name, "mistyped"},
		row{ActionFailed, "Gear", ns.Name, "offcolor"},
	)
	if c := change(t, k, "Gear", "painted"); !c.NotValidated {
		t.Errorf("painted: should be marked not validated by the API server: %q", c.Reason)
	}
	for name, want := range map[string]string{"mistyped": "teeth", "offcolor": "color"} {
		if c := change(t, k, "Gear", name); !strings.Contains(c.Reason, want) {
			t.Errorf("%s: reason %q does not name %s", name, c.Reason, want)
		}
	}

	// The controller: the CRD stage first, then each custom resource.
	crd := builtObject(t, pr, ks, "CustomResourceDefinition", "gears."+group)
	controllerApply(t, ns, ks, crd)
	rm := controllerManager(ns.Env)
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if _, err = rm.Apply(ctx, ownedBy(rm, ks, builtObject(t, pr, ks, "Gear", "painted")), controllerApplyOptions(ks)); err == nil {
			break
		}
	}
	if err != nil {
		t.Errorf("painted: the controller's apply after the CRD stage failed: %v", err)
	}
	for _, name := range []string{"mistyped", "offcolor"} {
		if _, err := rm.Apply(ctx, ownedBy(rm, ks, builtObject(t, pr, ks, "Gear", name)), controllerApplyOptions(ks)); err == nil {
			t.Errorf("%s: the controller's apply succeeded", name)
		}
	}
}

// ownedBy sets ks's owner labels on obj and returns it.
func ownedBy(rm *ssa.ResourceManager, ks *kustomizev1.Kustomization, obj *unstructured.Unstructured) *unstructured.Unstructured {
	rm.SetOwnerLabels([]*unstructured.Unstructured{obj}, ks.Name, ks.Namespace)
	return obj
}

// Item 14, prune: disabled and reconcile: disabled: kustomize-controller
// prunes with ssa's DeleteAll, including only objects with its owner labels
// and excluding those marked prune: disabled or reconcile: disabled
// (KustomizationReconciler.prune). ssa: Ignore is no exclusion there: an
// ignored object that leaves the build is deleted. The expected rows are
// those of the controller's own DeleteAll on the same objects.
func TestPruneFollowsTheControllersRules(t *testing.T) {
	ns := kubetest.Setup(t)
	ctx := context.Background()
	cm := func(name, annotations string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: __NS__, annotations: {" + annotations + "}}\n"
	}
	base := map[string]string{
		"app/kept.yaml":      cm("kept", ""),
		"app/gone.yaml":      cm("gone", ""),
		"app/protected.yaml": cm("protected", "kustomize.toolkit.fluxcd.io/prune: disabled"),
		"app/frozen.yaml":    cm("frozen", "kustomize.toolkit.fluxcd.io/reconcile: disabled"),
		"app/ignored.yaml":   cm("ignored", "kustomize.toolkit.fluxcd.io/ssa: Ignore"),
	}
	ks := newKS(ns.Name, "app", "./app")
	ks.Spec.Prune = true
	// The ignored and frozen objects exist before Flux first applies (and so
	// skips) them, as when they were adopted; the inventory lists them all.
	applyLive(t, ns.Client, ns.Name, "app", cm("ignored", "kustomize.toolkit.fluxcd.io/ssa: Ignore")+"---\n"+cm("frozen", "kustomize.toolkit.fluxcd.io/reconcile: disabled"))
	reconcile(t, ns, writeTree(t, ns.Name, base), ks)

	k := diffKS(t, ns, writeTree(t, ns.Name, map[string]string{"app/kept.yaml": base["app/kept.yaml"]}), ks)
	wantRows(t, k,
		row{ActionUnchanged, "ConfigMap", ns.Name, "kept"},
		row{ActionDeleted, "ConfigMap", ns.Name, "gone"},
		row{ActionSkipped, "ConfigMap", ns.Name, "protected"},
		row{ActionSkipped, "ConfigMap", ns.Name, "frozen"},
		row{ActionDeleted, "ConfigMap", ns.Name, "ignored"},
	)

	rm := controllerManager(ns.Env)
	var stale []*unstructured.Unstructured
	for _, name := range []string{"gone", "protected", "frozen", "ignored"} {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("v1")
		u.SetKind("ConfigMap")
		u.SetNamespace(ns.Name)
		u.SetName(name)
		stale = append(stale, u)
	}
	g := kustomizev1.GroupVersion.Group
	cs, err := rm.DeleteAll(ctx, stale, ssa.DeleteOptions{
		PropagationPolicy: "Background",
		Inclusions:        rm.GetOwnerLabels(ks.Name, ks.Namespace),
		Exclusions:        map[string]string{g + "/prune": "disabled", g + "/reconcile": "disabled"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range cs.Entries {
		want := map[ssa.Action]Action{ssa.DeletedAction: ActionDeleted, ssa.SkippedAction: ActionSkipped}[e.Action]
		if c := change(t, k, "ConfigMap", e.ObjMetadata.Name); c.Action != want {
			t.Errorf("%s: fluxdiff says %s, the controller's prune %s", e.ObjMetadata.Name, c.Action, e.Action)
		}
	}
}
