package diff

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// Scenario tests for issue #15 (items 3, 4, 7, 8, 9, 11, 14): each expected
// value is what kustomize-controller does on apply, cited in the comment.

// TestScenarioSymlinkedManifestIsNotApplied: source-controller's archiver
// skips anything that is not a regular file or a folder (storage Archive:
// "Ignore anything that is not a file or directories e.g. symlinks"), so a
// manifest linked into spec.path is not in the artifact and the controller
// neither creates nor changes its object.
func TestScenarioSymlinkedManifestIsNotApplied(t *testing.T) {
	ns := kubetest.Setup(t)
	root := writeTree(t, ns.Name, map[string]string{
		"app/cm.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: real, namespace: __NS__}\ndata: {a: b}\n",
		"shared/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: linked, namespace: __NS__}\ndata: {a: b}\n",
	})
	if err := os.Symlink("../shared/cm.yaml", filepath.Join(root, "app", "linked.yaml")); err != nil {
		t.Fatal(err)
	}
	k := diffKS(t, ns, root, newKS(ns.Name, "app", "./app"))
	wantRows(t, k, row{ActionCreated, "ConfigMap", ns.Name, "real"})
}

// childKS is a Flux Kustomization document for path, with extra spec lines.
func childKS(name, path, extra string) string {
	return ksYAML(name, path) + extra
}

// TestScenarioChildrenFollowDependsOn: kustomize-controller reconciles a
// Kustomization only when every spec.dependsOn entry is Ready
// (checkDependencies requeues it until then), so a child whose objects live
// in a Namespace that the child it depends on creates applies after that
// Namespace exists — it does not fail with "namespace not found", whatever
// the names say.
func TestScenarioChildrenFollowDependsOn(t *testing.T) {
	ns := kubetest.Setup(t)
	appNS := ns.Name + "-apps"
	root := writeTree(t, ns.Name, map[string]string{
		"clusters/app.yaml":   childKS("a-app", "./app", "  dependsOn: [{name: z-infra}]\n"),
		"clusters/infra.yaml": childKS("z-infra", "./infra", ""),
		"infra/ns.yaml":       "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + appNS + "}\n",
		"app/cm.yaml":         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: " + appNS + "}\ndata: {a: b}\n",
	})
	rep, err := (&Differ{Client: ns.Client}).Diff(t.Context(), Request{Root: root, Kustomization: newKS(ns.Name, "root", "./clusters"), Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, k := range rep.Kustomizations {
		order = append(order, k.Name)
	}
	if want := []string{"root", "z-infra", "a-app"}; !slices.Equal(order, want) {
		t.Fatalf("diffed in order %v, want %v", order, want)
	}
	wantRows(t, rep.Kustomizations[2], row{ActionCreated, "ConfigMap", appNS, "settings"})
}

// TestScheduleOrder checks the order rules apart from the cluster.
func TestScheduleOrder(t *testing.T) {
	ks := func(name string, deps ...string) *kustomizev1.Kustomization {
		k := newKS("ns", name, "./"+name)
		for _, d := range deps {
			k.Spec.DependsOn = append(k.Spec.DependsOn, kustomizev1.DependencyReference{Name: d})
		}
		return k
	}
	drain := func(s *schedule) (order, warnings []string) {
		for {
			n, w, ok := s.next()
			if !ok {
				return order, warnings
			}
			order = append(order, n.ks.Name)
			if w != "" {
				warnings = append(warnings, n.ks.Name+": "+w)
			}
		}
	}
	t.Run("dependencies first, then names", func(t *testing.T) {
		s := newSchedule()
		s.add(nested{ks: ks("c", "a")}, nested{ks: ks("b")}, nested{ks: ks("a", "b")})
		if order, w := drain(s); !slices.Equal(order, []string{"b", "a", "c"}) || len(w) != 0 {
			t.Errorf("order %v, warnings %v", order, w)
		}
	})
	t.Run("a dependency the run has not met waits for the rest", func(t *testing.T) {
		s := newSchedule()
		s.add(nested{ks: ks("a", "later")}, nested{ks: ks("b")})
		n, _, _ := s.next()
		if n.ks.Name != "b" {
			t.Errorf("first %s, want b", n.ks.Name)
		}
		s.add(nested{ks: ks("later")})
		if order, _ := drain(s); !slices.Equal(order, []string{"later", "a"}) {
			t.Errorf("then %v, want [later a]", order)
		}
	})
	t.Run("the Kustomization that applies another comes first", func(t *testing.T) {
		parent := ks("z-parent")
		parent.Status.Inventory = &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{{ID: "ns_a-child_kustomize.toolkit.fluxcd.io_Kustomization", Version: "v1"}}}
		s := newSchedule()
		s.add(nested{ks: ks("a-child")}, nested{ks: parent})
		if order, _ := drain(s); !slices.Equal(order, []string{"z-parent", "a-child"}) {
			t.Errorf("order %v", order)
		}
	})
	t.Run("a cycle is diffed anyway, with a warning", func(t *testing.T) {
		s := newSchedule()
		s.add(nested{ks: ks("a", "b")}, nested{ks: ks("b", "a")})
		order, w := drain(s)
		if !slices.Equal(order, []string{"a", "b"}) || len(w) != 1 || !strings.Contains(w[0], "cycle") {
			t.Errorf("order %v, warnings %v", order, w)
		}
	})
	t.Run("a Kustomization queued twice is diffed once", func(t *testing.T) {
		s := newSchedule()
		s.add(nested{ks: ks("a")})
		s.add(nested{ks: ks("a")})
		if order, _ := drain(s); len(order) != 1 {
			t.Errorf("order %v", order)
		}
	})
}

// TestScenarioChildSeesVariablesItsParentChanges: kustomize-controller reads
// postBuild.substituteFrom from the cluster when it builds (LoadVariables),
// so once the parent applies its new ConfigMap and Secret, the child
// substitutes the new values: its ConfigMap is configured to eu-west-2.
func TestScenarioChildSeesVariablesItsParentChanges(t *testing.T) {
	ns := kubetest.Setup(t)
	const oldToken, newToken = "old-token-6d1f0a", "new-token-93be47"
	applyLive(t, ns.Client, ns.Name, "parent", `
apiVersion: v1
kind: ConfigMap
metadata: {name: cluster-vars, namespace: __NS__}
data: {REGION: eu-west-1}
---
apiVersion: v1
kind: Secret
metadata: {name: cluster-secrets, namespace: __NS__}
stringData: {TOKEN: `+oldToken+`}
`)
	applyLive(t, ns.Client, ns.Name, "child", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: __NS__}\ndata: {region: eu-west-1, token: "+oldToken+"}\n")
	root := writeTree(t, ns.Name, map[string]string{
		"parent/vars.yaml": `
apiVersion: v1
kind: ConfigMap
metadata: {name: cluster-vars, namespace: __NS__}
data: {REGION: eu-west-2}
---
apiVersion: v1
kind: Secret
metadata: {name: cluster-secrets, namespace: __NS__}
stringData: {TOKEN: ` + newToken + `}
`,
		"parent/child.yaml": childKS("child", "./child", "  postBuild:\n    substituteFrom:\n    - {kind: ConfigMap, name: cluster-vars}\n    - {kind: Secret, name: cluster-secrets}\n"),
		"child/cm.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: __NS__}\ndata: {region: \"${REGION}\", token: \"${TOKEN}\"}\n",
	})
	check := func(t *testing.T, rep *Report) {
		t.Helper()
		var child *KustomizationReport
		for i, k := range rep.Kustomizations {
			if k.Name == "child" {
				child = &rep.Kustomizations[i]
			}
		}
		if child == nil {
			t.Fatalf("child not diffed: %+v", rep.Kustomizations)
		}
		wantRows(t, *child, row{ActionConfigured, "ConfigMap", ns.Name, "app"})
		wantDiffLines(t, change(t, *child, "ConfigMap", "app"), "-  region: eu-west-1", "+  region: eu-west-2",
			"-  token: '*** (before)'", "+  token: '*** (after)'")
		noLeak(t, rep, oldToken, newToken, b64(oldToken), b64(newToken))
	}
	parent := newKS(ns.Name, "parent", "./parent")
	parent.Spec.Prune = true

	t.Run("with --recursive", func(t *testing.T) {
		rep, err := (&Differ{Client: ns.Client}).Diff(t.Context(), Request{Root: root, Kustomization: parent, Recursive: true})
		if err != nil {
			t.Fatal(err)
		}
		check(t, rep)
	})
	t.Run("in one run of several Kustomizations, the parent first", func(t *testing.T) {
		// The pipeline passes the selected Kustomizations with their live
		// status; the parent's inventory names the child.
		parent := parent.DeepCopy()
		parent.Status.Inventory = &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{
			{ID: ns.Name + "_child_kustomize.toolkit.fluxcd.io_Kustomization", Version: "v1"}}}
		child := newKS(ns.Name, "child", "./child")
		child.Spec.PostBuild = &kustomizev1.PostBuild{SubstituteFrom: []kustomizev1.SubstituteReference{
			{Kind: "ConfigMap", Name: "cluster-vars"}, {Kind: "Secret", Name: "cluster-secrets"}}}
		rep, err := (&Differ{Client: ns.Client}).Diff(t.Context(), Request{Root: root, Kustomization: child, More: []*kustomizev1.Kustomization{parent}})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Kustomizations) != 2 || rep.Kustomizations[0].Name != "parent" {
			t.Fatalf("want parent then child, got %d reports", len(rep.Kustomizations))
		}
		check(t, rep)
	})
}
