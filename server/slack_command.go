package server

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"

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
	rows, notes, err := s.diffEntries(ctx, src, entries, cmd.Path)
	if err != nil {
		return nil, err
	}
	rep.Notes = append(rep.Notes, notes...)
	rep.Kustomizations = rows
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
// spec.path when set. Entries that cannot be diffed are rows saying why.
func (s *Slack) diffEntries(ctx context.Context, src source, entries []*kube.Entry, path string) ([]diff.KustomizationReport, []string, error) {
	p := s.Pipeline
	gh, err := s.GitHub.Installation(src.installationID)
	if err != nil {
		return nil, nil, err
	}
	hc, err := s.GitHub.InstallationHTTPClient(src.installationID)
	if err != nil {
		return nil, nil, err
	}
	tree, err := p.Sources.Tree(ctx, hc, gh, src.repo, src.sha)
	if err != nil {
		return nil, nil, fmt.Errorf("source of %s at %s: %w", src.repo, src.sha, err)
	}
	defer tree.Release()
	defs, err := s.definitions(ctx, src, tree.Dir)
	if err != nil {
		return nil, nil, err
	}
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
	var down []kube.ClusterStatus
	for _, st := range p.Watcher.Status() {
		if !st.OK() {
			down = append(down, st)
		}
	}
	diffed, notes := p.diffTargets(ctx, queue.PRJob{}, trees{merge: tree.Dir}, targets, down)
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	return append(diffed, rows...), notes, nil
}

// definitions returns the Kustomizations as a pull request's merge result
// defines them (a pull request may change a Kustomization's own spec), as
// the pipeline's selection finds them; none for a branch head, which the
// cluster's spec describes.
func (s *Slack) definitions(ctx context.Context, src source, root string) (map[kube.ObjectKey]*kustomizev1.Kustomization, error) {
	if src.pr == nil {
		return nil, nil
	}
	pr := src.pr
	picked, err := s.Pipeline.Selector.Select(ctx, kube.SelectRequest{
		Root: root, Commit: pr.MergeSHA, Base: pr.BaseSHA, Changes: fileChanges(pr.Files),
		Candidates: s.Pipeline.Watcher.Lookup(pr.BaseRepoURL, pr.BaseRef).Entries,
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
