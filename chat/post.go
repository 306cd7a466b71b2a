package chat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/fluxdiff/fluxdiff/diff"
)

// ClientOptions configures a Client.
type ClientOptions struct {
	// Token is the bot token (xoxb-…); required.
	Token string
	// APIURL is the Web API root with a trailing slash; empty means
	// https://slack.com/api/.
	APIURL string
	// HTTPClient makes the requests; nil means one with a 30 s timeout.
	HTTPClient *http.Client
}

// Client posts, updates and uploads through Slack's Web API, and answers
// response URLs.
type Client struct {
	api *slack.Client
	hc  *http.Client
}

// NewClient builds a Client. Rate-limited calls (429) are retried up to
// three times after Retry-After; other failures are returned (a post is
// never sent twice by the client: the caller's job retries decide).
func NewClient(opts ClientOptions) (*Client, error) {
	if opts.Token == "" {
		return nil, errors.New("chat: slack bot token is empty")
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	slackOpts := []slack.Option{slack.OptionHTTPClient(hc)}
	if opts.APIURL != "" {
		slackOpts = append(slackOpts, slack.OptionAPIURL(opts.APIURL))
	}
	slackOpts = append(slackOpts, slack.OptionRetry(3))
	return &Client{api: slack.New(opts.Token, slackOpts...), hc: hc}, nil
}

// MessageRef identifies a posted message: its channel ID and ts.
type MessageRef struct {
	Channel string
	TS      string
}

// String is "channel/ts", the form stored as a published reference.
func (r MessageRef) String() string { return r.Channel + "/" + r.TS }

// ParseMessageRef parses "channel/ts".
func ParseMessageRef(s string) (MessageRef, error) {
	ch, ts, ok := strings.Cut(s, "/")
	if !ok || ch == "" || ts == "" {
		return MessageRef{}, fmt.Errorf("chat: %q is not channel/ts", s)
	}
	return MessageRef{Channel: ch, TS: ts}, nil
}

// PostReport shows m in Slack and returns where: a new message in
// ref.Channel when ref.TS is empty, else message ref replaced in place
// (chat.update). When the report does not fit Slack's limits, the full
// report (diff.WriteText) is uploaded into the message's thread and the
// message is updated to link it (Message.FileLink), so nothing is cut
// silently.
func (c *Client) PostReport(ctx context.Context, ref MessageRef, m Message) (MessageRef, error) {
	r := Render(m)
	ref, err := c.put(ctx, ref, r.Blocks, r.Text)
	if err != nil || !r.NeedsFile() || m.FileLink != "" {
		return ref, err
	}
	name := ReportFileName(m.Report, m.ReportID)
	link, err := c.UploadReport(ctx, ref, m.Report, name)
	if err != nil {
		return ref, err
	}
	m.FileLink, m.FileName = link, name
	r = Render(m)
	return c.put(ctx, ref, r.Blocks, r.Text)
}

// put posts (ref.TS empty) or updates a message.
func (c *Client) put(ctx context.Context, ref MessageRef, blocks []slack.Block, text string) (MessageRef, error) {
	opts := []slack.MsgOption{slack.MsgOptionBlocks(blocks...), slack.MsgOptionText(text, false), slack.MsgOptionDisableLinkUnfurl()}
	if ref.TS == "" {
		ch, ts, err := c.api.PostMessageContext(ctx, ref.Channel, opts...)
		if err != nil {
			return ref, fmt.Errorf("chat: post to %s: %w", ref.Channel, err)
		}
		return MessageRef{Channel: ch, TS: ts}, nil
	}
	ch, ts, _, err := c.api.UpdateMessageContext(ctx, ref.Channel, ref.TS, opts...)
	if err != nil {
		return ref, fmt.Errorf("chat: update %s: %w", ref, err)
	}
	return MessageRef{Channel: ch, TS: ts}, nil
}

// Update replaces the blocks of message ref (chat.update).
func (c *Client) Update(ctx context.Context, ref MessageRef, blocks []slack.Block, text string) error {
	_, err := c.put(ctx, ref, blocks, text)
	return err
}

// Reply posts text as a reply in the thread of message ref.
func (c *Client) Reply(ctx context.Context, ref MessageRef, text string) error {
	_, _, err := c.api.PostMessageContext(ctx, ref.Channel, slack.MsgOptionTS(ref.TS), slack.MsgOptionText(text, false))
	if err != nil {
		return fmt.Errorf("chat: reply to %s: %w", ref, err)
	}
	return nil
}

// ReportFileName names the uploaded full report, e.g.
// "fluxdiff-acme-fleet-pr12-report7.txt".
func ReportFileName(r *diff.Report, reportID int64) string {
	name := "fluxdiff"
	if pr := r.PullRequest; pr != nil {
		name += "-" + strings.ReplaceAll(pr.Repo, "/", "-")
		if pr.Number > 0 {
			name += fmt.Sprintf("-pr%d", pr.Number)
		}
	}
	if reportID != 0 {
		name += fmt.Sprintf("-report%d", reportID)
	}
	return name + ".txt"
}

// UploadReport uploads the whole report as text (diff.WriteText, the
// rendering of `flux diff`) into the thread of message ref and returns the
// file's permalink (slack-go UploadFile, formerly UploadFileV2: files.getUploadURLExternal,
// the upload, files.completeUploadExternal; then files.info).
func (c *Client) UploadReport(ctx context.Context, ref MessageRef, r *diff.Report, name string) (string, error) {
	var buf bytes.Buffer
	if err := diff.WriteText(&buf, r); err != nil {
		return "", fmt.Errorf("chat: render report: %w", err)
	}
	if buf.Len() == 0 {
		buf.WriteString("(empty report)\n")
	}
	f, err := c.api.UploadFileContext(ctx, slack.UploadFileParameters{
		Reader: bytes.NewReader(buf.Bytes()), FileSize: buf.Len(), Filename: name,
		Title: "Full fluxdiff report", Channel: ref.Channel, ThreadTimestamp: ref.TS,
		InitialComment: "The full report, which does not fit in one Slack message.",
	})
	if err != nil {
		return "", fmt.Errorf("chat: upload %s to %s: %w", name, ref, err)
	}
	info, _, _, err := c.api.GetFileInfoContext(ctx, f.ID, 0, 0)
	if err != nil {
		return "", fmt.Errorf("chat: file %s: %w", f.ID, err)
	}
	return info.Permalink, nil
}

// Response is an answer through a response_url.
type Response struct {
	// Text is the fallback text (mrkdwn); Blocks, when set, the content.
	Text   string
	Blocks []slack.Block
	// InChannel shows the answer to everyone in the channel; otherwise
	// only the user who asked sees it (ephemeral).
	InChannel bool
	// ReplaceOriginal replaces the message the interaction came from.
	ReplaceOriginal bool
}

// Respond posts r to a response_url (valid 30 minutes, five times, per
// docs.slack.dev "Handling user interaction"). The bot token is not sent.
func (c *Client) Respond(ctx context.Context, responseURL string, r Response) error {
	msg := &slack.WebhookMessage{Text: r.Text, ResponseType: slack.ResponseTypeEphemeral, ReplaceOriginal: r.ReplaceOriginal}
	if r.InChannel {
		msg.ResponseType = slack.ResponseTypeInChannel
	}
	if len(r.Blocks) > 0 {
		msg.Blocks = &slack.Blocks{BlockSet: r.Blocks}
	}
	if err := slack.PostWebhookCustomHTTPContext(ctx, responseURL, c.hc, msg); err != nil {
		// A response URL is a capability: keep it out of errors and logs.
		return fmt.Errorf("chat: respond: %s", strings.ReplaceAll(err.Error(), responseURL, "<response_url>"))
	}
	return nil
}
