package diff

import (
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// maxIndexedFiles bounds how many YAML files one search of the source tree
// reads, so that a huge repository costs a bounded time per report.
const maxIndexedFiles = 5000

// sourceIndex finds where in the source tree an object's manifest is, for
// the file and line of a risk flag (a check run annotation). Manifests are
// found by kind and metadata.name, first under the Kustomization's path,
// then anywhere in the tree; the namespace is not compared since
// kustomize may set it. It is safe for concurrent use.
type sourceIndex struct {
	root string
	mu   sync.Mutex
	// dirs maps a folder (relative to root, "." for root) to its manifests.
	dirs map[string]map[string]location
}

// location is a file relative to the source root and a 1-based line.
type location struct {
	file string
	line int
}

func (r *run) sources() *sourceIndex {
	r.srcOnce.Do(func() { r.src = &sourceIndex{root: r.req.Root, dirs: map[string]map[string]location{}} })
	return r.src
}

// locate returns the file and line of the manifest of kind/name, looking
// under dir (a Kustomization's spec.path) first; "" when not found.
func (s *sourceIndex) locate(dir, kind, name string) (string, int) {
	for _, d := range []string{cleanDir(dir), "."} {
		if loc, ok := s.index(d)[kind+"/"+name]; ok {
			return loc.file, loc.line
		}
	}
	return "", 0
}

// cleanDir turns a spec.path into a folder relative to the root.
func cleanDir(dir string) string {
	d := path.Clean("/" + filepath.ToSlash(dir))
	if d == "/" {
		return "."
	}
	return strings.TrimPrefix(d, "/")
}

// index reads (once) the manifests under dir.
func (s *sourceIndex) index(dir string) map[string]location {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.dirs[dir]; ok {
		return m
	}
	m := map[string]location{}
	s.dirs[dir] = m
	files := 0
	_ = filepath.WalkDir(filepath.Join(s.root, filepath.FromSlash(dir)), func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil
		case d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != s.root:
			return filepath.SkipDir
		case d.IsDir() || d.Type()&fs.ModeSymlink != 0 || !isYAMLFile(d.Name()):
			return nil
		}
		if files++; files > maxIndexedFiles {
			return filepath.SkipAll
		}
		rel, err := filepath.Rel(s.root, p)
		if err == nil {
			indexFile(p, filepath.ToSlash(rel), m)
		}
		return nil
	})
	return m
}

func isYAMLFile(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

// indexFile records every document of a YAML file with a kind and a
// metadata.name, at the line of its name; the first file wins.
func indexFile(p, rel string, m map[string]location) {
	f, err := os.Open(p)
	if err != nil {
		return
	}
	defer f.Close()
	dec := kyaml.NewDecoder(io.LimitReader(f, 8<<20))
	for {
		var doc kyaml.Node
		if err := dec.Decode(&doc); err != nil {
			return // the end, or an unparsable document: the rest is not read
		}
		if len(doc.Content) == 0 {
			continue
		}
		kind, _ := mappingValue(doc.Content[0], "kind")
		meta, _ := mappingValue(doc.Content[0], "metadata")
		name, line := mappingValue(meta, "name")
		if kind == nil || name == nil || kind.Value == "" || name.Value == "" {
			continue
		}
		key := kind.Value + "/" + name.Value
		if _, seen := m[key]; !seen {
			m[key] = location{file: rel, line: line}
		}
	}
}

// mappingValue returns the value node of key in a mapping node and the
// line of the key.
func mappingValue(n *kyaml.Node, key string) (*kyaml.Node, int) {
	if n == nil || n.Kind != kyaml.MappingNode {
		return nil, 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1], n.Content[i].Line
		}
	}
	return nil, 0
}

// place completes a flag on a built object of ks: its identity, its
// manifest's location, and values that hold a secret masked.
func (r *run) place(f Risk, obj *unstructured.Unstructured, ks *kustomizev1.Kustomization) Risk {
	f.APIVersion, f.ObjectKind, f.Namespace, f.Name = obj.GetAPIVersion(), obj.GetKind(), obj.GetNamespace(), obj.GetName()
	f.File, f.Line = r.sources().locate(ks.Spec.Path, obj.GetKind(), obj.GetName())
	return r.maskRisk(f)
}

// placeDeleted locates a flag on an object that left the build at the
// kustomization.yaml of dir (the Kustomization's spec.path), when there is
// one.
func (r *run) placeDeleted(f Risk, dir string) Risk {
	d := cleanDir(dir)
	for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		rel := path.Join(d, name)
		if st, err := os.Stat(filepath.Join(r.req.Root, filepath.FromSlash(rel))); err == nil && st.Mode().IsRegular() {
			f.File, f.Line = rel, 1
			break
		}
	}
	return r.maskRisk(f)
}

// maskRisk masks Old and New (and their text in Message) when they hold a
// secret value; the report's scrubbing covers the rest of the message.
func (r *run) maskRisk(f Risk) Risk {
	for _, v := range []*string{&f.Old, &f.New} {
		if *v != "" && r.secrets.contains(*v) {
			f.Message = strings.ReplaceAll(f.Message, *v, maskValue)
			*v = maskValue
		}
	}
	return f
}
