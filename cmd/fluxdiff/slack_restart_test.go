package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fluxdiff/fluxdiff/chat"
	"github.com/fluxdiff/fluxdiff/chat/chattest"
	"github.com/fluxdiff/fluxdiff/kube/kubetest"
	"github.com/fluxdiff/fluxdiff/server"
	"github.com/fluxdiff/fluxdiff/server/servertest"
	"github.com/fluxdiff/fluxdiff/server/store"
)

const (
	restartWebhookSecret = "restart-webhook-secret"
	restartSigningSecret = "restart-signing-secret"
	restartChannel       = "C0PRDIFFS"
	restartApprover      = "U0ADA"
)

// TestSlackApproveWorksAcrossARealRestart runs the fluxdiff binary on two
// API servers, the GitHub stand-in and the Slack stand-in: a pull
// request's diff is posted to Slack, the process is stopped with SIGTERM
// and a new one started on the same SQLite store, and Approve PR on the
// old message still submits the review at the diffed commit and audits
// it, since reports live in the store and the click becomes a queued job.
func TestSlackApproveWorksAcrossARealRestart(t *testing.T) {
	bin := buildBinary(t)
	fleet, err := servertest.StartFleet(t.Context(), t, servertest.ExampleRepo(), "staging", "production")
	if err != nil {
		kubetest.Unavailable(t, err)
	}
	sl := chattest.New(t, chattest.Options{})
	dir := t.TempDir()
	cfg, err := servertest.WriteConfig(fleet, dir, servertest.ConfigOptions{WebhookSecret: restartWebhookSecret,
		Slack: &servertest.SlackConfig{APIURL: sl.APIURL(), SigningSecret: restartSigningSecret, BotToken: sl.Token(),
			Channel: restartChannel, Approvers: []string{restartApprover}}})
	if err != nil {
		t.Fatal(err)
	}

	first := startServe(t, bin, cfg, filepath.Join(dir, "first.log"))
	head := openRestartPR(t, fleet, first.url)
	msg := waitSlackMessage(t, sl, func(m chattest.Message) bool {
		return strings.Contains(string(m.Blocks), `"action_id":"`+chat.ActionApprove+`"`)
	})
	first.terminate(t)

	second := startServe(t, bin, cfg, filepath.Join(dir, "second.log"))
	payload, _, err := sl.Click(msg, chat.ActionApprove, restartApprover)
	if err != nil {
		t.Fatal(err)
	}
	if code := postSigned(t, second.url+"/slack/interactions", url.Values{"payload": {string(payload)}}); code != http.StatusOK {
		t.Fatalf("click answered %d, want 200", code)
	}
	deadline := time.Now().Add(time.Minute)
	for len(fleet.GitHub.Reviews(servertest.Repo, 1)) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	second.terminate(t)
	rvs := fleet.GitHub.Reviews(servertest.Repo, 1)
	if len(rvs) != 1 || rvs[0].State != "APPROVED" || rvs[0].CommitID != head {
		t.Fatalf("reviews %+v; want one APPROVED at %s (log: %s)", rvs, head, second.log)
	}
	for _, m := range sl.Messages(restartChannel) {
		if m.TS == msg.TS && (strings.Contains(string(m.Blocks), chat.ActionApprove) || !strings.Contains(strings.Join(m.BlockTexts(), "\n"), "<@"+restartApprover+">")) {
			t.Errorf("the old message was not marked approved by <@%s>:\n%s", restartApprover, strings.Join(m.BlockTexts(), "\n"))
		}
	}
	st, err := store.Open(t.Context(), cfg.StoreURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	audit, err := st.Approvals(t.Context(), servertest.Repo, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != 1 || audit[0].Outcome != server.ApprovalApproved || audit[0].HeadSHA != head || audit[0].Actor != "slack:"+restartApprover {
		t.Errorf("approval audit %+v; want one approved row at %s by slack:%s", audit, head, restartApprover)
	}
}

// serveProcess is a running `fluxdiff serve`.
type serveProcess struct {
	cmd  *exec.Cmd
	url  string
	log  string
	done chan error
}

// startServe runs bin serve with cfg, its log in logPath, and waits until
// it is ready.
func startServe(t *testing.T, bin string, cfg servertest.Config, logPath string) *serveProcess {
	t.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	p := &serveProcess{cmd: exec.Command(bin, "serve", "--config", cfg.Path), url: "http://" + cfg.Listen, log: logPath, done: make(chan error, 1)}
	p.cmd.Env, p.cmd.Stdout, p.cmd.Stderr = cleanEnv(t), logFile, logFile
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	if err := waitReady(t.Context(), p.url, p.done); err != nil {
		t.Fatalf("%v\n%s", err, tail(logPath))
	}
	return p
}

// terminate sends SIGTERM and waits for a clean exit.
func (p *serveProcess) terminate(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("fluxdiff serve exited with %v\n%s", err, tail(p.log))
		}
	case <-time.After(time.Minute):
		t.Fatalf("fluxdiff serve did not stop within a minute of SIGTERM\n%s", tail(p.log))
	}
}

// openRestartPR opens pull request #1 (podinfo's chart 7.0.6 → 7.2.4, in
// every cluster) and sends its signed pull_request.opened delivery.
func openRestartPR(t *testing.T, fleet *servertest.Fleet, base string) string {
	t.Helper()
	const release = "apps/base/podinfo/release.yaml"
	body := string(fleet.Base[release])
	if !strings.Contains(body, "tag: 7.0.6") {
		t.Fatalf("%s no longer contains tag: 7.0.6", release)
	}
	head := fleet.Open(servertest.PR{Number: 1, Title: "podinfo: redis 7.2.4", User: "octocat",
		Changes: map[string][]byte{release: []byte(strings.Replace(body, "tag: 7.0.6", "tag: 7.2.4", 1))}})
	payload, err := fleet.Payload("pull_request.opened.1.json", 1, head)
	if err != nil {
		t.Fatal(err)
	}
	code, err := servertest.Send(t.Context(), base+"/webhooks/github", restartWebhookSecret, "pull_request", "restart-1", payload)
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("webhook: %d %v", code, err)
	}
	return head
}

// waitSlackMessage waits up to three minutes for a top-level message in
// restartChannel that satisfies ok.
func waitSlackMessage(t *testing.T, sl *chattest.Server, ok func(chattest.Message) bool) chattest.Message {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		for _, m := range sl.Messages(restartChannel) {
			if m.ThreadTS == "" && ok(m) {
				return m
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no Slack message in %s; messages: %+v", restartChannel, sl.Messages(restartChannel))
	return chattest.Message{}
}

// postSigned posts form to target signed as Slack does, and returns the status.
func postSigned(t *testing.T, target string, form url.Values) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	chattest.Sign(req, restartSigningSecret, time.Now())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// tail is the end of the log at path, for failure messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(log %s: %v)", path, err)
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
