package slacke2e

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

// TestSlackCommandTellsDriftFromThePullRequest edits staging's HelmRelease
// podinfo by hand (a merge patch from another field manager, as kubectl
// edit sends) and asks for a pull request's diff with /flux-diff: as in
// the webhook's diff, the report is classified against the base branch at
// the test-merge commit's first parent, so the hand edit is drift and the
// pull request's tag bump is the pull request's (kustomize-controller
// applies with force ownership, so the base branch would reset the
// interval too). A command without a pull request has no base branch: its
// report is unclassified and says why.
func TestSlackCommandTellsDriftFromThePullRequest(t *testing.T) {
	w := newWorld(t)
	hr := &unstructured.Unstructured{}
	hr.SetAPIVersion("helm.toolkit.fluxcd.io/v2")
	hr.SetKind("HelmRelease")
	hr.SetNamespace("podinfo")
	hr.SetName("podinfo")
	if err := w.Envs["staging"].Client.Patch(t.Context(), hr, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"interval":"5m"}}`)),
		client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	w.Open(servertest.PR{Number: 9, Title: "Bump redis", Changes: map[string][]byte{
		podinfo: replaceIn(t, w.Base, podinfo, "tag: 7.0.6", "tag: 7.2.7"),
	}})

	t.Run("by pull request number: the hand edit is drift, the tag the pull request's", func(t *testing.T) {
		m := w.commandMessage(t, "ks apps --github-ref 9")
		_, rep := w.report(t, m)
		if rep.Base != w.BaseSHA {
			t.Errorf("report classified against %q, want the merge commit's first parent %q", rep.Base, w.BaseSHA)
		}
		tag := diff.FieldChange{Path: "spec.values.redis.tag", Class: diff.ClassPR}
		for cluster, want := range map[string][]diff.FieldChange{
			"staging":    {{Path: "spec.interval", Class: diff.ClassDrift}, tag},
			"production": {tag},
		} {
			c, ok := change(rep, cluster, "HelmRelease", "podinfo")
			if !ok {
				t.Fatalf("%s: no change of HelmRelease podinfo; rows %v", cluster, servertest.Rows(rep))
			}
			if d := cmp.Diff(want, c.Fields); d != "" {
				t.Errorf("%s: fields of HelmRelease podinfo (-want +got):\n%s", cluster, d)
			}
		}
		if c, _ := change(rep, "staging", "HelmRelease", "podinfo"); c.Class != diff.ClassPRAndDrift {
			t.Errorf("staging: HelmRelease podinfo is %q, want pr+drift", c.Class)
		}
		text := texts(m)
		tagAt, driftAt, intervalAt := strings.Index(text, "7.2.7"), strings.Index(text, "*Drift*"), strings.Index(text, "interval: 5m")
		if tagAt < 0 || driftAt < 0 || intervalAt < 0 || !(tagAt < driftAt && driftAt < intervalAt) {
			t.Errorf("message: tag at %d, drift heading at %d, hand edit at %d; want the tag first, the edit under the drift heading:\n%s",
				tagAt, driftAt, intervalAt, text)
		}
	})

	t.Run("without a pull request: the hand edit is shown unclassified, and the report says why", func(t *testing.T) {
		m := w.commandMessage(t, "ks apps --cluster staging")
		_, rep := w.report(t, m)
		c, ok := change(rep, "staging", "HelmRelease", "podinfo")
		if !ok || !strings.Contains(c.Diff, "interval: 5m") {
			t.Fatalf("HelmRelease podinfo = %+v, want the hand edit undone", c)
		}
		if rep.Base != "" || c.Class != "" || rep.Kustomizations[0].Classes != nil {
			t.Errorf("base %q, class %q, classes %+v: want no classes without a pull request", rep.Base, c.Class, rep.Kustomizations[0].Classes)
		}
		want := "Changes are not told apart from drift: `main` at `" + w.BaseSHA[:7] + "` is a branch head, not a pull request"
		if !strings.Contains(strings.Join(rep.Notes, "\n"), want) || !strings.Contains(texts(m), "is a branch head, not a pull request") {
			t.Errorf("notes %q and message do not say %q:\n%s", rep.Notes, want, texts(m))
		}
	})
}

// TestSlackCommandOnGeneratedArtifact asks with /flux-diff for a pull
// request's diff of staging's apps Kustomization in Flux 2.7's layout,
// where it reads the ExternalArtifact "apps" that an ArtifactGenerator
// copies from apps/base and apps/staging (source-watcher's copy rules).
// The command builds it on that artifact assembled from the merge commit,
// as kustomize-controller would after the merge, and classifies its
// changes against the same artifact assembled from the base branch: the
// pull request's label is its change (pr).
func TestSlackCommandOnGeneratedArtifact(t *testing.T) {
	const ns = "apps/base/podinfo/namespace.yaml"
	w := newWorldOf(t, servertest.ExampleRepo27())
	w.Open(servertest.PR{Number: 1, Title: "Label the podinfo namespace", Changes: map[string][]byte{
		ns: replaceIn(t, w.Base, ns, "    toolkit.fluxcd.io/tenant: dev-team\n", "    toolkit.fluxcd.io/tenant: dev-team\n    team: podinfo\n"),
	}})
	_, rep := w.report(t, w.commandMessage(t, "ks apps --github-ref 1 --cluster staging"))
	if d := cmp.Diff([]string{"staging/flux-system/apps"}, servertest.Rows(rep)); d != "" {
		t.Fatalf("rows (-want +got):\n%s", d)
	}
	if k := rep.Kustomizations[0]; k.Error != "" || k.BaseError != "" || rep.Base != w.BaseSHA {
		t.Errorf("error %q, base error %q, classified against %q; want a diff classified against %q", k.Error, k.BaseError, rep.Base, w.BaseSHA)
	}
	c, ok := change(rep, "staging", "Namespace", "podinfo")
	if !ok || c.Action != diff.ActionConfigured || !strings.Contains(c.Diff, "+    team: podinfo") || c.Class != diff.ClassPR {
		t.Errorf("Namespace podinfo = %+v, want configured with the new label, class pr", c)
	}
}

// change finds the change of kind/name in the apps row of cluster.
func change(r diff.Report, cluster, kind, name string) (diff.Change, bool) {
	for _, k := range r.Kustomizations {
		if k.Cluster != cluster || k.Name != "apps" {
			continue
		}
		for _, c := range k.Changes {
			if c.Kind == kind && c.Name == name {
				return c, true
			}
		}
	}
	return diff.Change{}, false
}
