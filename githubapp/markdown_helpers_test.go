package githubapp

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxdiff/fluxdiff/diff"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// golden compares got with testdata/golden/NAME, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", name, diff)
	}
}

func testPR() *diff.PullRequestInfo {
	return &diff.PullRequestInfo{
		InstallationID: 1, Repo: "acme/fleet", Number: 42, Title: "Bump podinfo",
		Author: "dev", URL: "https://github.com/acme/fleet/pull/42", BaseRef: "main",
		HeadSHA: "0123456789abcdef0123456789abcdef01234567", MergeSHA: "fedcba9876543210fedcba9876543210fedcba98",
		Trigger: "pull_request.synchronize",
	}
}

// change builds a Change whose diff has n changed lines.
func change(action diff.Action, kind, ns, name string, n int) diff.Change {
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s/%s live\n+++ %s/%s merged\n@@ -1,%d +1,%d @@\n", kind, name, kind, name, n, n)
	for i := range n {
		fmt.Fprintf(&b, "-  key%03d: old-%s-%d\n+  key%03d: new-%s-%d\n", i, name, i, i, name, i)
	}
	return diff.Change{Action: action, APIVersion: "v1", Kind: kind, Namespace: ns, Name: name, Diff: strings.TrimRight(b.String(), "\n")}
}

func counts(cs []diff.Change) diff.Counts {
	var c diff.Counts
	for _, ch := range cs {
		switch ch.Action {
		case diff.ActionCreated:
			c.Created++
		case diff.ActionConfigured:
			c.Configured++
		case diff.ActionDeleted:
			c.Deleted++
		case diff.ActionUnchanged:
			c.Unchanged++
		case diff.ActionSkipped:
			c.Skipped++
		case diff.ActionFailed:
			c.Failed++
		}
	}
	return c
}

func ks(cluster, ns, name, path string, changes ...diff.Change) diff.KustomizationReport {
	return diff.KustomizationReport{Cluster: cluster, Namespace: ns, Name: name, Path: path,
		Source: "GitRepository/flux-system/flux-system", Changes: changes, Counts: counts(changes)}
}

// fullReport covers every kind of entry a comment shows.
func fullReport() *diff.Report {
	apps := ks("prod", "flux-system", "apps", "./apps/prod",
		change(diff.ActionConfigured, "Deployment", "podinfo", "podinfo", 2),
		change(diff.ActionCreated, "ConfigMap", "podinfo", "podinfo-values", 1),
		diff.Change{Action: diff.ActionUnchanged, APIVersion: "v1", Kind: "Service", Namespace: "podinfo", Name: "podinfo"},
		change(diff.ActionDeleted, "ConfigMap", "podinfo", "old-values", 1),
	)
	infra := ks("prod", "flux-system", "infra", "./infra")
	infra.Error = "build ./infra: accumulating resources: infra/broken.yaml: yaml: line 3: did not find expected key"
	nested := ks("staging", "team-a", "team-a-apps", "./teams/a|b",
		diff.Change{Action: diff.ActionSkipped, APIVersion: "v1", Kind: "Secret", Namespace: "team-a", Name: "creds",
			Reason: "kustomize.toolkit.fluxcd.io/reconcile: disabled <b>"},
		diff.Change{Action: diff.ActionFailed, APIVersion: "apps/v1", Kind: "Deployment", Namespace: "team-a", Name: "web",
			Reason: "dry-run failed: spec.replicas: Invalid value: \"x\""},
		change(diff.ActionCreated, "Namespace", "", "team-a", 1),
	)
	nested.Parent = "flux-system/teams"
	nested.Warnings = []string{"depth limit of 5 nested Kustomizations reached; *deeper* ones were not diffed"}
	quiet := ks("staging", "flux-system", "monitoring", "./monitoring",
		diff.Change{Action: diff.ActionUnchanged, APIVersion: "v1", Kind: "ConfigMap", Namespace: "monitoring", Name: "dash"})
	return &diff.Report{
		SchemaVersion: diff.SchemaVersion, Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		PullRequest: testPR(), Clusters: []string{"prod", "staging"},
		Notes:          []string{"the pull request changes more than 3,000 files: every Kustomization of the repository was diffed"},
		Kustomizations: []diff.KustomizationReport{apps, infra, nested, quiet},
	}
}
