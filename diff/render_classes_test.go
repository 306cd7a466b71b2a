package diff

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// classReport is a report classified against a base tree with every class:
// a pr image change, a Deployment whose image the pull request changes and
// whose replicas drifted (pr+drift, split into its two parts), a hand-made
// label (drift), an object deleted by hand that the base branch would
// create again (drift), a new object and a pruned one (pr), plus a second
// Kustomization whose base build failed. Risk flags will join it (issue
// #12 part 2).
func classReport() *Report {
	r := &Report{SchemaVersion: SchemaVersion, Created: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC),
		Base: "3f1c2a9e5b7d4c6a8e0f1b2c3d4e5f6a7b8c9d0e", Clusters: []string{"prod"}}
	apps := KustomizationReport{
		Cluster: "prod", Namespace: "flux-system", Name: "apps", Path: "./apps", Source: "GitRepository/flux-system/flux-system",
		Changes: []Change{
			{Action: ActionConfigured, APIVersion: "apps/v1", Kind: "Deployment", Namespace: "podinfo", Name: "podinfo",
				Class: ClassPRAndDrift,
				Fields: []FieldChange{
					{Path: "spec.replicas", Class: ClassDrift},
					{Path: "spec.template.spec.containers[name=podinfo].image", Class: ClassPR},
				},
				Diff:      "--- live\n+++ merged\n@@ -5,7 +5,7 @@\n spec:\n-  replicas: 5\n+  replicas: 2\n   template:\n     spec:\n       containers:\n-      - image: ghcr.io/stefanprodan/podinfo:6.5.0\n+      - image: ghcr.io/stefanprodan/podinfo:6.6.0\n         name: podinfo",
				PRDiff:    "--- live\n+++ merged\n@@ -9,3 +9,3 @@\n       containers:\n-      - image: ghcr.io/stefanprodan/podinfo:6.5.0\n+      - image: ghcr.io/stefanprodan/podinfo:6.6.0\n         name: podinfo",
				DriftDiff: "--- live\n+++ merged\n@@ -5,3 +5,3 @@\n spec:\n-  replicas: 5\n+  replicas: 2\n   template:"},
			{Action: ActionConfigured, APIVersion: "apps/v1", Kind: "Deployment", Namespace: "podinfo", Name: "frontend",
				Class: ClassPR, Fields: []FieldChange{{Path: "spec.template.spec.containers[name=web].image", Class: ClassPR}},
				Diff: "--- live\n+++ merged\n@@ -9,3 +9,3 @@\n       containers:\n-      - image: nginx:1.27\n+      - image: nginx:1.28\n         name: web"},
			{Action: ActionCreated, APIVersion: "v1", Kind: "ConfigMap", Namespace: "podinfo", Name: "motd", Class: ClassPR,
				Diff: "--- live\n+++ merged\n@@ -0,0 +1,3 @@\n+data:\n+  motd: hello\n+kind: ConfigMap"},
			{Action: ActionDeleted, APIVersion: "v1", Kind: "Service", Namespace: "podinfo", Name: "old", Class: ClassPR,
				Diff: "--- live\n+++ merged\n@@ -1 +0,0 @@\n-kind: Service"},
			{Action: ActionConfigured, APIVersion: "v1", Kind: "Service", Namespace: "podinfo", Name: "podinfo", Class: ClassDrift,
				Fields: []FieldChange{{Path: `metadata.labels["debug.example.com/owner"]`, Class: ClassDrift}},
				Diff:   "--- live\n+++ merged\n@@ -2,5 +2,4 @@\n metadata:\n   labels:\n-    debug.example.com/owner: alice\n     app: podinfo"},
			{Action: ActionCreated, APIVersion: "v1", Kind: "ServiceAccount", Namespace: "podinfo", Name: "podinfo", Class: ClassDrift,
				Diff: "--- live\n+++ merged\n@@ -0,0 +1,2 @@\n+kind: ServiceAccount\n+metadata:"},
			{Action: ActionUnchanged, APIVersion: "v1", Kind: "Namespace", Name: "podinfo"},
		},
		Classes: &ClassCounts{PR: 3, Drift: 2, PRAndDrift: 1},
	}
	for _, c := range apps.Changes {
		apps.Counts.add(c.Action)
	}
	infra := KustomizationReport{Cluster: "prod", Namespace: "flux-system", Name: "infra", Path: "./infra",
		Changes: []Change{{Action: ActionCreated, APIVersion: "v1", Kind: "ConfigMap", Namespace: "infra", Name: "settings",
			Diff: "--- live\n+++ merged\n@@ -0,0 +1 @@\n+kind: ConfigMap"}},
		BaseError: "kustomization.yaml: accumulating resources: infra/broken.yaml: yaml: line 3: did not find expected key"}
	infra.Counts.add(ActionCreated)
	r.Kustomizations = []KustomizationReport{apps, infra}
	return r
}

func TestClassRenderingsMatchGoldenFiles(t *testing.T) {
	out := renderAll(t, classReport())
	for format, ext := range map[string]string{"text": "txt", "markdown": "md", "json": "json"} {
		t.Run(format, func(t *testing.T) {
			path := filepath.Join("testdata", "golden", "report-classes."+ext)
			if *update {
				if err := os.WriteFile(path, []byte(out[format]), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./diff -run ClassRenderings -update)", err)
			}
			if diff := cmp.Diff(string(want), out[format]); diff != "" {
				t.Errorf("%s rendering (-want +got):\n%s", format, diff)
			}
		})
	}
}

// The pull request's changes come before the drift section in both
// renderings, and a pr+drift object shows its PR part there and its drift
// part in the drift section.
func TestClassRenderingsPutPullRequestChangesFirst(t *testing.T) {
	out := renderAll(t, classReport())
	for _, format := range []string{"text", "markdown"} {
		s := out[format]
		prImage, driftSection, replicas := strings.Index(s, "podinfo:6.6.0"), strings.Index(s, DriftExplanation), strings.Index(s, "+  replicas: 2")
		if prImage < 0 || driftSection < 0 || replicas < 0 || !(prImage < driftSection && driftSection < replicas) {
			t.Errorf("%s: image change at %d, drift section at %d, replicas at %d; want image < drift section < replicas",
				format, prImage, driftSection, replicas)
		}
	}
}

func TestClassifiedJSONRoundTripsToTheSameReport(t *testing.T) {
	var got Report
	if err := json.Unmarshal([]byte(renderAll(t, classReport())["json"]), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*classReport(), got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}
