package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// CommandRequest is a /flux-diff command to run in the background.
type CommandRequest struct {
	// TeamID, ChannelID and UserID say where and by whom it was typed;
	// UserName is the user's handle.
	TeamID, ChannelID, UserID, UserName string
	// Text is the command text as Slack sent it; Command its parse.
	Text    string
	Command Command
	// ResponseURL answers the user (Client.Respond).
	ResponseURL string
	// TriggerID is unique per invocation: a de-duplication key.
	TriggerID string
}

// CommandQueue takes commands to run later. It must return quickly: the
// handler answers Slack within its 3-second limit.
type CommandQueue interface {
	EnqueueCommand(ctx context.Context, req CommandRequest) error
}

// enqueueTimeout bounds the enqueue, so that Slack always gets an answer
// within its 3 s (docs.slack.dev, "Implementing slash commands").
const enqueueTimeout = 2 * time.Second

// CommandsHandler answers POST /slack/commands (put Verify in front): help
// and mistakes get an ephemeral usage message at once; a valid command is
// enqueued and answered with an ephemeral "Running …" line. log receives
// enqueue failures.
func CommandsHandler(q CommandQueue, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc, err := slack.SlashCommandParse(r)
		if err != nil || sc.UserID == "" || sc.ResponseURL == "" {
			http.Error(w, "not a slash command request", http.StatusBadRequest)
			return
		}
		cmd, err := ParseCommand(sc.Text)
		var ue *UsageError
		switch {
		case errors.As(err, &ue):
			writeEphemeral(w, ":warning: "+esc(ue.Problem)+"\n\n"+Usage)
			return
		case err != nil:
			writeEphemeral(w, ":warning: "+esc(err.Error()))
			return
		case cmd.Help:
			writeEphemeral(w, Usage)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), enqueueTimeout)
		defer cancel()
		err = q.EnqueueCommand(ctx, CommandRequest{
			TeamID: sc.TeamID, ChannelID: sc.ChannelID, UserID: sc.UserID, UserName: sc.UserName,
			Text: sc.Text, Command: cmd, ResponseURL: sc.ResponseURL, TriggerID: sc.TriggerID,
		})
		if err != nil {
			log.Error("slack command: enqueue failed", "user_id", sc.UserID, "channel_id", sc.ChannelID, "error", err.Error())
			writeEphemeral(w, ":x: fluxdiff could not queue `"+esc(cmd.String())+"`; please try again in a moment.")
			return
		}
		writeEphemeral(w, ":hourglass_flowing_sand: Running `"+esc(cmd.String())+"` … the result will be posted in this channel.")
	})
}

func writeEphemeral(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"response_type": slack.ResponseTypeEphemeral, "text": text})
}

// InteractionRunner acts on a button click. It answers the user itself
// (Client.Respond, Client.Reply); its error is only logged.
type InteractionRunner interface {
	RunInteraction(ctx context.Context, in Interaction) error
}

// InteractionsOptions configures an InteractionsHandler.
type InteractionsOptions struct {
	// Logger receives failures; required.
	Logger *slog.Logger
	// Workers bounds the interactions run at once (default 4); a click
	// beyond it is answered 503 and Slack shows the user an error.
	Workers int
	// Timeout bounds one interaction (default 2 minutes).
	Timeout time.Duration
}

// InteractionsHandler answers POST /slack/interactions (put Verify in
// front): it acknowledges a click at once, as Slack requires within 3 s,
// and runs it in the background, at most Workers at a time.
type InteractionsHandler struct {
	run  InteractionRunner
	opts InteractionsOptions
	sem  chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex
	closed bool
}

// NewInteractionsHandler returns the handler; call Wait on shutdown.
func NewInteractionsHandler(run InteractionRunner, opts InteractionsOptions) *InteractionsHandler {
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	return &InteractionsHandler{run: run, opts: opts, sem: make(chan struct{}, opts.Workers)}
}

// ServeHTTP implements http.Handler.
func (h *InteractionsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	in, err := ParseInteraction([]byte(r.PostForm.Get("payload")))
	switch {
	case errors.Is(err, ErrNotOurs):
		w.WriteHeader(http.StatusOK)
		return
	case err != nil:
		h.opts.Logger.Warn("slack interaction refused", "error", err.Error())
		http.Error(w, "bad interaction payload", http.StatusBadRequest)
		return
	case in.Action == ActionViewPR: // a link button: Slack opens it
		w.WriteHeader(http.StatusOK)
		return
	}
	if !h.start(in) {
		http.Error(w, "fluxdiff is busy; try again", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// start runs in in the background if a worker is free.
func (h *InteractionsHandler) start(in Interaction) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	select {
	case h.sem <- struct{}{}:
	default:
		return false
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer func() { <-h.sem }()
		ctx, cancel := context.WithTimeout(context.Background(), h.opts.Timeout)
		defer cancel()
		log := h.opts.Logger.With("action", in.Action, "report_id", in.ReportID, "user_id", in.UserID, "channel_id", in.Message.Channel)
		defer func() {
			if p := recover(); p != nil {
				log.Error("slack interaction panicked", "panic", fmt.Sprint(p))
			}
		}()
		if err := h.run.RunInteraction(ctx, in); err != nil {
			log.Error("slack interaction failed", "error", err.Error())
			return
		}
		log.Info("slack interaction done")
	}()
	return true
}

// Wait refuses new clicks and waits for running ones until ctx ends.
func (h *InteractionsHandler) Wait(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
