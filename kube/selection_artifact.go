package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// ArtifactTrees assembles, from one pull request's tree, the trees of the
// ExternalArtifacts its candidates read (see AssembleArtifact), each once,
// in temporary folders that Close removes. It is safe for concurrent use.
type ArtifactTrees struct {
	root  string
	mu    sync.Mutex
	dir   string
	trees map[string]*artifactTree
}

type artifactTree struct {
	once sync.Once
	dir  string
	err  error
}

// NewArtifactTrees returns the artifact trees of the source tree at root.
func NewArtifactTrees(root string) *ArtifactTrees {
	return &ArtifactTrees{root: root, trees: map[string]*artifactTree{}}
}

// Root returns the folder holding the artifact e reads (e.Artifact must be
// set), assembling it on first use, or why it cannot be assembled.
func (t *ArtifactTrees) Root(ctx context.Context, e *Entry) (string, error) {
	fp := e.Artifact.fingerprint()
	t.mu.Lock()
	if t.dir == "" {
		dir, err := os.MkdirTemp("", "fluxdiff-artifacts-")
		if err != nil {
			t.mu.Unlock()
			return "", err
		}
		t.dir = dir
	}
	at, ok := t.trees[fp]
	if !ok {
		at = &artifactTree{dir: filepath.Join(t.dir, fmt.Sprint(len(t.trees)))}
		t.trees[fp] = at
	}
	t.mu.Unlock()
	at.once.Do(func() {
		if at.err = os.Mkdir(at.dir, 0o755); at.err == nil {
			at.err = AssembleArtifact(ctx, at.dir, e.Artifact.Copy, e.Artifact.Inputs(t.root))
		}
		if at.err != nil {
			at.err = fmt.Errorf("ArtifactGenerator %s/%s, artifact %s: %w",
				e.Artifact.Generator.Namespace, e.Artifact.Generator.Name, e.Artifact.Artifact, at.err)
		}
	})
	return at.dir, at.err
}

// Close removes the assembled trees.
func (t *ArtifactTrees) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dir == "" {
		return nil
	}
	err := os.RemoveAll(t.dir)
	t.dir, t.trees = "", map[string]*artifactTree{}
	return err
}

// fingerprint names the artifact's content: the same copy rules on the same
// sources make the same tree.
func (a *ArtifactSource) fingerprint() string {
	h := fnv.New64a()
	b, _ := json.Marshal(struct { // plain data: always marshals
		C any
		S any
	}{a.Copy, a.Sources})
	_, _ = h.Write(b)
	return fmt.Sprintf("%x", h.Sum64())
}

// selectArtifactReader builds e, which reads an ExternalArtifact, on the
// artifact assembled from the pull request's tree, maps the pull request's
// changes through the generator's copy rules, and picks e when its build
// reads a mapped change. readers records the repository paths.
func (s *Selector) selectArtifactReader(ctx context.Context, req SelectRequest, picked map[ObjectKey]*Selected, readers map[string][]*Entry, e *Entry) (*readSet, error) {
	root, err := req.Artifacts.Root(ctx, e)
	if err != nil {
		return nil, err
	}
	mapped, back := artifactChanges(e.Artifact, req.Changes)
	mch := newChangeSet(mapped)
	rs, err := s.readSet(req, mch, e, buildSource{root: root, key: e.Ignore + "\x00" + e.Artifact.fingerprint()})
	if err != nil {
		return nil, err
	}
	own := map[string][]*Entry{}
	selectReader(picked, own, root, mch, e, rs)
	for p, es := range own {
		for _, orig := range back[p] {
			readers[orig] = append(readers[orig], es...)
		}
	}
	if sel := picked[e.ObjectKey]; sel != nil {
		for i, r := range sel.Reasons {
			if p := r[strings.LastIndex(r, " ")+1:]; len(back[p]) > 0 {
				sel.Reasons[i] = fmt.Sprintf("%s (artifact %s of ArtifactGenerator %s/%s, copied from %s)", r,
					e.Artifact.Artifact, e.Artifact.Generator.Namespace, e.Artifact.Generator.Name, strings.Join(back[p], ", "))
			}
		}
	}
	for _, c := range req.Changes {
		for _, p := range []string{c.Path, c.PreviousPath} {
			if p != "" && path.Base(p) == ".sourceignore" && e.Artifact.copiesBelow(path.Dir(path.Clean(p))) {
				pick(picked, e, false, "its artifact copies files below "+p+", which filters the GitRepository's artifact")
			}
		}
	}
	return rs, nil
}

// artifactChanges maps the pull request's changes to the paths of the
// artifact, and each artifact path back to the repository paths that make
// it. A file no copy operation copies maps to nothing; a file that several
// copy to maps to each place.
func artifactChanges(a *ArtifactSource, changes []FileChange) ([]FileChange, map[string][]string) {
	var ops []copyOp
	for _, op := range a.Copy {
		if c, err := parseCopy(op); err == nil {
			ops = append(ops, c)
		}
	}
	dests := func(p string) []string {
		var out []string
		for _, c := range ops {
			if d, ok := c.destination(path.Clean(p)); ok && !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
		return out
	}
	var out []FileChange
	back := map[string][]string{}
	note := func(d, p string) {
		if !slices.Contains(back[d], p) {
			back[d] = append(back[d], p)
		}
	}
	for _, ch := range changes {
		kind := ch.Kind
		if ch.Kind == Renamed {
			for _, d := range dests(ch.PreviousPath) {
				out = append(out, FileChange{Path: d, Kind: Removed})
				note(d, ch.PreviousPath)
			}
			kind = Added
		}
		for _, d := range dests(ch.Path) {
			out = append(out, FileChange{Path: d, Kind: kind})
			note(d, ch.Path)
		}
	}
	return out, back
}

// copiesBelow reports whether a copy operation reads from dir or below it,
// or from a folder that holds dir.
func (a *ArtifactSource) copiesBelow(dir string) bool {
	for _, op := range a.Copy {
		c, err := parseCopy(op)
		if err != nil {
			return true
		}
		if isUnder(c.base, dir) || isUnder(dir, c.base) {
			return true
		}
	}
	return false
}
