package githubapp

import "context"

// Filter narrows a diff to some Kustomizations; the zero Filter diffs every
// affected Kustomization. It comes from a "/flux-diff kustomization NAME
// [-n NS] [--cluster C]" comment.
type Filter struct {
	// Kustomization is a Kustomization name; empty means all.
	Kustomization string `json:"kustomization,omitempty"`
	// Namespace is the Kustomization's namespace; empty means flux-system
	// when Kustomization is set.
	Namespace string `json:"namespace,omitempty"`
	// Cluster is a configured cluster name; empty means every cluster.
	Cluster string `json:"cluster,omitempty"`
}

// DiffRequest asks for the diff of a pull request at a head SHA. It is what
// a verified webhook turns into; the Dispatcher queues it.
type DiffRequest struct {
	// DeliveryID is the X-GitHub-Delivery header, for de-duplication and
	// logs; empty when the request did not come from a webhook delivery.
	DeliveryID string `json:"delivery_id,omitempty"`
	// InstallationID is the App installation that received the event.
	InstallationID int64 `json:"installation_id"`
	// Repo is "owner/name".
	Repo string `json:"repo"`
	// PR is the pull request number.
	PR int `json:"pr"`
	// HeadSHA is the head commit to diff.
	HeadSHA string `json:"head_sha"`
	// Trigger is "event.action", e.g. "pull_request.synchronize".
	Trigger string `json:"trigger"`
	// RequestedBy is the login of the person who asked (comment author,
	// re-run requester); empty for automatic runs.
	RequestedBy string `json:"requested_by,omitempty"`
	// Filter narrows the diff.
	Filter Filter `json:"filter,omitzero"`
}

// CommentCommand is a "/flux-diff" comment on a pull request, verified but
// not yet checked: the author's permission is asked of GitHub later, off
// the webhook's path (see App.HandleComment).
type CommentCommand struct {
	DeliveryID     string `json:"delivery_id"`
	InstallationID int64  `json:"installation_id"`
	// Repo is "owner/name"; PR the pull request (issue) number.
	Repo string `json:"repo"`
	PR   int    `json:"pr"`
	// CommentID is the comment's ID (to react to it); User its author's login.
	CommentID int64  `json:"comment_id"`
	User      string `json:"user"`
	// Body is the comment text.
	Body string `json:"body"`
}

// Dispatcher receives what verified webhooks ask for. It must be quick (it
// runs on the webhook's request path): the server implements it by
// enqueueing durable jobs. An error makes the webhook answer 503.
type Dispatcher interface {
	// DiffPR queues a diff; a delivery seen before adds nothing.
	DiffPR(ctx context.Context, req DiffRequest) error
	// CancelPR drops queued or running work for a closed pull request.
	CancelPR(ctx context.Context, deliveryID, repo string, pr int) error
	// Comment queues a /flux-diff comment for App.HandleComment.
	Comment(ctx context.Context, cmd CommentCommand) error
}

// Kinds of published reference (see Refs). They match server/store's.
const (
	RefPRComment = "pr-comment"
	RefCheckRun  = "check-run"
)

// Refs remembers what the app published (comment and check run IDs), so
// that publishing again updates instead of adding. The server adapts its
// store to it.
type Refs interface {
	// Ref returns the external ID saved under kind and key; found is false
	// when there is none.
	Ref(ctx context.Context, kind, key string) (externalID string, found bool, err error)
	// SaveRef saves externalID under kind and key, with the report last
	// published there (0: none).
	SaveRef(ctx context.Context, kind, key, externalID string, reportID int64) error
}
