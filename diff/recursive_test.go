package diff

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// ksYAML is a Flux Kustomization document reading path from GitRepository repo.
func ksYAML(name, path string) string {
	return fmt.Sprintf(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: %s, namespace: __NS__}
spec:
  interval: 10m
  path: %s
  prune: true
  sourceRef: {kind: GitRepository, name: repo}
`, name, path)
}

func TestRecursiveDiffFollowsNestedKustomizations(t *testing.T) {
	ns := kubetest.Setup(t)
	root := writeTree(t, ns.Name, map[string]string{
		"clusters/prod/apps.yaml":  ksYAML("apps", "./apps"),
		"clusters/prod/other.yaml": strings.Replace(ksYAML("elsewhere", "./x"), "name: repo", "name: another-repo", 1),
		"apps/podinfo.yaml":        ksYAML("podinfo", "./apps/podinfo"),
		"apps/loop.yaml":           ksYAML("root", "./clusters/prod"),
		"apps/podinfo/cm.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: podinfo, namespace: __NS__}\ndata: {a: b}\n",
	})
	d := &Differ{Client: ns.Client}
	req := Request{Root: root, Kustomization: newKS(ns.Name, "root", "./clusters/prod"), Recursive: true}
	rep, err := d.Diff(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range rep.Kustomizations {
		got = append(got, k.Name+" <- "+k.Parent)
	}
	want := []string{"root <- ", "apps <- " + ns.Name + "/root", "podinfo <- " + ns.Name + "/apps"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Kustomizations diffed (-want +got):\n%s", diff)
	}
	if len(rep.Kustomizations) == 3 {
		wantRows(t, rep.Kustomizations[2], row{ActionCreated, "ConfigMap", ns.Name, "podinfo"})
		wantRows(t, rep.Kustomizations[0],
			row{ActionCreated, "Kustomization", ns.Name, "apps"},
			row{ActionCreated, "Kustomization", ns.Name, "elsewhere"})
	}

	t.Run("without --recursive only the top Kustomization is diffed", func(t *testing.T) {
		req := req
		req.Recursive = false
		rep, err := d.Diff(context.Background(), req)
		if err != nil || len(rep.Kustomizations) != 1 {
			t.Fatalf("got %d reports, err %v", len(rep.Kustomizations), err)
		}
	})
	t.Run("the depth limit stops recursion with a warning", func(t *testing.T) {
		d := &Differ{Client: ns.Client, MaxDepth: 1}
		rep, err := d.Diff(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Kustomizations) != 2 || len(rep.Kustomizations[1].Warnings) != 1 {
			t.Fatalf("got %d reports, warnings %v", len(rep.Kustomizations), rep.Kustomizations[len(rep.Kustomizations)-1].Warnings)
		}
	})
}
