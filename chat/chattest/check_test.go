package chattest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/slack-go/slack"
)

func TestCheckBlocks(t *testing.T) {
	section := func(text string) string {
		return fmt.Sprintf(`{"type":"section","text":{"type":"mrkdwn","text":%q}}`, text)
	}
	many := func(n int, block string) string {
		return "[" + strings.TrimSuffix(strings.Repeat(block+",", n), ",") + "]"
	}
	button := func(extra string) string {
		return `[{"type":"actions","elements":[{"type":"button","action_id":"a","text":{"type":"plain_text","text":"Go"}` + extra + `}]}]`
	}
	tests := []struct {
		name, blocks, want string
	}{
		{"50 small sections pass", many(50, section("x")), ""},
		{"51 blocks", many(51, section("x")), "invalid_blocks: 51 blocks"},
		{"a section of 3,000 characters passes", "[" + section(strings.Repeat("a", 3000)) + "]", ""},
		{"a section of 3,001", "[" + section(strings.Repeat("a", 3001)) + "]", "text of 3001 characters"},
		{"wide runes count twice", "[" + section(strings.Repeat("😀", 1501)) + "]", "text of 3002 characters"},
		{"an empty section text", "[" + section("") + "]", "text of 0 characters"},
		{"a header over 150", `[{"type":"header","text":{"type":"plain_text","text":"` + strings.Repeat("h", 151) + `"}}]`, "text of 151"},
		{"a mrkdwn header", `[{"type":"header","text":{"type":"mrkdwn","text":"h"}}]`, `text type "mrkdwn"`},
		{"11 fields", `[{"type":"section","fields":[` + strings.TrimSuffix(strings.Repeat(`{"type":"mrkdwn","text":"f"},`, 11), ",") + `]}]`, "11 fields"},
		{"repeated block_id", `[{"type":"divider","block_id":"a"},{"type":"divider","block_id":"a"}]`, `block_id "a" repeated`},
		{"a long button label", `[{"type":"actions","elements":[{"type":"button","action_id":"a","text":{"type":"plain_text","text":"` + strings.Repeat("b", 76) + `"}}]}]`, "button: text of 76"},
		{"a button value over 2,000", button(`,"value":"` + strings.Repeat("v", 2001) + `"`), "value longer than 2000"},
		{"a confirm text over 300", button(`,"confirm":{"title":{"type":"plain_text","text":"t"},"text":{"type":"plain_text","text":"` + strings.Repeat("c", 301) + `"},"confirm":{"type":"plain_text","text":"y"},"deny":{"type":"plain_text","text":"n"}}`), "confirm text: text of 301"},
		{"a bad style", button(`,"style":"loud"`), `button style "loud"`},
		{"five 2,900-character sections exceed the message", many(5, section(strings.Repeat("m", 2900))), "msg_blocks_too_long: 14500"},
		{"an unknown block type", `[{"type":"video"}]`, "not one fluxdiff uses"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckBlocks([]byte(tt.blocks))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// recorder is a Reporter that keeps failures instead of failing.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestRefusedBlocksFailTheTest(t *testing.T) {
	rec := &recorder{TB: t}
	sl := Start(rec, Options{})
	api := slack.New(sl.Token(), slack.OptionAPIURL(sl.APIURL()))
	tooLong := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, strings.Repeat("x", 3001), false, false), nil, nil)
	_, _, err := api.PostMessageContext(context.Background(), "C1", slack.MsgOptionBlocks(tooLong))
	if err == nil || !strings.Contains(err.Error(), "invalid_blocks") {
		t.Errorf("post error %v, want invalid_blocks", err)
	}
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "Slack would refuse") {
		t.Errorf("failures %q, want one saying Slack would refuse the blocks", rec.errors)
	}
	if n := len(sl.Messages("C1")); n != 0 {
		t.Errorf("%d messages kept", n)
	}
}

func TestWrongTokenIsInvalidAuth(t *testing.T) {
	sl := New(t, Options{})
	api := slack.New("xoxb-wrong", slack.OptionAPIURL(sl.APIURL()))
	_, _, err := api.PostMessageContext(context.Background(), "C1", slack.MsgOptionText("hi", false))
	if err == nil || !strings.Contains(err.Error(), "invalid_auth") {
		t.Errorf("error %v, want invalid_auth", err)
	}
}
