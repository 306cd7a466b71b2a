package diff

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sampleReport covers every action, a nested Kustomization, a failed one,
// a warning and a diff containing backticks.
func sampleReport() *Report {
	r := &Report{SchemaVersion: SchemaVersion, Created: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)}
	apps := KustomizationReport{
		Cluster: "prod", Namespace: "flux-system", Name: "apps", Path: "./apps", Source: "GitRepository/flux-system/flux-system",
		Changes: []Change{
			{Action: ActionConfigured, APIVersion: "apps/v1", Kind: "Deployment", Namespace: "podinfo", Name: "podinfo",
				Diff: "--- live\n+++ merged\n@@ -5,3 +5,3 @@\n spec:\n-  replicas: 1\n+  replicas: 3\n   selector:"},
			{Action: ActionCreated, APIVersion: "v1", Kind: "ConfigMap", Namespace: "podinfo", Name: "motd",
				Diff: "--- live\n+++ merged\n@@ -0,0 +1,3 @@\n+data:\n+  motd: use ``` fences\n+kind: ConfigMap"},
			{Action: ActionCreated, APIVersion: "example.com/v1", Kind: "Widget", Namespace: "podinfo", Name: "gear", NotValidated: true,
				Reason: "not validated by the API server: its CustomResourceDefinition is created by the same build",
				Diff:   "--- live\n+++ merged\n@@ -0,0 +1 @@\n+kind: Widget"},
			{Action: ActionDeleted, APIVersion: "v1", Kind: "Service", Namespace: "podinfo", Name: "old",
				Reason: "would be deleted after a successful apply; Flux prunes only once every object applies, and 1 object fails here",
				Diff:   "--- live\n+++ merged\n@@ -1 +0,0 @@\n-kind: Service"},
			{Action: ActionUnchanged, APIVersion: "v1", Kind: "Namespace", Name: "podinfo"},
			{Action: ActionSkipped, APIVersion: "v1", Kind: "ConfigMap", Namespace: "podinfo", Name: "manual", Reason: "kustomize.toolkit.fluxcd.io/reconcile: disabled"},
			{Action: ActionFailed, APIVersion: "v1", Kind: "ConfigMap", Namespace: "missing", Name: "x", Reason: `dry-run rejected (NotFound): namespaces "missing" not found`},
		},
		Warnings: []string{"nested Kustomizations beyond depth 10 are not diffed"},
	}
	for _, c := range apps.Changes {
		apps.Counts.add(c.Action)
	}
	broken := KustomizationReport{Cluster: "prod", Namespace: "flux-system", Name: "infra", Path: "./infra", Parent: "flux-system/apps",
		Changes: []Change{}, Error: `build ./infra: accumulating resources: infra/broken.yaml: yaml: line 3: did not find expected key`}
	r.Kustomizations = []KustomizationReport{apps, broken}
	return r
}

func TestRenderingsMatchGoldenFiles(t *testing.T) {
	out := renderAll(t, sampleReport())
	for format, ext := range map[string]string{"text": "txt", "markdown": "md", "json": "json"} {
		t.Run(format, func(t *testing.T) {
			path := filepath.Join("testdata", "golden", "report."+ext)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(out[format]), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./diff -run Golden -update)", err)
			}
			if diff := cmp.Diff(string(want), out[format]); diff != "" {
				t.Errorf("%s rendering (-want +got):\n%s", format, diff)
			}
		})
	}
}

func TestJSONRoundTripsToTheSameReport(t *testing.T) {
	want := sampleReport()
	var got Report
	if err := json.Unmarshal([]byte(renderAll(t, want)["json"]), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestCodeFenceOutgrowsBackticksInContent(t *testing.T) {
	for in, want := range map[string]string{"plain": "```", "a ``` b": "````", "`````": "``````"} {
		if got := CodeFence(in); got != want {
			t.Errorf("CodeFence(%q) = %q, want %q", in, got, want)
		}
	}
}
