package kube

import (
	"fmt"
	"path"
	"slices"
	"strings"

	sourcev1 "github.com/fluxcd/source-controller/api/v1"
)

// Include is one entry of a GitRepository's spec.include: the artifact of
// another GitRepository (of the same namespace), from FromPath, copied into
// ToPath of the including artifact (source-controller's
// GitRepositoryReconciler.reconcileInclude; ToPath defaults to the
// included GitRepository's name, FromPath to its root).
type Include struct {
	// Repository is the included GitRepository.
	Repository SourceRef `json:"repository"`
	// FromPath and ToPath are the include's paths, defaults applied.
	FromPath string `json:"fromPath"`
	ToPath   string `json:"toPath"`
	// URL, Repo and Branch are the included GitRepository's.
	URL    string `json:"url,omitempty"`
	Repo   string `json:"repo,omitempty"`
	Branch string `json:"branch,omitempty"`
	// Reason says why a pull request to the included repository cannot be
	// mapped to the including Kustomization; empty when it can.
	Reason string `json:"reason,omitempty"`
}

// resolveIncludes fills e.Includes from the GitRepository src that e reads.
// The caller holds the lock.
func (ix *Index) resolveIncludes(e *Entry, res *resolution, src gitSource) {
	for _, in := range src.includes {
		key := ObjectKey{Cluster: e.Cluster, Namespace: e.Source.Namespace, Name: in.GitRepositoryRef.Name}
		res.deps = append(res.deps, depKey{sourcev1.GitRepositoryKind, key})
		out := Include{
			Repository: SourceRef{Kind: sourcev1.GitRepositoryKind, Namespace: key.Namespace, Name: key.Name},
			FromPath:   in.GetFromPath(), ToPath: in.GetToPath(),
		}
		inc, ok := ix.sources[key]
		switch {
		case !ok:
			out.Reason = fmt.Sprintf("GitRepository %s/%s not found", key.Namespace, key.Name)
		default:
			out.URL, out.Repo, out.Branch, out.Reason = inc.url, inc.repo, inc.branch, inc.reason
		}
		e.Includes = append(e.Includes, out)
	}
}

// includedPath maps p, a path of the included repository, to its place in
// the including artifact: below ToPath when it is below FromPath.
func (in Include) includedPath(p string) (string, bool) {
	from := specDir(in.FromPath)
	if !isUnder(p, from) || p == from {
		return "", false
	}
	rel := p
	if from != "." {
		rel = strings.TrimPrefix(p, from+"/")
	}
	return path.Join(specDir(in.ToPath), rel), true
}

// includesOf returns the includes of e that read repo at branch.
func includesOf(e *Entry, repo, branch string) []Include {
	var out []Include
	for _, in := range e.Includes {
		if in.Reason == "" && in.Repo == repo && in.Branch == branch {
			out = append(out, in)
		}
	}
	return out
}

// withSparseCheckout puts before ignore the .sourceignore patterns that
// leave out what a sparse checkout of dirs does not check out: every entry
// but the folders on the way to each of dirs, whole. They come first so
// that spec.ignore still applies inside the checked-out folders (the
// matcher, go-git's, lets a later "!/dir/" re-include all below dir); a
// negation in spec.ignore that names a folder outside dirs would
// re-include it, which source-controller's checkout would not.
func withSparseCheckout(ignore string, dirs []string) string {
	if len(dirs) == 0 {
		return ignore
	}
	keep := map[string][]string{} // folder → children on the way to a sparse dir
	for _, d := range dirs {
		d = specDir(d)
		if d == "." {
			return ignore // the whole tree
		}
		parent := "."
		for _, seg := range strings.Split(d, "/") {
			if !slices.Contains(keep[parent], seg) {
				keep[parent] = append(keep[parent], seg)
			}
			parent = path.Join(parent, seg)
		}
	}
	var b strings.Builder
	b.WriteString("# spec.sparseCheckout\n")
	for _, parent := range sortedKeys(keep) {
		if isSparseDir(parent, dirs) {
			continue // everything below a sparse dir is checked out
		}
		prefix := "/"
		if parent != "." {
			prefix = "/" + parent + "/"
		}
		b.WriteString(prefix + "*\n")
		for _, child := range keep[parent] {
			b.WriteString("!" + prefix + child + "/\n")
		}
	}
	if ignore != "" {
		b.WriteString("# spec.ignore\n" + ignore)
	}
	return b.String()
}

func isSparseDir(dir string, dirs []string) bool {
	for _, d := range dirs {
		if p := specDir(d); dir != "." && isUnder(dir, p) {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// IncludeError is the build error of a Kustomization selected because its
// GitRepository includes the pull request's repository: its artifact is
// made from another repository's tree, which the pull request does not
// hold, so fluxdiff does not build it.
type IncludeError struct {
	// Including is the including Kustomization's repository URL and branch.
	URL, Branch string
	// Include is the include that reads the pull request's repository.
	Include Include
}

func (e *IncludeError) Error() string {
	return fmt.Sprintf("its artifact is built from %s (branch %s), with this repository's %s copied into %s by GitRepository %s/%s's spec.include; "+
		"fluxdiff builds only from the pull request's own repository, so it is not diffed",
		e.URL, e.Branch, specDir(e.Include.FromPath), specDir(e.Include.ToPath), e.Include.Repository.Namespace, e.Include.Repository.Name)
}

// selectIncluder picks e, a candidate only through includes, when a change
// falls below an include's fromPath: source-controller copies it into the
// including artifact (reconcileInclude), where any build of e may read it.
func selectIncluder(picked map[ObjectKey]*Selected, ch changeSet, e *Entry, includes []Include) {
	for _, in := range includes {
		for _, p := range ch.touched {
			to, ok := in.includedPath(p)
			if !ok {
				continue
			}
			sel := pick(picked, e, false, fmt.Sprintf("includes this repository: %s is %s in its artifact", p, to))
			if sel.BuildErr == nil {
				sel.BuildErr = &IncludeError{URL: e.URL, Branch: e.Branch, Include: in}
			}
		}
	}
}
