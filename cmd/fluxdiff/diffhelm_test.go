package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// `diff helmrelease` renders one HelmRelease of a Kustomization's local
// build (here with its chart in the same repository, rendered from the
// local tree) and shows the objects it would create; `diff kustomization
// --helm=false` leaves HelmReleases as plain objects.
func TestDiffHelmReleaseCommand(t *testing.T) {
	ns := kubetest.Setup(t)
	if err := ns.Env.InstallCRDs(kubetest.StandInCRDDir()); err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := ns.Kubeconfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"apps/local/kustomization.yaml": "resources: [release.yaml]\n",
		"apps/local/release.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: local, namespace: " + ns.Name + "}\n" +
			"spec:\n  interval: 5m\n  chart:\n    spec:\n      chart: ./charts/podinfo\n      sourceRef: {kind: GitRepository, name: repo}\n  values:\n    replicaCount: 2\n",
	}
	chart := filepath.Join("..", "..", "testdata", "charts", "podinfo")
	err = filepath.WalkDir(chart, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(chart, p)
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(filepath.Join("charts", "podinfo", rel))] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	repo := gitRepo(t, files)
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: "local", Namespace: ns.Name},
		Spec: kustomizev1.KustomizationSpec{Interval: metav1.Duration{Duration: time.Minute}, Path: "./apps/local",
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "repo"}},
	}
	if err := ns.Client.Create(t.Context(), ks); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	path := filepath.Join(repo, "apps", "local")

	r := runCLI(t, bin, "diff", "helmrelease", "local", "-n", ns.Name, "--kustomization", "local",
		"--kustomization-namespace", ns.Name, "--kubeconfig", kubeconfig, "--path", path)
	for _, want := range []string{
		"⎈ HelmRelease " + ns.Name + "/local (chart podinfo 6.9.2, new release)",
		"► Deployment/" + ns.Name + "/local-podinfo created",
		"+  replicas: 2",
		"test (not diffed): Pod/local-podinfo-",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if r.code != 1 || strings.Contains(r.stdout, "► HelmRelease/") {
		t.Errorf("exit %d (want 1); the HelmRelease object itself should not be listed\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}

	r = runCLI(t, bin, "diff", "kustomization", "local", "-n", ns.Name, "--kubeconfig", kubeconfig, "--path", path, "--helm=false")
	if r.code != 1 || strings.Contains(r.stdout, "⎈") || !strings.Contains(r.stdout, "► HelmRelease/"+ns.Name+"/local created") {
		t.Errorf("--helm=false: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}
