package githubtest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v55/github"

	"github.com/fluxdiff/fluxdiff/githubapp/githubtest"
)

func TestCommentsAreTheBotsAndPaginate(t *testing.T) {
	ctx := context.Background()
	gh, _ := fixture(t, githubtest.Options{AppSlug: "flux-diff"})
	_, c := clients(t, gh)
	human := gh.AddComment("acme/fleet", 7, "alice", "/flux-diff")
	var ids []int64
	for i := range 3 {
		cm, _, err := c.Issues.CreateComment(ctx, "acme", "fleet", 7, &github.IssueComment{Body: github.String(fmt.Sprint("report ", i))})
		if err != nil {
			t.Fatal(err)
		}
		if cm.GetUser().GetLogin() != "flux-diff[bot]" || cm.GetUser().GetType() != "Bot" {
			t.Errorf("comment author = %s (%s), want flux-diff[bot] (Bot)", cm.GetUser().GetLogin(), cm.GetUser().GetType())
		}
		ids = append(ids, cm.GetID())
	}
	if _, _, err := c.Issues.EditComment(ctx, "acme", "fleet", ids[0], &github.IssueComment{Body: github.String("edited")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Issues.DeleteComment(ctx, "acme", "fleet", ids[1]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Reactions.CreateIssueCommentReaction(ctx, "acme", "fleet", human.ID, "eyes"); err != nil {
		t.Fatal(err)
	}
	var got []string
	opt := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 1}}
	for {
		cs, resp, err := c.Issues.ListComments(ctx, "acme", "fleet", 7, opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, cm := range cs {
			got = append(got, cm.GetUser().GetLogin()+": "+cm.GetBody())
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	want := []string{"alice: /flux-diff", "flux-diff[bot]: edited", "flux-diff[bot]: report 2"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("comments (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]githubtest.Reaction{{ID: gh.Reactions(human.ID)[0].ID, User: "flux-diff[bot]", Content: "eyes"}}, gh.Reactions(human.ID)); d != "" {
		t.Errorf("reactions (-want +got):\n%s", d)
	}
	if n := len(gh.Comments("acme/fleet", 7)); n != 3 {
		t.Errorf("Comments() holds %d comments, want 3", n)
	}
}

func TestCheckRunLifecycle(t *testing.T) {
	ctx := context.Background()
	gh, head := fixture(t, githubtest.Options{})
	_, c := clients(t, gh)
	cr, _, err := c.Checks.CreateCheckRun(ctx, "acme", "fleet", github.CreateCheckRunOptions{
		Name: "fluxdiff", HeadSHA: head, Status: github.String("in_progress"),
		Output: &github.CheckRunOutput{Title: github.String("Diffing"), Summary: github.String("2 clusters")},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Checks.UpdateCheckRun(ctx, "acme", "fleet", cr.GetID(), github.UpdateCheckRunOptions{
		Name: "fluxdiff", Conclusion: github.String("neutral"),
		Output: &github.CheckRunOutput{Title: github.String("1 change"), Summary: github.String("s"), Text: github.String("t"),
			Annotations: []*github.CheckRunAnnotation{{Path: github.String("apps/a.yaml"), StartLine: github.Int(1), EndLine: github.Int(1),
				AnnotationLevel: github.String("warning"), Message: github.String("drift")}}},
		Actions: []*github.CheckRunAction{{Label: "Re-run", Description: "Diff again", Identifier: "rerun"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	list, _, err := c.Checks.ListCheckRunsForRef(ctx, "acme", "fleet", head, &github.ListCheckRunsOptions{CheckName: github.String("fluxdiff")})
	if err != nil {
		t.Fatal(err)
	}
	if list.GetTotal() != 1 || list.CheckRuns[0].GetConclusion() != "neutral" || list.CheckRuns[0].GetOutput().GetAnnotationsCount() != 1 {
		t.Errorf("list = %d runs, first %s with %d annotations", list.GetTotal(), list.CheckRuns[0].GetConclusion(), list.CheckRuns[0].GetOutput().GetAnnotationsCount())
	}
	if prs := list.CheckRuns[0].PullRequests; len(prs) != 1 || prs[0].GetNumber() != 7 {
		t.Errorf("check run pull requests = %v, want #7", prs)
	}
	runs := gh.CheckRuns("acme/fleet")
	if len(runs) != 1 || runs[0].Status != "completed" || runs[0].Output.Text != "t" || runs[0].Updates != 1 || len(runs[0].Actions) != 1 {
		t.Errorf("CheckRuns() = %+v", runs)
	}
}

func TestPermissionRoles(t *testing.T) {
	ctx := context.Background()
	gh, _ := fixture(t, githubtest.Options{})
	_, c := clients(t, gh)
	gh.SetPermission("acme/fleet", "maint", "maintain")
	gh.SetPermission("acme/fleet", "alice", "admin")
	for user, want := range map[string]string{"maint": "write/maintain", "alice": "admin/admin", "stranger": "read/read"} {
		// go-github v55 does not decode role_name.
		req, err := c.NewRequest("GET", "repos/acme/fleet/collaborators/"+user+"/permission", nil)
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			Permission string
			RoleName   string `json:"role_name"`
		}
		if _, err := c.Do(ctx, req, &p); err != nil {
			t.Fatal(err)
		}
		if got := p.Permission + "/" + p.RoleName; got != want {
			t.Errorf("%s: permission/role = %s, want %s", user, got, want)
		}
	}
}

func TestInstallationTokenSeesOnlyItsRepositories(t *testing.T) {
	ctx := context.Background()
	gh, _ := fixture(t, githubtest.Options{})
	gh.AddInstallation(200, "other")
	gh.AddRepo(githubtest.Repo{Owner: "other", Name: "infra", InstallationID: 200})
	_, c := clients(t, gh)
	_, resp, err := c.Repositories.Get(ctx, "other", "infra")
	if err == nil || resp.StatusCode != 404 {
		t.Errorf("GET another installation's repository: %v, want 404", err)
	}
	for _, tok := range gh.Tokens() {
		if !strings.HasPrefix(tok, "ghs_") {
			t.Errorf("token %q lacks GitHub's installation token prefix", tok[:4])
		}
	}
}
