package diff

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/fluxcd/pkg/sourceignore"
	"github.com/fluxcd/pkg/sourceignore/gitignore"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// artifactMatcher matches the files that source-controller leaves out of the
// artifact it builds from a Git repository: its default exclusions (VCS
// files, CI config, archives and images), every .sourceignore in the tree
// and the GitRepository's spec.ignore.
func artifactMatcher(root, ignore string) (gitignore.Matcher, error) {
	ps, err := sourceignore.LoadIgnorePatterns(root, nil)
	if err != nil {
		return nil, err
	}
	if ignore != "" {
		ps = append(ps, sourceignore.ReadPatterns(strings.NewReader(ignore), nil)...)
	}
	return sourceignore.NewDefaultMatcher(ps, nil), nil
}

// generatorIgnore returns, in .sourceignore syntax relative to dir, the
// artifact's exclusions that the Flux generator would not find on its own:
// source-controller's defaults, spec.ignore, and the patterns of
// .sourceignore files between root and dir that reach into dir. (The
// generator reads .sourceignore files in dir and below itself.)
func generatorIgnore(root, dir, ignore string) (string, error) {
	defaults := strings.Join([]string{sourceignore.ExcludeVCS, sourceignore.ExcludeExt, sourceignore.ExcludeCI, sourceignore.ExcludeExtra}, ",")
	lines := strings.Split(defaults, ",")
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == "." {
		return strings.Join(append(lines, strings.Split(ignore, "\n")...), "\n"), err
	}
	parts := strings.Split(filepath.ToSlash(rel), "/")
	// spec.ignore is written relative to the repository root.
	for _, l := range strings.Split(ignore, "\n") {
		if p, ok := rebase(strings.TrimSpace(l), filepath.ToSlash(rel)+"/"); ok {
			lines = append(lines, p)
		}
	}
	for i := range parts {
		ancestor := filepath.Join(root, filepath.Join(parts[:i]...))
		b, err := os.ReadFile(filepath.Join(ancestor, sourceignore.IgnoreFile))
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return "", err
		}
		below := strings.Join(parts[i:], "/") + "/"
		for _, l := range strings.Split(string(b), "\n") {
			if p, ok := rebase(strings.TrimSpace(l), below); ok {
				lines = append(lines, p)
			}
		}
	}
	return strings.Join(lines, "\n"), nil
}

// rebase rewrites a .sourceignore pattern written in a folder above dir for
// use inside dir, where below is dir's path from that folder with a trailing
// slash. Unanchored patterns apply as they are; anchored ones only when they
// point inside dir.
func rebase(p, below string) (string, bool) {
	neg := strings.HasPrefix(p, "!")
	body := strings.TrimPrefix(p, "!")
	if body == "" || strings.HasPrefix(body, "#") {
		return "", false
	}
	prefix := ""
	if neg {
		prefix = "!"
	}
	if strings.HasPrefix(body, "**/") || !strings.Contains(strings.TrimSuffix(body, "/"), "/") {
		return p, true
	}
	anchored := strings.TrimPrefix(body, "/")
	if strings.HasPrefix(anchored, below) && len(anchored) > len(below) {
		return prefix + "/" + anchored[len(below):], true
	}
	return "", false
}

// artifactView is the source tree as source-controller's artifact holds it:
// without the files its ignore rules leave out, and without symlinks, which
// its archiver skips (it keeps regular files and folders only), so nothing is
// read through one.
type artifactView struct {
	root    string
	matcher gitignore.Matcher
	links   *symlinks
}

// newArtifactView describes the artifact of the tree at the absolute root,
// with ignore holding extra .sourceignore patterns (spec.ignore).
func newArtifactView(root, ignore string) (artifactView, error) {
	m, err := artifactMatcher(root, ignore)
	if err != nil {
		return artifactView{}, err
	}
	return artifactView{root: root, matcher: m, links: &symlinks{root: root, seen: map[string]bool{}}}, nil
}

// over returns fs showing only what the artifact holds.
func (a artifactView) over(fs filesys.FileSystem) ignoreFS {
	return ignoreFS{FileSystem: fs, root: a.root, matcher: a.matcher, links: a.links}
}

// kustomizationFile reports whether dir holds a kustomization file in the
// artifact and, when it does not, names one that the disk holds but the
// artifact lacks (a symlink or an ignored file).
func (a artifactView) kustomizationFile(dir string) (present bool, hidden string) {
	fs := a.over(filesys.MakeFsOnDisk())
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(dir, name)
		if fs.Exists(p) && !fs.IsDir(p) {
			return true, ""
		}
		if _, err := os.Lstat(p); err == nil && hidden == "" {
			hidden, _ = filepath.Rel(a.root, p)
		}
	}
	return false, hidden
}

// symlinks finds the symlinks below root, remembering what it has looked at.
// It is safe for concurrent use.
type symlinks struct {
	root string
	mu   sync.Mutex
	seen map[string]bool // absolute path → is a symlink
}

// through reports whether the absolute path p, or a folder between root and
// p, is a symlink. Paths outside root are not judged.
func (s *symlinks) through(p string) bool {
	rel, err := filepath.Rel(s.root, p)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return false
	}
	cur := s.root
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		cur = filepath.Join(cur, part)
		if s.isLink(cur) {
			return true
		}
	}
	return false
}

func (s *symlinks) isLink(p string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	link, ok := s.seen[p]
	if !ok {
		fi, err := os.Lstat(p)
		link = err == nil && fi.Mode()&fs.ModeSymlink != 0
		s.seen[p] = link
	}
	return link
}

// below returns the symlinks below dir (not followed) as .sourceignore
// patterns anchored at dir.
func (s *symlinks) below(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && d.Name() == ".git":
			return filepath.SkipDir
		case d.Type()&fs.ModeSymlink == 0:
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		out = append(out, "/"+filepath.ToSlash(rel))
		return nil
	})
	return out, err
}

// ignoreFS shows kustomize the source tree as the artifact would hold it:
// ignored files and symlinks do not exist.
type ignoreFS struct {
	filesys.FileSystem
	root    string
	matcher gitignore.Matcher
	links   *symlinks
}

// ignored reports whether the absolute path p is left out of the artifact.
func (f ignoreFS) ignored(p string) bool {
	rel, err := filepath.Rel(f.root, p)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return false
	}
	if f.links != nil && f.links.through(p) {
		return true
	}
	return f.matcher.Match(strings.Split(rel, string(filepath.Separator)), f.FileSystem.IsDir(p))
}

func (f ignoreFS) notExist(p string) error {
	return &os.PathError{Op: "open", Path: p, Err: os.ErrNotExist}
}

func (f ignoreFS) Exists(p string) bool { return !f.ignored(p) && f.FileSystem.Exists(p) }
func (f ignoreFS) IsDir(p string) bool  { return !f.ignored(p) && f.FileSystem.IsDir(p) }

// CleanedAbs is how kustomize resolves a folder it loads: through a symlink,
// or to an ignored folder, there is none.
func (f ignoreFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	if abs, err := filepath.Abs(p); err == nil && f.ignored(abs) {
		return "", "", f.notExist(p)
	}
	return f.FileSystem.CleanedAbs(p)
}

func (f ignoreFS) Open(p string) (filesys.File, error) {
	if f.ignored(p) {
		return nil, f.notExist(p)
	}
	return f.FileSystem.Open(p)
}

func (f ignoreFS) ReadFile(p string) ([]byte, error) {
	if f.ignored(p) {
		return nil, f.notExist(p)
	}
	return f.FileSystem.ReadFile(p)
}

func (f ignoreFS) ReadDir(p string) ([]string, error) {
	names, err := f.FileSystem.ReadDir(p)
	if err != nil {
		return nil, err
	}
	out := names[:0:0]
	for _, n := range names {
		if !f.ignored(filepath.Join(p, n)) {
			out = append(out, n)
		}
	}
	return out, nil
}

func (f ignoreFS) Glob(pattern string) ([]string, error) {
	matches, err := f.FileSystem.Glob(pattern)
	if err != nil {
		return nil, err
	}
	out := matches[:0:0]
	for _, m := range matches {
		if !f.ignored(m) {
			out = append(out, m)
		}
	}
	return out, nil
}

func (f ignoreFS) Walk(p string, fn filepath.WalkFunc) error {
	return f.FileSystem.Walk(p, func(path string, info os.FileInfo, err error) error {
		if err == nil && f.ignored(path) {
			if info != nil && info.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		return fn(path, info, err)
	})
}
