package chat

import (
	"strings"
	"testing"

	"github.com/fluxdiff/fluxdiff/diff"
)

// A report classified against the base branch shows the pull request's
// change first and the drift after a heading that explains it; a pr+drift
// object shows its PR part first and its drift part under the heading.
func TestRenderShowsDriftAfterThePullRequestsChanges(t *testing.T) {
	rep := bigReport(0, 0)
	k := &rep.Kustomizations[0]
	k.Changes = []diff.Change{
		{Action: diff.ActionConfigured, APIVersion: "v1", Kind: "ConfigMap", Namespace: "apps", Name: "edited", Class: diff.ClassDrift,
			Diff: "--- live\n+++ merged\n-  key: by-hand\n+  key: from-git"},
		{Action: diff.ActionConfigured, APIVersion: "apps/v1", Kind: "Deployment", Namespace: "apps", Name: "web", Class: diff.ClassPRAndDrift,
			Diff:      "--- live\n+++ merged\n-  replicas: 5\n+  replicas: 2\n-  image: a\n+  image: b",
			PRDiff:    "--- live\n+++ merged\n-  image: a\n+  image: b",
			DriftDiff: "--- live\n+++ merged\n-  replicas: 5\n+  replicas: 2"},
	}
	k.Counts = diff.Counts{Configured: 2}
	k.Classes = &diff.ClassCounts{Drift: 1, PRAndDrift: 1}
	all := strings.Join(sectionTexts(t, Render(Message{Report: rep}).Blocks), "\n")
	image, heading, replicas, byHand := strings.Index(all, "+  image: b"), strings.Index(all, "*Drift*"),
		strings.Index(all, "+  replicas: 2"), strings.Index(all, "key: by-hand")
	if image < 0 || heading < 0 || replicas < 0 || byHand < 0 || !(image < heading && heading < replicas && heading < byHand) {
		t.Errorf("image at %d, drift heading at %d, replicas at %d, hand edit at %d; want the image first, the rest after the heading:\n%s",
			image, heading, replicas, byHand, all)
	}
	if strings.Count(all, "replicas: 2") != 1 || !strings.Contains(all, "1 pr+drift, 1 drift") {
		t.Errorf("the replicas are not shown once, or the class counts are missing:\n%s", all)
	}
}
