package diff

import (
	"context"
	"strings"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// classBase is the base branch: what kustomize-controller last applied.
const classBase = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: __NS__}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: edited, namespace: __NS__}
data: {key: from-git}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: removed, namespace: __NS__}
data: {key: value}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: lost, namespace: __NS__}
data: {key: value}
`

// classWorld applies the base branch as kustomize-controller would, then
// changes the cluster by hand: replicas scaled and a ConfigMap edited by
// another field manager (a merge patch, as kubectl scale and kubectl edit
// send), and one object deleted. It returns the Kustomization (prune on,
// its inventory the base's objects) and the base tree.
func classWorld(t *testing.T, ns *kubetest.Namespace) (*kustomizev1.Kustomization, string) {
	t.Helper()
	applyLive(t, ns.Client, ns.Name, "app", classBase)
	ctx := context.Background()
	for kind, patch := range map[string]string{"Deployment/web": `{"spec":{"replicas":5}}`, "ConfigMap/edited": `{"data":{"key":"by-hand"}}`} {
		obj := &unstructured.Unstructured{}
		k, name, _ := strings.Cut(kind, "/")
		obj.SetAPIVersion(map[string]string{"Deployment": "apps/v1", "ConfigMap": "v1"}[k])
		obj.SetKind(k)
		obj.SetNamespace(ns.Name)
		obj.SetName(name)
		if err := ns.Client.Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(patch)), client.FieldOwner("kubectl-edit")); err != nil {
			t.Fatalf("edit %s by hand: %v", kind, err)
		}
	}
	lost := &unstructured.Unstructured{}
	lost.SetAPIVersion("v1")
	lost.SetKind("ConfigMap")
	lost.SetNamespace(ns.Name)
	lost.SetName("lost")
	if err := ns.Client.Delete(ctx, lost); err != nil {
		t.Fatal(err)
	}
	ks := newKS(ns.Name, "app", "./app")
	ks.Spec.Prune = true
	ks.Status.Inventory = inventoryOf(ns.Name, "edited", "removed", "lost")
	ks.Status.Inventory.Entries = append(ks.Status.Inventory.Entries, kustomizev1.ResourceRef{ID: ns.Name + "_web_apps_Deployment", Version: "v1"})
	return ks, writeTree(t, ns.Name, map[string]string{"app/all.yaml": classBase})
}

// The scenario of issue #12: a Deployment whose replicas another field
// manager changed in the cluster, and a pull request that changes its
// image. kustomize-controller applies with force ownership (ssa's
// ResourceManager.ApplyAll, client.ForceOwnership), so merging resets the
// replicas whether or not the pull request touches them: the replicas are
// drift and the image is the pull request's.
func TestClassifyTellsThePullRequestsChangeFromDrift(t *testing.T) {
	ns := kubetest.Setup(t)
	ks, base := classWorld(t, ns)
	merge := writeTree(t, ns.Name, map[string]string{"app/all.yaml": strings.Replace(
		strings.Replace(classBase, `image: "nginx:1.27"`, `image: "nginx:1.28"`, 1),
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: removed, namespace: __NS__}\ndata: {key: value}\n---\n", "", 1) + `---
apiVersion: v1
kind: ConfigMap
metadata: {name: added, namespace: __NS__}
data: {key: value}
`})
	d := &Differ{Client: ns.Client, Cluster: "test"}
	rep, err := d.Diff(context.Background(), Request{Root: merge, Base: base, Kustomization: ks})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Base != base {
		t.Errorf("report base = %q, want %q", rep.Base, base)
	}
	k := rep.Kustomizations[0]
	got := map[string]Class{}
	for _, c := range k.Changes {
		got[string(c.Action)+" "+c.Kind+"/"+c.Name] = c.Class
	}
	want := map[string]Class{
		"configured Deployment/web":   ClassPRAndDrift,
		"configured ConfigMap/edited": ClassDrift,
		"created ConfigMap/lost":      ClassDrift,
		"created ConfigMap/added":     ClassPR,
		"deleted ConfigMap/removed":   ClassPR,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("classes (-want +got):\n%s", d)
	}
	if d := cmp.Diff(&ClassCounts{PR: 2, Drift: 2, PRAndDrift: 1}, k.Classes); d != "" {
		t.Errorf("class counts (-want +got):\n%s", d)
	}
	web := change(t, k, "Deployment", "web")
	wantFields := []FieldChange{
		{Path: "spec.replicas", Class: ClassDrift},
		{Path: "spec.template.spec.containers[name=web].image", Class: ClassPR},
	}
	if d := cmp.Diff(wantFields, web.Fields); d != "" {
		t.Errorf("Deployment fields (-want +got):\n%s", d)
	}
	wantParts(t, "PR part", web.PRDiff, []string{"-      - image: nginx:1.27", "+      - image: nginx:1.28"}, []string{"replicas"})
	wantParts(t, "drift part", web.DriftDiff, []string{"-  replicas: 5", "+  replicas: 2"}, []string{"image"})
	wantParts(t, "whole diff", web.Diff, []string{"+  replicas: 2", "+      - image: nginx:1.28"}, nil)
	edited := change(t, k, "ConfigMap", "edited")
	if d := cmp.Diff([]FieldChange{{Path: "data.key", Class: ClassDrift}}, edited.Fields); d != "" {
		t.Errorf("ConfigMap fields (-want +got):\n%s", d)
	}
}

// A pull request that changes a field that drifted: the field is
// pr+drift.
func TestClassifyFieldThatDriftedAndChanges(t *testing.T) {
	ns := kubetest.Setup(t)
	ks, base := classWorld(t, ns)
	merge := writeTree(t, ns.Name, map[string]string{"app/all.yaml": strings.Replace(classBase, "replicas: 2", "replicas: 3", 1)})
	d := &Differ{Client: ns.Client}
	rep, err := d.Diff(context.Background(), Request{Root: merge, Base: base, Kustomization: ks})
	if err != nil {
		t.Fatal(err)
	}
	web := change(t, rep.Kustomizations[0], "Deployment", "web")
	if d := cmp.Diff([]FieldChange{{Path: "spec.replicas", Class: ClassPRAndDrift}}, web.Fields); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
	if web.Class != ClassPRAndDrift || web.PRDiff != "" || web.DriftDiff != "" {
		t.Errorf("class %q, split %q / %q; want pr+drift, not split (one field)", web.Class, web.PRDiff, web.DriftDiff)
	}
}

// A base tree whose build fails leaves the changes unclassified and says
// why, instead of hiding the Kustomization or failing the diff.
func TestClassifyReportsABaseBuildThatFails(t *testing.T) {
	ns := kubetest.Setup(t)
	ks, _ := classWorld(t, ns)
	base := writeTree(t, ns.Name, map[string]string{"app/kustomization.yaml": "resources: [missing.yaml]\n"})
	merge := writeTree(t, ns.Name, map[string]string{"app/all.yaml": classBase})
	d := &Differ{Client: ns.Client}
	rep, err := d.Diff(context.Background(), Request{Root: merge, Base: base, Kustomization: ks})
	if err != nil {
		t.Fatal(err)
	}
	k := rep.Kustomizations[0]
	if k.Error != "" || !strings.Contains(k.BaseError, "missing.yaml") || k.Classes != nil {
		t.Errorf("error %q, base error %q, classes %+v; want no error, the base's build error, no classes", k.Error, k.BaseError, k.Classes)
	}
	if c := change(t, k, "Deployment", "web"); c.Action != ActionConfigured || c.Class != "" {
		t.Errorf("Deployment web: %s, class %q; want configured, unclassified", c.Action, c.Class)
	}
}

// wantParts checks that a diff has every line of have and no line
// mentioning any of lack.
func wantParts(t *testing.T, what, diff string, have, lack []string) {
	t.Helper()
	lines := map[string]bool{}
	for _, l := range strings.Split(diff, "\n") {
		lines[strings.TrimRight(l, " ")] = true
		for _, s := range lack {
			if strings.HasPrefix(l, "-") || strings.HasPrefix(l, "+") {
				if strings.Contains(l, s) && !strings.HasPrefix(l, "---") && !strings.HasPrefix(l, "+++") {
					t.Errorf("%s changes %q:\n%s", what, s, diff)
				}
			}
		}
	}
	for _, l := range have {
		if !lines[l] {
			t.Errorf("%s lacks %q:\n%s", what, l, diff)
		}
	}
}
