package config

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func rsaPEM(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
}

func TestLoadWithNothingGivesEmbeddedDefaults(t *testing.T) {
	cfg, err := Load("", envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Listen: DefaultListen, LogLevel: "info",
		ShutdownTimeout: Duration{30 * time.Second}, MaxBodyBytes: 25 << 20,
		Clusters: []Cluster{{Name: "default", QPS: 50, Burst: 100}},
		Store:    Store{URL: DefaultStoreURL},
		Queue:    Queue{Workers: 4, ClusterConcurrency: 2, JobTimeout: Duration{15 * time.Minute}},
		GitHub:   GitHub{MergePollTimeout: Duration{2 * time.Minute}},
		Source:   Source{Dir: DefaultSourceDir, CacheBytes: 2 << 30, MaxArchiveBytes: 512 << 20, MaxFiles: 100_000},
		Diff:     Diff{Concurrency: 8, Timeout: Duration{5 * time.Minute}, BuildCacheObjects: 20_000},
		Slack:    Slack{ReportTTL: Duration{30 * 24 * time.Hour}},
		Helm: Helm{MaxIndexBytes: 50 << 20, MaxChartBytes: 10 << 20, FetchTimeout: Duration{time.Minute},
			IndexTTL: Duration{time.Minute}, CacheBytes: 256 << 20},
	}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestLoadReportsEveryProblemAtOnce(t *testing.T) {
	path := writeFile(t, "fluxdiff.yaml", `
listen: "not-an-address"
colour: blue
github:
  appID: 42
  privateKeyFile: /nonexistent/key.pem
  webhookSecret: s3cret
`)
	_, err := Load(path, envMap(nil))
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("want *Error, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{`unknown field "colour"`, "/nonexistent/key.pem", `listen: "not-an-address" is not host:port`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q:\n%s", want, msg)
		}
	}
	if len(cerr.Problems) != 3 {
		t.Errorf("want 3 problems, got %d:\n%s", len(cerr.Problems), msg)
	}
}

func TestEnvironmentOverridesFile(t *testing.T) {
	key := writeFile(t, "key.pem", rsaPEM(t))
	path := writeFile(t, "fluxdiff.yaml", "listen: 127.0.0.1:9000\nstore:\n  url: sqlite:///tmp/a.db\n")
	cfg, err := Load(path, envMap(map[string]string{
		"FLUXDIFF_LISTEN":                  "127.0.0.1:9100",
		"FLUXDIFF_GITHUB_APP_ID":           "7",
		"FLUXDIFF_GITHUB_PRIVATE_KEY_FILE": key,
		"FLUXDIFF_GITHUB_WEBHOOK_SECRET":   "hook-secret-value",
		"FLUXDIFF_DIFF_CONCURRENCY":        "3",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9100" || cfg.GitHub.AppID != 7 || cfg.Diff.Concurrency != 3 || cfg.Store.URL != "sqlite:///tmp/a.db" {
		t.Errorf("overrides not applied: %+v", cfg)
	}
	if !strings.HasPrefix(cfg.GitHub.PrivateKey.Value(), "-----BEGIN RSA PRIVATE KEY") {
		t.Errorf("private key file was not read")
	}
}

func TestBadEnvironmentValuesAreNamed(t *testing.T) {
	_, err := Load("", envMap(map[string]string{"FLUXDIFF_GITHUB_APP_ID": "seven", "FLUXDIFF_DIFF_TIMEOUT": "soon"}))
	if err == nil || !strings.Contains(err.Error(), "FLUXDIFF_GITHUB_APP_ID") || !strings.Contains(err.Error(), "FLUXDIFF_DIFF_TIMEOUT") {
		t.Fatalf("want both variables named, got %v", err)
	}
}

func TestQueueSettingsComeFromFileAndEnvironment(t *testing.T) {
	path := writeFile(t, "fluxdiff.yaml", "queue:\n  workers: 6\n  clusterConcurrency: 3\n  jobTimeout: 30m\n")
	cfg, err := Load(path, envMap(map[string]string{"FLUXDIFF_QUEUE_WORKERS": "12"}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Queue{Workers: 12, ClusterConcurrency: 3, JobTimeout: Duration{30 * time.Minute}}, cfg.Queue); diff != "" {
		t.Errorf("queue (-want +got):\n%s", diff)
	}
	_, err = Load("", envMap(map[string]string{"FLUXDIFF_QUEUE_WORKERS": "many"}))
	if err == nil || !strings.Contains(err.Error(), "FLUXDIFF_QUEUE_WORKERS") {
		t.Errorf("a bad FLUXDIFF_QUEUE_WORKERS is not named: %v", err)
	}
}

func TestPartialIntegrationsAreRejected(t *testing.T) {
	_, err := Load("", envMap(map[string]string{"FLUXDIFF_GITHUB_APP_ID": "1", "FLUXDIFF_SLACK_BOT_TOKEN": "xoxb-1"}))
	for _, want := range []string{"github.privateKeyFile: required", "github.webhookSecret: required", "slack.signingSecret: required"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q: %v", want, err)
		}
	}
}

func TestStoreURLErrorsNeverShowThePassword(t *testing.T) {
	const secret = "s3cr3t-pw"
	for _, raw := range []string{
		"postgres://fluxdiff:" + secret + "@db:notaport/fluxdiff",
		"mysql://fluxdiff:" + secret + "@db/fluxdiff",
		"host=db user=fluxdiff password=" + secret,
		"sqlite://:" + secret + "@",
	} {
		_, err := Load("", envMap(map[string]string{"FLUXDIFF_STORE_URL": raw}))
		if err == nil || !strings.Contains(err.Error(), "store.url:") {
			t.Errorf("store url %.12s...: error = %v, want a store.url problem", raw, err)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestInvalidSettings(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"logLevel: loud", `logLevel: "loud" is not one of`},
		{"store:\n  url: mysql://x", "scheme must be sqlite or postgres"},
		{"diff:\n  concurrency: 1000", "outside 1..256"},
		{"diff:\n  timeout: fast", `invalid duration "fast"`},
		{"queue:\n  workers: 300", "queue.workers: 300 is outside 1..256"},
		{"queue:\n  clusterConcurrency: -1", "queue.clusterConcurrency: -1 is outside 1..256"},
		{"clusters:\n- name: a\n- name: a", `"a" is used twice`},
		{"clusters:\n- name: a\n  kubeconfig: /nonexistent/kubeconfig", "clusters[0].kubeconfig"},
		{"listen: \":99999\"", "not a number in 0..65535"},
		{"github:\n  appID: 1\n  privateKey: nope\n  webhookSecret: x", "not a PEM-encoded private key"},
		{"github:\n  appID: 1\n  privateKeyFile: /k\n  webhookSecret: x\n  baseURL: ftp://x", "github.baseURL"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := Load(writeFile(t, "c.yaml", tt.yaml), envMap(nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("want error containing %q, got %v", tt.want, err)
			}
		})
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	const value = "xoxb-canary-1234567890"
	s := Secret(value)
	j, _ := json.Marshal(struct{ S Secret }{s})
	for _, out := range []string{s.String(), fmt.Sprintf("%v %s %+v %#v", s, s, s, s), string(j), s.LogValue().String()} {
		if strings.Contains(out, value) {
			t.Errorf("secret leaked: %s", out)
		}
	}
	if s.Value() != value {
		t.Errorf("Value() = %q", s.Value())
	}
}

func TestGitHubBehaviourSettingsAreValidated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	yaml := "github:\n  appID: 1\n  privateKey: x\n  webhookSecret: s\n  commentMode: loud\n  changesConclusion: maybe\n" +
		"  repositories:\n    not-a-repo:\n      commentMode: manual\n    acme/infra:\n      commentMode: sometimes\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, envMap(nil))
	if err == nil {
		t.Fatal("invalid GitHub settings were accepted")
	}
	for _, want := range []string{
		`github.commentMode: "loud" is not auto, summary or manual`,
		`github.changesConclusion: "maybe" is not neutral or success`,
		`github.repositories: "not-a-repo" is not owner/name`,
		`github.repositories.acme/infra.commentMode: "sometimes" is not auto, summary or manual`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	cfg, err := Load("", envMap(map[string]string{"FLUXDIFF_GITHUB_SKIP_DRAFTS": "true", "FLUXDIFF_GITHUB_ALLOW_FORKS": "1", "FLUXDIFF_GITHUB_COMMENT_MODE": "summary"}))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.GitHub.SkipDrafts || !cfg.GitHub.AllowForks || cfg.GitHub.CommentMode != "summary" {
		t.Errorf("environment overrides not applied: %+v", cfg.GitHub)
	}
	if _, err := Load("", envMap(map[string]string{"FLUXDIFF_GITHUB_SKIP_DRAFTS": "perhaps"})); err == nil || !strings.Contains(err.Error(), "FLUXDIFF_GITHUB_SKIP_DRAFTS: not true or false") {
		t.Errorf("a bad boolean was not refused clearly: %v", err)
	}
}

func TestGitHubProblemsAreFoundWithoutCredentialsAndWithAnEmptySecretFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte("github:\n  commentMode: loud\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, envMap(nil)); err == nil || !strings.Contains(err.Error(), `github.commentMode: "loud"`) {
		t.Errorf("a bad comment mode without credentials: %v; want it refused", err)
	}
	empty := filepath.Join(dir, "secret")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load("", envMap(map[string]string{
		"FLUXDIFF_GITHUB_APP_ID": "1", "FLUXDIFF_GITHUB_PRIVATE_KEY": rsaPEM(t), "FLUXDIFF_GITHUB_WEBHOOK_SECRET_FILE": empty,
	}))
	if err == nil || !strings.Contains(err.Error(), "github.webhookSecretFile: "+empty+" holds no secret") {
		t.Errorf("an empty webhook secret file: %v; want it refused", err)
	}
}

func TestLoadReportsEveryUnknownKeyWithItsPath(t *testing.T) {
	path := writeFile(t, "fluxdiff.yaml", `
logLevl: debug
diff:
  concurency: 4
  timeout: 1m
queue:
  workers: 3
  jobTimout: 10m
clusters:
  - name: prod
    qsp: 5
github:
  repositories:
    acme/fleet:
      commentMod: summary
  somethingElse: true
`)
	cfg, err := Load(path, envMap(nil))
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("want *Error, got %v (config %+v)", err, cfg)
	}
	var got []string
	for _, p := range cerr.Problems {
		got = append(got, strings.TrimPrefix(p.Error(), path+": "))
	}
	want := []string{
		`unknown field "clusters[0].qsp" (did you mean "clusters[0].qps"?)`,
		`unknown field "diff.concurency" (did you mean "diff.concurrency"?)`,
		`unknown field "github.repositories.acme/fleet.commentMod" (did you mean "github.repositories.acme/fleet.commentMode"?)`,
		`unknown field "github.somethingElse"`,
		`unknown field "logLevl" (did you mean "logLevel"?)`,
		`unknown field "queue.jobTimout" (did you mean "queue.jobTimeout"?)`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
}

func TestLoadStillRefusesDuplicateKeys(t *testing.T) {
	path := writeFile(t, "fluxdiff.yaml", "listen: :1\nlisten: :2\n")
	if _, err := Load(path, envMap(nil)); err == nil || !strings.Contains(err.Error(), `"listen" already set`) {
		t.Errorf("err = %v, want the duplicate key named", err)
	}
}

func TestSuggestOnlyNearKeys(t *testing.T) {
	names := []string{"concurrency", "timeout", "impersonate", "qps", "burst"}
	for key, want := range map[string]string{
		"concurency": "concurrency", "Timeout": "timeout", "timeot": "timeout", "impresonate": "impersonate",
		"qsp": "qps", "bust": "burst", "xyz": "", "colour": "", "cluster": "",
	} {
		if got := suggest(key, names); got != want {
			t.Errorf("suggest(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestQueueJobTimeoutIsBounded(t *testing.T) {
	for _, tt := range []struct {
		env, want string
	}{
		{"1m", "queue.jobTimeout: 1m0s is outside 2m0s..2h0m0s"},
		{"-5m", "queue.jobTimeout: -5m0s is outside 2m0s..2h0m0s"},
		{"3h", "queue.jobTimeout: 3h0m0s is outside 2m0s..2h0m0s"},
		{"soon", "FLUXDIFF_QUEUE_JOB_TIMEOUT"},
		{"2m", ""},
		{"2h", ""},
	} {
		cfg, err := Load("", envMap(map[string]string{"FLUXDIFF_QUEUE_JOB_TIMEOUT": tt.env}))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.env, err)
		case tt.want == "" && cfg.Queue.JobTimeout.Duration != mustDuration(t, tt.env):
			t.Errorf("%s: jobTimeout = %s", tt.env, cfg.Queue.JobTimeout)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: err = %v, want it to say %q", tt.env, err, tt.want)
		}
	}
}

func mustDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
