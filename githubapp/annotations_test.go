package githubapp

import (
	"os"
	"path/filepath"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/google/go-cmp/cmp"

	"github.com/fluxdiff/fluxdiff/diff"
)

// TestErrorLocationsOfRealBuildErrors builds broken trees with the engine
// (diff.Build, which runs Flux's generator and kustomize as
// kustomize-controller does) and checks that the file and line the YAML
// parser complained about are found in the error text.
func TestErrorLocationsOfRealBuildErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []location
	}{
		{
			name:  "a folder without kustomization.yaml and a malformed file",
			files: map[string]string{"apps/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: [\n"},
			want:  []location{{"apps/a.yaml", 4}},
		},
		{
			name: "a kustomization.yaml listing a malformed file",
			files: map[string]string{
				"apps/kustomization.yaml": "resources:\n- a.yaml\n",
				"apps/a.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  bad: : :\n",
			},
			want: []location{{"apps/a.yaml", 5}},
		},
		{
			name: "a malformed file in a nested kustomization",
			files: map[string]string{
				"apps/kustomization.yaml":     "resources:\n- sub\n",
				"apps/sub/kustomization.yaml": "resources:\n- a.yaml\n",
				"apps/sub/a.yaml":             "kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: x\n\tdata: 1\n",
			},
			want: []location{{"apps/sub/a.yaml", 4}},
		},
		{
			name:  "a missing file names no line",
			files: map[string]string{"apps/kustomization.yaml": "resources:\n- missing.yaml\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for p, c := range tt.files {
				full := filepath.Join(root, p)
				if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			ks := &kustomizev1.Kustomization{}
			ks.Name, ks.Namespace, ks.Spec.Path = "apps", "flux-system", "./apps"
			_, err := diff.Build(root, ks, diff.BuildOptions{})
			if err == nil {
				t.Fatal("the broken tree built")
			}
			got := errorLocations(ks.Spec.Path, err.Error())
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errorLocations(%q) (-want +got):\n%s", err, diff)
			}
		})
	}
}

func TestErrorLocationsOfOtherShapes(t *testing.T) {
	tests := map[string][]location{
		"build ./infra: accumulating resources: infra/broken.yaml: yaml: line 3: did not find expected key": {{"infra/broken.yaml", 3}},
		"apps/podinfo/release.yaml:12: bad indentation":                                                     {{"apps/podinfo/release.yaml", 12}},
		"../outside.yaml:3: nope":                             nil,
		"/etc/passwd.yaml:1: nope":                            nil,
		"spec.path \"./x\" does not exist in the source tree": nil,
	}
	for msg, want := range tests {
		if diff := cmp.Diff(want, errorLocations("./infra", msg)); diff != "" {
			t.Errorf("errorLocations(%q) (-want +got):\n%s", msg, diff)
		}
	}
}

func TestBuildAnnotations(t *testing.T) {
	rep := fullReport()
	got := buildAnnotations(rep)
	if len(got) != 1 {
		t.Fatalf("got %d annotations, want 1 (the infra build error)", len(got))
	}
	a := got[0]
	if a.GetPath() != "infra/broken.yaml" || a.GetStartLine() != 3 || a.GetEndLine() != 3 || a.GetAnnotationLevel() != "failure" {
		t.Errorf("annotation = %s:%d-%d %s", a.GetPath(), a.GetStartLine(), a.GetEndLine(), a.GetAnnotationLevel())
	}
	if a.GetMessage() != rep.Kustomizations[1].Error {
		t.Errorf("message = %q, want the build error", a.GetMessage())
	}
}
