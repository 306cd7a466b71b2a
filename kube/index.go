package kube

import (
	"cmp"
	"slices"
	"sync"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	swapi "github.com/fluxcd/source-watcher/api/v2/v1beta1"
)

// ObjectKey names a Flux object in one cluster.
type ObjectKey struct {
	Cluster   string `json:"cluster"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// String returns cluster/namespace/name.
func (k ObjectKey) String() string { return k.Cluster + "/" + k.Namespace + "/" + k.Name }

func compareKeys(a, b ObjectKey) int {
	return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

// SourceRef is a Kustomization's source, with the namespace filled in.
type SourceRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// Entry is one Kustomization as the index sees it: where it is, what it
// builds, and whether a pull request can be diffed against it.
type Entry struct {
	ObjectKey
	// Path is spec.path.
	Path string `json:"path"`
	// Source is spec.sourceRef with its namespace resolved.
	Source SourceRef `json:"source"`
	// Suspended is spec.suspend.
	Suspended bool `json:"suspended"`
	// URL is the GitRepository's spec.url as written; empty when the source
	// is not a known GitRepository.
	URL string `json:"url,omitempty"`
	// Repo is URL normalized by NormalizeRepoURL.
	Repo string `json:"repo,omitempty"`
	// Branch is the branch the GitRepository follows; empty when it follows
	// a tag, a semver range or a commit.
	Branch string `json:"branch,omitempty"`
	// Ignore is the GitRepository's spec.ignore: .sourceignore patterns the
	// artifact, and so every build, leaves out.
	Ignore string `json:"ignore,omitempty"`
	// Reason says why a pull request cannot be diffed against this
	// Kustomization; empty when it can.
	Reason string `json:"reason,omitempty"`
	// Artifact is set when the source is an ExternalArtifact made by an
	// ArtifactGenerator: the copy rules and the GitRepositories they read.
	// URL, Repo, Branch and Ignore are then those of its GitRepository.
	Artifact *ArtifactSource `json:"artifact,omitempty"`
	// Includes are the GitRepository's spec.include: other repositories'
	// trees copied into its artifact.
	Includes []Include `json:"includes,omitempty"`
	// SparseCheckout is the GitRepository's spec.sparseCheckout; Ignore
	// leaves out everything else.
	SparseCheckout []string `json:"sparseCheckout,omitempty"`
	// Kustomization is the object itself (status stripped). It is shared:
	// do not modify it.
	Kustomization *kustomizev1.Kustomization `json:"-"`
}

// resolution is what the index keeps beside an entry: the source objects
// it was resolved from, and the repositories and branches whose pull
// requests it is a candidate of.
type resolution struct {
	deps  []depKey
	links []repoBranch
}

// Diffable reports whether a pull request into Branch of Repo can be diffed
// against this Kustomization.
func (e *Entry) Diffable() bool { return e.Reason == "" }

type repoBranch struct{ repo, branch string }

type keySet map[ObjectKey]struct{}

// Index maps a normalized repository and branch to the Kustomizations built
// from it, in every cluster. It is a plain data structure, safe for
// concurrent use; informers keep it current (see Watcher), tests and
// benchmarks feed it directly.
type Index struct {
	mu         sync.RWMutex
	sources    map[ObjectKey]gitSource
	generators map[ObjectKey]*swapi.ArtifactGeneratorSpec
	externals  map[ObjectKey]SourceRef // ExternalArtifact → what makes it
	entries    map[ObjectKey]*Entry
	resolved   map[ObjectKey]resolution
	byDep      map[depKey]keySet // source object → Kustomizations resolved from it
	byBranch   map[repoBranch]*bucket
}

// bucket is the Kustomizations of one repository and branch, with the
// sorted answer cached until the bucket changes.
type bucket struct {
	keys   keySet
	sorted []*Entry
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{
		sources:    map[ObjectKey]gitSource{},
		generators: map[ObjectKey]*swapi.ArtifactGeneratorSpec{},
		externals:  map[ObjectKey]SourceRef{},
		entries:    map[ObjectKey]*Entry{},
		resolved:   map[ObjectKey]resolution{},
		byDep:      map[depKey]keySet{},
		byBranch:   map[repoBranch]*bucket{},
	}
}

// SetKustomization adds or replaces a Kustomization of cluster. The index
// keeps ks; the caller must not modify it afterwards.
func (ix *Index) SetKustomization(cluster string, ks *kustomizev1.Kustomization) {
	key := ObjectKey{Cluster: cluster, Namespace: ks.Namespace, Name: ks.Name}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.unlink(key)
	ix.link(ix.resolve(key, ks))
}

// DeleteKustomization forgets a Kustomization.
func (ix *Index) DeleteKustomization(key ObjectKey) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.unlink(key)
}

// SetGitRepository adds or replaces a GitRepository of cluster and
// re-resolves the Kustomizations that use it.
func (ix *Index) SetGitRepository(cluster string, repo *sourcev1.GitRepository) {
	key := ObjectKey{Cluster: cluster, Namespace: repo.Namespace, Name: repo.Name}
	src := gitSourceOf(repo)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if old, ok := ix.sources[key]; ok && old.equal(src) {
		return
	}
	ix.sources[key] = src
	ix.reresolve(depKey{sourcev1.GitRepositoryKind, key})
}

// DeleteGitRepository forgets a GitRepository; the Kustomizations that use
// it stay listed with the reason.
func (ix *Index) DeleteGitRepository(key ObjectKey) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if _, ok := ix.sources[key]; !ok {
		return
	}
	delete(ix.sources, key)
	ix.reresolve(depKey{sourcev1.GitRepositoryKind, key})
}

// Lookup returns the Kustomizations, in every cluster, that a pull request
// into branch of repoURL (any URL form) can be diffed against, sorted by
// cluster, namespace and name. The entries are shared: do not modify them.
func (ix *Index) Lookup(repoURL, branch string) []*Entry {
	rb := repoBranch{repo: NormalizeRepoURL(repoURL), branch: branch}
	ix.mu.RLock()
	b := ix.byBranch[rb]
	if b == nil || b.sorted != nil {
		defer ix.mu.RUnlock()
		if b == nil {
			return nil
		}
		return slices.Clone(b.sorted)
	}
	ix.mu.RUnlock()

	ix.mu.Lock()
	defer ix.mu.Unlock()
	if b = ix.byBranch[rb]; b == nil {
		return nil
	}
	if b.sorted == nil {
		b.sorted = ix.sortedEntries(b.keys)
	}
	return slices.Clone(b.sorted)
}

func (ix *Index) sortedEntries(keys keySet) []*Entry {
	out := make([]*Entry, 0, len(keys))
	for k := range keys {
		out = append(out, ix.entries[k])
	}
	slices.SortFunc(out, func(a, b *Entry) int { return compareKeys(a.ObjectKey, b.ObjectKey) })
	return out
}

// List returns every Kustomization, diffable or not, sorted by cluster,
// namespace and name. When repoURL is not empty, only those built from that
// repository (directly, through an ArtifactGenerator or an include) are
// listed. The entries are shared: do
// not modify them.
func (ix *Index) List(repoURL string) []*Entry {
	repo := ""
	if repoURL != "" {
		repo = NormalizeRepoURL(repoURL)
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	keys := keySet{}
	for k, e := range ix.entries {
		if repo == "" || e.Repo == repo || slices.ContainsFunc(e.Includes, func(in Include) bool { return in.Repo == repo }) {
			keys[k] = struct{}{}
		}
	}
	return ix.sortedEntries(keys)
}

// Len returns the number of Kustomizations.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.entries)
}

// reresolve recomputes the entries of the Kustomizations resolved from the
// source object src. The caller holds the write lock.
func (ix *Index) reresolve(src depKey) {
	for k := range ix.byDep[src] {
		ks := ix.entries[k].Kustomization
		ix.unlink(k)
		ix.link(ix.resolve(k, ks))
	}
}

// link adds e to the maps. The caller holds the write lock.
func (ix *Index) link(e *Entry, res resolution) {
	key := e.ObjectKey
	ix.entries[key] = e
	ix.resolved[key] = res
	for _, d := range res.deps {
		addKey(ix.byDep, d, key)
	}
	if !e.Diffable() {
		return
	}
	for _, rb := range res.links {
		b, ok := ix.byBranch[rb]
		if !ok {
			b = &bucket{keys: keySet{}}
			ix.byBranch[rb] = b
		}
		b.keys[key] = struct{}{}
		b.sorted = nil
	}
}

// unlink removes the entry of key from the maps. The caller holds the write
// lock.
func (ix *Index) unlink(key ObjectKey) {
	e, ok := ix.entries[key]
	if !ok {
		return
	}
	res := ix.resolved[key]
	delete(ix.entries, key)
	delete(ix.resolved, key)
	for _, d := range res.deps {
		removeKey(ix.byDep, d, key)
	}
	if !e.Diffable() {
		return
	}
	for _, rb := range res.links {
		if b := ix.byBranch[rb]; b != nil {
			delete(b.keys, key)
			b.sorted = nil
			if len(b.keys) == 0 {
				delete(ix.byBranch, rb)
			}
		}
	}
}

func addKey[K comparable](m map[K]keySet, k K, v ObjectKey) {
	set, ok := m[k]
	if !ok {
		set = keySet{}
		m[k] = set
	}
	set[v] = struct{}{}
}

func removeKey[K comparable](m map[K]keySet, k K, v ObjectKey) {
	set := m[k]
	delete(set, v)
	if len(set) == 0 {
		delete(m, k)
	}
}
