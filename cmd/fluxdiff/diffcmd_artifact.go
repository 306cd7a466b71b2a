package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	swapi "github.com/fluxcd/source-watcher/api/v2/v1beta1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/kube"
)

// A Kustomization whose spec.sourceRef is an ExternalArtifact made by an
// ArtifactGenerator (Flux 2.7+) is built by kustomize-controller from that
// artifact: the tree source-watcher assembles by applying the generator's
// copy rules to the GitRepositories' artifacts, with spec.path inside it.
// The CLI does the same from the local checkout of the generator's
// repository, as the server does from the pull request's tree
// (server/pipeline_sources.go): the same resolution (kube.Index) and the
// same assembly (kube.ArtifactTrees).

// artifactRequest fills req for ks, which reads an ExternalArtifact: Root
// (and Base with --base) are the artifacts assembled from the checkouts of
// the generator's repository at --path and --base. It returns a function
// that removes the assembled trees. The error says why the artifact cannot
// be told or assembled, e.g. when --path is not a checkout of that
// repository.
func artifactRequest(ctx context.Context, c client.Client, req diff.Request, o *diffOptions) (diff.Request, func(), error) {
	noop := func() {}
	e, err := artifactEntry(ctx, c, req.Kustomization)
	if err != nil {
		return req, noop, err
	}
	root, err := artifactCheckout("--path", o.path, o.root, e)
	if err != nil {
		return req, noop, err
	}
	arts := kube.NewArtifactTrees(root)
	var baseArts *kube.ArtifactTrees
	done := func() {
		_ = arts.Close()
		if baseArts != nil {
			_ = baseArts.Close()
		}
	}
	if req.Root, err = arts.Root(ctx, e); err != nil {
		return req, done, fmt.Errorf("assemble the artifact from %s: %w", root, err)
	}
	// The artifact is the tree as source-watcher stored it: the
	// GitRepositories' ignore rules were applied when it was assembled.
	req.Ignore = ""
	if o.base == "" {
		return req, done, nil
	}
	if err := checkFolder("--base", o.base); err != nil {
		return req, done, err
	}
	base, err := artifactCheckout("--base", o.base, o.base, e)
	if err != nil {
		return req, done, err
	}
	baseArts = kube.NewArtifactTrees(base)
	if req.Base, err = baseArts.Root(ctx, e); err != nil {
		return req, done, fmt.Errorf("--base: assemble the artifact from %s: %w", base, err)
	}
	return req, done, nil
}

// artifactEntry resolves the source chain of ks, ExternalArtifact ←
// ArtifactGenerator ← GitRepositories, from the cluster c reaches, the way
// the server's index does; the error gives the index's reason when the
// chain is broken or not diffable (a missing object, a source that is not
// a GitRepository, copies from several repositories).
func artifactEntry(ctx context.Context, c client.Client, ks *kustomizev1.Kustomization) (*kube.Entry, error) {
	ix := kube.NewIndex()
	ref := ks.Spec.SourceRef
	ea := &sourcev1.ExternalArtifact{}
	found, err := getOptional(ctx, c, cmp.Or(ref.Namespace, ks.Namespace), ref.Name, ea)
	if err != nil {
		return nil, err
	}
	if found {
		if err := addGenerator(ctx, c, ix, ea); err != nil {
			return nil, err
		}
		ix.SetExternalArtifact("", ea)
	}
	ix.SetKustomization("", ks.DeepCopy())
	entries := ix.List("")
	i := slices.IndexFunc(entries, func(e *kube.Entry) bool { return e.Namespace == ks.Namespace && e.Name == ks.Name })
	if i < 0 { // SetKustomization always lists it
		return nil, fmt.Errorf("Kustomization %s/%s: not resolved", ks.Namespace, ks.Name)
	}
	e := entries[i]
	if e.Reason != "" || e.Artifact == nil {
		return nil, fmt.Errorf("Kustomization %s/%s reads ExternalArtifact %s/%s, whose tree cannot be assembled locally: %s",
			ks.Namespace, ks.Name, e.Source.Namespace, e.Source.Name, e.Reason)
	}
	return e, nil
}

// addGenerator adds to ix the ArtifactGenerator that makes ea, when one
// does, and the GitRepositories it names.
func addGenerator(ctx context.Context, c client.Client, ix *kube.Index, ea *sourcev1.ExternalArtifact) error {
	ref := ea.Spec.SourceRef
	if ref == nil || ref.Kind != swapi.ArtifactGeneratorKind {
		return nil
	}
	gen := &swapi.ArtifactGenerator{}
	found, err := getOptional(ctx, c, cmp.Or(ref.Namespace, ea.Namespace), ref.Name, gen)
	if err != nil || !found {
		return err
	}
	for _, s := range gen.Spec.Sources {
		if s.Kind != sourcev1.GitRepositoryKind {
			continue
		}
		repo := &sourcev1.GitRepository{}
		found, err := getOptional(ctx, c, cmp.Or(s.Namespace, gen.Namespace), s.Name, repo)
		if err != nil {
			return err
		}
		if found {
			ix.SetGitRepository("", repo)
		}
	}
	ix.SetArtifactGenerator("", gen)
	return nil
}

// getOptional gets namespace/name into obj; false when it does not exist.
func getOptional(ctx context.Context, c client.Client, namespace, name string, obj client.Object) (bool, error) {
	err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, obj)
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("get %T %s/%s: %w", obj, namespace, name, err)
	}
	return true, nil
}

// artifactCheckout returns the root of the local checkout that stands for
// the repository e's generator copies from: rootFlag when given, else the
// Git checkout that holds dir (flag names dir in errors). It fails when
// none of the checkout's Git remotes is that repository, or when that
// cannot be told (not a Git checkout, git missing).
func artifactCheckout(flag, dir, rootFlag string, e *kube.Entry) (string, error) {
	gen := e.Artifact.Generator
	about := fmt.Sprintf("ArtifactGenerator %s/%s copies from %s", gen.Namespace, gen.Name, e.Repo)
	root := ""
	if rootFlag != "" {
		if err := checkFolder("--root", rootFlag); err != nil {
			return "", err
		}
		root = rootFlag
	} else {
		root = gitTop(dir)
	}
	if root == "" {
		return "", fmt.Errorf("%s %s is not in a Git checkout, so it cannot be told whether it is the repository the artifact is assembled from (%s); use a checkout of it", flag, dir, about)
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	remotes, err := gitRemotes(root)
	if err != nil {
		return "", fmt.Errorf("%s %s: cannot tell which repository the checkout %s is (%s): %w", flag, dir, root, about, err)
	}
	if slices.Contains(remotes, e.Repo) {
		return root, nil
	}
	have := "it has no remote"
	if len(remotes) > 0 {
		have = "its remotes are " + strings.Join(remotes, ", ")
	}
	return "", fmt.Errorf("%s %s: the checkout %s is not the repository the artifact is assembled from (%s): %s", flag, dir, root, about, have)
}

// gitTop returns the nearest folder at or above dir that holds .git (a
// folder, or a file in a worktree); "" when there is none.
func gitTop(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// gitRemotes returns the URLs of the Git remotes of the checkout at root,
// normalized by kube.NormalizeRepoURL (which also drops any credentials
// in them), sorted and without duplicates. It runs `git remote -v`, which
// applies the url.*.insteadOf rewrites of the Git configuration.
func gitRemotes(root string) ([]string, error) {
	cmd := exec.Command("git", "-C", root, "remote", "-v")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git remote -v: %w", err)
	}
	var urls []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 2 {
			urls = append(urls, kube.NormalizeRepoURL(f[1]))
		}
	}
	slices.Sort(urls)
	return slices.Compact(urls), nil
}
