package githubapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v55/github"

	"github.com/fluxdiff/fluxdiff/diff"
)

// CheckRunTextLimit is GitHub's limit on a check run's output summary and
// text: 65,535 characters (measured here in bytes, never fewer).
const CheckRunTextLimit = 65535

// checkRunKey is the Refs key of the check run of a commit: "owner/name@sha".
func checkRunKey(repo, sha string) string { return repo + "@" + sha }

// StartCheck shows the check run (named Config.CheckRunName) of repo
// ("owner/name") at headSHA as in progress. It is idempotent: the run
// saved in refs under RefCheckRun "owner/name@sha", or else the newest
// unfinished run of this App and name on the commit, is updated; a
// finished run is left as it is and a new one created (a re-run). The
// run's ID is saved in refs. Errors from GitHub or refs are wrapped.
func (a *App) StartCheck(ctx context.Context, installationID int64, repo, headSHA string, refs Refs) error {
	hc, err := a.lookupCheck(ctx, installationID, repo, headSHA, refs)
	if err != nil {
		return err
	}
	gh, owner, name, key, run := hc.gh, hc.owner, hc.name, hc.key, hc.run
	status := "in_progress"
	if run != nil && run.GetStatus() != "completed" {
		_, _, err = gh.Checks.UpdateCheckRun(ctx, owner, name, run.GetID(), github.UpdateCheckRunOptions{
			Name: a.cfg.CheckRunName, Status: &status,
		})
		if err != nil {
			return fmt.Errorf("githubapp: update check run %d of %s: %w", run.GetID(), key, err)
		}
		return nil
	}
	run, _, err = gh.Checks.CreateCheckRun(ctx, owner, name, github.CreateCheckRunOptions{
		Name: a.cfg.CheckRunName, HeadSHA: headSHA, Status: &status,
		StartedAt: &github.Timestamp{Time: time.Now()},
	})
	if err != nil {
		return fmt.Errorf("githubapp: create check run of %s: %w", key, err)
	}
	if err := refs.SaveRef(ctx, RefCheckRun, key, strconv.FormatInt(run.GetID(), 10), 0); err != nil {
		return fmt.Errorf("githubapp: save check run %d of %s: %w", run.GetID(), key, err)
	}
	return nil
}

// headCheck is the check run of a pull request's head, as lookupCheck
// finds it, with the client and names to update it.
type headCheck struct {
	gh          *github.Client
	owner, name string
	key         string
	run         *github.CheckRun // nil when there is none
}

// lookupCheck finds the check run of repo's headSHA (see findCheckRun).
// Errors: an invalid repo, no installation client, or findCheckRun's.
func (a *App) lookupCheck(ctx context.Context, installationID int64, repo, headSHA string, refs Refs) (*headCheck, error) {
	owner, name, err := splitRepo(repo)
	if err != nil {
		return nil, err
	}
	gh, err := a.Installation(installationID)
	if err != nil {
		return nil, err
	}
	key := checkRunKey(repo, headSHA)
	run, err := a.findCheckRun(ctx, gh, owner, name, headSHA, refs, key)
	if err != nil {
		return nil, err
	}
	return &headCheck{gh: gh, owner: owner, name: name, key: key, run: run}, nil
}

// findCheckRun returns the check run saved under key, or else the newest
// run of this App with the configured name on sha; nil when there is
// none. A saved run that GitHub no longer has counts as none.
func (a *App) findCheckRun(ctx context.Context, gh *github.Client, owner, name, sha string, refs Refs, key string) (*github.CheckRun, error) {
	saved, found, err := refs.Ref(ctx, RefCheckRun, key)
	if err != nil {
		return nil, fmt.Errorf("githubapp: read check run ref %s: %w", key, err)
	}
	if found {
		id, perr := strconv.ParseInt(saved, 10, 64)
		if perr == nil {
			run, _, err := gh.Checks.GetCheckRun(ctx, owner, name, id)
			switch {
			case err == nil:
				return run, nil
			case !isNotFound(err):
				return nil, fmt.Errorf("githubapp: get check run %d of %s: %w", id, key, err)
			}
		}
	}
	list, _, err := gh.Checks.ListCheckRunsForRef(ctx, owner, name, sha, &github.ListCheckRunsOptions{
		CheckName: &a.cfg.CheckRunName, AppID: &a.cfg.AppID,
	})
	if err != nil {
		return nil, fmt.Errorf("githubapp: list check runs of %s: %w", key, err)
	}
	var newest *github.CheckRun
	for _, r := range list.CheckRuns {
		if r.GetApp().GetID() == a.cfg.AppID && r.GetName() == a.cfg.CheckRunName && r.GetID() > newest.GetID() {
			newest = r
		}
	}
	return newest, nil
}

// completeCheck finishes the check run of rep's head commit with the
// report's conclusion, output, annotations and the Re-run button, creating
// the run when none can be found. fullComment tells the text whether the
// pull request comment holds the whole diff.
func (a *App) completeCheck(ctx context.Context, gh *github.Client, rep *diff.Report, reportID int64, refs Refs, fullComment bool) error {
	pr := rep.PullRequest
	owner, name, err := splitRepo(pr.Repo)
	if err != nil {
		return err
	}
	key := checkRunKey(pr.Repo, pr.HeadSHA)
	run, err := a.findCheckRun(ctx, gh, owner, name, pr.HeadSHA, refs, key)
	if err != nil {
		return err
	}
	conclusion := a.conclusion(rep)
	output := checkOutput(rep, fullComment)
	annotations := append(buildAnnotations(rep), riskAnnotations(rep)...)
	first := min(len(annotations), maxAnnotationsPerRequest)
	output.Annotations = annotations[:first]
	ext := strconv.FormatInt(reportID, 10)
	now := &github.Timestamp{Time: time.Now()}
	actions := []*github.CheckRunAction{{Label: "Re-run", Description: "Diff the pull request again", Identifier: RerunActionID}}
	if run == nil {
		run, _, err = gh.Checks.CreateCheckRun(ctx, owner, name, github.CreateCheckRunOptions{
			Name: a.cfg.CheckRunName, HeadSHA: pr.HeadSHA, ExternalID: &ext, Conclusion: &conclusion,
			StartedAt: now, CompletedAt: now, Output: output, Actions: actions,
		})
	} else {
		run, _, err = gh.Checks.UpdateCheckRun(ctx, owner, name, run.GetID(), github.UpdateCheckRunOptions{
			Name: a.cfg.CheckRunName, ExternalID: &ext, Conclusion: &conclusion,
			CompletedAt: now, Output: output, Actions: actions,
		})
	}
	if err != nil {
		return fmt.Errorf("githubapp: complete check run of %s: %w", key, err)
	}
	if err := refs.SaveRef(ctx, RefCheckRun, key, strconv.FormatInt(run.GetID(), 10), reportID); err != nil {
		return fmt.Errorf("githubapp: save check run %d of %s: %w", run.GetID(), key, err)
	}
	return a.moreAnnotations(ctx, gh, owner, name, run.GetID(), output, annotations[first:])
}

// moreAnnotations adds annotations past the first request's 50, 50 at a
// time (GitHub appends them; each update must repeat title and summary).
func (a *App) moreAnnotations(ctx context.Context, gh *github.Client, owner, name string, id int64, out *github.CheckRunOutput, rest []*github.CheckRunAnnotation) error {
	for len(rest) > 0 {
		n := min(len(rest), maxAnnotationsPerRequest)
		_, _, err := gh.Checks.UpdateCheckRun(ctx, owner, name, id, github.UpdateCheckRunOptions{
			Name:   a.cfg.CheckRunName,
			Output: &github.CheckRunOutput{Title: out.Title, Summary: out.Summary, Annotations: rest[:n]},
		})
		if err != nil {
			return fmt.Errorf("githubapp: annotate check run %d: %w", id, err)
		}
		rest = rest[n:]
	}
	return nil
}

// conclusion is failure when rep has errors (a report-wide one such as a
// merge conflict included), Config.ChangesConclusion when it has changes,
// success otherwise.
func (a *App) conclusion(rep *diff.Report) string {
	switch {
	case rep.HasErrors():
		return "failure"
	case rep.HasChanges():
		return a.cfg.ChangesConclusion
	}
	return "success"
}

// checkOutput is the check run's title, summary (notes and the counts
// table) and text (the diffs, as much as fits).
func checkOutput(rep *diff.Report, fullComment bool) *github.CheckRunOutput {
	return &github.CheckRunOutput{
		Title:   github.String(checkTitle(rep) + classTitle(rep)),
		Summary: github.String(checkSummary(rep)),
		Text:    github.String(checkText(rep, fullComment)),
	}
}

// checkTitle says in a few words what the report found, ending with the
// blast-radius line (diff.BlastRadius) when anything was diffed: its short
// form, the totals with the HelmReleases' objects counted in; the summary's
// line tells them apart. A Kustomization counts as changed or failed by its
// own objects or those of its HelmReleases.
func checkTitle(rep *diff.Report) string {
	changed, failed := 0, 0
	for _, k := range rep.Kustomizations {
		errs, changes := errorCount(k), k.Counts.Created+k.Counts.Configured+k.Counts.Deleted
		for _, h := range k.HelmReleases {
			errs += helmErrorCount(h)
			changes += h.Counts.Created + h.Counts.Configured + h.Counts.Deleted
		}
		if errs > 0 {
			failed++
		}
		if changes > 0 {
			changed++
		}
	}
	blast := rep.BlastRadius().Short()
	switch {
	case rep.Error != "":
		return "The pull request could not be diffed"
	case len(rep.Kustomizations) == 0:
		return "No Flux Kustomization is affected"
	case failed > 0:
		return fmt.Sprintf("%s could not be fully diffed · %s", plural(failed, "Kustomization"), blast)
	case changed == 0:
		return "No changes · " + blast
	}
	return blast
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// checkSummary holds the report-wide error, the notes and the counts
// table; a table too long for the summary is cut between rows, saying so.
func checkSummary(rep *diff.Report) string {
	segs := append(append(reportPreamble(rep), countsSegments(rep)...), classSegments(rep)...)
	const more = "\n_The table is cut here: it is longer than GitHub allows in a check run summary._\n"
	parts := layout{limit: CheckRunTextLimit - len(more)}.pack(segs)
	if len(parts) > 1 {
		return parts[0] + more
	}
	return parts[0]
}

// checkText holds the diffs, as many as fit; past the limit it says where
// the rest is.
func checkText(rep *diff.Report, fullComment bool) string {
	segs := kustomizationSegments(rep)
	if len(segs) == 0 {
		return ""
	}
	more := "\n---\n_The diff is cut here: GitHub limits a check run's text to 65,535 characters._"
	if fullComment {
		more += " _The whole diff is in the pull request comment._"
	}
	more += "\n"
	parts := layout{limit: CheckRunTextLimit - len(more)}.pack(segs)
	if len(parts) > 1 {
		return parts[0] + more
	}
	return parts[0]
}

// splitRepo splits "owner/name".
func splitRepo(repo string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("githubapp: repository %q is not owner/name", repo)
	}
	return owner, name, nil
}

// isNotFound reports whether err is GitHub's 404.
func isNotFound(err error) bool {
	var e *github.ErrorResponse
	return errors.As(err, &e) && e.Response != nil && e.Response.StatusCode == http.StatusNotFound
}

// SupersededConclusion is the conclusion of a check run whose diff a newer
// push superseded: the commit was not diffed to a result. GitHub made
// "skipped" for checks that did not run ("If a check run or suite is never
// started, you'll see the skipped conclusion", GitHub changelog
// 2020-05-08, "Introducing the skipped check run and check suite
// conclusion"), and its status-check docs say a skipped check reports as
// passing and does not block merging, even when required ("About status
// checks"). "neutral" would claim a diff that was reached; "cancelled"
// (what the changelog gives checks stopped by hand) reads as a failure.
const SupersededConclusion = "skipped"

// SkipCheck completes the check run of repo ("owner/name") at headSHA
// that a superseded diff left queued or in progress, with
// SupersededConclusion and a summary naming newerSHA, the pull request's
// head that is diffed instead. The run is found as StartCheck finds it;
// when there is none, or it is completed already (the diff finished, or
// this was done before), nothing is sent but the look-up. Errors from
// GitHub or refs are wrapped.
func (a *App) SkipCheck(ctx context.Context, installationID int64, repo, headSHA, newerSHA string, refs Refs) error {
	hc, err := a.lookupCheck(ctx, installationID, repo, headSHA, refs)
	if err != nil || hc.run == nil || hc.run.GetStatus() == "completed" {
		return err
	}
	run, key := hc.run, hc.key
	conclusion := SupersededConclusion
	_, _, err = hc.gh.Checks.UpdateCheckRun(ctx, hc.owner, hc.name, run.GetID(), github.UpdateCheckRunOptions{
		Name: a.cfg.CheckRunName, Conclusion: &conclusion, CompletedAt: &github.Timestamp{Time: time.Now()},
		Output: &github.CheckRunOutput{
			Title: github.String("Superseded by " + shortSHA(newerSHA)),
			Summary: github.String(fmt.Sprintf("fluxdiff stopped diffing this commit: the pull request's head is now %s, "+
				"which is diffed instead. See that commit's check run for the diff.", newerSHA)),
		},
	})
	if err != nil {
		return fmt.Errorf("githubapp: skip check run %d of %s: %w", run.GetID(), key, err)
	}
	return nil
}
