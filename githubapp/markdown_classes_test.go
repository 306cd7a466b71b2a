package githubapp

import (
	"strings"
	"testing"

	"github.com/fluxdiff/fluxdiff/diff"
)

// classReport is a report classified against the base branch: on prod a
// Deployment whose image the pull request bumps and whose replicas were
// scaled by hand (pr+drift, split in two parts) and a hand-edited
// ConfigMap (drift); on staging the image bump only (pr).
func classReport() *diff.Report {
	web := diff.Change{Action: diff.ActionConfigured, APIVersion: "apps/v1", Kind: "Deployment", Namespace: "web", Name: "web",
		Class: diff.ClassPRAndDrift,
		Fields: []diff.FieldChange{{Path: "spec.replicas", Class: diff.ClassDrift},
			{Path: "spec.template.spec.containers[name=web].image", Class: diff.ClassPR}},
		Diff:      "--- live\n+++ merged\n-  replicas: 5\n+  replicas: 2\n-      - image: nginx:1.27\n+      - image: nginx:1.28",
		PRDiff:    "--- live\n+++ merged\n-      - image: nginx:1.27\n+      - image: nginx:1.28",
		DriftDiff: "--- live\n+++ merged\n-  replicas: 5\n+  replicas: 2"}
	edited := diff.Change{Action: diff.ActionConfigured, APIVersion: "v1", Kind: "ConfigMap", Namespace: "web", Name: "edited",
		Class: diff.ClassDrift, Fields: []diff.FieldChange{{Path: "data.key", Class: diff.ClassDrift}},
		Diff: "--- live\n+++ merged\n-  key: by-hand\n+  key: from-git"}
	bump := diff.Change{Action: diff.ActionConfigured, APIVersion: "apps/v1", Kind: "Deployment", Namespace: "web", Name: "web",
		Class: diff.ClassPR, Fields: []diff.FieldChange{{Path: "spec.template.spec.containers[name=web].image", Class: diff.ClassPR}},
		Diff: "--- live\n+++ merged\n-      - image: nginx:1.27\n+      - image: nginx:1.28"}
	prod := ks("prod", "flux-system", "apps", "./apps", web, edited)
	prod.Classes = &diff.ClassCounts{PRAndDrift: 1, Drift: 1}
	staging := ks("staging", "flux-system", "apps", "./apps", bump)
	staging.Classes = &diff.ClassCounts{PR: 1}
	rep := fullReport()
	rep.Notes = nil
	rep.Base = "0123456789abcdef0123456789abcdef01234567"
	rep.Kustomizations = []diff.KustomizationReport{prod, staging}
	return rep
}

func TestRenderCommentWithClassesGolden(t *testing.T) {
	parts := RenderComment(classReport(), RenderOptions{})
	if len(parts) != 1 {
		t.Fatalf("got %d parts, want 1", len(parts))
	}
	golden(t, "classes.md", parts[0])
}

// The pull request's changes of every Kustomization come first; each
// Kustomization's drift follows in a collapsed section of its own that
// explains what drift is.
func TestRenderCommentPutsDriftAfterThePullRequestsChanges(t *testing.T) {
	got := RenderComment(classReport(), RenderOptions{})[0]
	staging, drift, replicas := strings.Index(got, "<b>staging</b> · Kustomization"), strings.Index(got, "— drift: 2 objects already in the cluster"),
		strings.Index(got, "+  replicas: 2")
	if staging < 0 || drift < 0 || replicas < 0 || !(staging < drift && drift < replicas) {
		t.Errorf("staging's changes at %d, prod's drift section at %d, the replicas at %d; want them in that order:\n%s", staging, drift, replicas, got)
	}
	if !strings.Contains(got, "1 from this pull request (`pr`), 1 changed by it on top of drift (`pr+drift`), 1 drift") {
		t.Errorf("the comment lacks the counts per class:\n%s", got)
	}
	if strings.Count(got, "key: by-hand") != 1 || strings.Index(got, "key: by-hand") < drift {
		t.Errorf("the hand-edited ConfigMap is not shown once, in the drift section:\n%s", got)
	}
}

func TestCheckRunCountsTheClasses(t *testing.T) {
	out := checkOutput(classReport(), true)
	if !strings.HasSuffix(out.GetTitle(), " (1 pr, 1 pr+drift, 1 drift)") {
		t.Errorf("title %q, want it to end with the counts per class", out.GetTitle())
	}
	if !strings.Contains(out.GetSummary(), "Changed objects by class") {
		t.Errorf("summary lacks the counts per class:\n%s", out.GetSummary())
	}
	unclassified := fullReport()
	if title := checkOutput(unclassified, true).GetTitle(); strings.Contains(title, "pr") {
		t.Errorf("an unclassified report's title %q counts classes", title)
	}
}
