package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	swapi "github.com/fluxcd/source-watcher/api/v2/v1beta1"

	"github.com/fluxdiff/fluxdiff/kube"
)

// TestBaseOfAssemblesTheArtifactFromTheBaseTree checks the base an
// ExternalArtifact's targets are classified against: the artifact
// assembled from the base tree by the same copy rules as from the merge
// tree; a plain target's is the base tree; without a base tree there is
// none; and when the base tree lacks what the rules copy (a pull request
// that adds the folder), source-watcher would fail on the base branch too,
// so there is no base and the reason is given.
func TestBaseOfAssemblesTheArtifactFromTheBaseTree(t *testing.T) {
	art := &kube.Entry{Artifact: &kube.ArtifactSource{Artifact: "apps",
		Copy:    []swapi.CopyOperation{{From: "@fleet/apps/base/**", To: "@artifact/base/"}},
		Sources: map[string]kube.AliasSource{"fleet": {}}}}
	merge := writeTree(t, map[string]string{"apps/base/cm.yaml": "merge\n"})
	base := writeTree(t, map[string]string{"apps/base/cm.yaml": "base\n"})
	roots, closeBase := withBase(merge, base)
	defer closeBase()

	dir, why := roots.baseOf(t.Context(), []target{{entry: art, root: "/merge-artifact"}})
	if b, err := os.ReadFile(filepath.Join(dir, "base", "cm.yaml")); dir == "" || why != "" || err != nil || string(b) != "base\n" {
		t.Errorf("artifact target: base %q (%q), base/cm.yaml %q (%v); want the base tree's file copied", dir, why, b, err)
	}
	if dir, why := roots.baseOf(t.Context(), []target{{entry: &kube.Entry{}}}); dir != base || why != "" {
		t.Errorf("plain target: base %q (%q), want the base tree %q", dir, why, base)
	}
	none, closeNone := withBase(merge, "")
	defer closeNone()
	if dir, why := none.baseOf(t.Context(), []target{{entry: art, root: "/merge-artifact"}}); dir != "" || why != "" {
		t.Errorf("no base tree: base %q (%q), want none and no reason (the report's note says why)", dir, why)
	}
	added, closeAdded := withBase(merge, writeTree(t, map[string]string{"README.md": "x\n"}))
	defer closeAdded()
	dir, why = added.baseOf(t.Context(), []target{{entry: art, root: "/merge-artifact"}})
	if dir != "" || !strings.Contains(why, "could not be assembled from the base branch") || !strings.Contains(why, "apps/base") {
		t.Errorf("base tree without apps/base: base %q, reason %q; want none, and why", dir, why)
	}
}
