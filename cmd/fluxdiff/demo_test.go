package main

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// The demo is the README's first command: on the example repository it
// must print a real diff, produced by the real pipeline, under both
// clusters, and the comment fluxdiff published.
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
}
