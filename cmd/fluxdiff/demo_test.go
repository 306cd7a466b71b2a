package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// The demo is the README's first command: on the example repository it
// must print a real diff, produced by the real pipeline, under both
// clusters, and the comment fluxdiff published, with the podinfo
// HelmRelease rendered from a chart served by a local Helm repository.
func TestDemoPrintsTheDiffOfBothClusters(t *testing.T) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		kubetest.Unavailable(t, errors.New(kubetest.HowToGetBinaries))
	}
	var out, errOut bytes.Buffer
	if err := runDemo(t.Context(), &out, &errOut, false); err != nil {
		t.Fatalf("demo: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	got := out.String()
	for _, want := range []string{
		`check run "fluxdiff" completed: neutral`,
		"pull request comment by fluxdiff[bot]",
		"<b>staging</b> · Kustomization <code>flux-system/apps</code>",
		"<b>production</b> · Kustomization <code>flux-system/apps</code>",
		"+      tag: 7.2.4",
		"+    replicaCount: 2",
		"===== Slack message in C0FLUXDEMO",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, got)
		}
	}
	comment, _, _ := strings.Cut(got, "===== Slack")
	if strings.Count(comment, "+    replicaCount: 2") != 1 {
		t.Errorf("the staging-only value shows other than once (production must not get it):\n%s", got)
	}
	checkDemoHelmRelease(t, got, comment)
	// The Slack message as the demo prints it: every block, the same diff
	// in both clusters included, and the buttons.
	_, slack, _ := strings.Cut(got, "===== Slack")
	for _, c := range []struct {
		want string
		n    int
	}{
		{"*configured* `Deployment/podinfo/podinfo-redis`", 2},
		{"⎈ *HelmRelease `podinfo/podinfo`*", 2},
		{"[Post diff to PR] [Approve PR] [View PR]", 1},
	} {
		if n := strings.Count(slack, c.want); n != c.n {
			t.Errorf("the printed Slack message holds %q %d times, want %d:\n%s", c.want, n, c.n, slack)
		}
	}
}

// checkDemoHelmRelease checks that the demo's comment renders the podinfo
// HelmRelease in both clusters with the chart fetched from the demo's
// local Helm repository: the values diff and the rendered objects it
// changes (redis' image in both, the replica count on staging only).
func checkDemoHelmRelease(t *testing.T, out, comment string) {
	t.Helper()
	if !strings.Contains(out, "helm.allowedCIDRs [127.0.0.1/32]") {
		t.Errorf("the demo does not say which address it lets chart fetches reach:\n%s", out)
	}
	for _, c := range []struct {
		want string
		n    int
	}{
		{"#### ⎈ HelmRelease <code>podinfo/podinfo</code> (chart <code>podinfo</code> 6.9.2)", 2},
		{"<b>values</b>", 2},
		{"\n+  tag: 7.2.4\n", 2},
		{"\n+replicaCount: 2\n", 1},
		{"<b>configured</b> <code>Deployment/podinfo/podinfo-redis</code>", 2},
		{"\n+        image: public.ecr.aws/docker/library/redis:7.2.4\n", 2},
		{"<b>configured</b> <code>Deployment/podinfo/podinfo</code>", 1},
		{"\n+  replicas: 2\n", 1},
	} {
		if n := strings.Count(comment, c.want); n != c.n {
			t.Errorf("the comment holds %q %d times, want %d (the podinfo HelmRelease rendered in both clusters):\n%s", c.want, n, c.n, comment)
		}
	}
	if strings.Contains(comment, "could not be rendered") {
		t.Errorf("a HelmRelease of the demo could not be rendered:\n%s", comment)
	}
}

// With --keep a person edits the repository copy and opens more pull
// requests with `fluxdiff demo pr --edit FILE`, each diffed by the running
// server; Ctrl-C (the context) stops it and removes the state file.
func TestDemoKeepTakesMorePullRequests(t *testing.T) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		kubetest.Unavailable(t, errors.New(kubetest.HowToGetBinaries))
	}
	t.Setenv("TMPDIR", t.TempDir())
	ctx, cancel := context.WithCancel(t.Context())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() { done <- runDemo(ctx, &out, &errOut, true) }()
	var st demoState
	waitUntil(t, "the demo's state file", func() bool {
		b, err := os.ReadFile(demoStatePath())
		return err == nil && json.Unmarshal(b, &st) == nil
	})
	const values = "apps/production/podinfo-values.yaml"
	path := filepath.Join(st.Repo, values)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), "  values:\n", "  values:\n    replicaCount: 5\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	var prOut bytes.Buffer
	if err := runDemoPR(t.Context(), &prOut, []string{values}, 0); err != nil {
		t.Fatal(err)
	}
	got := prOut.String()
	for _, want := range []string{"pull request #2", "+    replicaCount: 5", "<b>production</b> · Kustomization <code>flux-system/apps</code>"} {
		if !strings.Contains(got, want) {
			t.Errorf("demo pr output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "<b>staging</b>") {
		t.Errorf("a production-only change was diffed on staging:\n%s", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("demo --keep: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	if _, err := os.Stat(demoStatePath()); !os.IsNotExist(err) {
		t.Errorf("the state file outlived the demo: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the demo's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
