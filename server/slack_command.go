package server

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/google/go-github/v55/github"

	"github.com/fluxdiff/fluxdiff/chat"
	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/server/queue"
	"github.com/fluxdiff/fluxdiff/server/store"
)

// RunCommand implements queue.CommandRunner: it finds the Kustomization
// (with the closest names when there is none), resolves --github-ref to a
// pull request or branch through the GitHub App, diffs the Kustomization on
// every cluster that holds it (or --cluster's), stores the report and posts
// it in the channel where the command was typed. Mistakes are answered to
// the person alone (response_url) and not retried.
func (s *Slack) RunCommand(ctx context.Context, a queue.CommandArgs) error {
	log := s.log().With("team_id", a.TeamID, "channel_id", a.ChannelID, "user_id", a.UserID)
	cmd, err := chat.ParseCommand(a.Text)
	if err != nil || cmd.Help {
		s.tell(ctx, a.ResponseURL, chat.Usage)
		return nil
	}
	rep, err := s.commandReport(ctx, cmd, a.UserID)
	var ue *userError
	if errors.As(err, &ue) {
		s.tell(ctx, a.ResponseURL, ":warning: "+ue.msg)
		return nil
	}
	if err != nil {
		s.tell(ctx, a.ResponseURL, ":x: fluxdiff could not run `"+cmd.String()+"`; it will try again.")
		return err
	}
	id, err := s.saveReport(ctx, rep)
	if err != nil {
		return err
	}
	_, err = s.Chat.PostReport(ctx, chat.MessageRef{Channel: a.ChannelID}, chat.Message{Report: rep, ReportID: id})
	switch chat.SlackError(err) {
	case "":
	case "not_in_channel", "channel_not_found", "is_archived":
		s.tell(ctx, a.ResponseURL, ":warning: fluxdiff cannot post in this channel. Invite it (`/invite @fluxdiff`) and run the command again.")
		return nil
	default:
		return err
	}
	log.Info("slack command answered", "report_id", id, "kustomizations", len(rep.Kustomizations))
	return err
}

// tell answers the person who asked, alone; a failure is only logged.
func (s *Slack) tell(ctx context.Context, responseURL, text string) {
	if err := s.Chat.Respond(ctx, responseURL, chat.Response{Text: text}); err != nil {
		s.log().Warn("cannot answer on slack", "error", err.Error())
	}
}

// commandReport resolves and diffs the command's Kustomization.
func (s *Slack) commandReport(ctx context.Context, cmd chat.Command, userID string) (*diff.Report, error) {
	entries, err := s.findKustomization(cmd)
	if err != nil {
		return nil, err
	}
	repo, branch, err := entrySource(entries)
	if err != nil {
		return nil, err
	}
	src, err := s.resolveSource(ctx, cmd.Ref, repo, branch)
	if err != nil {
		return nil, err
	}
	rep := s.newCommandReport(src, entries, userID)
	if src.pr != nil && src.branch != branch && branch != "" {
		rep.Notes = append(rep.Notes, fmt.Sprintf("Pull request #%d merges into `%s`, but this Kustomization follows `%s`: merging it would not change what Flux applies here.", src.pr.Number, src.branch, branch))
	}
	if cmd.Path != "" {
		rep.Notes = append(rep.Notes, fmt.Sprintf("Built from path `%s` instead of each Kustomization's spec.path (--path).", cmd.Path))
	}
	if err := s.diffEntries(ctx, rep, src, entries, cmd.Path); err != nil {
		return nil, err
	}
	return rep, nil
}

func (s *Slack) newCommandReport(src source, entries []*kube.Entry, userID string) *diff.Report {
	rep := &diff.Report{SchemaVersion: diff.SchemaVersion, Created: s.now().UTC(), Kustomizations: []diff.KustomizationReport{}}
	for _, cl := range s.Pipeline.Clusters {
		if slices.ContainsFunc(entries, func(e *kube.Entry) bool { return e.Cluster == cl.Name }) {
			rep.Clusters = append(rep.Clusters, cl.Name)
		}
	}
	info := diff.PullRequestInfo{InstallationID: src.installationID, Repo: src.repo, BaseRef: src.branch, HeadSHA: src.sha}
	if src.pr != nil {
		info = src.pr.Info(src.installationID)
	}
	info.Trigger, info.RequestedBy = "slack", chat.SlackRequester(userID)
	rep.PullRequest = &info
	return rep
}

// diffEntries diffs each entry on its cluster at src, with path instead of
// spec.path when set, into rep's rows and notes. A pull request's changes
// are classified against its base branch as the pipeline's are (the same
// base tree, from the same cache); a branch head's are not. Entries that
// cannot be diffed are rows saying why.
func (s *Slack) diffEntries(ctx context.Context, rep *diff.Report, src source, entries []*kube.Entry, path string) error {
	p := s.Pipeline
	gh, err := s.GitHub.Installation(src.installationID)
	if err != nil {
		return err
	}
	hc, err := s.GitHub.InstallationHTTPClient(src.installationID)
	if err != nil {
		return err
	}
	tree, err := p.Sources.Tree(ctx, hc, gh, src.repo, src.sha)
	if err != nil {
		return fmt.Errorf("source of %s at %s: %w", src.repo, src.sha, err)
	}
	defer tree.Release()
	arts := kube.NewArtifactTrees(tree.Dir) // ExternalArtifacts assembled from the tree
	defer func() { _ = arts.Close() }()
	defs, err := s.definitions(ctx, src, tree.Dir, arts)
	if err != nil {
		return err
	}
	targets, rows, notes := commandTargets(ctx, entries, defs, path, arts)
	base, releaseBase := s.commandBase(ctx, hc, gh, src, targets, rep)
	defer releaseBase()
	roots, closeBase := withBase(tree.Dir, base)
	defer closeBase()
	var down []kube.ClusterStatus
	for _, st := range p.Watcher.Status() {
		if !st.OK() {
			down = append(down, st)
		}
	}
	diffed, downNotes := p.diffTargets(ctx, queue.PRJob{}, roots, targets, down)
	if err := ctx.Err(); err != nil {
		return err
	}
	rep.Notes = append(append(rep.Notes, notes...), downNotes...)
	rep.Kustomizations = append(diffed, rows...)
	return nil
}

// commandTargets returns the targets of a command's entries, each with its
// definition in defs and path instead of spec.path when set, and pointed at
// its ExternalArtifact assembled by arts when it reads one; entries that
// cannot be diffed are rows saying why, artifacts that cannot be assembled
// notes.
func commandTargets(ctx context.Context, entries []*kube.Entry, defs map[kube.ObjectKey]*kustomizev1.Kustomization, path string, arts *kube.ArtifactTrees) ([]target, []diff.KustomizationReport, []string) {
	var targets []target
	var rows []diff.KustomizationReport
	for _, e := range entries {
		if !e.Diffable() {
			rows = append(rows, errorRows(e.Cluster, []target{{entry: e}}, e.Reason)...)
			continue
		}
		t := target{entry: e, definition: defs[e.ObjectKey]}
		if path != "" {
			t.definition = cmp.Or(t.definition, e.Kustomization).DeepCopy()
			t.definition.Spec.Path = path
		}
		targets = append(targets, t)
	}
	targets, notes := onArtifacts(ctx, targets, arts)
	return targets, rows, notes
}

// commandBase returns the base tree a command's diff is classified
// against and its release: a pull request's, as Pipeline.baseTree fetches
// it for the webhook's diff. A branch head has no base to tell its changes
// from drift: rep then says so in one note and the changes are left
// unclassified.
func (s *Slack) commandBase(ctx context.Context, hc *http.Client, gh *github.Client, src source, ts []target, rep *diff.Report) (string, func()) {
	if src.pr != nil {
		log := s.log().With("installation_id", src.installationID, "repo", src.repo, "pr", src.pr.Number, "sha", src.sha)
		return s.Pipeline.baseTree(ctx, hc, gh, src.repo, src.pr.MergeSHA, ts, rep, log)
	}
	if len(ts) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("Changes are not told apart from drift: `%s` at `%s` is a branch head, "+
			"not a pull request, so there is no base branch to compare it with.", src.branch, short(src.sha)))
	}
	return "", func() {}
}

// definitions returns the Kustomizations as a pull request's merge result
// defines them (a pull request may change a Kustomization's own spec), as
// the pipeline's selection finds them; none for a branch head, which the
// cluster's spec describes.
func (s *Slack) definitions(ctx context.Context, src source, root string, arts *kube.ArtifactTrees) (map[kube.ObjectKey]*kustomizev1.Kustomization, error) {
	if src.pr == nil {
		return nil, nil
	}
	pr := src.pr
	picked, err := s.Pipeline.Selector.Select(ctx, kube.SelectRequest{
		Root: root, Commit: pr.MergeSHA, Base: pr.BaseSHA, Changes: fileChanges(pr.Files),
		Candidates: s.Pipeline.Watcher.Lookup(pr.BaseRepoURL, pr.BaseRef).Entries, Artifacts: arts,
	})
	if err != nil {
		return nil, fmt.Errorf("select the Kustomizations %s#%d affects: %w", pr.Repo, pr.Number, err)
	}
	defs := map[kube.ObjectKey]*kustomizev1.Kustomization{}
	for _, sel := range picked {
		if sel.Definition != nil && !sel.New {
			defs[sel.Entry.ObjectKey] = sel.Definition
		}
	}
	return defs, nil
}

// saveReport stores rep and returns its ID.
func (s *Slack) saveReport(ctx context.Context, rep *diff.Report) (int64, error) {
	body, err := json.Marshal(rep)
	if err != nil {
		return 0, fmt.Errorf("encode report: %w", err)
	}
	pr := rep.PullRequest
	return s.Store.SaveReport(ctx, store.Report{
		Repo: pr.Repo, PR: pr.Number, HeadSHA: pr.HeadSHA, MergeSHA: cmp.Or(pr.MergeSHA, pr.HeadSHA),
		Clusters: rep.Clusters, Created: rep.Created, Body: body,
	})
}

// expired reports whether a report made at created no longer takes button
// presses.
func (s *Slack) expired(created time.Time) bool {
	return s.now().Sub(created) > s.reportTTL()
}
