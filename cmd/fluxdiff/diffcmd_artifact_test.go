package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxdiff/fluxdiff/kube/fluxsim"
	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// fleetURL is the repository the example clusters are bootstrapped from.
const fleetURL = "https://github.com/acme/fleet"

// realRepo copies the layout of Flux's example repository
// (testdata/realrepos/flux2-kustomize-helm-example-LAYOUT) into a fresh Git
// checkout whose remote origin is remote, after edit (when not nil) has
// changed the copy.
func realRepo(t *testing.T, layout, remote string, edit func(dir string)) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "realrepos", "flux2-kustomize-helm-example-"+layout)
	dir := filepath.Join(t.TempDir(), "fleet")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(dir)
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"remote", "add", "origin", remote}} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

// replaceIn replaces old by new in the file p below dir; old must be there.
func replaceIn(t *testing.T, dir, p, old, new string) {
	t.Helper()
	full := filepath.Join(dir, filepath.FromSlash(p))
	b, err := os.ReadFile(full)
	if err != nil || !strings.Contains(string(b), old) {
		t.Fatalf("%s: %v, or no %q in it", p, err, old)
	}
	if err := os.WriteFile(full, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// bootstrappedCluster starts an API server of its own (the example
// repository's objects are cluster-wide and in flux-system), bootstraps it
// at clusters/staging from root as Flux would, and returns a kubeconfig.
func bootstrappedCluster(t *testing.T, root string) string {
	t.Helper()
	kubetest.Shared(t) // skips, or fails, without API-server binaries
	env, err := kubetest.Start()
	if errors.Is(err, kubetest.ErrNoBinaries) {
		kubetest.Unavailable(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	if err := env.InstallCRDs(kubetest.StandInCRDDir()); err != nil {
		t.Fatal(err)
	}
	if _, err := fluxsim.BootstrapCluster(t.Context(), env.Client, root, fluxsim.Bootstrap{
		URL: fleetURL, Branch: "main", Path: "./clusters/staging", Revision: "abc",
	}); err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := env.Kubeconfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return kubeconfig
}

// TestDiffKustomizationOfTheFlux27Layout: in the Flux 2.7 layout of the
// example repository, Kustomization apps reads the ExternalArtifact "apps"
// that ArtifactGenerator flux-system assembles (apps/base/** to base/,
// apps/staging/** to staging/; spec.path ./staging). Diffed from a checkout
// of the repository, the same change to the staging app shows what it shows
// in the classic layout, where apps builds ./apps/staging of the
// GitRepository.
func TestDiffKustomizationOfTheFlux27Layout(t *testing.T) {
	bin := buildBinary(t)
	change := func(dir string) {
		replaceIn(t, dir, "apps/staging/podinfo-values.yaml", `version: ">=1.0.0-alpha"`, `version: ">=6.0.0"`)
	}
	outputs := map[string][]result{}
	for _, layout := range []struct{ name, path string }{{"classic", "apps/staging"}, {"2.7", "."}} {
		base := realRepo(t, layout.name, fleetURL, nil)
		pr := realRepo(t, layout.name, fleetURL, change)
		kubeconfig := bootstrappedCluster(t, base)
		args := []string{"diff", "kustomization", "apps", "--kubeconfig", kubeconfig, "--helm=false", "--path", filepath.Join(pr, layout.path)}
		outputs[layout.name] = []result{runCLI(t, bin, args...), runCLI(t, bin, append(args, "--base", base)...)}
		if layout.name != "2.7" {
			continue
		}
		t.Run("a checkout of another repository is refused", func(t *testing.T) {
			other := realRepo(t, layout.name, "git@github.com:acme/other.git", change)
			r := runCLI(t, bin, "diff", "kustomization", "apps", "--kubeconfig", kubeconfig, "--path", other)
			if r.code != 2 || !strings.Contains(r.stderr, "is not the repository the artifact is assembled from") ||
				!strings.Contains(r.stderr, "github.com/acme/other") {
				t.Errorf("exit %d\nstderr:\n%s", r.code, r.stderr)
			}
		})
		t.Run("a folder outside a Git checkout cannot be told and is refused", func(t *testing.T) {
			plain := writeFiles(t, map[string]string{"staging/kustomization.yaml": "resources: []\n"})
			r := runCLI(t, bin, "diff", "kustomization", "apps", "--kubeconfig", kubeconfig, "--path", plain)
			if r.code != 2 || !strings.Contains(r.stderr, "is not in a Git checkout") {
				t.Errorf("exit %d\nstderr:\n%s", r.code, r.stderr)
			}
		})
	}
	for i, what := range []string{"--path", "--path and --base"} {
		classic, v27 := outputs["classic"][i], outputs["2.7"][i]
		if classic.code != 1 || !strings.Contains(classic.stdout, "HelmRelease/podinfo/podinfo configured") ||
			!strings.Contains(classic.stdout, "+      version: '>=6.0.0'") {
			t.Fatalf("%s, classic layout: exit %d\nstdout:\n%s\nstderr:\n%s", what, classic.code, classic.stdout, classic.stderr)
		}
		classic.stdout, v27.stdout = changedLines(classic.stdout), changedLines(v27.stdout)
		if d := cmp.Diff(classic, v27, cmp.AllowUnexported(result{})); d != "" {
			t.Errorf("%s: the 2.7 layout's output differs from the classic one's (-classic +2.7):\n%s", what, d)
		}
	}
}

// changedLines is the text output without what the layouts tell apart
// where the change does not: the spec.path in a Kustomization's header
// (./apps/staging in the GitRepository, ./staging in the artifact) and the
// diffs' unchanged context lines (the layouts' HelmReleases differ in
// fields the change does not touch).
func changedLines(out string) string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "   ") {
			continue
		}
		if head, _, ok := strings.Cut(line, " (path "); ok && strings.HasPrefix(line, "Kustomization ") {
			line = head
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}
