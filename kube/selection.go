package kube

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// BuildFunc builds ks from the source tree at root, reading the tree through
// the filesystem that wrap returns. The caller adapts diff.Build:
//
//	func(root string, ks *kustomizev1.Kustomization, wrap func(filesys.FileSystem) filesys.FileSystem) error {
//		_, err := diff.Build(root, ks, diff.BuildOptions{WrapFS: wrap})
//		return err
//	}
type BuildFunc func(root string, ks *kustomizev1.Kustomization, wrap func(filesys.FileSystem) filesys.FileSystem) error

// ChangeKind is how a pull request changed a file.
type ChangeKind string

// The kinds of change; GitHub's "copied" and "changed" count as Added and
// Modified.
const (
	Added    ChangeKind = "added"
	Modified ChangeKind = "modified"
	Removed  ChangeKind = "removed"
	Renamed  ChangeKind = "renamed"
)

// FileChange is one changed file of a pull request. Paths are relative to the
// repository root with forward slashes.
type FileChange struct {
	Path string
	// PreviousPath is the old path of a renamed file.
	PreviousPath string
	Kind         ChangeKind
}

// SelectRequest is what Select needs to know about a pull request.
type SelectRequest struct {
	// Root is the source tree of the pull request's merge result.
	Root string
	// Commit is the merge commit's SHA; read-sets are cached per commit.
	Commit string
	// Changes are the pull request's changed files.
	Changes []FileChange
	// Candidates are the Kustomizations sourced from the repository and base
	// branch, usually Index.Lookup's answer.
	Candidates []*Entry
}

// Selected is one Kustomization whose output the pull request can change.
type Selected struct {
	// Entry is the Kustomization. For a new one, it is made from the
	// definition in the tree and Cluster is the cluster of the Kustomization
	// that applies it (empty when none is known).
	Entry *Entry
	// New is true for a Kustomization defined by the pull request.
	New bool
	// Reasons say why it was selected, e.g. "reads components/shared/cm.yaml".
	Reasons []string
	// BuildErr is set when the Kustomization does not build; it is selected
	// so that the diff can report the error.
	BuildErr error
}

// Selector picks the Kustomizations a pull request touches. It is safe for
// concurrent use.
type Selector struct {
	build BuildFunc
	cache *readSetCache
}

// NewSelector returns a selector that builds with build and caches up to
// cacheSize read-sets.
func NewSelector(build BuildFunc, cacheSize int) *Selector {
	return &Selector{build: build, cache: newReadSetCache(cacheSize)}
}

// Select returns exactly the Kustomizations whose output can change, sorted
// by cluster, namespace and name: those whose build reads a changed file,
// those whose generated spec.path folder gains or loses a manifest, and those
// (existing or new) whose own definition is in a changed file.
func (s *Selector) Select(ctx context.Context, req SelectRequest) ([]Selected, error) {
	ch := newChangeSet(req.Changes)
	picked := map[ObjectKey]*Selected{}
	readers := map[string][]*Entry{} // changed file → candidates whose build reads it
	for _, e := range req.Candidates {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rs, err := s.readSet(req.Root, req.Commit, e)
		if err != nil {
			pick(picked, e, false, "does not build on the merge result").BuildErr = err
			continue
		}
		for _, p := range ch.touched {
			if rs.reads(p) {
				pick(picked, e, false, "reads "+p)
				readers[p] = append(readers[p], e)
			}
		}
		for _, p := range folderChanges(req.Root, e.Path, ch.addedOrRemoved) {
			pick(picked, e, false, "spec.path gains or loses "+p)
			readers[p] = append(readers[p], e)
		}
	}
	defs, err := definitions(req.Root, ch.present)
	if err != nil {
		return nil, err
	}
	for _, d := range defs {
		selectDefinition(picked, d, req.Candidates, readers[d.file])
	}
	out := make([]Selected, 0, len(picked))
	for _, sel := range picked {
		out = append(out, *sel)
	}
	slices.SortFunc(out, func(a, b Selected) int { return compareKeys(a.Entry.ObjectKey, b.Entry.ObjectKey) })
	return out, nil
}

// readSet returns the cached read-set of e at commit or builds e to record it.
func (s *Selector) readSet(root, commit string, e *Entry) (*readSet, error) {
	key := cacheKey(e.ObjectKey, commit, e.Kustomization)
	if rs, ok := s.cache.get(key); ok && commit != "" {
		return rs, nil
	}
	rec := newRecorder(root)
	if err := s.build(root, e.Kustomization, rec.wrap); err != nil {
		return nil, err
	}
	rs := rec.readSet()
	if commit != "" {
		s.cache.put(key, rs)
	}
	return rs, nil
}

func pick(picked map[ObjectKey]*Selected, e *Entry, isNew bool, reason string) *Selected {
	sel, ok := picked[e.ObjectKey]
	if !ok {
		sel = &Selected{Entry: e, New: isNew}
		picked[e.ObjectKey] = sel
	}
	if !slices.Contains(sel.Reasons, reason) {
		sel.Reasons = append(sel.Reasons, reason)
	}
	return sel
}

// changeSet sorts a pull request's changed paths by what the rules need.
type changeSet struct {
	touched        []string // every path, old and new
	addedOrRemoved []string // paths that appear or disappear
	present        []string // paths that exist in the merge result
}

func newChangeSet(changes []FileChange) changeSet {
	var cs changeSet
	for _, c := range changes {
		p := path.Clean(c.Path)
		cs.touched = append(cs.touched, p)
		switch c.Kind {
		case Removed:
			cs.addedOrRemoved = append(cs.addedOrRemoved, p)
		case Renamed:
			old := path.Clean(c.PreviousPath)
			cs.touched = append(cs.touched, old)
			cs.addedOrRemoved = append(cs.addedOrRemoved, old, p)
			cs.present = append(cs.present, p)
		case Added:
			cs.addedOrRemoved = append(cs.addedOrRemoved, p)
			cs.present = append(cs.present, p)
		default:
			cs.present = append(cs.present, p)
		}
	}
	return cs
}

// folderChanges returns the manifests added to or removed from specPath when
// Flux generates its kustomization.yaml, which then takes every .yaml and
// .yml file below the folder.
func folderChanges(root, specPath string, paths []string) []string {
	dir := path.Clean(strings.TrimPrefix(path.Clean("/"+filepath.ToSlash(specPath)), "/"))
	if dir == "" {
		dir = "."
	}
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		if fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(dir), name)); err == nil && !fi.IsDir() {
			return nil
		}
	}
	var out []string
	for _, p := range paths {
		ext := path.Ext(p)
		if (ext == ".yaml" || ext == ".yml") && (dir == "." || strings.HasPrefix(p, dir+"/")) {
			out = append(out, p)
		}
	}
	return out
}

// selectDefinition selects the Kustomizations defined by d: the existing
// ones it names, in the clusters of the Kustomizations that apply its file,
// or a new one.
func selectDefinition(picked map[ObjectKey]*Selected, d definition, candidates, appliers []*Entry) {
	clusters := map[string]bool{}
	for _, a := range appliers {
		clusters[a.Cluster] = true
	}
	reason := "definition changed in " + d.file
	found := false
	for _, e := range candidates {
		if e.Name != d.ks.Name || (d.ks.Namespace != "" && e.Namespace != d.ks.Namespace) ||
			(len(clusters) > 0 && !clusters[e.Cluster]) {
			continue
		}
		pick(picked, e, false, reason)
		found = true
	}
	if found {
		return
	}
	if len(clusters) == 0 {
		clusters[""] = true
	}
	for cluster := range clusters {
		e := newEntry(cluster, d.ks, candidates)
		pick(picked, e, true, fmt.Sprintf("new Kustomization defined in %s", d.file))
	}
}

// newEntry describes a Kustomization that exists only in the pull request,
// taking the repository and branch from a candidate with the same source.
func newEntry(cluster string, ks *kustomizev1.Kustomization, candidates []*Entry) *Entry {
	ref := ks.Spec.SourceRef
	e := &Entry{
		ObjectKey:     ObjectKey{Cluster: cluster, Namespace: ks.Namespace, Name: ks.Name},
		Path:          ks.Spec.Path,
		Source:        SourceRef{Kind: ref.Kind, Namespace: cmp.Or(ref.Namespace, ks.Namespace), Name: ref.Name},
		Suspended:     ks.Spec.Suspend,
		Kustomization: ks,
		Reason:        fmt.Sprintf("its source %s %s/%s is not a known source of this repository", ref.Kind, cmp.Or(ref.Namespace, ks.Namespace), ref.Name),
	}
	for _, c := range candidates {
		if c.Cluster == cluster && c.Source == e.Source {
			e.URL, e.Repo, e.Branch, e.Reason = c.URL, c.Repo, c.Branch, c.Reason
			break
		}
	}
	return e
}
