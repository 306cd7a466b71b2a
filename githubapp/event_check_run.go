package githubapp

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/go-github/v55/github"
)

// checkRun handles a check_run delivery: "Re-run" on one of this App's
// check runs (action rerequested) or its RerunActionID button (action
// requested_action) queues a diff of the run's head SHA for each of its
// pull requests.
func (h *webhookHandler) checkRun(ctx context.Context, d delivery) (outcome, error) {
	ev, err := parse[github.CheckRunEvent](d)
	if err != nil {
		return ignored, err
	}
	run, action := ev.GetCheckRun(), ev.GetAction()
	log := d.log.With("repo", ev.GetRepo().GetFullName(), "action", action)
	var button string
	if ra := ev.GetRequestedAction(); ra != nil {
		button = ra.Identifier
	}
	switch {
	case action == "requested_action" && button != RerunActionID:
		log.Debug("check run action ignored", "identifier", button)
		return ignored, nil
	case action != "rerequested" && action != "requested_action":
		log.Debug("check run action ignored")
		return ignored, nil
	case h.opts.AppID == 0 || run.GetApp().GetID() != h.opts.AppID:
		log.Debug("check run of another app ignored", "app_id", run.GetApp().GetID())
		return ignored, nil
	}
	return h.rerun(ctx, d, rerunEvent{
		trigger:      "check_run." + action,
		installation: ev.GetInstallation().GetID(),
		repo:         ev.GetRepo(),
		headSHA:      run.GetHeadSHA(),
		prs:          run.PullRequests,
		sender:       ev.GetSender().GetLogin(),
	}, log)
}

// checkSuite handles a check_suite delivery: "Re-run all checks" on this
// App's suite (action rerequested) queues diffs like checkRun.
func (h *webhookHandler) checkSuite(ctx context.Context, d delivery) (outcome, error) {
	ev, err := parse[github.CheckSuiteEvent](d)
	if err != nil {
		return ignored, err
	}
	suite, action := ev.GetCheckSuite(), ev.GetAction()
	log := d.log.With("repo", ev.GetRepo().GetFullName(), "action", action)
	switch {
	case action != "rerequested":
		log.Debug("check suite action ignored")
		return ignored, nil
	case h.opts.AppID == 0 || suite.GetApp().GetID() != h.opts.AppID:
		log.Debug("check suite of another app ignored", "app_id", suite.GetApp().GetID())
		return ignored, nil
	}
	return h.rerun(ctx, d, rerunEvent{
		trigger:      "check_suite." + action,
		installation: ev.GetInstallation().GetID(),
		repo:         ev.GetRepo(),
		headSHA:      suite.GetHeadSHA(),
		prs:          suite.PullRequests,
		sender:       ev.GetSender().GetLogin(),
	}, log)
}

// rerunEvent is what check_run and check_suite re-runs share.
type rerunEvent struct {
	trigger      string
	installation int64
	repo         *github.Repository
	headSHA      string
	prs          []*github.PullRequest
	sender       string
}

// rerun queues one diff per pull request of the check. GitHub lists only
// pull requests whose head branch is in the repository itself (the list
// is empty for forks), and may list pull requests of other repositories
// sharing the commit: those are skipped. With several pull requests the
// delivery ID gets a "/pr-N" suffix so that de-duplication by delivery
// keeps each of them.
func (h *webhookHandler) rerun(ctx context.Context, d delivery, ev rerunEvent, log *slog.Logger) (outcome, error) {
	repo := ev.repo.GetFullName()
	if repo == "" || ev.headSHA == "" {
		return ignored, fmt.Errorf("%w: %s without repository or head SHA", errBadPayload, ev.trigger)
	}
	var reqs []DiffRequest
	for _, pr := range ev.prs {
		if id := pr.GetBase().GetRepo().GetID(); id != 0 && ev.repo.GetID() != 0 && id != ev.repo.GetID() {
			continue
		}
		reqs = append(reqs, DiffRequest{
			DeliveryID:     d.id,
			InstallationID: ev.installation,
			Repo:           repo,
			PR:             pr.GetNumber(),
			HeadSHA:        ev.headSHA,
			Trigger:        ev.trigger,
			RequestedBy:    ev.sender,
		})
	}
	if len(reqs) == 0 {
		log.Debug("re-run ignored: the check names no pull request of this repository", "sha", ev.headSHA)
		return ignored, nil
	}
	for _, req := range reqs {
		if len(reqs) > 1 {
			req.DeliveryID = fmt.Sprintf("%s/pr-%d", d.id, req.PR)
		}
		if err := h.opts.Dispatcher.DiffPR(ctx, req); err != nil {
			return ignored, fmt.Errorf("queue diff of %s#%d: %w", repo, req.PR, err)
		}
		log.Debug("re-run queued", "pr", req.PR, "sha", req.HeadSHA)
	}
	return accepted, nil
}
