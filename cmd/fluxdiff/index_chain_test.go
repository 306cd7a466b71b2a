package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	swapi "github.com/fluxcd/source-watcher/api/v2/v1beta1"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// chainObjects are a Flux 2.7 generator chain, an include, a sparse
// checkout, a remote target, a tenant identity and a Bucket source.
func chainObjects(ns string) []client.Object {
	interval := metav1.Duration{Duration: time.Minute}
	ks := func(name, kind, src string) *kustomizev1.Kustomization {
		return &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: kustomizev1.KustomizationSpec{Path: "./", Interval: interval,
				SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: kind, Name: src}}}
	}
	apps := ks("apps", sourcev1.ExternalArtifactKind, "apps")
	apps.Spec.KubeConfig = &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: "spoke", Key: "value"}}
	apps.Spec.ServiceAccountName = "tenant"
	return []client.Object{
		&sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet"},
			Spec: sourcev1.GitRepositorySpec{URL: "https://github.com/example/fleet", Interval: interval,
				Reference: &sourcev1.GitRepositoryRef{Branch: "main"}, SparseCheckout: []string{"apps"},
				Include: []sourcev1.GitRepositoryInclude{{GitRepositoryRef: meta.LocalObjectReference{Name: "shared"}, FromPath: "deploy", ToPath: "vendor/shared"}}}},
		&sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shared"},
			Spec: sourcev1.GitRepositorySpec{URL: "https://github.com/example/shared", Interval: interval, Reference: &sourcev1.GitRepositoryRef{Branch: "main"}}},
		&sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mono"},
			Spec: sourcev1.GitRepositorySpec{URL: "https://github.com/example/mono", Interval: interval, Reference: &sourcev1.GitRepositoryRef{Branch: "main"}}},
		&swapi.ArtifactGenerator{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gen"},
			Spec: swapi.ArtifactGeneratorSpec{
				Sources:         []swapi.SourceReference{{Alias: "mono", Kind: sourcev1.GitRepositoryKind, Name: "mono"}},
				OutputArtifacts: []swapi.OutputArtifact{{Name: "apps", Copy: []swapi.CopyOperation{{From: "@mono/apps/**", To: "@artifact/"}}}}}},
		&sourcev1.ExternalArtifact{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "apps"},
			Spec: sourcev1.ExternalArtifactSpec{SourceRef: &meta.NamespacedObjectKindReference{
				APIVersion: swapi.GroupVersion.String(), Kind: swapi.ArtifactGeneratorKind, Name: "gen"}}},
		apps,
		ks("fleet", sourcev1.GitRepositoryKind, "fleet"),
		ks("data", sourcev1.BucketKind, "data"),
	}
}

func TestIndexCommandShowsSourceChains(t *testing.T) {
	ns := kubetest.Setup(t)
	for _, o := range chainObjects(ns.Name) {
		if err := ns.Client.Create(context.Background(), o); err != nil {
			t.Fatalf("create %s: %v", o.GetName(), err)
		}
	}
	kubeconfig, err := ns.Kubeconfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, fmt.Sprintf("  - name: dev\n    kubeconfig: %s\n", kubeconfig))
	n := ns.Name

	t.Run("json gives each Kustomization's chain, target and identity", func(t *testing.T) {
		out, err := runInProcess(t, "index", "--config", cfg, "-o", "json")
		if err != nil {
			t.Fatal(err)
		}
		var rep struct{ Kustomizations []map[string]any }
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v in\n%s", err, out)
		}
		got := map[string][5]any{}
		for _, k := range rep.Kustomizations {
			if k["namespace"] == n {
				got[k["name"].(string)] = [5]any{k["chain"], k["target"], k["identity"], k["status"], k["reason"]}
			}
		}
		want := map[string][5]any{
			"apps": {"ExternalArtifact " + n + "/apps ← ArtifactGenerator " + n + "/gen (artifact apps) ← GitRepository " + n + "/mono (alias mono)",
				"Secret spoke/value", n + "/tenant", "matched", nil},
			"fleet": {"GitRepository " + n + "/fleet + include GitRepository " + n + "/shared deploy → vendor/shared [sparseCheckout: apps]",
				nil, nil, "matched", nil},
			"data": {"Bucket " + n + "/data", nil, nil, "not PR-diffable", "Bucket sources are not diffable from a pull request"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("kustomizations (-want +got):\n%s", diff)
		}
	})
	t.Run("--repo of an included repository lists the including Kustomization", func(t *testing.T) {
		out, err := runInProcess(t, "index", "--config", cfg, "--repo", "https://github.com/example/shared")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, " fleet ") || !strings.Contains(out, "include GitRepository "+n+"/shared") {
			t.Errorf("the Kustomization that includes example/shared is missing from:\n%s", out)
		}
	})
}
