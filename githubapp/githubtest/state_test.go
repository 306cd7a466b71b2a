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

func TestFilesCommitsContentsAndReviews(t *testing.T) {
	ctx := context.Background()
	gh := githubtest.New(t, githubtest.Options{})
	gh.AddRepo(githubtest.Repo{Owner: "acme", Name: "fleet"})
	base := gh.AddCommit("acme/fleet", "", map[string][]byte{"a.yaml": []byte("a\n"), "gone.yaml": []byte("g\n"), "d/x.yaml": []byte("x\n")})
	head := gh.AddCommit("acme/fleet", "", map[string][]byte{"a.yaml": []byte("a\nb\n"), "new.yaml": []byte("n"), "d/x.yaml": []byte("x\n")})
	merge := gh.AddCommit("acme/fleet", "", map[string][]byte{"a.yaml": []byte("a\nb\n"), "new.yaml": []byte("n"), "d/x.yaml": []byte("x\n")})
	gh.SetParents("acme/fleet", merge, base, head)
	gh.AddPullRequest("acme/fleet", githubtest.PullRequest{Number: 3, HeadSHA: head, MergeCommitSHA: merge, Mergeable: githubtest.Bool(true)})
	_, c := clients(t, gh)

	fs, _, err := c.PullRequests.ListFiles(ctx, "acme", "fleet", 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, fmt.Sprintf("%s %s +%d -%d", f.GetStatus(), f.GetFilename(), f.GetAdditions(), f.GetDeletions()))
	}
	want := []string{"modified a.yaml +2 -1", "removed gone.yaml +0 -1", "added new.yaml +1 -0"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("derived files (-want +got):\n%s", d)
	}
	commit, _, err := c.Repositories.GetCommit(ctx, "acme", "fleet", merge, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(commit.Parents) != 2 || commit.Parents[0].GetSHA() != base || commit.Parents[1].GetSHA() != head {
		t.Errorf("merge commit parents = %v", commit.Parents)
	}
	file, dir, _, err := c.Repositories.GetContents(ctx, "acme", "fleet", "a.yaml", &github.RepositoryContentGetOptions{Ref: head})
	if err != nil || dir != nil {
		t.Fatal(err)
	}
	if s, _ := file.GetContent(); s != "a\nb\n" {
		t.Errorf("a.yaml at head = %q", s)
	}
	if _, dir, _, err = c.Repositories.GetContents(ctx, "acme", "fleet", "d", nil); err != nil || len(dir) != 1 || dir[0].GetName() != "x.yaml" {
		t.Errorf("listing of d = %v, %v", dir, err)
	}
	if _, _, err := c.PullRequests.CreateReview(ctx, "acme", "fleet", 3, &github.PullRequestReviewRequest{Event: github.String("COMMENT"), Body: github.String("diff ready")}); err != nil {
		t.Fatal(err)
	}
	rvs, _, err := c.PullRequests.ListReviews(ctx, "acme", "fleet", 3, nil)
	if err != nil || len(rvs) != 1 || rvs[0].GetState() != "COMMENTED" || rvs[0].GetUser().GetLogin() != gh.BotLogin() || rvs[0].GetCommitID() != head {
		t.Errorf("reviews = %v, %v", rvs, err)
	}
}

func TestTokenInACommentFailsTheTestAtCleanup(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{TB: t}
	gh := githubtest.New(rec, githubtest.Options{})
	gh.AddRepo(githubtest.Repo{Owner: "acme", Name: "fleet"})
	gh.AddPullRequest("acme/fleet", githubtest.PullRequest{Number: 7, HeadSHA: githubtest.SHA("h")})
	_, c := clients(t, gh)
	if _, _, err := c.PullRequests.Get(ctx, "acme", "fleet", 7); err != nil {
		t.Fatal(err)
	}
	tok := gh.Tokens()[0]
	if n := len(gh.Leaks(tok)); n != 0 {
		t.Fatalf("%d leaks before any comment", n)
	}
	if _, _, err := c.Issues.CreateComment(ctx, "acme", "fleet", 7, &github.IssueComment{Body: github.String("token: " + tok)}); err != nil {
		t.Fatal(err)
	}
	if leaks := gh.Leaks(tok); len(leaks) != 1 || leaks[0].Template != "/repos/{owner}/{repo}/issues/{issue_number}/comments" {
		t.Errorf("Leaks = %+v, want the comment POST", leaks)
	}
	rec.cleanup()
	if f := rec.failures(); len(f) != 1 || !strings.Contains(f[0], "carries a secret") {
		t.Errorf("failures at cleanup = %q, want one about a secret", f)
	}
}
