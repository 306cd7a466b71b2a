package queue

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Queue names inside river.
const (
	queueDiff        = "diff"
	queueCommand     = "command"
	queueMaintenance = "maintenance"
)

// PRDiffArgs asks for the diff of a pull request at a head SHA. A request
// for the SHA whose job is the pull request's head and still queued or
// running adds no job (see Queue.EnqueuePRDiff).
type PRDiffArgs struct {
	// InstallationID is the GitHub App installation to act as.
	InstallationID int64 `json:"installation_id"`
	// Repo is "owner/name".
	Repo string `json:"repo"`
	// PR is the pull request number.
	PR int `json:"pr"`
	// HeadSHA is the head commit to diff.
	HeadSHA string `json:"head_sha"`
	// DeliveryID is the GitHub delivery that asked, for de-duplication and
	// logs; empty when the diff was asked otherwise.
	DeliveryID string `json:"delivery_id,omitempty"`
	// Trigger says what asked, e.g. "pull_request.synchronize" or "slack".
	Trigger string `json:"trigger,omitempty"`
	// RequestedBy names the person who asked, when one did.
	RequestedBy string `json:"requested_by,omitempty"`
	// Only narrows the diff to one Kustomization or cluster; the zero
	// value diffs everything the pull request affects.
	Only Filter `json:"only,omitzero"`
	// Rerun marks a diff a person asked for (a re-run button, a comment),
	// or one asked for because the base branch changed: it is queued even
	// when a job of the same SHA is queued or running, which it then
	// supersedes, since the person may have changed the cluster, or the
	// merge result has changed, since that job started.
	Rerun bool `json:"rerun,omitempty"`
	// Supersedes is set by EnqueuePRDiff: the head SHA of the job this one
	// superseded while that job waited between attempts. That job is
	// cancelled without running again, so this one hands it to
	// Handlers.Superseded (its check run may be in progress).
	Supersedes string `json:"supersedes,omitempty"`
}

// Filter narrows a diff. Empty fields match everything.
type Filter struct {
	// Kustomization and Namespace name one Kustomization (Namespace empty:
	// flux-system).
	Kustomization string `json:"kustomization,omitempty"`
	Namespace     string `json:"namespace,omitempty"`
	// Cluster is a configured cluster name.
	Cluster string `json:"cluster,omitempty"`
}

// Kind is the river job kind.
func (PRDiffArgs) Kind() string { return "pr_diff" }

func (a PRDiffArgs) validate() error {
	var problems []error
	if owner, name, ok := strings.Cut(a.Repo, "/"); !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		problems = append(problems, fmt.Errorf("repo %q is not owner/name", a.Repo))
	}
	if a.PR <= 0 {
		problems = append(problems, fmt.Errorf("pull request number %d is not positive", a.PR))
	}
	if a.HeadSHA == "" {
		problems = append(problems, errors.New("head SHA is empty"))
	}
	if err := errors.Join(problems...); err != nil {
		return Permanent(fmt.Errorf("invalid diff request: %w", err))
	}
	return nil
}

// CommandArgs asks to run a Slack slash command.
type CommandArgs struct {
	// TeamID, ChannelID and UserID say where and by whom it was typed.
	TeamID    string `json:"team_id"`
	ChannelID string `json:"channel_id"`
	UserID    string `json:"user_id"`
	// Text is what followed the command.
	Text string `json:"text"`
	// ResponseURL is where Slack accepts the answer.
	ResponseURL string `json:"response_url"`
}

// Kind is the river job kind.
func (CommandArgs) Kind() string { return "slack_command" }

func (a CommandArgs) validate() error {
	if a.TeamID == "" || a.UserID == "" || a.ResponseURL == "" {
		return Permanent(errors.New("invalid slack command: team, user and response URL are required"))
	}
	return nil
}

// CommentArgs asks to handle a "/flux-diff" comment on a pull request: check
// the author may ask, then queue the diff (see CommentRunner).
type CommentArgs struct {
	DeliveryID     string `json:"delivery_id"`
	InstallationID int64  `json:"installation_id"`
	// Repo is "owner/name"; PR the pull request number.
	Repo string `json:"repo"`
	PR   int    `json:"pr"`
	// CommentID is the comment's ID; User its author's login; Body its text.
	CommentID int64  `json:"comment_id"`
	User      string `json:"user"`
	Body      string `json:"body"`
}

// Kind is the river job kind.
func (CommentArgs) Kind() string { return "github_comment" }

func (a CommentArgs) validate() error {
	if a.Repo == "" || a.PR <= 0 || a.CommentID == 0 || a.User == "" {
		return Permanent(errors.New("invalid comment command: repo, pull request, comment ID and user are required"))
	}
	return nil
}

// InteractionArgs asks to act on a click of a report message's button
// (Post diff to PR, Approve PR; see InteractionRunner). It carries what
// the click's payload said, so that the job runs the same after a restart.
type InteractionArgs struct {
	// Action is the button's action ID (chat.ActionPostToPR, ...).
	Action string `json:"action"`
	// ReportID is the stored report the message shows.
	ReportID int64 `json:"report_id"`
	// TeamID, UserID and UserName say who clicked.
	TeamID   string `json:"team_id"`
	UserID   string `json:"user_id"`
	UserName string `json:"user_name,omitempty"`
	// ChannelID and MessageTS name the message; MessageTS is empty for an
	// ephemeral one.
	ChannelID string `json:"channel_id"`
	MessageTS string `json:"message_ts,omitempty"`
	// Blocks are the message's Block Kit blocks as Slack sent them (a JSON
	// array), so that the message can be updated in place.
	Blocks json.RawMessage `json:"blocks,omitempty"`
	// ResponseURL is where Slack accepts answers to the user.
	ResponseURL string `json:"response_url"`
}

// Kind is the river job kind.
func (InteractionArgs) Kind() string { return "slack_interaction" }

func (a InteractionArgs) validate() error {
	if a.Action == "" || a.ReportID <= 0 || a.UserID == "" {
		return Permanent(errors.New("invalid slack interaction: action, report ID and user are required"))
	}
	return nil
}
