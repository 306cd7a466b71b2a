package kube

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/fluxcd/pkg/sourceignore"
	"github.com/fluxcd/pkg/sourceignore/gitignore"
	swapi "github.com/fluxcd/source-watcher/api/v2/v1beta1"
	"sigs.k8s.io/yaml"
)

// ArtifactInput is one source of an ArtifactGenerator as fluxdiff has it: a
// Git tree and the ignore patterns of its GitRepository (spec.ignore and
// the sparse checkout), so that the tree is seen as source-controller's
// artifact of it: without the files that .sourceignore files, spec.ignore
// and source-controller's default exclusions leave out.
type ArtifactInput struct {
	// Root is the tree's folder.
	Root string
	// Ignore holds extra .sourceignore patterns.
	Ignore string
}

// AssembleArtifact writes into dir (an existing, empty folder) the tree of
// the ExternalArtifact that source-watcher builds by applying ops, in
// order, to the artifacts of inputs (by alias). It fails as source-watcher
// does: an unknown alias, a source that does not exist, a glob that
// matches nothing, or everything it matches excluded; the Extract strategy
// is not supported. Only regular files are copied, as in a Flux artifact.
func AssembleArtifact(ctx context.Context, dir string, ops []swapi.CopyOperation, inputs map[string]ArtifactInput) error {
	trees := map[string]*sourceTree{}
	for _, op := range ops {
		if err := ctx.Err(); err != nil {
			return err
		}
		c, err := parseCopy(op)
		if err != nil {
			return err
		}
		t, ok := trees[c.alias]
		if !ok {
			in, found := inputs[c.alias]
			if !found {
				return fmt.Errorf("copy from %q: source alias %q not found", op.From, c.alias)
			}
			if t, err = newSourceTree(in); err != nil {
				return err
			}
			trees[c.alias] = t
		}
		if err := c.apply(t, dir); err != nil {
			return fmt.Errorf("copy from %q to %q: %w", op.From, op.To, err)
		}
	}
	return nil
}

// sourceTree is a Git tree seen as its GitRepository's artifact.
type sourceTree struct {
	root string
	m    gitignore.Matcher
}

func newSourceTree(in ArtifactInput) (*sourceTree, error) {
	ps, err := sourceignore.LoadIgnorePatterns(in.Root, nil)
	if err != nil {
		return nil, fmt.Errorf("read .sourceignore files: %w", err)
	}
	if in.Ignore != "" {
		ps = append(ps, sourceignore.ReadPatterns(strings.NewReader(in.Ignore), nil)...)
	}
	return &sourceTree{root: in.Root, m: sourceignore.NewDefaultMatcher(ps, nil)}, nil
}

// hidden reports whether the artifact leaves out p or a folder above it.
func (t *sourceTree) hidden(p string, isDir bool) bool {
	if p == "." {
		return false
	}
	segs := strings.Split(p, "/")
	for i := 1; i <= len(segs); i++ {
		if t.m.Match(segs[:i], i < len(segs) || isDir) {
			return true
		}
	}
	return false
}

// stat returns p's kind in the artifact: whether it is there and whether it
// is a folder. Symbolic links and other special files are not there.
func (t *sourceTree) stat(p string) (exists, isDir bool) {
	fi, err := os.Lstat(filepath.Join(t.root, filepath.FromSlash(p)))
	if err != nil || !(fi.IsDir() || fi.Mode().IsRegular()) || t.hidden(p, fi.IsDir()) {
		return false, false
	}
	return true, fi.IsDir()
}

func (c copyOp) apply(t *sourceTree, dir string) error {
	if !c.glob {
		src := path.Clean(c.pattern)
		exists, isDir := t.stat(src)
		switch {
		case !exists:
			return fmt.Errorf("source %q does not exist", src)
		case isDir:
			return c.copyDir(t, src, src, path.Join(c.dest, path.Base(src)), dir)
		case c.excluded(src, "."):
			return nil
		}
		dest := c.dest
		if fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(dest))); c.destDir || err == nil && fi.IsDir() {
			dest = path.Join(dest, path.Base(src))
		}
		return c.copyFile(t, src, dest, dir)
	}
	matches, err := fs.Glob(os.DirFS(t.root), path.Clean(c.pattern))
	if err != nil {
		return err
	}
	copied := 0
	for _, m := range matches {
		exists, isDir := t.stat(m)
		if !exists || c.excluded(m, c.base) {
			continue
		}
		copied++
		dest, _ := c.destination(m)
		if isDir {
			err = c.copyDir(t, m, c.base, dest, dir)
		} else {
			err = c.copyFile(t, m, dest, dir)
		}
		if err != nil {
			return err
		}
	}
	if copied == 0 {
		return fmt.Errorf("no files match pattern %q (or all are excluded)", c.pattern)
	}
	return nil
}

// copyDir copies the folder src with everything below it that is neither
// excluded nor left out of the artifact to dest.
func (c copyOp) copyDir(t *sourceTree, src, base, dest, dir string) error {
	return fs.WalkDir(os.DirFS(t.root), src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == src {
			return os.MkdirAll(filepath.Join(dir, filepath.FromSlash(dest)), 0o755)
		}
		rel := strings.TrimPrefix(p, src+"/")
		if src == "." {
			rel = p
		}
		if t.hidden(p, d.IsDir()) || c.excluded(p, base) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		target := path.Join(dest, rel)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, filepath.FromSlash(target)), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return c.copyFile(t, p, target, dir)
	})
}

// copyFile copies src to dest, or merges it into dest as YAML with the
// Merge strategy when dest exists (Helm's values merge: maps merge key by
// key, anything else is replaced).
func (c copyOp) copyFile(t *sourceTree, src, dest, dir string) error {
	data, err := os.ReadFile(filepath.Join(t.root, filepath.FromSlash(src)))
	if err != nil {
		return err
	}
	target := filepath.Join(dir, filepath.FromSlash(dest))
	if c.strategy == swapi.MergeStrategy {
		if old, err := os.ReadFile(target); err == nil {
			if data, err = mergeYAMLFiles(old, data); err != nil {
				return fmt.Errorf("merge %s into %s: %w", src, dest, err)
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	return os.WriteFile(target, data, 0o644)
}

func mergeYAMLFiles(dst, src []byte) ([]byte, error) {
	var a, b map[string]any
	if err := yaml.Unmarshal(dst, &a); err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(src, &b); err != nil {
		return nil, err
	}
	return yaml.Marshal(mergeValues(a, b))
}

// mergeValues merges src into dst, as Helm merges values files.
func mergeValues(dst, src map[string]any) map[string]any {
	if dst == nil {
		dst = map[string]any{}
	}
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				dst[k] = mergeValues(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}
