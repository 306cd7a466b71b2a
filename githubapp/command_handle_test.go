package githubapp

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxdiff/fluxdiff/githubapp/githubtest"
)

func TestHandleComment(t *testing.T) {
	const (
		permRoute  = "/repos/{owner}/{repo}/collaborators/{username}/permission"
		replyRoute = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
	)
	tests := []struct {
		name      string
		user      string
		role      string // "" leaves the default (read on a public repository)
		body      string
		closed    bool
		fork      bool
		wantReq   bool
		wantReply string // a substring of the reply; empty: no reply
		wantEyes  bool
	}{
		{name: "a writer's command is accepted", user: "dev", role: "write", body: "/flux-diff ks apps -n team-a --cluster prod", wantReq: true, wantEyes: true},
		{name: "a maintainer's command is accepted", user: "lead", role: "maintain", body: "/flux-diff", wantReq: true, wantEyes: true},
		{name: "an admin's command is accepted", user: "root", role: "admin", body: "/flux-diff", wantReq: true, wantEyes: true},
		{name: "a reader is told why not", user: "visitor", body: "/flux-diff", wantReply: "@visitor `/flux-diff` needs write permission on acme/fleet; you have read permission."},
		{name: "a triager is told why not", user: "helper", role: "triage", body: "/flux-diff", wantReply: "needs write permission"},
		{name: "help gets the usage", user: "dev", role: "write", body: "/flux-diff help", wantReply: "Usage:"},
		{name: "a bad command gets the problem and the usage", user: "dev", role: "write", body: "/flux-diff ks", wantReply: "kustomization needs a NAME.\n\nUsage:"},
		{name: "a bad command cannot mention anyone through the reply", user: "dev", role: "write", body: "/flux-diff @acme/everyone", wantReply: "&#64;acme/everyone"},
		{name: "a closed pull request is not diffed", user: "dev", role: "write", body: "/flux-diff", closed: true, wantReply: "is closed"},
		{name: "a fork's pull request is not diffed while github.allowForks is off", user: "dev", role: "write", body: "/flux-diff", fork: true, wantReply: "comes from a fork"},
		{name: "the bot's own comment is ignored", user: "fluxdiff[bot]", role: "write", body: "/flux-diff"},
		{name: "a comment that is no command is ignored", user: "dev", role: "write", body: "thanks!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			w := newPublishWorld(t, Config{})
			if tt.role != "" {
				w.gh.SetPermission("acme/fleet", tt.user, tt.role)
			}
			if tt.closed {
				w.gh.UpdatePullRequest("acme/fleet", 42, func(p *githubtest.PullRequest) { p.State = "closed" })
			}
			if tt.fork {
				w.gh.AddRepo(githubtest.Repo{Owner: "stranger", Name: "fleet"})
				w.gh.UpdatePullRequest("acme/fleet", 42, func(p *githubtest.PullRequest) { p.HeadRepo = "stranger/fleet" })
			}
			c := w.gh.AddComment("acme/fleet", 42, tt.user, tt.body)
			cmd := CommentCommand{DeliveryID: "d-9", InstallationID: w.gh.InstallationID(), Repo: "acme/fleet", PR: 42,
				CommentID: c.ID, User: tt.user, Body: tt.body}
			req, err := w.app.HandleComment(ctx, cmd)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantReq {
				parsed, _ := ParseCommand(tt.body)
				want := &DiffRequest{DeliveryID: "d-9", InstallationID: w.gh.InstallationID(), Repo: "acme/fleet", PR: 42,
					HeadSHA: w.head, Trigger: "issue_comment", RequestedBy: tt.user, Filter: parsed.Filter}
				if diff := cmp.Diff(want, req); diff != "" {
					t.Errorf("DiffRequest (-want +got):\n%s", diff)
				}
			} else if req != nil {
				t.Errorf("got a DiffRequest %+v, want none", req)
			}
			var replies []string
			for _, cm := range w.gh.Comments("acme/fleet", 42) {
				if cm.ID != c.ID {
					replies = append(replies, cm.Body)
				}
			}
			switch {
			case tt.wantReply == "" && len(replies) > 0:
				t.Errorf("unexpected replies %q", replies)
			case tt.wantReply != "" && (len(replies) != 1 || !strings.Contains(replies[0], tt.wantReply)):
				t.Errorf("replies %q, want one containing %q", replies, tt.wantReply)
			}
			for _, r := range replies {
				if IsCommand(r) {
					t.Errorf("the reply %q is itself a command", r)
				}
			}
			eyes := false
			for _, r := range w.gh.Reactions(c.ID) {
				eyes = eyes || (r.Content == "eyes" && r.User == w.gh.BotLogin())
			}
			if eyes != tt.wantEyes {
				t.Errorf("eyes reaction = %v, want %v", eyes, tt.wantEyes)
			}
			if tt.user == "fluxdiff[bot]" && w.gh.CountRequests("GET", permRoute)+w.gh.CountRequests("POST", replyRoute) > 0 {
				t.Error("the bot's own comment led to API calls")
			}
		})
	}
}
