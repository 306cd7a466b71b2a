package diff

import (
	"context"
	"strings"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	ssaerrors "github.com/fluxcd/pkg/ssa/errors"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// Scenario tests of the risk flags on the real API server: the live state
// is what kustomize-controller leaves (reconcile, with fluxcd/pkg/ssa as
// the controller applies), the pull request is a second tree.

// flagRow is the part of a Risk that a scenario pins down.
type flagRow struct {
	Kind       RiskKind
	ObjectKind string
	Name       string
	Field      string
	Old, New   string
}

func flagRows(k KustomizationReport) []flagRow {
	out := []flagRow{}
	for _, f := range k.Risks {
		out = append(out, flagRow{f.Kind, f.ObjectKind, f.Name, f.Field, f.Old, f.New})
	}
	return out
}

// wantFlags compares the exact set of flags, in any order.
func wantFlags(t *testing.T, k KustomizationReport, want ...flagRow) {
	t.Helper()
	sortRows := cmpopts.SortSlices(func(a, b flagRow) bool {
		return string(a.Kind)+a.ObjectKind+a.Name+a.Field < string(b.Kind)+b.ObjectKind+b.Name+b.Field
	})
	if want == nil {
		want = []flagRow{}
	}
	if d := cmp.Diff(want, flagRows(k), sortRows); d != "" {
		t.Errorf("risk flags (-want +got):\n%s\nflags: %+v\nchanges: %+v\nerror: %s", d, k.Risks, rows(k), k.Error)
	}
}

// flagOn returns the only flag of kind on object name.
func flagOn(t *testing.T, k KustomizationReport, kind RiskKind, name string) Risk {
	t.Helper()
	var found []Risk
	for _, f := range k.Risks {
		if f.Kind == kind && f.Name == name {
			found = append(found, f)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %s flag on %s, got %+v", kind, name, k.Risks)
	}
	return found[0]
}

func wantMessage(t *testing.T, f Risk, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(f.Message, p) {
			t.Errorf("flag on %s: message %q lacks %q", f.ObjectID(), f.Message, p)
		}
	}
}

// TestRiskPruneDeletesPersistentVolumeClaim: a pull request removes a PVC
// from a prune: true Kustomization. kustomize-controller deletes every
// inventory entry the new build lacks (KustomizationReconciler.prune with
// inventory.Diff), so the claim is deleted and flagged, located at the
// Kustomization's kustomization.yaml since its manifest is gone; the
// ConfigMap that stays is not flagged.
func TestRiskPruneDeletesPersistentVolumeClaim(t *testing.T) {
	ns := kubetest.Setup(t)
	pvc := "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: __NS__}\n" +
		"spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n"
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: __NS__}\ndata: {a: b}\n"
	ks := newKS(ns.Name, "app", "./app")
	ks.Spec.Prune = true
	reconcile(t, ns, writeTree(t, ns.Name, map[string]string{
		"app/kustomization.yaml": "resources: [pvc.yaml, cm.yaml]\n", "app/pvc.yaml": pvc, "app/cm.yaml": cm,
	}), ks)
	root := writeTree(t, ns.Name, map[string]string{"app/kustomization.yaml": "resources: [cm.yaml]\n", "app/cm.yaml": cm})
	k := diffKS(t, ns, root, ks)
	wantFlags(t, k, flagRow{Kind: RiskDeletion, ObjectKind: "PersistentVolumeClaim", Name: "data"})
	f := flagOn(t, k, RiskDeletion, "data")
	wantMessage(t, f, "deleted by prune", "data may be lost")
	if f.File != "app/kustomization.yaml" || f.Line != 1 {
		t.Errorf("location = %s:%d, want app/kustomization.yaml:1", f.File, f.Line)
	}
	if got := (&Report{Kustomizations: []KustomizationReport{k}}).BlastRadius(); got.RiskFlags != 1 || got.Deleted != 1 {
		t.Errorf("blast radius = %+v, want 1 deletion and 1 risk flag", got)
	}
}

// TestRiskDeploymentSelectorChange: the API server refuses a change of a
// Deployment's spec.selector in place (ValidateDeploymentUpdate: field is
// immutable). kustomize-controller's apply (ssa ApplyAllStaged) then fails,
// unless force is on — spec.force or the force annotation — in which case
// ssa's shouldForceApply deletes the object and applies it anew. Each case
// checks the controller's own outcome with ssa on the same API server.
func TestRiskDeploymentSelectorChange(t *testing.T) {
	deploy := func(app, annotations string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: __NS__" + annotations + "}\n" +
			"spec:\n  selector: {matchLabels: {app: " + app + "}}\n  template:\n    metadata: {labels: {app: " + app + "}}\n" +
			"    spec: {containers: [{name: web, image: \"nginx:1.27\"}]}\n"
	}
	force := ", annotations: {kustomize.toolkit.fluxcd.io/force: enabled}"
	tests := []struct {
		name        string
		specForce   bool
		annotations string
		want        string
	}{
		{"without force Flux fails to apply it", false, "", failMessage},
		{"with spec.force Flux deletes and re-creates it", true, "", recreateMessage},
		{"with the force annotation Flux deletes and re-creates it", false, force, recreateMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := kubetest.Setup(t)
			ks := newKS(ns.Name, "app", "./app")
			ks.Spec.Force = tt.specForce
			reconcile(t, ns, writeTree(t, ns.Name, map[string]string{"app/deploy.yaml": deploy("web", tt.annotations)}), ks)
			root := writeTree(t, ns.Name, map[string]string{"app/deploy.yaml": deploy("web2", tt.annotations)})
			k := diffKS(t, ns, root, ks)
			wantFlags(t, k, flagRow{Kind: RiskImmutable, ObjectKind: "Deployment", Name: "web",
				Field: "spec.selector.matchLabels.app", Old: "web", New: "web2"})
			f := flagOn(t, k, RiskImmutable, "web")
			wantMessage(t, f, tt.want, "spec.selector.matchLabels.app cannot change (web → web2)")
			if f.File != "app/deploy.yaml" || f.Line != 3 {
				t.Errorf("location = %s:%d, want app/deploy.yaml:3 (metadata.name)", f.File, f.Line)
			}
			// What the controller does with the same manifest.
			obj := builtObject(t, root, ks, "Deployment", "web")
			controllerManager(ns.Env).SetOwnerLabels(singleton(obj), ks.Name, ks.Namespace)
			entry, err := controllerManager(ns.Env).Apply(context.Background(), obj, controllerApplyOptions(ks))
			if tt.want == failMessage {
				if err == nil || !ssaerrors.IsImmutableError(err) {
					t.Errorf("the controller's apply: err = %v, want an immutable-field error", err)
				}
				return
			}
			if err != nil || entry.Action != "created" {
				t.Errorf("the controller's apply = %v, %v; want the object re-created", entry, err)
			}
		})
	}
}

// TestRiskImmutableFields: each field of the list that the API
// server refuses to change, changed by a pull request without force, is
// flagged "Flux will fail to apply this" with the field named, and the
// controller's apply (ssa) indeed fails with an immutable-field error.
func TestRiskImmutableFields(t *testing.T) {
	tests := []struct {
		name, kind, objName, base, pr string
		want                          flagRow
	}{
		{
			name: "a Job's pod template", kind: "Job", objName: "once",
			base: job("busybox:1.36"), pr: job("busybox:1.37"),
			want: flagRow{RiskImmutable, "Job", "once", "spec.template.spec.containers[main].image", "busybox:1.36", "busybox:1.37"},
		},
		{
			name: "a Service's clusterIP", kind: "Service", objName: "api",
			base: service("10.0.0.50"), pr: service("10.0.0.60"),
			want: flagRow{RiskImmutable, "Service", "api", "spec.clusterIP", "10.0.0.50", "10.0.0.60"},
		},
		{
			name: "a RoleBinding's roleRef", kind: "RoleBinding", objName: "readers",
			base: roles + roleBinding("view-a"), pr: roles + roleBinding("view-b"),
			want: flagRow{RiskImmutable, "RoleBinding", "readers", "roleRef.name", "view-a", "view-b"},
		},
		{
			name: "a PersistentVolumeClaim shrunk", kind: "PersistentVolumeClaim", objName: "data",
			base: claim("2Gi"), pr: claim("1Gi"),
			want: flagRow{RiskImmutable, "PersistentVolumeClaim", "data", "spec.resources.requests.storage", "2Gi", "1Gi"},
		},
		{
			// Growth is no rule (a bound claim may grow), but this claim is
			// not bound (no volume controller here), so the API server
			// refuses any spec change: the flag quotes its cause.
			name: "an unbound PersistentVolumeClaim grown", kind: "PersistentVolumeClaim", objName: "data",
			base: claim("1Gi"), pr: claim("2Gi"),
			want: flagRow{RiskImmutable, "PersistentVolumeClaim", "data", "spec", "", ""},
		},
		{
			name: "a StatefulSet's volumeClaimTemplates", kind: "StatefulSet", objName: "db",
			base: statefulSet("1Gi"), pr: statefulSet("2Gi"),
			want: flagRow{RiskImmutable, "StatefulSet", "db", "spec.volumeClaimTemplates[0].spec.resources.requests.storage", "1Gi", "2Gi"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := kubetest.Setup(t)
			ks := newKS(ns.Name, "app", "./app")
			reconcile(t, ns, writeTree(t, ns.Name, map[string]string{"app/obj.yaml": tt.base}), ks)
			root := writeTree(t, ns.Name, map[string]string{"app/obj.yaml": tt.pr})
			k := diffKS(t, ns, root, ks)
			if c := change(t, k, tt.kind, tt.objName); c.Action != ActionFailed {
				t.Errorf("action = %s, want failed (the dry-run refuses it)", c.Action)
			}
			wantFlags(t, k, tt.want)
			if tt.want.Old != "" {
				wantMessage(t, flagOn(t, k, RiskImmutable, tt.objName), failMessage, tt.want.Field+" cannot change")
			} else {
				wantMessage(t, flagOn(t, k, RiskImmutable, tt.objName), failMessage, "the API server refuses the change in place: spec: ")
			}
			obj := builtObject(t, root, ks, tt.kind, tt.objName)
			controllerManager(ns.Env).SetOwnerLabels(singleton(obj), ks.Name, ks.Namespace)
			if _, err := controllerManager(ns.Env).Apply(context.Background(), obj, controllerApplyOptions(ks)); err == nil || !ssaerrors.IsImmutableError(err) {
				t.Errorf("the controller's apply: err = %v, want an immutable-field error", err)
			}
		})
	}
}

// TestRiskSuspendedAndWaitingKustomization: kustomize-controller's
// Reconcile returns early for spec.suspend, and checkDependencies holds the
// apply while a dependsOn Kustomization is missing or not Ready; a change
// to such a Kustomization is flagged on the Kustomization itself, located
// where the repository defines it.
func TestRiskSuspendedAndWaitingKustomization(t *testing.T) {
	ns := kubetest.Setup(t)
	infra := newKS(ns.Name, "infra", "./infra")
	infra.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionFalse, Reason: "HealthCheckFailed",
		Message: "timeout waiting for Deployment", LastTransitionTime: metav1.Now()}}
	infra.Status.ObservedGeneration = 1 // reconciled at its first generation, and failed
	createLiveKS(t, ns.Client, infra, "")
	ks := newKS(ns.Name, "app", "./app")
	ks.Spec.Suspend = true
	ks.Spec.DependsOn = []kustomizev1.DependencyReference{{Name: "infra"}, {Name: "missing"}}
	root := writeTree(t, ns.Name, map[string]string{
		"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: __NS__}\ndata: {a: b}\n",
		"clusters/test/app.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\n" +
			"  namespace: flux-system\nspec: {path: ./app, interval: 1m, sourceRef: {kind: GitRepository, name: repo}}\n",
	})
	k := diffKS(t, ns, root, ks)
	wantFlags(t, k,
		flagRow{Kind: RiskSuspended, ObjectKind: "Kustomization", Name: "app", Field: "spec.suspend"},
		flagRow{Kind: RiskDependency, ObjectKind: "Kustomization", Name: "app", Field: "spec.dependsOn"},
		flagRow{Kind: RiskDependency, ObjectKind: "Kustomization", Name: "app", Field: "spec.dependsOn"},
	)
	for _, f := range k.Risks {
		if f.File != "clusters/test/app.yaml" || f.Line != 4 {
			t.Errorf("%s flag located at %s:%d, want clusters/test/app.yaml:4", f.Kind, f.File, f.Line)
		}
	}
	var msgs []string
	for _, f := range k.Risks {
		msgs = append(msgs, f.Message)
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"suspended (spec.suspend: true)", ns.Name + "/infra is not Ready (HealthCheckFailed: timeout waiting for Deployment)", ns.Name + "/missing does not exist in the cluster"} {
		if !strings.Contains(all, want) {
			t.Errorf("flags lack %q:\n%s", want, all)
		}
	}

	t.Run("a Kustomization that changes nothing is not flagged", func(t *testing.T) {
		reconcile(t, ns, root, ks)
		wantFlags(t, diffKS(t, ns, root, ks))
	})
}

func singleton[T any](v T) []T { return []T{v} }
