package chat

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func readPayload(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "interactions", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseInteraction(t *testing.T) {
	tests := []struct {
		file string
		want Interaction
	}{
		{"approve.json", Interaction{Action: ActionApprove, ReportID: 7, UserID: "U0ADA", UserName: "ada", TeamID: "T0FLUX",
			Message: MessageRef{Channel: "C0DEPLOYS", TS: "1795680000.000100"}, ResponseURL: "https://hooks.slack.com/actions/T0FLUX/1795680001/Zm9vYmFy",
			TriggerID: "1795680001.1.abcdef", ActionTS: "1795680001.000200"}},
		{"ephemeral-post.json", Interaction{Action: ActionPostToPR, ReportID: 42, UserID: "U0BOB", UserName: "bob", TeamID: "T0FLUX",
			Message: MessageRef{Channel: "C0DEPLOYS"}, ResponseURL: "https://hooks.slack.com/actions/T0FLUX/1795680003/cXV4",
			ActionTS: "1795680003.000100"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseInteraction(readPayload(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Interaction{}, "Blocks")); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestParseInteractionKeepsTheMessageBlocks(t *testing.T) {
	in, err := ParseInteraction(readPayload(t, "approve.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Blocks) != 4 {
		t.Fatalf("%d blocks, want the message's 4", len(in.Blocks))
	}
	marked := MarkApproved(in.Blocks, in.UserID, mustTime(t, "2026-11-26T09:00:00Z"))
	checkSlackLimits(t, marked)
	texts := strings.Join(blockTexts(t, marked), "\n")
	if !strings.Contains(texts, "Approved* by <@U0ADA>") || strings.Contains(texts, "Approve PR") {
		t.Errorf("marked message texts:\n%s", texts)
	}
}

// TestBlocksSurviveEncoding: a click's blocks kept in a queued job as JSON
// decode to blocks that mark as approved the same way.
func TestBlocksSurviveEncoding(t *testing.T) {
	in, err := ParseInteraction(readPayload(t, "approve.json"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := EncodeBlocks(in.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeBlocks(raw)
	if err != nil {
		t.Fatal(err)
	}
	at := mustTime(t, "2026-11-26T09:00:00Z")
	want, got := blockTexts(t, MarkApproved(in.Blocks, in.UserID, at)), blockTexts(t, MarkApproved(back, in.UserID, at))
	if d := cmp.Diff(want, got); d != "" || len(back) != 4 {
		t.Errorf("%d blocks after encoding; marked texts (-direct +encoded):\n%s", len(back), d)
	}
	if none, err := DecodeBlocks(nil); err != nil || none != nil {
		t.Errorf("DecodeBlocks(nil) = %v, %v", none, err)
	}
	if _, err := DecodeBlocks([]byte(`{"type":"section"}`)); err == nil {
		t.Error("DecodeBlocks of an object: no error")
	}
}

func TestParseInteractionRefusals(t *testing.T) {
	for _, file := range []string{"other-app.json", "view-submission.json"} {
		if _, err := ParseInteraction(readPayload(t, file)); !errors.Is(err, ErrNotOurs) {
			t.Errorf("%s: error %v, want ErrNotOurs", file, err)
		}
	}
	_, err := ParseInteraction(readPayload(t, "bad-value.json"))
	if err == nil || errors.Is(err, ErrNotOurs) || !strings.Contains(err.Error(), "not a report ID") {
		t.Errorf("bad value: error %v, want one naming the report ID", err)
	}
	if _, err := ParseInteraction([]byte("payload=")); err == nil || errors.Is(err, ErrNotOurs) {
		t.Errorf("not JSON: error %v", err)
	}
}
