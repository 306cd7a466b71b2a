package kube

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"github.com/google/go-cmp/cmp"
)

const sharedURL = "https://github.com/example/shared"

// includeIndex has GitRepository fleet including shared's deploy folder at
// vendor/shared, and Kustomization apps reading fleet.
func includeIndex() *Index {
	ix := NewIndex()
	fleetRepo := gitRepo("flux-system", "fleet", fleetURL, &sourcev1.GitRepositoryRef{Branch: "main"})
	fleetRepo.Spec.Include = []sourcev1.GitRepositoryInclude{{GitRepositoryRef: meta.LocalObjectReference{Name: "shared"}, FromPath: "deploy", ToPath: "vendor/shared"}}
	ix.SetGitRepository("prod", fleetRepo)
	ix.SetGitRepository("prod", gitRepo("flux-system", "shared", sharedURL, &sourcev1.GitRepositoryRef{Branch: "main"}))
	ix.SetKustomization("prod", kustomization("flux-system", "apps", "./apps", gitRef("", "fleet")))
	return ix
}

func TestIncludedRepositorySelectsTheIncludingKustomization(t *testing.T) {
	ix := includeIndex()
	cands := ix.Lookup(sharedURL, "main")
	if diff := cmp.Diff([]string{"prod/flux-system/apps"}, keysOf(cands)); diff != "" {
		t.Fatalf("lookup of the included repository (-want +got):\n%s", diff)
	}
	var builds atomic.Int32
	sel := NewSelector(countingBuild(&builds), 4)
	t.Run("a change below fromPath selects it, not built", func(t *testing.T) {
		got, err := sel.Select(context.Background(), SelectRequest{Root: t.TempDir(), Repo: sharedURL, Branch: "main",
			Changes: []FileChange{{Path: "deploy/cm.yaml", Kind: Modified}}, Candidates: cands})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Entry.Name != "apps" {
			t.Fatalf("selected %v, want apps", got)
		}
		var inc *IncludeError
		if !errors.As(got[0].BuildErr, &inc) || !strings.Contains(got[0].Reasons[0], "deploy/cm.yaml is vendor/shared/cm.yaml") {
			t.Errorf("BuildErr = %v, reasons %q; want an IncludeError and the path in the artifact", got[0].BuildErr, got[0].Reasons)
		}
		if builds.Load() != 0 {
			t.Errorf("%d builds, want none: the including tree is not at hand", builds.Load())
		}
	})
	t.Run("a change outside fromPath selects nothing", func(t *testing.T) {
		got, err := sel.Select(context.Background(), SelectRequest{Root: t.TempDir(), Repo: sharedURL, Branch: "main",
			Changes: []FileChange{{Path: "docs/README.md", Kind: Modified}}, Candidates: cands})
		if err != nil || len(got) != 0 {
			t.Errorf("selected %v, %v; want none", got, err)
		}
	})
	t.Run("the include follows the included GitRepository's branch", func(t *testing.T) {
		ix.SetGitRepository("prod", gitRepo("flux-system", "shared", sharedURL, &sourcev1.GitRepositoryRef{Branch: "release"}))
		if got := ix.Lookup(sharedURL, "main"); len(got) != 0 {
			t.Errorf("lookup of main = %v, want none", keysOf(got))
		}
		if got := ix.Lookup(sharedURL, "release"); len(got) != 1 {
			t.Errorf("lookup of release = %v, want apps", keysOf(got))
		}
	})
}

func TestSparseCheckoutLeavesOutTheRest(t *testing.T) {
	ignore := withSparseCheckout("*.md\n", []string{"apps/base", "infrastructure"})
	tree, err := newSourceTree(ArtifactInput{Root: t.TempDir(), Ignore: ignore})
	if err != nil {
		t.Fatal(err)
	}
	// A sparse checkout of folders checks out those folders, whole, and
	// nothing else (source-controller's sparse checkout through go-git).
	for p, want := range map[string]bool{
		"apps/base/podinfo/release.yaml": false,
		"apps/base/README.md":            true, // spec.ignore still applies
		"apps/staging/ks.yaml":           true,
		"infrastructure/configs/x.yaml":  false,
		"clusters/prod/ks.yaml":          true,
		"README.yaml":                    true,
	} {
		if got := tree.hidden(p, false); got != want {
			t.Errorf("hidden(%s) = %v, want %v (patterns:\n%s)", p, got, want, ignore)
		}
	}
}
