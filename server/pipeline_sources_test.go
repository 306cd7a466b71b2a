package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fluxdiff/fluxdiff/kube"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, body := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const fleet = "https://github.com/acme/fleet"

// TestSourceTargetsNameWhatIsNotDiffed runs the selection on a pull request
// that changes the definition of an OCIRepository-sourced Kustomization and
// a file of a repository that another one includes: neither is diffed, and
// the report's notes say why (never silently skipped).
func TestSourceTargetsNameWhatIsNotDiffed(t *testing.T) {
	const ociKS = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: charts\n  namespace: flux-system\n" +
		"spec:\n  interval: 10m\n  path: ./\n  prune: true\n  sourceRef:\n    kind: OCIRepository\n    name: charts\n"
	root := writeTree(t, map[string]string{"clusters/prod/charts.yaml": ociKS})
	ix := kube.NewIndex()
	ix.SetGitRepository("prod", &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "flux-system"},
		Spec: sourcev1.GitRepositorySpec{URL: fleet, Reference: &sourcev1.GitRepositoryRef{Branch: "main"}}})
	ix.SetKustomization("prod", &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "flux-system"},
		Spec: kustomizev1.KustomizationSpec{Path: "./clusters/prod", SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "flux-system"}}})
	sel := NewSelector(4)

	t.Run("an OCIRepository-sourced Kustomization", func(t *testing.T) {
		picked, err := sel.Select(context.Background(), kube.SelectRequest{Root: root, Repo: fleet, Branch: "main",
			Changes: []kube.FileChange{{Path: "clusters/prod/charts.yaml", Kind: kube.Modified}}, Candidates: ix.Lookup(fleet, "main")})
		if err != nil {
			t.Fatal(err)
		}
		ts, notes := sourceTargets(context.Background(), picked, kube.NewArtifactTrees(root))
		if names := targetNames(ts); len(names) != 1 || names[0] != "prod/flux-system/flux-system" {
			t.Errorf("targets %v, want only flux-system (its build applies the changed file)", names)
		}
		if len(notes) != 1 || !strings.Contains(notes[0], "flux-system/charts") ||
			!strings.Contains(notes[0], "OCIRepository sources are not diffable from a pull request") {
			t.Errorf("notes = %q, want one naming charts and the reason", notes)
		}
	})
	t.Run("a Kustomization that includes the pull request's repository", func(t *testing.T) {
		repo := &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "flux-system"},
			Spec: sourcev1.GitRepositorySpec{URL: fleet, Reference: &sourcev1.GitRepositoryRef{Branch: "main"},
				Include: []sourcev1.GitRepositoryInclude{{GitRepositoryRef: meta.LocalObjectReference{Name: "shared"}, ToPath: "shared"}}}}
		ix.SetGitRepository("prod", repo)
		const shared = "https://github.com/acme/shared"
		ix.SetGitRepository("prod", &sourcev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Namespace: "flux-system", Name: "shared"},
			Spec: sourcev1.GitRepositorySpec{URL: shared, Reference: &sourcev1.GitRepositoryRef{Branch: "main"}}})
		picked, err := sel.Select(context.Background(), kube.SelectRequest{Root: t.TempDir(), Repo: shared, Branch: "main",
			Changes: []kube.FileChange{{Path: "base/cm.yaml", Kind: kube.Modified}}, Candidates: ix.Lookup(shared, "main")})
		if err != nil {
			t.Fatal(err)
		}
		ts, notes := sourceTargets(context.Background(), picked, kube.NewArtifactTrees(t.TempDir()))
		if len(ts) != 0 {
			t.Errorf("targets %v, want none: the including repository's tree is not at hand", targetNames(ts))
		}
		if len(notes) != 1 || !strings.Contains(notes[0], "includes this repository: base/cm.yaml is shared/base/cm.yaml") ||
			!strings.Contains(notes[0], "is not diffed") {
			t.Errorf("notes = %q", notes)
		}
	})
}
