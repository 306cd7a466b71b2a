package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary compiles fluxdiff once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fluxdiff")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// cleanEnv is the environment without FLUXDIFF_* and kubeconfig variables,
// with HOME in a temporary folder so no real kubeconfig is found.
func cleanEnv(t *testing.T) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "FLUXDIFF_") || strings.HasPrefix(kv, "KUBECONFIG=") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+t.TempDir())
}

func TestServeWithoutConfigAnswersProbesAndStopsOnSIGTERM(t *testing.T) {
	bin := buildBinary(t)
	addr := freePort(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(t), "FLUXDIFF_LISTEN="+addr)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	logs := make(chan string, 100)
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			logs <- s.Text()
		}
		close(logs)
	}()

	base := "http://" + addr
	waitFor(t, base+"/healthz")
	if code, body := fetch(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	code, body := fetch(t, base+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"name": "cluster/default"`) || !strings.Contains(body, "no kubeconfig found") {
		t.Errorf("/readyz without a kubeconfig = %d %s", code, body)
	}
	_, metrics := fetch(t, base+"/metrics")
	for _, want := range []string{
		`fluxdiff_http_request_duration_seconds_count{code="200",method="GET",route="/healthz"}`,
		`fluxdiff_http_request_duration_seconds_count{code="503",method="GET",route="/readyz"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v, want status 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20s of SIGTERM")
	}
	var all []string
	for l := range logs {
		all = append(all, l)
	}
	if !strings.Contains(strings.Join(all, "\n"), `"msg":"stopped"`) {
		t.Errorf("no graceful stop logged:\n%s", strings.Join(all, "\n"))
	}
}

func TestServeRejectsBadConfigWithExit2NamingEveryProblem(t *testing.T) {
	bin := buildBinary(t)
	cfg := filepath.Join(t.TempDir(), "fluxdiff.yaml")
	const leaked = "whsec-do-not-print-me"
	body := fmt.Sprintf("listen: 127.0.0.1:http-alt:1\ncolour: blue\ngithub:\n  appID: 12\n  privateKeyFile: /nonexistent/app.pem\n  webhookSecret: %s\n", leaked)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--config", cfg)
	cmd.Env = cleanEnv(t)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("exit: %v, want status 2\n%s", err, out)
	}
	for _, want := range []string{`unknown field "colour"`, "/nonexistent/app.pem", "listen:"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output does not name %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), leaked) {
		t.Errorf("output leaks the webhook secret:\n%s", out)
	}
}

func TestVersionAndHelp(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "fluxdiff ") {
		t.Errorf("version: %v %s", err, out)
	}
	out, err = exec.Command(bin, "serve", "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "FLUXDIFF_GITHUB_WEBHOOK_SECRET") || !strings.Contains(string(out), "--config") {
		t.Errorf("serve --help: %v %s", err, out)
	}
}

func waitFor(t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not answer within 20s", url)
}

func fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
