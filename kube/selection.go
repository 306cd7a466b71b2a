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
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// BuildFunc builds ks from the source tree at root, leaving out what the
// .sourceignore patterns of ignore (the GitRepository's spec.ignore) match
// and reading the tree through the filesystem that wrap returns, and returns
// the objects built. The caller adapts diff.Build:
//
//	func(root string, ks *kustomizev1.Kustomization, ignore string, wrap func(filesys.FileSystem) filesys.FileSystem) ([]*unstructured.Unstructured, error) {
//		return diff.Build(root, ks, diff.BuildOptions{Ignore: ignore, WrapFS: wrap})
//	}
type BuildFunc func(root string, ks *kustomizev1.Kustomization, ignore string, wrap func(filesys.FileSystem) filesys.FileSystem) ([]*unstructured.Unstructured, error)

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
	// Base is the SHA of the base branch commit that the merge result was
	// made from, when known. Changes must then be the paths that differ
	// between Base and the merge result (GitHub's pull request files are).
	// A read-set recorded on the same base, for another commit or pull
	// request, is reused when neither its changes nor these touch a file it
	// read, a folder it listed, spec.path or a .sourceignore.
	Base string
	// Changes are the pull request's changed files.
	Changes []FileChange
	// Candidates are the Kustomizations sourced from the repository and base
	// branch, usually Index.Lookup's answer.
	Candidates []*Entry
	// Repo and Branch are the pull request's repository (any URL form) and
	// base branch. A candidate that reads them only through a GitRepository
	// spec.include is selected when a change falls below the include's
	// fromPath; it cannot be built from this tree (see IncludeError). Empty
	// Repo takes every candidate as built from this tree.
	Repo, Branch string
	// Artifacts assembles the trees of ExternalArtifacts from Root; nil
	// makes one for this call. Pass the one the diff builds with.
	Artifacts *ArtifactTrees
}

// Selected is one Kustomization whose output the pull request can change.
type Selected struct {
	// Entry is the Kustomization. For a new one, it is made from the
	// definition in the tree and Cluster is the cluster of the Kustomization
	// that applies it (empty when none is known).
	Entry *Entry
	// New is true for a Kustomization defined by the pull request.
	New bool
	// Definition is the Kustomization as the merge result defines it: as
	// built by the Kustomization that applies it (so with its kustomize
	// patches), or else as written in a changed file. The diff builds with
	// it. It is nil when the merge result does not define it, or when its
	// spec uses post-build variables that only the cluster can resolve; the
	// diff then builds with Entry.Kustomization.
	Definition *kustomizev1.Kustomization
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
// those whose generated spec.path folder gains or loses a manifest or a
// kustomization file, those below a changed .sourceignore, those (existing
// or new) whose own definition is in a changed file or built differently
// from the cluster's, and those whose postBuild.substituteFrom reads a
// ConfigMap or Secret that a selected one's build applies.
func (s *Selector) Select(ctx context.Context, req SelectRequest) ([]Selected, error) {
	ch := newChangeSet(req.Changes)
	picked := map[ObjectKey]*Selected{}
	readers := map[string][]*Entry{} // changed file → candidates whose build reads it
	built := builtDefinitions{}
	made := producers{}
	if req.Artifacts == nil {
		req.Artifacts = NewArtifactTrees(req.Root)
		defer req.Artifacts.Close()
	}
	repo := ""
	if req.Repo != "" {
		repo = NormalizeRepoURL(req.Repo)
	}
	var genReasons map[ObjectKey]string
	req.Candidates, genReasons = withChangedGenerators(req.Candidates, changedGenerators(req.Root, ch.present))
	for _, e := range req.Candidates {
		if why, ok := genReasons[e.ObjectKey]; ok {
			pick(picked, e, false, why)
		}
	}
	for _, e := range req.Candidates {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if repo != "" && (e.Repo != repo || e.Branch != req.Branch) {
			selectIncluder(picked, ch, e, includesOf(e, repo, req.Branch))
			continue
		}
		var rs *readSet
		var err error
		if e.Artifact != nil {
			rs, err = s.selectArtifactReader(ctx, req, picked, readers, e)
		} else {
			rs, err = s.readSet(req, ch, e, buildSource{root: req.Root, ignore: e.Ignore, key: e.Ignore})
			if err == nil {
				selectReader(picked, readers, req.Root, ch, e, rs)
			}
		}
		if err != nil {
			pick(picked, e, false, "does not build on the merge result").BuildErr = err
			continue
		}
		built.add(e, rs.children)
		made.add(e, rs.sources)
	}
	defs, err := definitions(req.Root, ch.present)
	if err != nil {
		return nil, err
	}
	for _, d := range defs {
		selectDefinition(picked, d, req.Candidates, readers[d.file])
	}
	selectBuiltChanges(picked, built, req.Candidates)
	selectVariableReaders(picked, made, req.Candidates, built)
	out := make([]Selected, 0, len(picked))
	for _, sel := range picked {
		built.fill(sel)
		out = append(out, *sel)
	}
	slices.SortFunc(out, func(a, b Selected) int { return compareKeys(a.Entry.ObjectKey, b.Entry.ObjectKey) })
	return out, nil
}

// selectReader picks e when its build, as recorded in rs, depends on a
// change.
func selectReader(picked map[ObjectKey]*Selected, readers map[string][]*Entry, root string, ch changeSet, e *Entry, rs *readSet) {
	for _, p := range ch.touched {
		if rs.reads(p) {
			pick(picked, e, false, "reads "+p)
			readers[p] = append(readers[p], e)
		}
	}
	for _, p := range folderChanges(root, e.Path, ch.addedOrRemoved) {
		pick(picked, e, false, "spec.path gains or loses "+p)
		readers[p] = append(readers[p], e)
	}
	// diff.Build reads .sourceignore files from disk, unrecorded: a changed
	// one can add or hide any file below its folder, for the builds that read
	// there and for the generator that scans spec.path.
	for _, f := range ch.sourceIgnores {
		dir, spec := path.Dir(f), specDir(e.Path)
		if rs.readsUnder(dir) || isUnder(spec, dir) || isUnder(dir, spec) {
			pick(picked, e, false, "reads files below "+f)
		}
	}
}

// buildSource is the tree a build of a Kustomization reads: the pull
// request's, or an artifact assembled from it. key tells apart the builds
// of one Kustomization on one commit (ignore patterns, copy rules).
type buildSource struct{ root, ignore, key string }

// readSet returns a cached read-set of e that holds for the merge result,
// or builds e from src to record one. ch holds the changes as paths of src.
func (s *Selector) readSet(req SelectRequest, ch changeSet, e *Entry, src buildSource) (*readSet, error) {
	key := cacheKey(e.ObjectKey, cmp.Or(req.Base, req.Commit), e.Kustomization, src.key)
	if it, ok := s.cache.get(key); ok {
		switch {
		case req.Commit != "" && it.commit == req.Commit:
			return it.set, nil
		case req.Base != "" && unaffected(it.set, e, it.changed) && unaffected(it.set, e, ch.touched):
			return it.set, nil
		}
	}
	rec := newRecorder(src.root)
	objs, err := s.build(src.root, e.Kustomization, src.ignore, rec.wrap)
	if err != nil {
		return nil, err
	}
	rs := rec.readSet()
	rs.children = childrenIn(e, objs)
	rs.sources = variableSourcesIn(objs)
	if req.Commit != "" || req.Base != "" {
		s.cache.put(key, &cacheItem{set: rs, commit: req.Commit, changed: ch.touched})
	}
	return rs, nil
}

// unaffected reports whether a build of e that recorded rs reads none of
// the changed paths: no file it read, nothing below a folder it listed or
// below spec.path (the generator scans it unrecorded), and no .sourceignore
// (read from disk, unrecorded).
func unaffected(rs *readSet, e *Entry, changed []string) bool {
	dir := specDir(e.Path)
	for _, p := range changed {
		if rs.reads(p) || isUnder(p, dir) || path.Base(p) == ".sourceignore" {
			return false
		}
	}
	return true
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
	sourceIgnores  []string // .sourceignore files changed, added or removed
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
	for _, p := range cs.touched {
		if path.Base(p) == ".sourceignore" {
			cs.sourceIgnores = append(cs.sourceIgnores, p)
		}
	}
	return cs
}

// specDir is spec.path as a clean slash path relative to the source root.
func specDir(specPath string) string {
	dir := path.Clean(strings.TrimPrefix(path.Clean("/"+filepath.ToSlash(specPath)), "/"))
	if dir == "" {
		return "."
	}
	return dir
}

// isUnder reports whether p is dir or below it.
func isUnder(p, dir string) bool {
	return dir == "." || p == dir || strings.HasPrefix(p, dir+"/")
}

// folderChanges returns the manifests and kustomization files added to or
// removed from specPath when Flux generates its kustomization.yaml, which
// then takes every .yaml and .yml file below the folder, and each subfolder
// with a kustomization file (kustomization.yaml, kustomization.yml or
// Kustomization) as a whole.
func folderChanges(root, specPath string, paths []string) []string {
	dir := specDir(specPath)
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		if fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(dir), name)); err == nil && !fi.IsDir() {
			return nil
		}
	}
	var out []string
	for _, p := range paths {
		ext := path.Ext(p)
		manifest := ext == ".yaml" || ext == ".yml" || slices.Contains(konfig.RecognizedKustomizationFileNames(), path.Base(p))
		if manifest && dir != p && isUnder(p, dir) {
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
		pick(picked, e, false, reason).Definition = rawDefinition(d.ks, e.Namespace, appliers)
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
		pick(picked, e, true, fmt.Sprintf("new Kustomization defined in %s", d.file)).Definition = rawDefinition(d.ks, e.Namespace, appliers)
	}
}

// rawDefinition is ks as written, in namespace when it names none; nil when
// it uses post-build variables of one of its appliers. A definition built
// by an applier replaces it (see builtDefinitions.fill).
func rawDefinition(ks *kustomizev1.Kustomization, namespace string, appliers []*Entry) *kustomizev1.Kustomization {
	for _, a := range appliers {
		if usesPostBuildVariables(a, ks) {
			return nil
		}
	}
	if ks.Namespace == "" && namespace != "" {
		ks = ks.DeepCopy()
		ks.Namespace = namespace
	}
	return ks
}
