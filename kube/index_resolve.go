package kube

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
)

// defaultBranch is what source-controller checks out when a GitRepository
// has no spec.ref.
const defaultBranch = "master"

// gitSource is what the index keeps of a GitRepository.
type gitSource struct {
	url, repo, branch, reason, ignore string
	// sparse is spec.sparseCheckout; ignore holds the patterns that leave
	// out everything else.
	sparse []string
	// includes is spec.include.
	includes []sourcev1.GitRepositoryInclude
}

func (s gitSource) equal(o gitSource) bool {
	return s.url == o.url && s.repo == o.repo && s.branch == o.branch && s.reason == o.reason && s.ignore == o.ignore &&
		slices.Equal(s.sparse, o.sparse) && slices.Equal(s.includes, o.includes)
}

// gitSourceOf keeps what a build of the GitRepository's artifact needs:
// spec.ignore, spec.sparseCheckout (as more ignore patterns, see
// sparseIgnore) and spec.include (see includesOf).
func gitSourceOf(repo *sourcev1.GitRepository) gitSource {
	src := gitSource{url: repo.Spec.URL, repo: NormalizeRepoURL(repo.Spec.URL), sparse: repo.Spec.SparseCheckout, includes: repo.Spec.Include}
	if repo.Spec.Ignore != nil {
		src.ignore = *repo.Spec.Ignore
	}
	src.ignore = withSparseCheckout(src.ignore, src.sparse)
	src.branch, src.reason = branchOf(repo.Spec.Reference)
	if src.reason != "" {
		src.reason = fmt.Sprintf("GitRepository %s/%s %s", repo.Namespace, repo.Name, src.reason)
	}
	return src
}

// branchOf returns the branch a GitRepository follows, or why it follows
// none. The precedence is source-controller's: commit, name, semver, tag,
// branch.
func branchOf(ref *sourcev1.GitRepositoryRef) (branch, reason string) {
	switch {
	case ref == nil:
		return defaultBranch, ""
	case ref.Commit != "":
		return "", fmt.Sprintf("is pinned to commit %s", ref.Commit)
	case ref.Name != "":
		if b, ok := strings.CutPrefix(ref.Name, "refs/heads/"); ok && b != "" {
			return b, ""
		}
		return "", fmt.Sprintf("follows ref %s, which is not a branch", ref.Name)
	case ref.SemVer != "":
		return "", fmt.Sprintf("follows semver range %s", ref.SemVer)
	case ref.Tag != "":
		return "", fmt.Sprintf("follows tag %s", ref.Tag)
	case ref.Branch != "":
		return ref.Branch, ""
	}
	return defaultBranch, ""
}

// resolve builds the entry of ks from its source. The caller holds the
// lock.
func (ix *Index) resolve(key ObjectKey, ks *kustomizev1.Kustomization) (*Entry, resolution) {
	var res resolution
	ref := ks.Spec.SourceRef
	e := &Entry{
		ObjectKey:     key,
		Path:          ks.Spec.Path,
		Source:        SourceRef{Kind: ref.Kind, Namespace: cmp.Or(ref.Namespace, key.Namespace), Name: ref.Name},
		Suspended:     ks.Spec.Suspend,
		Kustomization: ks,
	}
	switch ref.Kind {
	case sourcev1.GitRepositoryKind:
		gitKey := ObjectKey{Cluster: key.Cluster, Namespace: e.Source.Namespace, Name: ref.Name}
		res.deps = append(res.deps, depKey{sourcev1.GitRepositoryKind, gitKey})
		src, ok := ix.sources[gitKey]
		if !ok {
			e.Reason = fmt.Sprintf("GitRepository %s/%s not found", e.Source.Namespace, ref.Name)
			return e, res
		}
		e.URL, e.Repo, e.Branch, e.Reason, e.Ignore = src.url, src.repo, src.branch, src.reason, src.ignore
		e.SparseCheckout = src.sparse
		ix.resolveIncludes(e, &res, src)
	case sourcev1.OCIRepositoryKind, sourcev1.BucketKind:
		e.Reason = fmt.Sprintf("%s sources are not diffable from a pull request", ref.Kind)
	case externalArtifactKind:
		ix.resolveArtifact(e, &res)
	default:
		e.Reason = fmt.Sprintf("source kind %q is not supported", ref.Kind)
	}
	res.links = []repoBranch{{repo: e.Repo, branch: e.Branch}}
	for _, in := range e.Includes {
		if rb := (repoBranch{repo: in.Repo, branch: in.Branch}); in.Reason == "" && !slices.Contains(res.links, rb) {
			res.links = append(res.links, rb)
		}
	}
	return e, res
}
