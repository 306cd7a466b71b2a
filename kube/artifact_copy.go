package kube

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	swapi "github.com/fluxcd/source-watcher/api/v2/v1beta1"
)

// The copy rules of an ArtifactGenerator, as source-watcher applies them
// (fluxcd/source-watcher internal/builder/builder.go: applyCopyOperation,
// applySingleSourceCopy, calculateGlobDestination, sourceSelectionRoot,
// shouldExcludePath, copyDirWithRoots):
//
//   - from is "@alias/pattern", to is "@artifact/dest"; the operations run
//     in order, a later one overwriting what an earlier one wrote (the
//     Merge strategy merges YAML into an existing file instead).
//   - A pattern without glob characters names one file or folder: a file is
//     copied to dest (dest/name when to ends with "/"), a folder to
//     dest/name with everything below it.
//   - A glob pattern is matched with io/fs.Glob, segment by segment ("**"
//     is no more than "*"), except for the Extract strategy, which uses
//     doublestar; each matched file is copied and each matched folder with
//     everything below it. A pattern ending in "/**" drops that folder
//     prefix from the destination; any other keeps the whole matched path.
//   - exclude patterns (doublestar) are matched against the path from the
//     source root and against the path from the pattern's literal prefix; a
//     pattern without "/" also against the file name. An excluded folder is
//     skipped with everything below it.

// copyOp is one parsed copy operation.
type copyOp struct {
	alias, pattern string
	dest           string // relative to the artifact root, "." for the root
	destDir        bool   // to ends with "/"
	glob           bool
	base           string // the pattern's literal prefix, for exclude
	exclude        []string
	strategy       string
}

// parseCopy checks and parses op the way source-watcher does before it
// copies anything.
func parseCopy(op swapi.CopyOperation) (copyOp, error) {
	from, ok := strings.CutPrefix(op.From, "@")
	alias, pattern, found := strings.Cut(from, "/")
	if !ok || !found || alias == "" {
		return copyOp{}, fmt.Errorf("copy from %q: must be @alias/pattern", op.From)
	}
	dest, ok := strings.CutPrefix(op.To, "@artifact/")
	if !ok {
		return copyOp{}, fmt.Errorf("copy to %q: must start with @artifact/", op.To)
	}
	if dest == "" {
		dest = "."
	}
	if path.IsAbs(dest) || slices.Contains(strings.Split(dest, "/"), "..") {
		return copyOp{}, fmt.Errorf("copy to %q: must stay within the artifact", op.To)
	}
	for _, p := range op.Exclude {
		if !doublestar.ValidatePattern(p) {
			return copyOp{}, fmt.Errorf("copy from %q: invalid exclude pattern %q", op.From, p)
		}
	}
	if op.Strategy == swapi.ExtractStrategy {
		return copyOp{}, fmt.Errorf("copy from %q: the %s strategy (tarballs) is not supported by fluxdiff", op.From, op.Strategy)
	}
	c := copyOp{
		alias: alias, pattern: pattern, dest: path.Clean(dest), destDir: strings.HasSuffix(op.To, "/"),
		glob: strings.ContainsAny(pattern, "*?[]"), exclude: op.Exclude, strategy: op.Strategy,
	}
	if c.glob {
		if _, err := path.Match(pattern, ""); err != nil {
			return copyOp{}, fmt.Errorf("copy from %q: %w", op.From, err)
		}
	}
	c.base = literalPrefix(pattern)
	return c, nil
}

// literalPrefix is the pattern's path before its first glob segment, "."
// when there is none.
func literalPrefix(pattern string) string {
	var parts []string
	for _, part := range strings.Split(path.Clean(pattern), "/") {
		if strings.ContainsAny(part, "*?[]") {
			break
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return "."
	}
	return path.Join(parts...)
}

// excluded reports whether p (relative to the source root) matches an
// exclude pattern.
func (c copyOp) excluded(p, base string) bool {
	if matchExclude(c.exclude, p) {
		return true
	}
	if base == "." || base == "" {
		return false
	}
	rel, ok := strings.CutPrefix(p, base+"/")
	return ok && matchExclude(c.exclude, rel)
}

func matchExclude(patterns []string, p string) bool {
	for _, pat := range patterns {
		if doublestar.MatchUnvalidated(pat, p) || !strings.Contains(pat, "/") && doublestar.MatchUnvalidated(pat, path.Base(p)) {
			return true
		}
	}
	return false
}

// destination returns where the operation copies the source file p
// (relative to its alias's root), and whether it copies it at all. It works
// on paths only, so that removed files map too.
func (c copyOp) destination(p string) (string, bool) {
	if !c.glob {
		src := path.Clean(c.pattern)
		switch {
		case p == src:
			if c.excluded(p, ".") {
				return "", false
			}
			if c.destDir {
				return path.Join(c.dest, path.Base(p)), true
			}
			return c.dest, true
		case isUnder(p, src) && src != ".":
			return c.walkDestination(p, src, src, path.Join(c.dest, path.Base(src)))
		case src == ".":
			return c.walkDestination(p, ".", ".", path.Join(c.dest, "."))
		}
		return "", false
	}
	segs := strings.Split(p, "/")
	n := len(strings.Split(path.Clean(c.pattern), "/"))
	if len(segs) < n {
		return "", false
	}
	match := strings.Join(segs[:n], "/")
	if ok, _ := path.Match(path.Clean(c.pattern), match); !ok || c.excluded(match, c.base) {
		return "", false
	}
	dest := path.Join(c.dest, match)
	if prefix, ok := strings.CutSuffix(c.pattern, "/**"); ok {
		if rel, ok := strings.CutPrefix(match, prefix+"/"); ok {
			dest = path.Join(c.dest, rel)
		}
	}
	if match == p {
		return dest, true
	}
	return c.walkDestination(p, match, c.base, dest)
}

// walkDestination maps p below the copied folder dir to its place below
// dest, unless a folder on the way or p itself is excluded.
func (c copyOp) walkDestination(p, dir, base, dest string) (string, bool) {
	rel := strings.TrimPrefix(p, dir+"/")
	if dir == "." {
		rel = p
	}
	cur := dir
	for _, seg := range strings.Split(rel, "/") {
		cur = path.Join(cur, seg)
		if c.excluded(cur, base) {
			return "", false
		}
	}
	return path.Join(dest, rel), true
}
