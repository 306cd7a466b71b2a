package diff

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/normalize"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// These helpers replay a kustomize-controller reconcile for real on the test
// API server with the library the controller applies through
// (fluxcd/pkg/ssa), so that a test's expected value is what the controller
// does rather than what fluxdiff believes it does.

// controllerApplyOptions are the ssa.ApplyOptions that kustomize-controller's
// KustomizationReconciler.apply builds (internal/controller/
// kustomization_controller.go): force from spec.force, exclusions for
// reconcile: disabled and ssa: Ignore, ssa: IfNotPresent, the force
// annotation, and the clean-up of kubectl, before-first-apply and its own
// pre-SSA Update managers, kubectl's last-applied annotation and Flux v1
// leftovers, except on objects marked ssa: Merge. They are written out here,
// independently of the engine, on purpose.
func controllerApplyOptions(ks *kustomizev1.Kustomization) ssa.ApplyOptions {
	g := kustomizev1.GroupVersion.Group
	opts := ssa.DefaultApplyOptions()
	opts.Force = ks.Spec.Force
	opts.ExclusionSelector = map[string]string{g + "/reconcile": "disabled", g + "/ssa": "Ignore"}
	opts.IfNotPresentSelector = map[string]string{g + "/ssa": "IfNotPresent"}
	opts.ForceSelector = map[string]string{g + "/force": "enabled"}
	opts.WaitTimeout = 30 * time.Second
	opts.Cleanup = ssa.ApplyCleanupOptions{
		Annotations: []string{corev1.LastAppliedConfigAnnotation, g + "/checksum", "fluxcd.io/sync-checksum"},
		Labels:      []string{"fluxcd.io/sync-gc-mark"},
		FieldManagers: []ssa.FieldManager{
			{Name: "kubectl", OperationType: metav1.ManagedFieldsOperationApply},
			{Name: "kubectl", OperationType: metav1.ManagedFieldsOperationUpdate},
			{Name: "before-first-apply", OperationType: metav1.ManagedFieldsOperationUpdate},
			{Name: "kustomize-controller", OperationType: metav1.ManagedFieldsOperationUpdate},
		},
		Exclusions: map[string]string{g + "/ssa": "Merge"},
	}
	return opts
}

// controllerManager is the ResourceManager kustomize-controller builds: its
// field manager, its owner-label group and a status poller for the staged
// apply's waits.
func controllerManager(env *kubetest.Env) *ssa.ResourceManager {
	poller := polling.NewStatusPoller(env.Client, env.Client.RESTMapper(), polling.Options{})
	return ssa.NewResourceManager(env.Client, poller, ssa.Owner{Field: "kustomize-controller", Group: kustomizev1.GroupVersion.Group})
}

// reconcile builds ks from root and applies it as kustomize-controller does
// (normalize, common metadata, owner labels, ApplyAllStaged with the
// controller's options), then records the inventory the controller would
// write into ks.Status (inventory.AddChangeSet: one entry per change-set
// entry, keyed by the object as the API server answered).
func reconcile(t *testing.T, ns *kubetest.Namespace, root string, ks *kustomizev1.Kustomization) {
	t.Helper()
	objs, err := Build(root, ks, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := normalize.UnstructuredList(objs); err != nil {
		t.Fatal(err)
	}
	rm := controllerManager(ns.Env)
	rm.SetOwnerLabels(objs, ks.Name, ks.Namespace)
	cs, err := rm.ApplyAllStaged(context.Background(), objs, controllerApplyOptions(ks))
	if err != nil {
		t.Fatalf("the controller's apply failed: %v", err)
	}
	inv := &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{}}
	for _, e := range cs.Entries {
		inv.Entries = append(inv.Entries, kustomizev1.ResourceRef{ID: e.ObjMetadata.String(), Version: e.GroupVersion})
	}
	ks.Status.Inventory = inv
}

// controllerApply applies one built object the way the controller does and
// returns the action ssa reports and the object as it is afterwards.
func controllerApply(t *testing.T, ns *kubetest.Namespace, ks *kustomizev1.Kustomization, obj *unstructured.Unstructured) (ssa.Action, *unstructured.Unstructured) {
	t.Helper()
	rm := controllerManager(ns.Env)
	obj = obj.DeepCopy()
	rm.SetOwnerLabels([]*unstructured.Unstructured{obj}, ks.Name, ks.Namespace)
	entry, err := rm.Apply(context.Background(), obj, controllerApplyOptions(ks))
	if err != nil {
		t.Fatalf("the controller's apply of %s failed: %v", obj.GetName(), err)
	}
	after := &unstructured.Unstructured{}
	after.SetGroupVersionKind(obj.GroupVersionKind())
	if err := ns.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), after); err != nil {
		t.Fatal(err)
	}
	return entry.Action, after
}

// builtObject builds ks from root and returns the object of kind and name.
func builtObject(t *testing.T, root string, ks *kustomizev1.Kustomization, kind, name string) *unstructured.Unstructured {
	t.Helper()
	objs, err := Build(root, ks, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := normalize.UnstructuredList(objs); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("the build has no %s/%s", kind, name)
	return nil
}

// waitEstablished waits until the CRD named name serves its kind.
func waitEstablished(t *testing.T, c client.Client, name string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		crd := &unstructured.Unstructured{}
		crd.SetAPIVersion("apiextensions.k8s.io/v1")
		crd.SetKind("CustomResourceDefinition")
		if err := c.Get(context.Background(), client.ObjectKey{Name: name}, crd); err != nil {
			continue
		}
		conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == "Established" && m["status"] == "True" {
				return
			}
		}
	}
	t.Fatalf("CRD %s not established", name)
}

// crdYAML is a CustomResourceDefinition for kind in group with the given
// scope ("Namespaced" or "Cluster") and spec schema (YAML flow style).
func crdYAML(group, kind, plural, scope, specSchema string) string {
	return fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: %[3]s.%[1]s}
spec:
  group: %[1]s
  scope: %[4]s
  names: {plural: %[3]s, singular: %[5]s, kind: %[2]s, listKind: %[2]sList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: %[6]s
`, group, kind, plural, scope, plural[:len(plural)-1], specSchema)
}

// wantControllerResult applies the built object kind/name as the controller
// does and checks that c, fluxdiff's change for it, reports the same action
// and, for a configured object, exactly the change the apply made. It must
// run after fluxdiff's diff, as it changes the cluster.
func wantControllerResult(t *testing.T, ns *kubetest.Namespace, root string, ks *kustomizev1.Kustomization, c Change) {
	t.Helper()
	obj := builtObject(t, root, ks, c.Kind, c.Name)
	before := &unstructured.Unstructured{}
	before.SetGroupVersionKind(obj.GroupVersionKind())
	if err := ns.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), before); err != nil {
		t.Fatal(err)
	}
	action, after := controllerApply(t, ns, ks, obj)
	want := map[ssa.Action]Action{ssa.CreatedAction: ActionCreated, ssa.ConfiguredAction: ActionConfigured,
		ssa.UnchangedAction: ActionUnchanged, ssa.SkippedAction: ActionSkipped}[action]
	if c.Action != want {
		t.Errorf("%s: fluxdiff says %s, the controller's apply %s", c.ID(), c.Action, action)
	}
	if want != ActionConfigured {
		return
	}
	wantDiff, err := unifiedDiff(before, after)
	if err != nil {
		t.Fatal(err)
	}
	if c.Diff != wantDiff {
		t.Errorf("%s: fluxdiff's diff differs from what the controller did\nfluxdiff:\n%s\ncontroller:\n%s", c.ID(), c.Diff, wantDiff)
	}
}
