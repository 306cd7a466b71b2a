package kube

import (
	"os"
	"path/filepath"
	"strings"
	"sync"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// readSet is what one build read: files, and folders it listed or walked,
// as slash-separated paths relative to the source root; the Flux
// Kustomizations it built; and the ConfigMaps and Secrets it built.
type readSet struct {
	files    map[string]struct{}
	dirs     map[string]struct{}
	children []*kustomizev1.Kustomization
	sources  []variableSource
}

// reads reports whether the build read path, or listed a folder holding it.
func (r *readSet) reads(path string) bool {
	if _, ok := r.files[path]; ok {
		return true
	}
	for dir := range r.dirs {
		if dir == "." || strings.HasPrefix(path, dir+"/") {
			return true
		}
	}
	return false
}

// readsUnder reports whether the build read a file in dir or below it, or
// listed a folder that holds dir or lies below it.
func (r *readSet) readsUnder(dir string) bool {
	for p := range r.files {
		if isUnder(p, dir) {
			return true
		}
	}
	for p := range r.dirs {
		if isUnder(p, dir) || isUnder(dir, p) {
			return true
		}
	}
	return false
}

// recorder collects the paths a build touches through a filesystem.
type recorder struct {
	roots []string // the source root, and the root with symlinks resolved
	mu    sync.Mutex
	files map[string]struct{}
	dirs  map[string]struct{}
}

func newRecorder(root string) *recorder {
	r := &recorder{files: map[string]struct{}{}, dirs: map[string]struct{}{}}
	if abs, err := filepath.Abs(root); err == nil {
		r.roots = append(r.roots, abs)
		if real, err := filepath.EvalSymlinks(abs); err == nil && real != abs {
			r.roots = append(r.roots, real)
		}
	}
	return r
}

// wrap returns fs with every read recorded.
func (r *recorder) wrap(fs filesys.FileSystem) filesys.FileSystem {
	return &recordingFS{FileSystem: fs, r: r}
}

func (r *recorder) readSet() *readSet {
	r.mu.Lock()
	defer r.mu.Unlock()
	return &readSet{files: r.files, dirs: r.dirs}
}

func (r *recorder) add(set map[string]struct{}, path string) {
	rel, ok := r.relative(path)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	set[rel] = struct{}{}
}

// relative turns path into a slash path relative to the source root; paths
// outside the root are dropped.
func (r *recorder) relative(path string) (string, bool) {
	if !filepath.IsAbs(path) {
		return "", false
	}
	for _, root := range r.roots {
		rel, err := filepath.Rel(root, filepath.Clean(path))
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return filepath.ToSlash(rel), true
		}
	}
	return "", false
}

// recordingFS is a filesys.FileSystem that records what is read through it.
type recordingFS struct {
	filesys.FileSystem
	r *recorder
}

func (f *recordingFS) Open(path string) (filesys.File, error) {
	f.r.add(f.r.files, path)
	return f.FileSystem.Open(path)
}

func (f *recordingFS) ReadFile(path string) ([]byte, error) {
	f.r.add(f.r.files, path)
	return f.FileSystem.ReadFile(path)
}

// Exists and IsDir are probes: a file that appears where a build looked
// (kustomization.yml next to kustomization.yaml) changes the build.
func (f *recordingFS) Exists(path string) bool {
	f.r.add(f.r.files, path)
	return f.FileSystem.Exists(path)
}

func (f *recordingFS) IsDir(path string) bool {
	f.r.add(f.r.files, path)
	return f.FileSystem.IsDir(path)
}

func (f *recordingFS) ReadDir(path string) ([]string, error) {
	f.r.add(f.r.dirs, path)
	return f.FileSystem.ReadDir(path)
}

func (f *recordingFS) Glob(pattern string) ([]string, error) {
	f.r.add(f.r.dirs, filepath.Dir(pattern))
	return f.FileSystem.Glob(pattern)
}

func (f *recordingFS) Walk(path string, walkFn filepath.WalkFunc) error {
	f.r.add(f.r.dirs, path)
	return f.FileSystem.Walk(path, func(p string, info os.FileInfo, err error) error {
		f.r.add(f.r.files, p)
		return walkFn(p, info, err)
	})
}
