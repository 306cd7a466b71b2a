package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSlackSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fluxdiff.yaml")
	yaml := `slack:
  signingSecret: s
  botToken: xoxb-1
  channel: C0DEPLOYS
  channels: {acme/fleet: C0FLEET, acme/quiet: ""}
  approvers: [U0ADA, S0SRE]
  githubLogins: {U0ADA: ada-lovelace}
  reportTTL: 48h
`
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, envMap(map[string]string{"FLUXDIFF_SLACK_APPROVERS": "U0ADA, U0BOB"}))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Slack
	if d := cmp.Diff([]string{"U0ADA", "U0BOB"}, s.Approvers); d != "" {
		t.Errorf("approvers (env wins) (-want +got):\n%s", d)
	}
	if s.GitHubLogins["U0ADA"] != "ada-lovelace" || s.ReportTTL.Duration != 48*time.Hour {
		t.Errorf("githubLogins %v, reportTTL %v", s.GitHubLogins, s.ReportTTL)
	}
	for repo, want := range map[string]string{"acme/fleet": "C0FLEET", "acme/quiet": "", "acme/other": "C0DEPLOYS"} {
		if got := s.ChannelFor(repo); got != want {
			t.Errorf("ChannelFor(%s) = %q, want %q", repo, got, want)
		}
	}
}

func TestSlackDefaultsAndMistakes(t *testing.T) {
	c, err := Load("", envMap(map[string]string{"FLUXDIFF_SLACK_SIGNING_SECRET": "s", "FLUXDIFF_SLACK_BOT_TOKEN": "xoxb-1"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Slack.ReportTTL.Duration != 30*24*time.Hour || len(c.Slack.Approvers) != 0 {
		t.Errorf("defaults: reportTTL %v, approvers %v", c.Slack.ReportTTL, c.Slack.Approvers)
	}
	bad := Slack{SigningSecret: "s", BotToken: "t", Approvers: []string{"ada", "C0CHAN"},
		GitHubLogins: map[string]string{"ada": "x", "U0BOB": "not a login"}, Channels: map[string]string{"fleet": "C1"}}
	var msgs []string
	for _, e := range bad.validate() {
		msgs = append(msgs, e.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{`slack.approvers[0]: "ada"`, `slack.approvers[1]: "C0CHAN"`, `key "ada" is not a Slack user ID`,
		`slack.githubLogins[U0BOB]: "not a login"`, `slack.channels: key "fleet" is not owner/name`} {
		if !strings.Contains(all, want) {
			t.Errorf("problems do not mention %q:\n%s", want, all)
		}
	}
}
