package githubtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/fluxdiff/fluxdiff/githubapp/internal/ghroute"
)

// SpecFile is the GitHub REST API description the stand-in validates
// against, relative to the module root.
const SpecFile = "testdata/github/rest-api-subset.json"

// Spec is a loaded API description: the document, a route table built from
// its paths, and its named examples (the stand-in's answer skeletons).
type Spec struct {
	Doc    *openapi3.T
	Routes *ghroute.Table
	// examples holds components/examples values as decoded JSON.
	examples map[string]any
	// multi lists each path's multi-segment parameters.
	multi map[string][]string
}

var specs sync.Map // path → *specEntry

type specEntry struct {
	once sync.Once
	spec *Spec
	err  error
}

// LoadSpec loads and validates the description at path ("" means SpecFile
// under the module root, found by walking up from the working directory to
// go.mod). Loads are cached per path for the life of the process; the
// returned Spec must not be modified.
func LoadSpec(path string) (*Spec, error) {
	if path == "" {
		root, err := ModuleRoot()
		if err != nil {
			return nil, err
		}
		path = filepath.Join(root, SpecFile)
	}
	e, _ := specs.LoadOrStore(path, &specEntry{})
	entry := e.(*specEntry)
	entry.once.Do(func() { entry.spec, entry.err = loadSpec(path) })
	return entry.spec, entry.err
}

// ModuleRoot returns the directory holding go.mod, walking up from the
// working directory (a test's working directory is its package directory).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("githubtest: working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("githubtest: no go.mod above the working directory")
		}
		dir = parent
	}
}

func loadSpec(path string) (*Spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("githubtest: load %s: %w", path, err)
	}
	// GitHub's own examples do not all satisfy its schemas (e.g. dates
	// without a time zone), so they are not validated; answers are.
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("githubtest: validate %s: %w", path, err)
	}
	// Requests are routed by path only; the description's server
	// (https://api.github.com) is not the stand-in's address.
	doc.Servers = nil
	s := &Spec{Doc: doc, examples: map[string]any{}, multi: map[string][]string{}}
	for p, item := range doc.Paths.Map() {
		s.multi[p] = multiSegment(item)
	}
	s.Routes = ghroute.NewTable(s.multi)
	for name, ex := range doc.Components.Examples {
		if ex == nil || ex.Value == nil {
			continue
		}
		// Round-trip through JSON so each use can deep-copy plain values.
		b, err := json.Marshal(ex.Value.Value)
		if err != nil {
			return nil, fmt.Errorf("githubtest: example %s: %w", name, err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("githubtest: example %s: %w", name, err)
		}
		s.examples[name] = v
	}
	return s, nil
}

// MultiSegment returns the parameters of the path template p that may
// span several segments (x-multi-segment), as ghroute.NewTable takes them.
func (s *Spec) MultiSegment() map[string][]string { return s.multi }

func multiSegment(item *openapi3.PathItem) []string {
	seen := map[string]bool{}
	var out []string
	add := func(ps openapi3.Parameters) {
		for _, p := range ps {
			if p == nil || p.Value == nil || p.Value.In != "path" {
				continue
			}
			if v, ok := p.Value.Extensions["x-multi-segment"].(bool); ok && v && !seen[p.Value.Name] {
				seen[p.Value.Name] = true
				out = append(out, p.Value.Name)
			}
		}
	}
	add(item.Parameters)
	for _, op := range item.Operations() {
		add(op.Parameters)
	}
	return out
}

// example returns a deep copy of the named components/examples value; for
// a list example it returns the first item (a template for each element).
func (s *Spec) example(name string) map[string]any {
	v, ok := s.examples[name]
	if !ok {
		panic("githubtest: no example " + name)
	}
	if l, ok := v.([]any); ok {
		v = l[0]
	}
	return deepCopy(v).(map[string]any)
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = deepCopy(e)
		}
		return l
	default:
		return v
	}
}

// operation returns the operation of method on template.
func (s *Spec) operation(method, template string) *openapi3.Operation {
	item := s.Doc.Paths.Value(template)
	if item == nil {
		return nil
	}
	return item.GetOperation(strings.ToUpper(method))
}
