package diff

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// buildRecorder collects, relative to root, the paths a build reads through
// recordFS; outside is set when it reads outside root (nothing to check
// later, so the build is not cached).
type buildRecorder struct {
	root    string
	mu      sync.Mutex
	files   map[string]bool
	dirs    map[string]bool
	outside atomic.Bool
}

func (r *buildRecorder) add(set map[string]bool, path string) {
	if !filepath.IsAbs(path) {
		return // as kube's read-set recorder: kustomize probes nothing relative
	}
	rel, err := filepath.Rel(r.root, filepath.Clean(path))
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		r.outside.Store(true)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	set[filepath.ToSlash(rel)] = true
}

// recordFS records every path read through it.
type recordFS struct {
	filesys.FileSystem
	r *buildRecorder
}

func (f *recordFS) Open(path string) (filesys.File, error) {
	f.r.add(f.r.files, path)
	return f.FileSystem.Open(path)
}

func (f *recordFS) ReadFile(path string) ([]byte, error) {
	f.r.add(f.r.files, path)
	return f.FileSystem.ReadFile(path)
}

func (f *recordFS) Exists(path string) bool {
	f.r.add(f.r.files, path)
	return f.FileSystem.Exists(path)
}

func (f *recordFS) IsDir(path string) bool {
	f.r.add(f.r.files, path)
	return f.FileSystem.IsDir(path)
}

func (f *recordFS) ReadDir(path string) ([]string, error) {
	f.r.add(f.r.dirs, path)
	return f.FileSystem.ReadDir(path)
}

func (f *recordFS) Glob(pattern string) ([]string, error) {
	f.r.add(f.r.dirs, filepath.Dir(pattern))
	return f.FileSystem.Glob(pattern)
}

func (f *recordFS) Walk(path string, walkFn filepath.WalkFunc) error {
	f.r.add(f.r.dirs, path)
	return f.FileSystem.Walk(path, func(p string, info os.FileInfo, err error) error {
		f.r.add(f.r.files, p)
		return walkFn(p, info, err)
	})
}
