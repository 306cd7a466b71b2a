package server_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/server/servertest"
)

// handEditIsDrift edits staging's HelmRelease podinfo by hand after
// seeding (a merge patch from another field manager, as kubectl edit
// sends), then opens a pull request that bumps the redis tag in
// apps/base. kustomize-controller applies with force ownership, so merging
// resets the interval too; but the base branch would reset it as well, so
// the interval is drift and the tag is the pull request's. Production,
// not edited, has the tag only.
func handEditIsDrift(t *testing.T, w *world) {
	const release = "apps/base/podinfo/release.yaml"
	staging := w.Envs["staging"].Client
	edit := func(body string) error {
		hr := &unstructured.Unstructured{}
		hr.SetAPIVersion("helm.toolkit.fluxcd.io/v2")
		hr.SetKind("HelmRelease")
		hr.SetNamespace("podinfo")
		hr.SetName("podinfo")
		return staging.Patch(t.Context(), hr, client.RawPatch(types.MergePatchType, []byte(body)), client.FieldOwner("kubectl-edit"))
	}
	if err := edit(`{"spec":{"interval":"5m"}}`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = edit(`{"spec":{"interval":"50m"}}`) }) // as the base branch has it
	head := w.open(t, servertest.PR{Number: 9, Title: "Bump redis", Changes: map[string][]byte{
		release: replaceIn(t, w.Base, release, "tag: 7.0.6", "tag: 7.2.7"),
	}})
	w.send(t, "pull_request", w.payload(t, "pull_request.opened.1.json", 9, head), webhookSecret)
	cr := w.waitCheck(t, head)
	rep := w.lastReport(t, 9)
	if rep.Base != w.BaseSHA {
		t.Errorf("report classified against %q, want the merge commit's first parent %q", rep.Base, w.BaseSHA)
	}
	tag := diff.FieldChange{Path: "spec.values.redis.tag", Class: diff.ClassPR}
	for cluster, want := range map[string][]diff.FieldChange{
		"staging":    {{Path: "spec.interval", Class: diff.ClassDrift}, tag},
		"production": {tag},
	} {
		c, ok := change(rep, cluster, "apps", "HelmRelease", "podinfo")
		if !ok {
			t.Fatalf("%s: no change of HelmRelease podinfo; rows %v", cluster, servertest.Rows(rep))
		}
		if d := cmp.Diff(want, c.Fields); d != "" {
			t.Errorf("%s: fields of HelmRelease podinfo (-want +got):\n%s", cluster, d)
		}
	}
	if c, _ := change(rep, "staging", "apps", "HelmRelease", "podinfo"); c.Class != diff.ClassPRAndDrift ||
		strings.Contains(c.PRDiff, "interval") || !strings.Contains(c.DriftDiff, "-  interval: 5m") {
		t.Errorf("staging: class %q, PR part:\n%s\ndrift part:\n%s\nwant pr+drift, the interval in the drift part only", c.Class, c.PRDiff, c.DriftDiff)
	}
	// 3 pr: production's HelmRelease, and the redis Deployment that the new
	// tag renders in each cluster (rendered objects are classified by the
	// base run's render, diff/classify_helm.go); 1 pr+drift: staging's
	// HelmRelease.
	if !strings.Contains(cr.Output.Title, "(3 pr, 1 pr+drift)") || !strings.Contains(cr.Output.Summary, "Changed objects by class") {
		t.Errorf("check run title %q and summary do not count the classes:\n%s", cr.Output.Title, cr.Output.Summary)
	}
	comments := w.gh.Comments(fleetRepo, 9)
	if len(comments) != 1 {
		t.Fatalf("%d comments, want 1", len(comments))
	}
	body := comments[0].Body
	tagAt, driftAt, intervalAt := strings.Index(body, "7.2.7"), strings.Index(body, "drift: 1 object already in the cluster"), strings.Index(body, "interval: 5m")
	if tagAt < 0 || driftAt < 0 || intervalAt < 0 || !(tagAt < driftAt && driftAt < intervalAt) {
		t.Errorf("comment: tag at %d, drift section at %d, hand edit at %d; want the tag first, the edit in the drift section:\n%s",
			tagAt, driftAt, intervalAt, body)
	}
	handEditIsDriftOnComment(t, w, 9, map[string][]diff.FieldChange{"staging": {{Path: "spec.interval", Class: diff.ClassDrift}, tag}})
}

// handEditIsDriftOnComment asks for the diff of pull request number's
// staging apps Kustomization with a /flux-diff comment, and wants it
// classified as the webhook's diff is: against the merge commit's first
// parent, with fields classified as want says.
func handEditIsDriftOnComment(t *testing.T, w *world, number int, want map[string][]diff.FieldChange) {
	const ask = "/flux-diff kustomization apps --cluster staging"
	w.gh.SetPermission(fleetRepo, "alice", "write")
	before := len(mustReports(t, w, number))
	asked := w.gh.AddComment(fleetRepo, number, "alice", ask)
	w.send(t, "issue_comment", w.commentPayload(t, number, asked.ID, "alice", ask), webhookSecret)
	waitFor(t, "a new report after "+ask, func() bool { return len(mustReports(t, w, number)) > before })
	rep := w.lastReport(t, number)
	if rep.Base != w.BaseSHA || rep.PullRequest.Trigger != "issue_comment" {
		t.Errorf("comment's report: trigger %q, classified against %q, want issue_comment against %q", rep.PullRequest.Trigger, rep.Base, w.BaseSHA)
	}
	if d := cmp.Diff([]string{"staging/flux-system/apps"}, servertest.Rows(rep)); d != "" {
		t.Errorf("comment's report: Kustomizations diffed (-want +got):\n%s", d)
	}
	for cluster, fields := range want {
		c, ok := change(rep, cluster, "apps", "HelmRelease", "podinfo")
		if d := cmp.Diff(fields, c.Fields); !ok || d != "" {
			t.Errorf("comment's report, %s: fields of HelmRelease podinfo (-want +got):\n%s", cluster, d)
		}
	}
}
