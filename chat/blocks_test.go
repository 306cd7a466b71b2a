package chat

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"

	"github.com/fluxdiff/fluxdiff/chat/chattest"
	"github.com/fluxdiff/fluxdiff/diff"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// loadReport reads a report fixture from testdata/reports.
func loadReport(t testing.TB, name string) *diff.Report {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "reports", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var r diff.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &r
}

// bigReport has objects diffs of lines lines each, in one Kustomization
// per cluster.
func bigReport(objects, lines int) *diff.Report {
	r := &diff.Report{
		SchemaVersion: diff.SchemaVersion, Created: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC),
		PullRequest: &diff.PullRequestInfo{Repo: "acme/fleet", Number: 99, Title: "Regenerate everything", Author: "octocat",
			URL: "https://github.com/acme/fleet/pull/99", HeadSHA: strings.Repeat("5", 40)},
		Clusters: []string{"staging"},
	}
	k := diff.KustomizationReport{Cluster: "staging", Namespace: "flux-system", Name: "apps", Path: "./apps"}
	for i := range objects {
		var b strings.Builder
		b.WriteString("--- live\n+++ merged\n")
		for l := range lines {
			fmt.Fprintf(&b, "+  key%03d: value of object %d line %d\n", l, i, l)
		}
		k.Changes = append(k.Changes, diff.Change{Action: diff.ActionCreated, APIVersion: "v1", Kind: "ConfigMap",
			Namespace: "apps", Name: fmt.Sprintf("cm-%03d", i), Diff: strings.TrimSuffix(b.String(), "\n")})
		k.Counts.Created++
	}
	r.Kustomizations = []diff.KustomizationReport{k}
	return r
}

// golden compares got with testdata/golden/name.json, rewriting it with
// -update.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep <links> readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(got); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./chat -run %s -update to create it)", err, t.Name())
	}
	if d := cmp.Diff(string(want), string(raw)); d != "" {
		t.Errorf("%s differs from the golden file (-want +got); rerun with -update if the change is intended:\n%s", path, d)
	}
}

type renderedJSON struct {
	Text           string        `json:"text"`
	OmittedObjects int           `json:"omittedObjects"`
	OmittedOther   bool          `json:"omittedOther"`
	Blocks         []slack.Block `json:"blocks"`
}

// checkSlackLimits fails t when Slack would refuse the blocks.
func checkSlackLimits(t *testing.T, blocks []slack.Block) {
	t.Helper()
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	if err := chattest.CheckBlocks(raw); err != nil {
		t.Errorf("Slack would refuse the message: %v", err)
	}
}

func TestRenderGolden(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
	}{
		{"pr", Message{Report: loadReport(t, "pr"), ReportID: 7}},
		{"pr-unstored", Message{Report: loadReport(t, "pr")}},
		{"drift", Message{Report: loadReport(t, "drift"), ReportID: 8}},
		{"error", Message{Report: loadReport(t, "error"), ReportID: 9}},
		{"risky", Message{Report: loadReport(t, "risky"), ReportID: 11}},
		{"too-long", Message{Report: bigReport(30, 40), ReportID: 10}},
		{"too-long-linked", Message{Report: bigReport(30, 40), ReportID: 10, FileLink: "https://acme.slack.com/files/U1/F1/report.txt", FileName: "fluxdiff-acme-fleet-pr99-report10.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Render(tt.msg)
			checkSlackLimits(t, r.Blocks)
			golden(t, "render-"+tt.name, renderedJSON{Text: r.Text, OmittedObjects: r.OmittedObjects, OmittedOther: r.OmittedOther, Blocks: r.Blocks})
		})
	}
}

func TestMarkApprovedGolden(t *testing.T) {
	// The blocks as Slack hands them back in an interaction payload.
	raw, err := json.Marshal(Render(Message{Report: loadReport(t, "pr"), ReportID: 7}).Blocks)
	if err != nil {
		t.Fatal(err)
	}
	var fromSlack slack.Blocks
	if err := json.Unmarshal(raw, &fromSlack); err != nil {
		t.Fatal(err)
	}
	got := MarkApproved(fromSlack.BlockSet, "U0ADA", time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	checkSlackLimits(t, got)
	golden(t, "render-pr-approved", got)

	again, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(again), ActionApprove) {
		t.Error("the Approve button is still there")
	}
	for _, keep := range []string{ActionPostToPR, ActionViewPR, `Approved* by \u003c@U0ADA\u003e`} {
		if !strings.Contains(string(again), keep) {
			t.Errorf("approved message lost %q", keep)
		}
	}
}
