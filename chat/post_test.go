package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/fluxdiff/fluxdiff/chat/chattest"
	"github.com/fluxdiff/fluxdiff/diff"
)

const channel = "C0DEPLOYS"

func newClient(t *testing.T, sl *chattest.Server) *Client {
	t.Helper()
	c, err := NewClient(ClientOptions{Token: sl.Token(), APIURL: sl.APIURL()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPostReportCreatesThenUpdatesInPlace(t *testing.T) {
	sl := chattest.New(t, chattest.Options{})
	c := newClient(t, sl)
	ctx := context.Background()

	ref, err := c.PostReport(ctx, MessageRef{Channel: channel}, Message{Report: loadReport(t, "pr"), ReportID: 7})
	if err != nil {
		t.Fatal(err)
	}
	if ref.Channel != channel || ref.TS == "" {
		t.Fatalf("ref %+v", ref)
	}
	next := loadReport(t, "pr")
	next.PullRequest.HeadSHA = strings.Repeat("9", 40)
	ref2, err := c.PostReport(ctx, ref, Message{Report: next, ReportID: 8})
	if err != nil {
		t.Fatal(err)
	}
	if ref2 != ref {
		t.Errorf("update moved the message: %+v → %+v", ref, ref2)
	}
	msgs := sl.Messages(channel)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want the one updated in place", len(msgs))
	}
	texts := strings.Join(msgs[0].BlockTexts(), "\n")
	if msgs[0].Updates != 1 || !strings.Contains(texts, "`9999999`") || !strings.Contains(texts, "report 8") {
		t.Errorf("message not updated to report 8 at 9999999 (updates %d):\n%s", msgs[0].Updates, texts)
	}
	if len(sl.Files()) != 0 {
		t.Errorf("a report that fits uploaded %d files", len(sl.Files()))
	}
}

func TestPostReportUploadsTheFullReportWhenTooLong(t *testing.T) {
	sl := chattest.New(t, chattest.Options{})
	c := newClient(t, sl)
	rep := bigReport(30, 200)

	ref, err := c.PostReport(context.Background(), MessageRef{Channel: channel}, Message{Report: rep, ReportID: 10})
	if err != nil {
		t.Fatal(err)
	}
	files := sl.Files()
	if len(files) != 1 {
		t.Fatalf("%d files, want 1", len(files))
	}
	f := files[0]
	var want bytes.Buffer
	if err := diff.WriteText(&want, rep); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Content, want.Bytes()) {
		t.Errorf("the file holds %d bytes, not the whole report's %d", len(f.Content), want.Len())
	}
	for _, ch := range rep.Kustomizations[0].Changes {
		if !bytes.Contains(f.Content, []byte(ch.ID())) {
			t.Errorf("the file lacks %s", ch.ID())
		}
	}
	if !f.Complete || f.Channel != channel || f.ThreadTS != ref.TS || f.Name != "fluxdiff-acme-fleet-pr99-report10.txt" {
		t.Errorf("file %s shared to %s thread %s (complete %v), want %s thread %s", f.Name, f.Channel, f.ThreadTS, f.Complete, channel, ref.TS)
	}
	msgs := sl.Messages(channel)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	texts := strings.Join(msgs[0].BlockTexts(), "\n")
	if !strings.Contains(texts, "<"+f.Permalink+"|"+f.Name+">") {
		t.Errorf("the message does not link the file %s:\n%s", f.Permalink, texts)
	}
}

func TestReplyRespondAndUpdate(t *testing.T) {
	sl := chattest.New(t, chattest.Options{})
	c := newClient(t, sl)
	ctx := context.Background()
	ref, err := c.PostReport(ctx, MessageRef{Channel: channel}, Message{Report: loadReport(t, "pr"), ReportID: 7})
	if err != nil {
		t.Fatal(err)
	}

	if err := c.Reply(ctx, ref, "Posted to the pull request by <@U0ADA>."); err != nil {
		t.Fatal(err)
	}
	msgs := sl.Messages(channel)
	if len(msgs) != 2 || msgs[1].ThreadTS != ref.TS || msgs[1].Text != "Posted to the pull request by <@U0ADA>." {
		t.Errorf("thread reply: %+v", msgs)
	}

	url := sl.ResponseURL(channel, ref.TS)
	if err := c.Respond(ctx, url, Response{Text: "Only ada sees this."}); err != nil {
		t.Fatal(err)
	}
	rs := sl.Responses(url)
	if len(rs) != 1 || rs[0].ResponseType != "ephemeral" || rs[0].Text != "Only ada sees this." || rs[0].ReplaceOriginal {
		t.Errorf("responses %+v", rs)
	}

	var held slack.Blocks
	if err := json.Unmarshal(sl.Messages(channel)[0].Blocks, &held); err != nil {
		t.Fatal(err)
	}
	if err := c.Update(ctx, ref, MarkApproved(held.BlockSet, "U0ADA", time.Now()), "approved"); err != nil {
		t.Fatal(err)
	}
	texts := strings.Join(sl.Messages(channel)[0].BlockTexts(), "\n")
	if !strings.Contains(texts, "*Approved* by <@U0ADA>") || strings.Contains(texts, "Approve PR") {
		t.Errorf("after approval:\n%s", texts)
	}
}

func TestPostReportNotInChannel(t *testing.T) {
	sl := chattest.New(t, chattest.Options{})
	sl.NotInChannel("C0PRIVATE")
	_, err := newClient(t, sl).PostReport(context.Background(), MessageRef{Channel: "C0PRIVATE"}, Message{Report: loadReport(t, "drift")})
	var se slack.SlackErrorResponse
	if !errorsAs(err, &se) || se.Err != "not_in_channel" {
		t.Fatalf("error %v, want Slack's not_in_channel", err)
	}
}

func TestRespondKeepsTheResponseURLOutOfErrors(t *testing.T) {
	sl := chattest.New(t, chattest.Options{})
	bad := sl.APIURL() + "no-such-hook/secret-capability"
	err := newClient(t, sl).Respond(context.Background(), bad, Response{Text: "x"})
	if err == nil || strings.Contains(err.Error(), "secret-capability") {
		t.Fatalf("error %v: want an error without the URL", err)
	}
}

// TestOnlyTheReportReachesSlack posts reports (one needing a file) with
// canaries in the secrets chat holds, the bot token and the signing
// secret: no request body Slack receives holds one (the token goes only in
// the "token" field or Authorization header). Secret data masked by the
// engine is proven in package enginecanary.
func TestOnlyTheReportReachesSlack(t *testing.T) {
	const tokenCanary = "xoxb-canary-token-5d1f"
	sl := chattest.New(t, chattest.Options{Token: tokenCanary})
	c, err := NewClient(ClientOptions{Token: tokenCanary, APIURL: sl.APIURL()})
	if err != nil {
		t.Fatal(err)
	}
	mw, err := Verify("signing-canary-7c2e")
	if err != nil || mw == nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, rep := range []*diff.Report{loadReport(t, "pr"), bigReport(30, 200)} {
		ref, err := c.PostReport(ctx, MessageRef{Channel: channel}, Message{Report: rep, ReportID: 3})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Reply(ctx, ref, "done"); err != nil {
			t.Fatal(err)
		}
		if err := c.Respond(ctx, sl.ResponseURL(channel, ref.TS), Response{Text: "ok", Blocks: Render(Message{Report: rep}).Blocks}); err != nil {
			t.Fatal(err)
		}
	}
	if leaks := sl.Leaks(tokenCanary, "signing-canary-7c2e"); len(leaks) > 0 {
		t.Fatalf("%d requests hold a canary, first %s %s", len(leaks), leaks[0].Method, leaks[0].Path)
	}
	if len(sl.Requests()) < 8 {
		t.Fatalf("only %d requests: the test proves nothing", len(sl.Requests()))
	}
}
