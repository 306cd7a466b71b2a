package diff

import (
	"bytes"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// TestToYAMLMatchesSigsYAML holds toYAML to sigs.k8s.io/yaml.Marshal, the
// rendering it replaces: the manifests of the repository's test data (the
// example repositories, CRDs, the diff's fixtures), decoded as JSON decoding
// gives objects, and random objects with edge-case numbers and strings.
func TestToYAMLMatchesSigsYAML(t *testing.T) {
	check := func(name string, o map[string]any) {
		t.Helper()
		want, err := yaml.Marshal(o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := toYAML(&unstructured.Unstructured{Object: o})
		if err != nil || got != string(want) {
			t.Fatalf("%s: toYAML differs (err %v)\nwant:\n%s\ngot:\n%s", name, err, want, got)
		}
	}
	n := 0
	for _, root := range []string{filepath.Join("..", "testdata"), "testdata"} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				return err
			}
			raw, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
			for {
				o := map[string]any{}
				if err := dec.Decode(&o); err == io.EOF {
					break
				} else if err != nil {
					return nil // not a manifest (a template, a values file with anchors...)
				}
				if len(o) > 0 {
					n++
					check(p, o)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n < 50 {
		t.Fatalf("only %d manifests checked", n)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		check("random", randomObject(r, 3))
	}
}

// randomObject is a nested map with the values JSON decoding gives
// (int64, float64, string, bool, nil, maps, slices), numbers chosen at the
// edges of the integer types and of float formatting.
func randomObject(r *rand.Rand, depth int) map[string]any {
	o := map[string]any{}
	// Keys that start with digits are left out: go-yaml's key order is not
	// a strict order for some of them ("010", "0x1F", "1"), so two sorts of
	// the same keys can differ, in sigs.k8s.io/yaml as much as here.
	keys := []string{"a", "web", "true", "null", "~", "yes", "", " lead", "quote\"d", "colon: x", "# hash", "ümlaut", "-", "[a]", "{b}", "*star", "a10", "a2"}
	for range 1 + r.IntN(5) {
		o[keys[r.IntN(len(keys))]] = randomValue(r, depth)
	}
	return o
}

func randomValue(r *rand.Rand, depth int) any {
	floats := []float64{0, -0.0, 0.5, 1e6, 1e20, 1e21, 1.5e300, 1e-7, 123456789.125, float64(math.MaxInt64), float64(math.MaxUint64), -9.2e18, 3.0, 2.5e-3}
	switch k := r.IntN(8); {
	case k == 0 && depth > 0:
		return randomObject(r, depth-1)
	case k == 1 && depth > 0:
		s := make([]any, r.IntN(4))
		for i := range s {
			s[i] = randomValue(r, depth-1)
		}
		return s
	case k == 2:
		return floats[r.IntN(len(floats))]
	case k == 3:
		return []int64{0, -1, math.MaxInt64, math.MinInt64, 42}[r.IntN(5)]
	case k == 4:
		return r.IntN(2) == 0
	case k == 5:
		return nil
	}
	return randomString(r)
}

func randomString(r *rand.Rand) string {
	pool := []string{"a", "web", "1", "0x1F", "true", "null", "~", "yes", "1e3", "", " lead", "multi\nline", "quote\"d", "colon: x", "# hash", "ümlaut", "tab\tx", "-", "[a]", "{b}", "*star", "&amp", "a10", "a2", "010", "+1", ".5"}
	return pool[r.IntN(len(pool))]
}
