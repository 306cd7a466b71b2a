package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/githubapp/githubtest"
	"github.com/fluxdiff/fluxdiff/server/servertest"
)

// TestPullRequestFlowOnFluxExampleRepository runs fluxdiff end to end on
// Flux's official example repository: two real API servers (staging and
// production) left as kustomize-controller leaves them after reconciling
// the base branch, the GitHub stand-in (which fails the test on any request
// outside GitHub's description), signed webhooks from real payloads, and
// the sticky comment and check run that come out.
func TestPullRequestFlowOnFluxExampleRepository(t *testing.T) {
	w := newWorld(t)
	const podinfo = "apps/base/podinfo/release.yaml"

	t.Run("a change to apps/base/podinfo shows under both clusters in one comment and one check run", func(t *testing.T) {
		head := w.open(t, servertest.PR{Number: 1, Title: "Bump redis", Changes: map[string][]byte{
			podinfo: replaceIn(t, w.Base, podinfo, "tag: 7.0.6", "tag: 7.2.4"),
		}})
		if code := w.send(t, "pull_request", w.payload(t, "pull_request.opened.1.json", 1, head), webhookSecret); code != http.StatusAccepted {
			t.Fatalf("webhook answered %d, want 202", code)
		}
		cr := w.waitCheck(t, head)
		if cr.Conclusion != "neutral" {
			t.Errorf("check run conclusion %q, want neutral (changes, no errors)", cr.Conclusion)
		}
		rep := w.lastReport(t, 1)
		if d := cmp.Diff([]string{"staging/flux-system/apps", "production/flux-system/apps"}, servertest.Rows(rep)); d != "" {
			t.Errorf("Kustomizations diffed (-want +got):\n%s", d)
		}
		for _, cluster := range []string{"staging", "production"} {
			c, ok := change(rep, cluster, "apps", "HelmRelease", "podinfo")
			if !ok || c.Action != diff.ActionConfigured || !strings.Contains(c.Diff, "+      tag: 7.2.4") {
				t.Errorf("%s: HelmRelease podinfo = %+v, want configured to tag 7.2.4", cluster, c)
			}
		}
		comments := w.gh.Comments(fleetRepo, 1)
		if len(comments) != 1 {
			t.Fatalf("%d comments, want 1", len(comments))
		}
		body := comments[0].Body
		for _, want := range []string{"staging", "production", "podinfo", "7.2.4"} {
			if !strings.Contains(body, want) {
				t.Errorf("comment does not mention %q:\n%s", want, body)
			}
		}
		if comments[0].User != w.gh.BotLogin() {
			t.Errorf("comment by %q, want the app's bot", comments[0].User)
		}
	})

	t.Run("a change to apps/staging only diffs staging's apps Kustomization", func(t *testing.T) {
		path := "apps/staging/podinfo-values.yaml"
		head := w.open(t, servertest.PR{Number: 2, Title: "Staging values", Changes: map[string][]byte{path: stagingValues(t, w)}})
		w.send(t, "pull_request", w.payload(t, "pull_request.opened.1.json", 2, head), webhookSecret)
		w.waitCheck(t, head)
		if d := cmp.Diff([]string{"staging/flux-system/apps"}, servertest.Rows(w.lastReport(t, 2))); d != "" {
			t.Errorf("Kustomizations diffed (-want +got):\n%s", d)
		}
	})

	t.Run("a push updates the same comment in place and completes the new SHA's check run", func(t *testing.T) {
		before := w.gh.Comments(fleetRepo, 1)
		head := w.open(t, servertest.PR{Number: 1, Changes: map[string][]byte{
			podinfo: replaceIn(t, w.Base, podinfo, "tag: 7.0.6", "tag: 7.2.5"),
		}})
		w.send(t, "pull_request", w.payload(t, "pull_request.synchronize.1.json", 1, head), webhookSecret)
		w.waitCheck(t, head)
		after := w.gh.Comments(fleetRepo, 1)
		if len(after) != 1 || after[0].ID != before[0].ID {
			t.Fatalf("comments after the push: %d (IDs %v), want the same single comment %d", len(after), ids(after), before[0].ID)
		}
		if !strings.Contains(after[0].Body, "7.2.5") || strings.Contains(after[0].Body, "7.2.4") {
			t.Errorf("comment was not updated to the new push:\n%s", after[0].Body)
		}
	})

	t.Run("a pull request touching no Flux path gets a successful check run and no comment", func(t *testing.T) {
		head := w.open(t, servertest.PR{Number: 3, Title: "Docs", Changes: map[string][]byte{"README.md": []byte("# fleet\n")}})
		w.send(t, "pull_request", w.payload(t, "pull_request.opened.1.json", 3, head), webhookSecret)
		cr := w.waitCheck(t, head)
		if cr.Conclusion != "success" {
			t.Errorf("check run conclusion %q, want success", cr.Conclusion)
		}
		if n := len(w.gh.Comments(fleetRepo, 3)); n != 0 {
			t.Errorf("%d comments on a pull request that changes nothing Flux applies, want 0", n)
		}
	})

	t.Run("a forged or missing signature is refused with 401 and nothing is queued", func(t *testing.T) {
		head := w.open(t, servertest.PR{Number: 4, Title: "Forged", Changes: map[string][]byte{"README.md": []byte("x\n")}})
		p := w.payload(t, "pull_request.opened.1.json", 4, head)
		if code := w.send(t, "pull_request", p, "not-the-secret"); code != http.StatusUnauthorized {
			t.Errorf("forged signature answered %d, want 401", code)
		}
		if code := w.send(t, "pull_request", p, ""); code != http.StatusUnauthorized {
			t.Errorf("missing signature answered %d, want 401", code)
		}
		time.Sleep(2 * time.Second)
		for _, cr := range w.gh.CheckRuns(fleetRepo) {
			if cr.HeadSHA == head {
				t.Errorf("a forged delivery made a check run: %+v", cr)
			}
		}
		if reps, _ := w.st.Reports(t.Context(), fleetRepo, 4); len(reps) != 0 {
			t.Errorf("a forged delivery made %d reports", len(reps))
		}
	})

	t.Run("a merge conflict fails the check run and says so in a comment", func(t *testing.T) {
		head := w.open(t, servertest.PR{Number: 5, Title: "Conflict", Mergeable: githubtest.Bool(false), Changes: map[string][]byte{
			podinfo: replaceIn(t, w.Base, podinfo, "tag: 7.0.6", "tag: 9"),
		}})
		w.send(t, "pull_request", w.payload(t, "pull_request.opened.1.json", 5, head), webhookSecret)
		cr := w.waitCheck(t, head)
		if cr.Conclusion != "failure" {
			t.Errorf("check run conclusion %q, want failure", cr.Conclusion)
		}
		comments := w.gh.Comments(fleetRepo, 5)
		if len(comments) != 1 || !strings.Contains(strings.ToLower(comments[0].Body), "merge conflict") {
			t.Errorf("comments %+v, want one saying there is a merge conflict", comments)
		}
	})

	t.Run("an object removed from a pruning Kustomization is shown as deleted, from the live inventory", func(t *testing.T) {
		const k = "apps/base/podinfo/kustomization.yaml"
		head := w.open(t, servertest.PR{Number: 6, Title: "Drop the HelmRepository", Changes: map[string][]byte{
			k: replaceIn(t, w.Base, k, "  - repository.yaml\n", ""),
		}})
		w.send(t, "pull_request", w.payload(t, "pull_request.opened.1.json", 6, head), webhookSecret)
		w.waitCheck(t, head)
		rep := w.lastReport(t, 6)
		for _, cluster := range []string{"staging", "production"} {
			if c, ok := change(rep, cluster, "apps", "HelmRepository", "podinfo"); !ok || c.Action != diff.ActionDeleted {
				t.Errorf("%s: HelmRepository podinfo = %+v, want deleted", cluster, c)
			}
		}
		if body := w.gh.Comments(fleetRepo, 6); len(body) != 1 || !strings.Contains(body[0].Body, "deleted") {
			t.Errorf("the comment does not show the deletion: %+v", body)
		}
	})

	t.Run("a /flux-diff comment from a writer re-runs the diff; from a reader it is refused with a reply", func(t *testing.T) {
		w.gh.SetPermission(fleetRepo, "alice", "write")
		w.gh.SetPermission(fleetRepo, "mallory", "read")
		before := len(mustReports(t, w, 2))
		asked := w.gh.AddComment(fleetRepo, 2, "alice", "/flux-diff")
		w.send(t, "issue_comment", w.commentPayload(t, 2, asked.ID, "alice", "/flux-diff"), webhookSecret)
		waitFor(t, "a new report after /flux-diff", func() bool { return len(mustReports(t, w, 2)) > before })
		if r := w.gh.Reactions(asked.ID); len(r) != 1 || r[0].Content != "eyes" {
			t.Errorf("reactions on the asking comment: %+v, want one 👀", r)
		}
		refused := w.gh.AddComment(fleetRepo, 2, "mallory", "/flux-diff")
		w.send(t, "issue_comment", w.commentPayload(t, 2, refused.ID, "mallory", "/flux-diff"), webhookSecret)
		waitFor(t, "a reply to the reader", func() bool {
			for _, c := range w.gh.Comments(fleetRepo, 2) {
				if c.User == w.gh.BotLogin() && strings.Contains(c.Body, "mallory") && strings.Contains(c.Body, "write") {
					return true
				}
			}
			return false
		})
	})

	t.Run("a check run re-run request diffs again", func(t *testing.T) {
		head := w.lastReport(t, 2).PullRequest.HeadSHA
		// The re-run comes right after the /flux-diff run: if that run is
		// still finishing, the re-run supersedes it rather than being lost.
		before := len(mustReports(t, w, 2))
		p := w.payload(t, "check_run.rerequested.1.json", 2, head)
		cr := p["check_run"].(map[string]any)
		cr["head_sha"], cr["name"] = head, "fluxdiff"
		cr["app"].(map[string]any)["id"] = w.gh.AppID()
		cr["pull_requests"] = []any{map[string]any{"number": 2, "head": map[string]any{"sha": head}}}
		if code := w.send(t, "check_run", p, webhookSecret); code != http.StatusAccepted {
			t.Fatalf("re-run delivery answered %d, want 202", code)
		}
		waitFor(t, "a new report after the re-run", func() bool { return len(mustReports(t, w, 2)) > before })
	})

	t.Run("no secret value reaches GitHub: a Secret in the pull request, and a value substituted from a cluster Secret", func(t *testing.T) {
		const fileCanary, clusterCanary = "canary-in-pr-file-7f3a", "canary-in-cluster-9c1e"
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "cluster-secrets", Namespace: "flux-system"},
			StringData: map[string]string{"DB_PASSWORD": clusterCanary}}
		if err := w.Envs["staging"].Client.Create(t.Context(), sec); err != nil {
			t.Fatal(err)
		}
		head := w.open(t, servertest.PR{Number: 7, Title: "Secrets", Changes: mustSecretChanges(t, w.Base, fileCanary)})
		w.send(t, "pull_request", w.payload(t, "pull_request.opened.1.json", 7, head), webhookSecret)
		w.waitCheck(t, head)
		rep := w.lastReport(t, 7)
		if _, ok := change(rep, "staging", "apps", "ConfigMap", "db"); !ok {
			t.Errorf("the ConfigMap fed by the cluster Secret was not diffed; rows %v", servertest.Rows(rep))
		}
		for _, r := range w.gh.Requests() {
			for _, canary := range []string{fileCanary, clusterCanary} {
				if strings.Contains(string(r.Body), canary) {
					t.Errorf("%s %s carries a secret value", r.Method, r.Path)
				}
			}
		}
	})

	t.Run("a cluster edited by hand after seeding shows that edit as drift, not as part of the pull request", func(t *testing.T) {
		handEditIsDrift(t, w)
	})

	t.Run("a push while a diff runs completes the superseded commit's check run as skipped, naming the new head", func(t *testing.T) {
		supersededPushIsSkipped(t, w)
	})

	t.Run("a pull request moved to another base branch is diffed again, a title edit is not", func(t *testing.T) {
		baseChangeIsDiffed(t, w)
	})

	t.Run("a diff that fails for good is published as a failure, not left in progress", func(t *testing.T) {
		// The world's queue makes one attempt; GitHub answers 404 for the
		// merge commit's tarball.
		w.gh.FailNext(githubtest.Fault{Method: "GET", Path: "/repos/{owner}/{repo}/tarball/{ref}", Times: 1, Status: http.StatusNotFound,
			Body: `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`})
		head := w.open(t, servertest.PR{Number: 8, Title: "Unlucky", Changes: map[string][]byte{
			podinfo: replaceIn(t, w.Base, podinfo, "tag: 7.0.6", "tag: 7.3.0"),
		}})
		w.send(t, "pull_request", w.payload(t, "pull_request.opened.1.json", 8, head), webhookSecret)
		if cr := w.waitCheck(t, head); cr.Conclusion != "failure" {
			t.Errorf("check run conclusion %q, want failure", cr.Conclusion)
		}
		c := w.gh.Comments(fleetRepo, 8)
		if len(c) != 1 || !strings.Contains(c[0].Body, "could not diff this pull request") {
			t.Errorf("comments %+v, want one saying the diff failed", c)
		}
	})

	t.Run("with one cluster down its rows say so and the other cluster's diff is still published", func(t *testing.T) {
		w.down["production"].Store(true)
		head := w.open(t, servertest.PR{Number: 1, Changes: map[string][]byte{
			podinfo: replaceIn(t, w.Base, podinfo, "tag: 7.0.6", "tag: 7.2.6"),
		}})
		w.send(t, "pull_request", w.payload(t, "pull_request.synchronize.1.json", 1, head), webhookSecret)
		w.waitCheck(t, head)
		rep := w.lastReport(t, 1)
		var prod, staging *diff.KustomizationReport
		for i, k := range rep.Kustomizations {
			switch k.Cluster {
			case "production":
				prod = &rep.Kustomizations[i]
			case "staging":
				staging = &rep.Kustomizations[i]
			}
		}
		if prod == nil || !strings.Contains(prod.Error, "production") {
			t.Errorf("production's row = %+v, want an error naming the cluster", prod)
		}
		if staging == nil || staging.Error != "" || staging.Counts.Configured == 0 {
			t.Errorf("staging's row = %+v, want its diff", staging)
		}
		if c := w.gh.Comments(fleetRepo, 1); len(c) != 1 || !strings.Contains(c[0].Body, "7.2.6") {
			t.Errorf("the comment does not show staging's diff of the push")
		}
	})

	// The routes called are recorded in testdata/github-routes.txt, which
	// deploy's manifest test joins with the Slack end-to-end test's to
	// require exactly the App permissions they need.
	t.Run("every GitHub request is allowed by the App manifest's permissions, and the routes are recorded", func(t *testing.T) {
		if err := githubtest.CheckManifestAndRoutes("../deploy/github-app.yaml", "testdata/github-routes.txt", w.gh.Requests()); err != nil {
			t.Error(err)
		}
	})
}

func ids(cs []githubtest.Comment) []int64 {
	var out []int64
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return slices.Sorted(slices.Values(out))
}
