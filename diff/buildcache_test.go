package diff

import (
	"maps"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// buildCacheTree is a repository with an app that uses a component (a
// kustomization file) and a plain folder that Flux generates a
// kustomization for.
var buildCacheTree = map[string]string{
	"apps/web/kustomization.yaml":          "resources: [cm.yaml]\ncomponents: [../../components/shared]\n",
	"apps/web/cm.yaml":                     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {tag: \"1\"}\n",
	"components/shared/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [cm.yaml]\n",
	"components/shared/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\ndata: {version: \"1\"}\n",
	"plain/a.yaml":                         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
	"README.md":                            "# fleet\n",
}

// TestBuildCacheReusesABuildOnlyWhileWhatItReadIsUnchanged: a build is
// reused on the same tree and on a new tree whose files the build read are
// the same; a change to a file it read, a manifest added to a generated
// folder or a new .sourceignore builds again.
func TestBuildCacheReusesABuildOnlyWhileWhatItReadIsUnchanged(t *testing.T) {
	for _, tc := range []struct {
		name    string
		path    string
		change  map[string]string
		wantHit bool
	}{
		{name: "the same content in a new tree is a hit", path: "./apps/web", wantHit: true},
		{name: "a file no build reads changed is a hit", path: "./apps/web", change: map[string]string{"README.md": "# changed\n"}, wantHit: true},
		{name: "a component file the build reads changed is a miss", path: "./apps/web",
			change: map[string]string{"components/shared/cm.yaml": strings.Replace(buildCacheTree["components/shared/cm.yaml"], `"1"`, `"2"`, 1)}},
		{name: "a manifest added to a generated folder is a miss", path: "./plain",
			change: map[string]string{"plain/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"}},
		{name: "a new .sourceignore anywhere is a miss", path: "./apps/web", change: map[string]string{".sourceignore": "*.md\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewBuildCache(1000)
			ks := newKS("default", "web", tc.path)
			first := writeTree(t, "default", buildCacheTree)
			objs, err := c.Build(first, ks, BuildOptions{})
			if err != nil {
				t.Fatal(err)
			}
			objs[0].SetName("changed-by-the-caller")
			again, err := c.Build(first, ks, BuildOptions{})
			if err != nil || again[0].GetName() == "changed-by-the-caller" {
				t.Fatalf("same tree: %v, %q: the cache handed out its own objects", err, again[0].GetName())
			}
			files := maps.Clone(buildCacheTree)
			maps.Copy(files, tc.change)
			second := writeTree(t, "default", files)
			got, err := c.Build(second, ks, BuildOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want, err := Build(second, ks, BuildOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(names(want), names(got)); d != "" {
				t.Errorf("objects (-want +got):\n%s", d)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("cached objects differ from a fresh build (-want +got):\n%s", d)
			}
			wantStats := BuildCacheStats{Builds: 2, Hits: 1}
			if tc.wantHit {
				wantStats = BuildCacheStats{Builds: 1, Hits: 2}
			}
			if d := cmp.Diff(wantStats, c.Stats()); d != "" {
				t.Errorf("stats (-want +got):\n%s", d)
			}
		})
	}
}

// TestBuildCacheHitReplaysReadsThroughWrapFS: the selection records what a
// build reads through BuildOptions.WrapFS; a hit must show it the same
// files.
func TestBuildCacheHitReplaysReadsThroughWrapFS(t *testing.T) {
	root := writeTree(t, "default", buildCacheTree)
	ks := newKS("default", "web", "./apps/web")
	c := NewBuildCache(1000)
	record := func() map[string]bool {
		seen := map[string]bool{}
		wrap := func(fs filesys.FileSystem) filesys.FileSystem {
			return &recordFS{FileSystem: fs, r: &buildRecorder{root: root, files: seen, dirs: map[string]bool{}}}
		}
		if _, err := c.Build(root, ks, BuildOptions{WrapFS: wrap}); err != nil {
			t.Fatal(err)
		}
		return seen
	}
	built, hit := record(), record()
	if c.Stats().Hits != 1 {
		t.Fatalf("stats %+v, want one hit", c.Stats())
	}
	for _, p := range []string{"apps/web/cm.yaml", "components/shared/cm.yaml"} {
		if !built[p] || !hit[p] {
			t.Errorf("%s: recorded by the build %v, by the hit %v; want both", p, built[p], hit[p])
		}
	}
}

func names(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	return out
}
