package githubapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"

	"github.com/google/go-github/v55/github"
)

// MaxWebhookBytes caps how much of a webhook body is read: GitHub caps
// payloads at 25 MB ("Webhook payloads are capped at 25 MB", GitHub's
// webhook documentation), so anything longer is not from GitHub.
const MaxWebhookBytes = 25 << 20

// RerunActionID is the identifier of the check run's "Re-run" button
// (a check run requested action; GitHub limits identifiers to 20 chars).
const RerunActionID = "rerun"

// WebhookOptions configures NewWebhookHandler.
type WebhookOptions struct {
	// Secret is the App's webhook secret. Empty refuses every delivery
	// (go-github would skip verification otherwise).
	Secret []byte
	// AppID is the App's numeric ID: check_run and check_suite events
	// count only when the check belongs to this App. 0 ignores them.
	AppID int64
	// Dispatcher receives the verified requests.
	Dispatcher Dispatcher
	// Logger receives one line per delivery (debug for ignored ones,
	// error for dispatcher failures); nil discards.
	Logger *slog.Logger
	// SkipDrafts leaves draft pull requests alone until they are marked
	// ready for review.
	SkipDrafts bool
	// AllowForks diffs pull requests whose head lives in another
	// repository (a fork); off by default since a fork's author can make
	// the App build arbitrary manifests against the clusters.
	AllowForks bool
}

// NewWebhookHandler returns the handler of GitHub App webhook deliveries.
//
// It verifies the X-Hub-Signature-256 HMAC before parsing anything
// (401 when missing or wrong, 413 past MaxWebhookBytes), then routes by
// X-GitHub-Event: pull_request, issue_comment, check_run and check_suite
// become Dispatcher calls (202 Accepted; 503 when the Dispatcher fails);
// ping, installation and installation_repositories answer 200; any other
// event, or an action fluxdiff does not act on, answers 202 and is
// ignored. A verified body that is not the JSON the event promises
// answers 400. No GitHub API call is made on this path.
func NewWebhookHandler(opts WebhookOptions) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Dispatcher = checkedDispatcher{opts.Dispatcher}
	return &webhookHandler{opts: opts}
}

// checkedDispatcher refuses requests that no job could act on (no
// installation, repository, pull request or head), so that the sender gets
// 400 at once instead of a job that fails later.
type checkedDispatcher struct{ next Dispatcher }

func (c checkedDispatcher) DiffPR(ctx context.Context, r DiffRequest) error {
	if r.InstallationID <= 0 || r.Repo == "" || r.PR <= 0 || r.HeadSHA == "" {
		return fmt.Errorf("%w: the delivery names no installation, repository, pull request or head SHA", errBadPayload)
	}
	return c.next.DiffPR(ctx, r)
}

func (c checkedDispatcher) CancelPR(ctx context.Context, deliveryID, repo string, pr int) error {
	if repo == "" || pr <= 0 {
		return fmt.Errorf("%w: the delivery names no repository or pull request", errBadPayload)
	}
	return c.next.CancelPR(ctx, deliveryID, repo, pr)
}

func (c checkedDispatcher) Comment(ctx context.Context, cmd CommentCommand) error {
	if cmd.InstallationID <= 0 || cmd.Repo == "" || cmd.PR <= 0 || cmd.CommentID == 0 || cmd.User == "" {
		return fmt.Errorf("%w: the delivery names no installation, repository, pull request, comment or author", errBadPayload)
	}
	return c.next.Comment(ctx, cmd)
}

type webhookHandler struct {
	opts WebhookOptions
}

// delivery is one verified webhook delivery, handed to the event handlers.
type delivery struct {
	id      string
	event   string
	payload []byte
	log     *slog.Logger
}

// outcome is what an event handler decided; ServeHTTP turns it into a
// status code.
type outcome int

const (
	accepted outcome = iota // handed to the Dispatcher
	ignored                 // nothing to do
)

// errBadPayload marks a payload that does not decode; it answers 400.
var errBadPayload = errors.New("webhook payload does not decode")

func (h *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d := delivery{id: github.DeliveryID(r), event: github.WebHookType(r)}
	d.log = h.opts.Logger.With("delivery_id", d.id, "event", d.event)
	payload, status, err := h.verify(w, r)
	if err != nil {
		d.log.Warn("webhook rejected", "status", status, "err", err)
		http.Error(w, http.StatusText(status), status)
		return
	}
	d.payload = payload
	out, err := h.route(r, d)
	switch {
	case errors.Is(err, errBadPayload):
		d.log.Warn("webhook payload rejected", "err", err)
		http.Error(w, "payload does not decode", http.StatusBadRequest)
	case err != nil:
		d.log.Error("webhook dispatch failed", "err", err)
		http.Error(w, "could not queue the delivery", http.StatusServiceUnavailable)
	case out == ignored && isAppEvent(d.event):
		w.WriteHeader(http.StatusOK)
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

// verify reads at most MaxWebhookBytes and checks the SHA-256 signature.
// Only X-Hub-Signature-256 counts: go-github's ValidatePayload would fall
// back to the SHA-1 header, which GitHub keeps only for old integrations.
func (h *webhookHandler) verify(w http.ResponseWriter, r *http.Request) ([]byte, int, error) {
	if len(h.opts.Secret) == 0 {
		return nil, http.StatusUnauthorized, errors.New("no webhook secret is configured")
	}
	sig := r.Header.Get(github.SHA256SignatureHeader)
	if sig == "" {
		return nil, http.StatusUnauthorized, errors.New("missing X-Hub-Signature-256")
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, http.StatusUnauthorized, fmt.Errorf("content type: %w", err)
	}
	body := http.MaxBytesReader(w, r.Body, MaxWebhookBytes)
	payload, err := github.ValidatePayloadFromBody(ct, body, sig, h.opts.Secret)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, http.StatusRequestEntityTooLarge, err
	}
	if err != nil {
		return nil, http.StatusUnauthorized, err
	}
	return payload, http.StatusOK, nil
}

// route hands a verified delivery to its event's handler.
func (h *webhookHandler) route(r *http.Request, d delivery) (outcome, error) {
	ctx := r.Context()
	switch d.event {
	case "":
		return ignored, fmt.Errorf("%w: no X-GitHub-Event header", errBadPayload)
	case "pull_request":
		return h.pullRequest(ctx, d)
	case "issue_comment":
		return h.issueComment(ctx, d)
	case "check_run":
		return h.checkRun(ctx, d)
	case "check_suite":
		return h.checkSuite(ctx, d)
	case "ping", "installation", "installation_repositories":
		// Nothing to queue, but the payload must still be JSON.
		if !json.Valid(d.payload) {
			return ignored, errBadPayload
		}
		d.log.Debug("webhook acknowledged")
		return ignored, nil
	}
	d.log.Debug("webhook event ignored")
	return ignored, nil
}

// isAppEvent reports whether event is one GitHub sends about the App
// itself, answered 200 rather than 202.
func isAppEvent(event string) bool {
	return event == "ping" || event == "installation" || event == "installation_repositories"
}

// parse decodes d's payload into the go-github type of its event.
func parse[T any](d delivery) (*T, error) {
	ev, err := github.ParseWebHook(d.event, d.payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadPayload, err)
	}
	t, ok := ev.(*T)
	if !ok {
		return nil, fmt.Errorf("%w: %s decoded as %T", errBadPayload, d.event, ev)
	}
	return t, nil
}
