package diff

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/sourceignore"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// BuildCache keeps the objects of recent builds and reuses them when a later
// build of the same Kustomization spec with the same ignore patterns would
// read the same bytes: every file the build read (or probed) and every
// folder it listed holds what it held, and so do the parts of the tree that
// a build reads unrecorded (the listing of spec.path, which Flux's
// generator scans from disk, and every .sourceignore and symlink in the
// tree, which shape the artifact). The selection step and the diff share
// one cache, so a Kustomization selected on a tree is built once, and a
// build on a new commit whose files it reads did not change is not repeated.
//
// Source trees must not change while cached builds refer to them: the
// pipeline's trees are extracted once per commit SHA and never written. The
// CLI, which builds a working copy a user may edit, does not use a cache.
// It is safe for concurrent use; failed builds are not cached.
type BuildCache struct {
	maxObjects int
	mu         sync.Mutex
	objects    int                        // held by the entries
	order      *list.List                 // of *buildEntry, most recent first
	items      map[string][]*list.Element // newest first, at most buildsPerKey
	// trees holds the digest of each recent tree's .sourceignore files and
	// symlinks, by root.
	trees *treeDigests

	builds, hits atomic.Int64
}

// BuildCacheStats counts what a BuildCache did since it was made.
type BuildCacheStats struct {
	// Builds is the number of real builds (cache misses, failed ones
	// included); Hits the builds answered from the cache.
	Builds, Hits int64
}

// NewBuildCache returns a cache holding the builds of up to maxObjects
// objects in all (least recently used out first; a build of more is not
// kept); maxObjects <= 0 caches nothing but still counts builds.
func NewBuildCache(maxObjects int) *BuildCache {
	return &BuildCache{maxObjects: maxObjects, order: list.New(), items: map[string][]*list.Element{}, trees: newTreeDigests(16)}
}

// Stats returns the counts so far.
func (c *BuildCache) Stats() BuildCacheStats {
	return BuildCacheStats{Builds: c.builds.Load(), Hits: c.hits.Load()}
}

// buildEntry is one cached build: the tree it ran on, the digests of what
// it read there (slash paths relative to the root) and its objects.
type buildEntry struct {
	key   string
	root  string
	tree  string            // treeDigests of root
	files map[string]string // path → fileDigest
	dirs  map[string]string // path → listingDigest
	objs  []*unstructured.Unstructured
}

// Build is Build with the cache. A hit returns deep copies of the cached
// objects and, when opts.WrapFS is set, replays the recorded reads through
// it (an Exists per file, a ReadDir per folder), so that a recorder behind
// it learns what the build reads.
func (c *BuildCache) Build(root string, ks *kustomizev1.Kustomization, opts BuildOptions) ([]*unstructured.Unstructured, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return Build(root, ks, opts)
	}
	key := buildKey(ks, opts.Ignore)
	if e := c.lookup(key, abs, ks); e != nil {
		c.hits.Add(1)
		replay(abs, e, opts.WrapFS)
		return copyObjects(e.objs), nil
	}
	c.builds.Add(1)
	rec := &buildRecorder{root: abs, files: map[string]bool{}, dirs: map[string]bool{}}
	inner := opts.WrapFS
	opts.WrapFS = func(fs filesys.FileSystem) filesys.FileSystem {
		if inner != nil {
			fs = inner(fs)
		}
		return &recordFS{FileSystem: fs, r: rec}
	}
	objs, err := Build(abs, ks, opts)
	if err != nil || rec.outside.Load() || len(objs) > c.maxObjects {
		return objs, err
	}
	e := &buildEntry{key: key, root: abs, tree: c.trees.get(abs), files: map[string]string{}, dirs: map[string]string{}, objs: copyObjects(objs)}
	rec.mu.Lock()
	for p := range rec.files {
		e.files[p] = fileDigest(abs, p)
	}
	for p := range rec.dirs {
		e.dirs[p] = listingDigest(abs, p)
	}
	rec.mu.Unlock()
	e.dirs[specDirKey(ks)] = listingDigest(abs, specDirKey(ks))
	c.put(e)
	return objs, nil
}

// lookup returns the cached build under key when it holds for the tree at
// root, else nil.
func (c *BuildCache) lookup(key, root string, ks *kustomizev1.Kustomization) *buildEntry {
	c.mu.Lock()
	els := slices.Clone(c.items[key])
	c.mu.Unlock()
	for _, el := range els {
		e := el.Value.(*buildEntry)
		if e.root == root || c.holds(e, root, ks) { // the same immutable tree, or the same bytes read
			c.mu.Lock()
			if slices.Contains(c.items[key], el) {
				c.order.MoveToFront(el)
			}
			c.mu.Unlock()
			return e
		}
	}
	return nil
}

// holds reports whether e's build reads the same bytes in the tree at root.
func (c *BuildCache) holds(e *buildEntry, root string, ks *kustomizev1.Kustomization) bool {
	if c.trees.get(root) != e.tree {
		return false
	}
	if _, ok := e.dirs[specDirKey(ks)]; !ok {
		return false
	}
	for p, d := range e.files {
		if fileDigest(root, p) != d {
			return false
		}
	}
	for p, d := range e.dirs {
		if listingDigest(root, p) != d {
			return false
		}
	}
	return true
}

// buildsPerKey is how many builds of one Kustomization spec are kept: two,
// so that a pull request's merge tree and its base tree (diff.Request.Base)
// do not evict each other.
const buildsPerKey = 2

func (c *BuildCache) put(e *buildEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var keep []*list.Element
	for _, el := range c.items[e.key] {
		if el.Value.(*buildEntry).root == e.root || len(keep) == buildsPerKey-1 {
			c.drop(el)
			continue
		}
		keep = append(keep, el)
	}
	c.items[e.key] = append([]*list.Element{c.order.PushFront(e)}, keep...)
	c.objects += len(e.objs)
	for c.objects > c.maxObjects {
		last := c.order.Back()
		c.drop(last)
		old := last.Value.(*buildEntry)
		c.items[old.key] = slices.DeleteFunc(c.items[old.key], func(el *list.Element) bool { return el == last })
		if len(c.items[old.key]) == 0 {
			delete(c.items, old.key)
		}
	}
}

// drop removes el from the recency list and its objects from the count;
// the caller updates items.
func (c *BuildCache) drop(el *list.Element) {
	c.objects -= len(el.Value.(*buildEntry).objs)
	c.order.Remove(el)
}

// buildKey names a build: the Kustomization (its name and namespace can
// appear in a generated kustomization) with its spec, and the extra ignore
// patterns.
func buildKey(ks *kustomizev1.Kustomization, ignore string) string {
	spec, _ := json.Marshal(ks.Spec) // a Spec always marshals
	h := sha256.New()
	h.Write(spec)
	h.Write([]byte{0})
	h.Write([]byte(ignore))
	return ks.Namespace + "/" + ks.Name + "#" + hex.EncodeToString(h.Sum(nil))
}

// specDirKey is spec.path as a clean slash path relative to the root.
func specDirKey(ks *kustomizev1.Kustomization) string {
	p := strings.TrimPrefix(filepath.ToSlash(filepath.Clean("/"+ks.Spec.Path)), "/")
	if p == "" {
		return "."
	}
	return p
}

// fileDigest names what path (relative to root) holds: its content's hash,
// a symlink's target, "dir" or "absent".
func fileDigest(root, rel string) string {
	p := filepath.Join(root, filepath.FromSlash(rel))
	fi, err := os.Lstat(p)
	switch {
	case err != nil:
		return "absent"
	case fi.Mode()&os.ModeSymlink != 0:
		t, _ := os.Readlink(p)
		return "link:" + t
	case fi.IsDir():
		return "dir"
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "unreadable"
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// listingDigest hashes the names and types of everything below the folder
// rel (relative to root), recursively; contents are covered by fileDigest.
func listingDigest(root, rel string) string {
	dir := filepath.Join(root, filepath.FromSlash(rel))
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(dir, p)
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(r), d.Type())
		return nil
	})
	if err != nil {
		return "absent"
	}
	return hex.EncodeToString(h.Sum(nil))
}

// copyObjects deep-copies objs: the diff changes the objects it is given.
func copyObjects(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		out[i] = o.DeepCopy()
	}
	return out
}

// replay sends the reads of e through wrap, so that a recorder behind it
// records them as if the build had run.
func replay(root string, e *buildEntry, wrap func(filesys.FileSystem) filesys.FileSystem) {
	if wrap == nil {
		return
	}
	fs := wrap(filesys.MakeFsOnDisk())
	for _, p := range sortedKeys(e.files) {
		fs.Exists(filepath.Join(root, filepath.FromSlash(p)))
	}
	for _, p := range sortedKeys(e.dirs) {
		_, _ = fs.ReadDir(filepath.Join(root, filepath.FromSlash(p)))
	}
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// treeDigests remembers, for the last few trees, a digest of what shapes
// the artifact as a whole: every .sourceignore file's content and every
// symlink's path and target.
type treeDigests struct {
	size  int
	mu    sync.Mutex
	roots []string
	sums  map[string]string
}

func newTreeDigests(size int) *treeDigests {
	return &treeDigests{size: size, sums: map[string]string{}}
}

func (t *treeDigests) get(root string) string {
	t.mu.Lock()
	if s, ok := t.sums[root]; ok {
		t.mu.Unlock()
		return s
	}
	t.mu.Unlock()
	s := artifactShape(root)
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.sums[root]; !ok {
		t.roots = append(t.roots, root)
		if len(t.roots) > t.size {
			delete(t.sums, t.roots[0])
			t.roots = t.roots[1:]
		}
	}
	t.sums[root] = s
	return s
}

func artifactShape(root string) string {
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			t, _ := os.Readlink(p)
			fmt.Fprintf(h, "link\x00%s\x00%s\x00", filepath.ToSlash(rel), t)
		case d.Name() == sourceignore.IgnoreFile && d.Type().IsRegular():
			fmt.Fprintf(h, "ignore\x00%s\x00%s\x00", filepath.ToSlash(rel), fileDigest(root, filepath.ToSlash(rel)))
		}
		return nil
	})
	if err != nil {
		return "unreadable:" + err.Error()
	}
	return hex.EncodeToString(h.Sum(nil))
}

// build builds with the Differ's cache when it has one.
func (d *Differ) build(root string, ks *kustomizev1.Kustomization, opts BuildOptions) ([]*unstructured.Unstructured, error) {
	if d.Builds == nil {
		return Build(root, ks, opts)
	}
	return d.Builds.Build(root, ks, opts)
}
