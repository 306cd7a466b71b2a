package githubapp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v55/github"
	"golang.org/x/sync/singleflight"
)

// DefaultSourceCacheBytes is the default bound of a SourceCache (2 GiB).
const DefaultSourceCacheBytes = 2 << 30

// sourceDownloadTimeout bounds one tarball download and extraction. The
// download outlives the caller that started it (others may be waiting for
// it), so it has its own bound.
const sourceDownloadTimeout = 10 * time.Minute

// shaRE matches a full commit ID: SHA-1, or SHA-256 for repositories in
// that object format.
var shaRE = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)

// SourceCache keeps extracted source trees of repository commits on disk,
// keyed by repository and commit SHA. Concurrent requests for one commit
// share one download. Trees not in use are evicted, least recently used
// first, once their total size passes the cache's bound; a tree in use is
// never evicted. Its methods are safe for concurrent use; one process
// should own a directory.
//
// Layout under the directory: trees/OWNER/NAME/SHA (lower case) holds
// complete trees, moved there atomically once extracted; tmp/ holds
// extractions in progress and trees being deleted.
type SourceCache struct {
	trees, tmp string
	maxBytes   int64
	lim        Limits
	group      singleflight.Group

	mu      sync.Mutex
	entries map[string]*cacheEntry // by key, "owner/name@sha" in lower case
	pending map[string]int         // callers waiting for a download, by key
	total   int64                  // bytes of all entries
	tick    int64                  // use counter for LRU order
}

type cacheEntry struct {
	key, dir string
	size     int64
	refs     int
	used     int64
}

// Tree is an extracted source tree in use. Its files must be treated as
// read-only: other jobs may be reading the same tree.
type Tree struct {
	// Dir is the tree's root directory, the repository's top level.
	Dir     string
	release func()
	once    sync.Once
}

// Release gives the tree back to the cache, which may then evict it. It
// is safe to call more than once.
func (t *Tree) Release() { t.once.Do(t.release) }

// NewSourceCache opens (creating it if needed) a cache in dir ("" means
// "fluxdiff-sources" under os.TempDir) bounded to maxBytes of extracted
// file content (DefaultSourceCacheBytes when not positive), extracting
// with lim. It removes what an earlier process left in tmp/, and keeps the
// complete trees it finds, evicting beyond maxBytes. The server passes
// Config.SourceDir, SourceCacheBytes and SourceLimits.
func NewSourceCache(dir string, maxBytes int64, lim Limits) (*SourceCache, error) {
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "fluxdiff-sources")
	}
	if maxBytes <= 0 {
		maxBytes = DefaultSourceCacheBytes
	}
	c := &SourceCache{
		trees: filepath.Join(dir, "trees"), tmp: filepath.Join(dir, "tmp"),
		maxBytes: maxBytes, lim: lim.withDefaults(),
		entries: map[string]*cacheEntry{}, pending: map[string]int{},
	}
	if err := os.RemoveAll(c.tmp); err != nil {
		return nil, fmt.Errorf("githubapp: clean source cache: %w", err)
	}
	for _, d := range []string{c.trees, c.tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("githubapp: create source cache: %w", err)
		}
	}
	if err := c.load(); err != nil {
		return nil, fmt.Errorf("githubapp: load source cache: %w", err)
	}
	c.mu.Lock()
	victims := c.evictLocked()
	c.mu.Unlock()
	removeAll(victims)
	return c, nil
}

// load indexes the trees left by an earlier process, oldest first, and
// removes anything else under trees/.
func (c *SourceCache) load() error {
	dirs, err := filepath.Glob(filepath.Join(c.trees, "*", "*", "*"))
	if err != nil {
		return err
	}
	type found struct {
		e   *cacheEntry
		mod time.Time
	}
	var all []found
	for _, d := range dirs {
		rel, _ := filepath.Rel(c.trees, d)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		fi, err := os.Lstat(d)
		if err != nil {
			return err
		}
		key := parts[0] + "/" + parts[1] + "@" + parts[2]
		if _, _, err := ownerAndName(parts[0] + "/" + parts[1]); err != nil || !shaRE.MatchString(parts[2]) || !fi.IsDir() {
			if err := os.RemoveAll(d); err != nil {
				return err
			}
			continue
		}
		size, err := dirSize(d)
		if err != nil {
			return err
		}
		all = append(all, found{&cacheEntry{key: key, dir: d, size: size}, fi.ModTime()})
	}
	// The oldest tree is the least recently used.
	sort.Slice(all, func(i, j int) bool { return all[i].mod.Before(all[j].mod) })
	for _, f := range all {
		c.tick++
		f.e.used = c.tick
		c.entries[f.e.key] = f.e
		c.total += f.e.size
	}
	return nil
}

// dirSize is the total size of the regular files below dir.
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	return n, err
}

// Tree returns the source tree of repo ("owner/name") at commit sha (a
// full commit ID), downloading it when the cache does not hold it: gh (an
// installation client) asks GET /repos/{owner}/{repo}/tarball/{sha} for
// the archive's address, and hc (the same installation's HTTP client)
// fetches it from there. The address carries a download token; it never
// appears in errors. Release the tree when done with it.
//
// Errors wrap the API error, the download's status, ErrArchiveTooLarge or
// ErrUnsafeArchive from extraction, or ctx's error when ctx ends first (a
// download others wait for carries on).
func (c *SourceCache) Tree(ctx context.Context, hc *http.Client, gh *github.Client, repo, sha string) (*Tree, error) {
	owner, name, err := ownerAndName(repo)
	if err != nil {
		return nil, err
	}
	sha = strings.ToLower(sha)
	if !shaRE.MatchString(sha) {
		return nil, fmt.Errorf("githubapp: source of %s: %q is not a full commit SHA", repo, sha)
	}
	owner, name = strings.ToLower(owner), strings.ToLower(name)
	key := owner + "/" + name + "@" + sha

	c.mu.Lock()
	if t := c.acquireLocked(key); t != nil {
		c.mu.Unlock()
		return t, nil
	}
	// While pending, a tree just downloaded for this caller is not evicted.
	c.pending[key]++
	c.mu.Unlock()
	defer c.unpend(key)

	ch := c.group.DoChan(key, func() (any, error) {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sourceDownloadTimeout)
		defer cancel()
		return nil, c.fill(dctx, hc, gh, key, owner, name, sha)
	})
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("githubapp: source of %s@%s: %w", repo, sha, ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return nil, fmt.Errorf("githubapp: source of %s@%s: %w", repo, sha, r.Err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.acquireLocked(key); t != nil {
		return t, nil
	}
	return nil, fmt.Errorf("githubapp: source of %s@%s: tree vanished from the cache", repo, sha)
}

// acquireLocked takes a reference on the entry of key, if there is one.
func (c *SourceCache) acquireLocked(key string) *Tree {
	e := c.entries[key]
	if e == nil {
		return nil
	}
	e.refs++
	c.tick++
	e.used = c.tick
	return &Tree{Dir: e.dir, release: func() { c.release(e) }}
}

func (c *SourceCache) release(e *cacheEntry) {
	c.mu.Lock()
	e.refs--
	victims := c.evictLocked()
	c.mu.Unlock()
	removeAll(victims)
}

func (c *SourceCache) unpend(key string) {
	c.mu.Lock()
	if c.pending[key]--; c.pending[key] <= 0 {
		delete(c.pending, key)
	}
	victims := c.evictLocked()
	c.mu.Unlock()
	removeAll(victims)
}

// evictLocked drops least recently used entries nobody holds or waits for
// until the total fits, moving their directories into tmp/ (atomic, so
// trees/ only ever holds complete trees). It returns the moved
// directories, for removal without the lock.
func (c *SourceCache) evictLocked() []string {
	var victims []string
	for c.total > c.maxBytes {
		var lru *cacheEntry
		for _, e := range c.entries {
			if e.refs == 0 && c.pending[e.key] == 0 && (lru == nil || e.used < lru.used) {
				lru = e
			}
		}
		if lru == nil {
			break
		}
		delete(c.entries, lru.key)
		c.total -= lru.size
		if gone, err := os.MkdirTemp(c.tmp, "evicted-"); err == nil {
			_ = os.Rename(lru.dir, filepath.Join(gone, "tree"))
			victims = append(victims, gone)
		}
		// Gone already when the rename worked; removed in place when not.
		victims = append(victims, lru.dir)
	}
	return victims
}

func removeAll(dirs []string) {
	for _, d := range dirs {
		_ = os.RemoveAll(d)
	}
}

// fill downloads and extracts one tree into tmp/, then moves it into
// place and indexes it.
func (c *SourceCache) fill(ctx context.Context, hc *http.Client, gh *github.Client, key, owner, name, sha string) error {
	c.mu.Lock()
	_, done := c.entries[key]
	c.mu.Unlock()
	if done {
		return nil
	}
	work, err := os.MkdirTemp(c.tmp, "fill-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	size, err := c.download(ctx, hc, gh, owner, name, sha, filepath.Join(work, "tree"))
	if err != nil {
		return err
	}
	final := filepath.Join(c.trees, owner, name, sha)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(work, "tree"), final); err != nil {
		return fmt.Errorf("move tree into the cache: %w", err)
	}
	c.mu.Lock()
	c.tick++
	c.entries[key] = &cacheEntry{key: key, dir: final, size: size, used: c.tick}
	c.total += size
	victims := c.evictLocked()
	c.mu.Unlock()
	removeAll(victims)
	return nil
}

// download fetches the tarball of owner/name at sha and extracts it to dst.
func (c *SourceCache) download(ctx context.Context, hc *http.Client, gh *github.Client, owner, name, sha, dst string) (int64, error) {
	u, _, err := gh.Repositories.GetArchiveLink(ctx, owner, name, github.Tarball, &github.RepositoryContentGetOptions{Ref: sha}, true)
	if err != nil {
		return 0, fmt.Errorf("get tarball address: %w", err)
	}
	if !u.IsAbs() {
		u = gh.BaseURL.ResolveReference(u)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, fmt.Errorf("download tarball: %w", redactURLError(err))
	}
	// hc authenticates every request it sends: follow redirects only on
	// the host GitHub sent us to.
	dl := *hc
	dl.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if r.URL.Host != u.Host || len(via) >= 5 {
			return fmt.Errorf("redirect to %s refused", redactURL(r.URL))
		}
		return nil
	}
	resp, err := dl.Do(req)
	if err != nil {
		return 0, fmt.Errorf("download tarball: %w", redactURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("download tarball from %s: %s", redactURL(u), resp.Status)
	}
	if resp.ContentLength > c.lim.MaxArchiveBytes {
		return 0, fmt.Errorf("download tarball: %w: %d bytes, more than %d", ErrArchiveTooLarge, resp.ContentLength, c.lim.MaxArchiveBytes)
	}
	size, err := extract(resp.Body, dst, c.lim)
	if err != nil {
		return 0, fmt.Errorf("extract tarball: %w", err)
	}
	return size, nil
}

// redactURL returns u without its query (where download tokens go), user
// information and fragment.
func redactURL(u *url.URL) string {
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	return r.String()
}

// redactURLError returns err with the address of a *url.Error redacted;
// http.Client puts the full address, token included, in its errors.
func redactURLError(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	s := "(unparseable address)"
	if u, perr := url.Parse(ue.URL); perr == nil {
		s = redactURL(u)
	}
	return &url.Error{Op: ue.Op, URL: s, Err: ue.Err}
}
