package chat

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
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

// InteractionQueue takes button clicks to act on later (e.g. a durable
// job queue, so that a click survives a restart). It must return quickly:
// the handler acknowledges Slack within its 3-second limit. A click Slack
// sends again (same TeamID and TriggerID) should be queued once.
type InteractionQueue interface {
	EnqueueInteraction(ctx context.Context, in Interaction) error
}

// InteractionsHandler answers POST /slack/interactions (put Verify in
// front): it enqueues a click on a fluxdiff button and acknowledges it
// with 200, as Slack requires within 3 s (docs.slack.dev, "Handling user
// interaction"); whoever works the queue acts and answers the user. A
// click that cannot be queued is answered 503, which Slack shows the user
// as an error. Other payloads and View PR (a link) are acknowledged and
// dropped. log receives refusals and enqueue failures.
func InteractionsHandler(q InteractionQueue, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
			log.Warn("slack interaction refused", "error", err.Error())
			http.Error(w, "bad interaction payload", http.StatusBadRequest)
			return
		case in.Action == ActionViewPR: // a link button: Slack opens it
			w.WriteHeader(http.StatusOK)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), enqueueTimeout)
		defer cancel()
		if err := q.EnqueueInteraction(ctx, in); err != nil {
			log.Error("slack interaction: enqueue failed", "action", in.Action, "report_id", in.ReportID,
				"user_id", in.UserID, "channel_id", in.Message.Channel, "error", err.Error())
			http.Error(w, "fluxdiff could not queue this click; try again", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}
