package slacke2e

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fluxdiff/fluxdiff/chat"
	"github.com/fluxdiff/fluxdiff/chat/chattest"
	"github.com/fluxdiff/fluxdiff/githubapp/githubtest"
	"github.com/fluxdiff/fluxdiff/server/servertest"
)

const podinfo = "apps/base/podinfo/release.yaml"

// TestSlackOnFluxExampleRepository drives the Slack front door end to end
// on Flux's example repository (two real API servers, the GitHub
// stand-in, the Slack stand-in): the automatic diff in a channel, the
// /flux-diff command in every form, the buttons, and the safeguards.
func TestSlackOnFluxExampleRepository(t *testing.T) {
	w := newWorld(t)
	var head1, head2 string

	t.Run("a pull request's diff goes to the channel with the buttons and is updated in place on a push", func(t *testing.T) {
		head1 = w.openAndSend(t, servertest.PR{Number: 1, Title: "Bump podinfo", Changes: map[string][]byte{
			podinfo: replaceIn(t, w.Base, podinfo, "tag: 7.0.6", "tag: 7.2.4")}}, "pull_request.opened.1.json")
		m := w.waitMessage(t, prChannel, 0, func(m chattest.Message) bool { return strings.Contains(texts(m), "7.2.4") })
		for _, b := range []string{chat.ActionPostToPR, chat.ActionApprove, chat.ActionViewPR} {
			if !hasButton(m, b) {
				t.Errorf("no %s button", b)
			}
		}
		wantBlastRadius(t, w, m)
		head1 = w.openAndSend(t, servertest.PR{Number: 1, Changes: map[string][]byte{
			podinfo: replaceIn(t, w.Base, podinfo, "tag: 7.0.6", "tag: 7.2.5")}}, "pull_request.synchronize.1.json")
		waitFor(t, "the message updated to the push", func() bool {
			ms := w.topLevel(prChannel)
			return len(ms) == 1 && strings.Contains(texts(ms[0]), "7.2.5") && !strings.Contains(texts(ms[0]), "7.2.4")
		})
		if ms := w.topLevel(prChannel); len(ms) != 1 || ms[0].TS != m.TS || ms[0].Updates == 0 {
			t.Errorf("messages after the push: %d (first ts %s, updates %d), want message %s updated", len(ms), ms[0].TS, ms[0].Updates, m.TS)
		}
		if n := len(w.gh.Comments(fleetRepo, 1)); n != 0 {
			t.Errorf("%d comments under commentMode manual, want none before someone asks", n)
		}
	})

	t.Run("/flux-diff by pull request number answers at once, then posts both clusters' diff", func(t *testing.T) {
		a := w.command(t, "ks apps --github-ref 1", userAda, time.Now())
		if a.status != http.StatusOK || !strings.Contains(a.text, "Running `/flux-diff ks apps -n flux-system --github-ref 1`") || a.took > 3*time.Second {
			t.Fatalf("answer %d %q after %v", a.status, a.text, a.took)
		}
		m := w.waitMessage(t, cmdChannel, 0, func(chattest.Message) bool { return true })
		_, rep := w.report(t, m)
		if d := cmp.Diff([]string{"staging/flux-system/apps", "production/flux-system/apps"}, servertest.Rows(rep)); d != "" {
			t.Errorf("rows (-want +got):\n%s", d)
		}
		if pr := rep.PullRequest; pr.Number != 1 || pr.HeadSHA != head1 || pr.RequestedBy != "slack:"+userAda {
			t.Errorf("pull request info %+v", pr)
		}
		if !strings.Contains(texts(m), "7.2.5") || !hasButton(m, chat.ActionApprove) {
			t.Errorf("message lacks the change or the buttons:\n%s", texts(m))
		}
	})

	t.Run("by pull request URL (as Slack escapes links) and one cluster", func(t *testing.T) {
		url := w.gh.HTMLURL(fleetRepo) + "/pull/1"
		_, rep := w.report(t, w.commandMessage(t, "ks apps --github-ref <"+url+"> --cluster staging"))
		if d := cmp.Diff([]string{"staging/flux-system/apps"}, servertest.Rows(rep)); d != "" || rep.PullRequest.Number != 1 {
			t.Errorf("rows (-want +got):\n%s; pull request %d", d, rep.PullRequest.Number)
		}
	})

	t.Run("by branch: its open pull request", func(t *testing.T) {
		_, rep := w.report(t, w.commandMessage(t, "ks apps --github-ref pr-1 --cluster production"))
		if rep.PullRequest.Number != 1 || rep.PullRequest.HeadSHA != head1 {
			t.Errorf("branch pr-1 resolved to %+v, want pull request 1 at %s", rep.PullRequest, head1)
		}
	})

	t.Run("by a branch without pull request: its head, without pull request buttons", func(t *testing.T) {
		files := make(map[string][]byte, len(w.Base))
		for k, v := range w.Base {
			files[k] = v
		}
		files[podinfo] = replaceIn(t, w.Base, podinfo, "tag: 7.0.6", "tag: 8.0.0")
		sha := w.gh.AddCommit(fleetRepo, "", files)
		w.gh.SetBranch(fleetRepo, "hotfix", sha)
		m := w.commandMessage(t, "ks apps --github-ref hotfix --cluster staging")
		_, rep := w.report(t, m)
		if rep.PullRequest.Number != 0 || rep.PullRequest.HeadSHA != sha || !strings.Contains(texts(m), "8.0.0") || hasButton(m, chat.ActionApprove) {
			t.Errorf("branch head diff: %+v, buttons %v:\n%s", rep.PullRequest, hasButton(m, chat.ActionApprove), texts(m))
		}
	})

	t.Run("without a ref: a drift check of the branch the Kustomization follows", func(t *testing.T) {
		m := w.commandMessage(t, "kustomization apps --namespace flux-system --cluster staging")
		_, rep := w.report(t, m)
		if rep.PullRequest.HeadSHA != w.BaseSHA || rep.PullRequest.BaseRef != "main" || len(rep.Kustomizations) != 1 || rep.Kustomizations[0].Error != "" {
			t.Errorf("drift check: %+v %+v", rep.PullRequest, rep.Kustomizations)
		}
		if c := rep.Kustomizations[0].Counts; c.Created+c.Configured+c.Deleted != 0 {
			t.Errorf("the cluster as Flux left it shows drift: %+v", c)
		}
	})

	t.Run("an unknown Kustomization is answered with the closest names", func(t *testing.T) {
		a := w.command(t, "ks aps", userAda, time.Now())
		w.waitResponse(t, a.responseURL, "There is no Kustomization `flux-system/aps` in any cluster. Did you mean `flux-system/apps`")
	})

	t.Run("mistakes get usage at once; bad and stale signatures get 401", func(t *testing.T) {
		before := len(w.sl.Messages(cmdChannel))
		if a := w.command(t, "deploy apps", userAda, time.Now()); !strings.Contains(a.text, `unknown subcommand "deploy"`) || !strings.Contains(a.text, "*Usage*") {
			t.Errorf("answer %q", a.text)
		}
		if a := w.command(t, "ks apps", userAda, time.Time{}); a.status != http.StatusUnauthorized {
			t.Errorf("unsigned: %d", a.status)
		}
		if a := w.command(t, "ks apps", userAda, time.Now().Add(-6*time.Minute)); a.status != http.StatusUnauthorized {
			t.Errorf("stale: %d", a.status)
		}
		time.Sleep(time.Second)
		if n := len(w.sl.Messages(cmdChannel)); n != before {
			t.Errorf("%d new messages after refused commands", n-before)
		}
	})

	t.Run("Post diff to PR writes the sticky comment under commentMode manual and says who in the thread", func(t *testing.T) {
		m := w.topLevel(prChannel)[0]
		if code, _ := w.click(t, m, chat.ActionPostToPR, userBob); code != http.StatusOK {
			t.Fatalf("click: %d", code)
		}
		waitFor(t, "the sticky comment", func() bool {
			cs := w.gh.Comments(fleetRepo, 1)
			return len(cs) == 1 && strings.Contains(cs[0].Body, "7.2.5") && cs[0].User == w.gh.BotLogin()
		})
		waitFor(t, "the thread reply", func() bool {
			for _, r := range w.sl.Messages(prChannel) {
				if r.ThreadTS == m.TS && strings.Contains(r.Text, "<@"+userBob+"> posted this diff") {
					return true
				}
			}
			return false
		})
	})

	t.Run("Approve is refused to others and to the author, then done by an approver at the diffed commit", func(t *testing.T) {
		m := w.topLevel(prChannel)[0]
		_, url := w.click(t, m, chat.ActionApprove, userBob)
		w.waitResponse(t, url, "not allowed")
		_, url = w.click(t, m, chat.ActionApprove, userOcto)
		w.waitResponse(t, url, "cannot be approved by its author")
		w.click(t, m, chat.ActionApprove, userGina)
		waitFor(t, "the review", func() bool { return len(w.gh.Reviews(fleetRepo, 1)) == 1 })
		rv := w.gh.Reviews(fleetRepo, 1)[0]
		if rv.State != "APPROVED" || rv.CommitID != head1 || rv.User != w.gh.BotLogin() || !strings.Contains(rv.Body, userGina) {
			t.Errorf("review %+v, want APPROVED at %s by the app naming %s", rv, head1, userGina)
		}
		waitFor(t, "the message marked approved", func() bool {
			m := w.topLevel(prChannel)[0]
			return !hasButton(m, chat.ActionApprove) && strings.Contains(texts(m), "*Approved* by <@"+userGina+">")
		})
		wantAudit(t, w, 1, []string{"denied", "author", "approved"})
	})

	t.Run("after a new push, approving the older diff is refused", func(t *testing.T) {
		old := w.topLevel(cmdChannel)[0] // the diff of head1
		head2 = w.openAndSend(t, servertest.PR{Number: 1, Changes: map[string][]byte{
			podinfo: replaceIn(t, w.Base, podinfo, "tag: 7.0.6", "tag: 7.2.6")}}, "pull_request.synchronize.1.json")
		_, url := w.click(t, old, chat.ActionApprove, userAda)
		w.waitResponse(t, url, "changed since this diff")
		if n := len(w.gh.Reviews(fleetRepo, 1)); n != 1 {
			t.Errorf("%d reviews, want no new one", n)
		}
		wantAudit(t, w, 1, []string{"denied", "author", "approved", "stale-sha"})
		waitFor(t, "the channel message of the new push", func() bool {
			_, rep := w.report(t, w.topLevel(prChannel)[0])
			return rep.PullRequest.HeadSHA == head2
		})
	})

	t.Run("buttons work after a restart: the report is read from the store", func(t *testing.T) {
		w.restart()
		m := w.topLevel(prChannel)[0]
		w.click(t, m, chat.ActionApprove, userAda)
		waitFor(t, "the review after the restart", func() bool { return len(w.gh.Reviews(fleetRepo, 1)) == 2 })
		if rv := w.gh.Reviews(fleetRepo, 1)[1]; rv.State != "APPROVED" || rv.CommitID != head2 {
			t.Errorf("review after restart %+v, want APPROVED at %s", rv, head2)
		}
	})

	t.Run("a report past slack.reportTTL answers that it expired", func(t *testing.T) {
		w.ttl = time.Nanosecond
		w.restart()
		_, url := w.click(t, w.topLevel(cmdChannel)[0], chat.ActionPostToPR, userAda)
		w.waitResponse(t, url, "expired")
		w.ttl = 0
		w.restart()
	})

	t.Run("no secret value reaches Slack", func(t *testing.T) {
		const fileCanary, clusterCanary = "slack-canary-in-pr-3e1b", "slack-canary-in-cluster-77d0"
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "cluster-secrets", Namespace: "flux-system"},
			StringData: map[string]string{"DB_PASSWORD": clusterCanary}}
		if err := w.Envs["staging"].Client.Create(t.Context(), sec); err != nil {
			t.Fatal(err)
		}
		before := len(w.topLevel(prChannel))
		w.openAndSend(t, servertest.PR{Number: 7, Title: "Secrets", Changes: mustSecretChanges(t, w.Base, fileCanary)}, "pull_request.opened.1.json")
		m := w.waitMessage(t, prChannel, before, func(chattest.Message) bool { return true })
		cm := w.commandMessage(t, "ks apps --github-ref 7 --cluster staging")
		for _, msg := range []chattest.Message{m, cm} {
			// The engine masks the Secret's data, and the ConfigMap value
			// substituted from a cluster Secret (the pull request's own
			// Kustomization spec adds the substituteFrom).
			if all := texts(msg); !strings.Contains(all, "*created* `Secret/podinfo/token`") || !strings.Contains(all, "dsn: '***'") {
				t.Errorf("the diff lacks the Secret or the masked substituted ConfigMap:\n%s", all)
			}
		}
		var canaries []string
		for _, c := range []string{fileCanary, clusterCanary} {
			canaries = append(canaries, c, base64.StdEncoding.EncodeToString([]byte(c)))
		}
		for _, r := range w.sl.Leaks(canaries...) {
			t.Errorf("%s %s sends a secret value to Slack", r.Method, r.Path)
		}
	})

	// The routes called are recorded in testdata/github-routes.txt, which
	// deploy's manifest test joins with the GitHub end-to-end test's to
	// require exactly the App permissions they need.
	t.Run("every GitHub request is allowed by the App manifest's permissions, and the routes are recorded", func(t *testing.T) {
		if err := githubtest.CheckManifestAndRoutes("../../../deploy/github-app.yaml", "testdata/github-routes.txt", w.gh.Requests()); err != nil {
			t.Error(err)
		}
	})
}

// wantBlastRadius checks that message m opens its totals with the blast
// radius of its stored report, the line that opens the pull request
// comment too.
func wantBlastRadius(t *testing.T, w *world, m chattest.Message) {
	t.Helper()
	_, rep := w.report(t, m)
	br := rep.BlastRadius()
	if all := texts(m); br.Changed+br.Created+br.Deleted == 0 || !strings.Contains(all, "*Blast radius:* "+br.String()) {
		t.Errorf("the message lacks the blast radius %q:\n%s", br, all)
	}
}

func wantAudit(t *testing.T, w *world, pr int, outcomes []string) {
	t.Helper()
	as, err := w.st.Approvals(t.Context(), fleetRepo, pr)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range as {
		got = append(got, a.Outcome)
		if a.Source != "slack" || !strings.HasPrefix(a.Actor, "slack:U0") {
			t.Errorf("audit row %+v", a)
		}
	}
	if d := cmp.Diff(outcomes, got); d != "" {
		t.Errorf("audit outcomes (-want +got):\n%s", d)
	}
}
