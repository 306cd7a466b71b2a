// Package config loads fluxdiff's configuration: one optional YAML file,
// then FLUXDIFF_* environment overrides, then validation that reports every
// problem at once. Secrets may be given inline, by environment or by file;
// they are held in the Secret type, which never prints its value.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"sigs.k8s.io/yaml"
)

// DefaultListen is the address the server listens on when none is configured.
const DefaultListen = ":8080"

// DefaultStoreURL is the embedded SQLite store used when none is configured.
const DefaultStoreURL = "sqlite://./data/fluxdiff.db"

// DefaultSourceDir is where source trees are cached when no folder is
// configured.
const DefaultSourceDir = "./data/sources"

// Config is fluxdiff's whole configuration.
type Config struct {
	// Listen is the HTTP listen address, host:port.
	Listen string `json:"listen,omitempty"`
	// LogLevel is one of debug, info, warn, error.
	LogLevel string `json:"logLevel,omitempty"`
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout Duration `json:"shutdownTimeout,omitempty"`
	// MaxBodyBytes limits request bodies.
	MaxBodyBytes int64 `json:"maxBodyBytes,omitempty"`

	GitHub   GitHub    `json:"github,omitempty"`
	Slack    Slack     `json:"slack,omitempty"`
	Clusters []Cluster `json:"clusters,omitempty"`
	Store    Store     `json:"store,omitempty"`
	Queue    Queue     `json:"queue,omitempty"`
	Source   Source    `json:"source,omitempty"`
	Diff     Diff      `json:"diff,omitempty"`
	Helm     Helm      `json:"helm,omitempty"`
}

// GitHub configures the GitHub App.
type GitHub struct {
	// AppID is the numeric GitHub App ID.
	AppID int64 `json:"appID,omitempty"`
	// PrivateKeyFile is a PEM file with the App's private key.
	PrivateKeyFile string `json:"privateKeyFile,omitempty"`
	// PrivateKey is the PEM key itself (prefer the file or the environment).
	PrivateKey Secret `json:"privateKey,omitempty"`
	// WebhookSecret verifies webhook signatures.
	WebhookSecret Secret `json:"webhookSecret,omitempty"`
	// WebhookSecretFile holds the webhook secret.
	WebhookSecretFile string `json:"webhookSecretFile,omitempty"`
	// BaseURL is the REST API root for GitHub Enterprise Server, e.g.
	// https://github.example.com/api/v3/. Empty means github.com.
	BaseURL string `json:"baseURL,omitempty"`
	// SkipDrafts leaves draft pull requests alone until they are ready for
	// review.
	SkipDrafts bool `json:"skipDrafts,omitempty"`
	// AllowForks diffs pull requests from forks. Their content is untrusted
	// (it is built and sent to the clusters as dry-runs), so it is off by
	// default.
	AllowForks bool `json:"allowForks,omitempty"`
	// CommentMode is auto (the full diff in the sticky comment), summary
	// (counts only) or manual (no comment until someone asks); default auto.
	CommentMode string `json:"commentMode,omitempty"`
	// Repositories overrides settings per repository ("owner/name").
	Repositories map[string]RepoSettings `json:"repositories,omitempty"`
	// ChangesConclusion is the check run's conclusion when a diff has
	// changes and no errors: neutral (default) or success.
	ChangesConclusion string `json:"changesConclusion,omitempty"`
	// MergePollTimeout bounds the wait for GitHub's test-merge commit
	// (default 2m).
	MergePollTimeout Duration `json:"mergePollTimeout,omitempty"`
}

// RepoSettings are the per-repository overrides of the GitHub settings.
type RepoSettings struct {
	// CommentMode overrides github.commentMode.
	CommentMode string `json:"commentMode,omitempty"`
}

// Enabled reports whether any GitHub setting was given.
func (g GitHub) Enabled() bool {
	return g.AppID != 0 || g.PrivateKeyFile != "" || g.PrivateKey != "" ||
		g.WebhookSecret != "" || g.WebhookSecretFile != ""
}

// Slack configures the Slack app.
type Slack struct {
	// SigningSecret verifies Slack requests.
	SigningSecret Secret `json:"signingSecret,omitempty"`
	// SigningSecretFile holds the signing secret.
	SigningSecretFile string `json:"signingSecretFile,omitempty"`
	// BotToken is the xoxb- token used to post messages.
	BotToken Secret `json:"botToken,omitempty"`
	// BotTokenFile holds the bot token.
	BotTokenFile string `json:"botTokenFile,omitempty"`
	// Channel is the channel ID ("C…") where every pull request's diff is
	// posted and updated in place; empty posts none.
	Channel string `json:"channel,omitempty"`
	// Channels overrides Channel per repository ("owner/name" → channel
	// ID; an empty ID posts none for that repository).
	Channels map[string]string `json:"channels,omitempty"`
	// Approvers are the Slack user IDs ("U…", "W…") and user group IDs
	// ("S…") allowed to press Approve PR; empty allows nobody.
	Approvers []string `json:"approvers,omitempty"`
	// GitHubLogins maps Slack user IDs to GitHub logins, so that a pull
	// request's author cannot approve it from Slack.
	GitHubLogins map[string]string `json:"githubLogins,omitempty"`
	// ReportTTL is how long a report's buttons keep working (default 720h,
	// 30 days).
	ReportTTL Duration `json:"reportTTL,omitempty"`
	// APIURL overrides Slack's API root (for tests and proxies).
	APIURL string `json:"apiURL,omitempty"`
}

// ChannelFor returns the channel for repo's pull request diffs.
func (s Slack) ChannelFor(repo string) string {
	if ch, ok := s.Channels[repo]; ok {
		return ch
	}
	return s.Channel
}

// Enabled reports whether any Slack setting was given.
func (s Slack) Enabled() bool {
	return s.SigningSecret != "" || s.SigningSecretFile != "" || s.BotToken != "" || s.BotTokenFile != ""
}

// Cluster names one Kubernetes cluster reached through a kubeconfig.
type Cluster struct {
	// Name identifies the cluster in reports; unique.
	Name string `json:"name"`
	// Kubeconfig is a kubeconfig file; empty means the default loading rules.
	Kubeconfig string `json:"kubeconfig,omitempty"`
	// Context is the kubeconfig context; empty means the current one.
	Context string `json:"context,omitempty"`
	// QPS and Burst limit the client's request rate.
	QPS   float32 `json:"qps,omitempty"`
	Burst int     `json:"burst,omitempty"`
}

// Store configures the durable store and queue.
type Store struct {
	// URL is sqlite:///path/to/file.db or postgres://...
	URL string `json:"url,omitempty"`
}

// Queue configures the job queue's workers in this process.
type Queue struct {
	// Workers is how many diffs run at once.
	Workers int `json:"workers,omitempty"`
	// ClusterConcurrency bounds the diffs working on one cluster at once.
	ClusterConcurrency int `json:"clusterConcurrency,omitempty"`
	// JobTimeout cancels a job (one diff attempt, a command) after this
	// long (default DefaultJobTimeout; within MinJobTimeout..MaxJobTimeout).
	// A job whose process died runs again 5m after this (the queue's
	// RescueStuckJobsAfter follows it).
	JobTimeout Duration `json:"jobTimeout,omitempty"`
}

// Bounds of queue.jobTimeout. The pipeline stops diffing one minute before
// a job's deadline to publish what it has, so a job needs more than that;
// past two hours a job whose process died would wait too long to be
// rescued, and one diff that long means a diff.timeout or cluster problem.
const (
	DefaultJobTimeout = 15 * time.Minute
	MinJobTimeout     = 2 * time.Minute
	MaxJobTimeout     = 2 * time.Hour
)

// Source configures the cache of source trees (the merge commits' tarballs,
// extracted).
type Source struct {
	// Dir holds the extracted trees (default ./data/sources).
	Dir string `json:"dir,omitempty"`
	// CacheBytes bounds the trees kept, least recently used first out
	// (default 2 GiB).
	CacheBytes int64 `json:"cacheBytes,omitempty"`
	// MaxArchiveBytes bounds one tree's extracted size (default 512 MiB).
	MaxArchiveBytes int64 `json:"maxArchiveBytes,omitempty"`
	// MaxFiles bounds one tree's file count (default 100000).
	MaxFiles int `json:"maxFiles,omitempty"`
}

// Diff configures the diff engine.
type Diff struct {
	// Concurrency bounds parallel dry-runs per Kustomization.
	Concurrency int `json:"concurrency,omitempty"`
	// Timeout bounds one Kustomization's diff.
	Timeout Duration `json:"timeout,omitempty"`
	// Impersonate dry-runs each Kustomization as the service account
	// kustomize-controller impersonates for it (spec.serviceAccountName, else
	// DefaultServiceAccount); off by default. It needs the impersonate
	// permission (deploy/identity-impersonate).
	Impersonate bool `json:"impersonate,omitempty"`
	// DefaultServiceAccount is kustomize-controller's
	// --default-service-account, if it is started with one.
	DefaultServiceAccount string `json:"defaultServiceAccount,omitempty"`
	// InsecureKubeconfigExec accepts remote-target kubeconfigs whose user
	// runs a command, like kustomize-controller's --insecure-kubeconfig-exec.
	InsecureKubeconfigExec bool `json:"insecureKubeconfigExec,omitempty"`
	// InsecureKubeconfigTLS accepts remote-target kubeconfigs that skip TLS
	// verification, like kustomize-controller's --insecure-kubeconfig-tls.
	InsecureKubeconfigTLS bool `json:"insecureKubeconfigTLS,omitempty"`
	// BuildCacheObjects bounds the objects of the builds kept for reuse
	// (diff.BuildCache), in all.
	BuildCacheObjects int `json:"buildCacheObjects,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("30s").
type Duration struct{ time.Duration }

// UnmarshalJSON parses a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q", s)
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

// Load reads the YAML file at path (skipped when path is empty), applies the
// environment (lookup is usually os.LookupEnv), fills defaults and validates.
// The error lists every problem found.
func Load(path string, lookup func(string) (string, bool)) (*Config, error) {
	cfg := &Config{}
	var problems []error
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		problems = append(problems, decodeFile(path, data, cfg)...)
	}
	problems = append(problems, applyEnv(cfg, lookup)...)
	cfg.setDefaults()
	problems = append(problems, cfg.resolveSecrets()...)
	problems = append(problems, cfg.validate()...)
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	return cfg, nil
}

// decodeFile decodes the YAML in data into cfg. A document that is not
// YAML, or has a key twice, is one problem; otherwise every key that cfg
// does not have is one (see unknownKeys), and so is a value of the wrong
// type. Each problem starts with path.
func decodeFile(path string, data []byte, cfg *Config) []error {
	var problems []error
	raw, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return []error{fmt.Errorf("%s: %w", path, err)}
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return []error{fmt.Errorf("%s: %w", path, err)}
	}
	for _, p := range unknownKeys(doc) {
		problems = append(problems, fmt.Errorf("%s: %w", path, p))
	}
	// Unknown keys are reported above; the decoder skips them and still
	// fills every known one, so that validation sees the rest of the file.
	if err := yaml.Unmarshal(data, cfg); err != nil {
		problems = append(problems, fmt.Errorf("%s: %w", path, err))
	}
	return problems
}

// Error lists every configuration problem.
type Error struct{ Problems []error }

func (e *Error) Error() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "invalid configuration (%d problems):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap returns the problems for errors.Is and errors.As.
func (e *Error) Unwrap() []error { return e.Problems }

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.ShutdownTimeout.Duration == 0 {
		c.ShutdownTimeout.Duration = 30 * time.Second
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 25 << 20 // GitHub caps webhook payloads at 25 MB.
	}
	if len(c.Clusters) == 0 {
		c.Clusters = []Cluster{{Name: "default"}}
	}
	for i := range c.Clusters {
		if c.Clusters[i].QPS == 0 {
			c.Clusters[i].QPS = 50
		}
		if c.Clusters[i].Burst == 0 {
			c.Clusters[i].Burst = 100
		}
	}
	c.setWorkDefaults()
	c.Helm.setDefaults()
	if c.Slack.ReportTTL.Duration == 0 {
		c.Slack.ReportTTL.Duration = 30 * 24 * time.Hour
	}
}

// setWorkDefaults fills the defaults of the store, queue, GitHub, source
// and diff sections.
func (c *Config) setWorkDefaults() {
	if c.Store.URL == "" {
		c.Store.URL = DefaultStoreURL
	}
	if c.Queue.Workers == 0 {
		c.Queue.Workers = 4
	}
	if c.Queue.ClusterConcurrency == 0 {
		c.Queue.ClusterConcurrency = 2
	}
	if c.Queue.JobTimeout.Duration == 0 {
		c.Queue.JobTimeout.Duration = DefaultJobTimeout
	}
	if c.GitHub.MergePollTimeout.Duration == 0 {
		c.GitHub.MergePollTimeout.Duration = 2 * time.Minute
	}
	if c.Source.Dir == "" {
		c.Source.Dir = DefaultSourceDir
	}
	if c.Source.CacheBytes == 0 {
		c.Source.CacheBytes = 2 << 30
	}
	if c.Source.MaxArchiveBytes == 0 {
		c.Source.MaxArchiveBytes = 512 << 20
	}
	if c.Source.MaxFiles == 0 {
		c.Source.MaxFiles = 100_000
	}
	if c.Diff.Concurrency == 0 {
		c.Diff.Concurrency = 8
	}
	if c.Diff.Timeout.Duration == 0 {
		c.Diff.Timeout.Duration = 5 * time.Minute
	}
	if c.Diff.BuildCacheObjects == 0 {
		c.Diff.BuildCacheObjects = 20_000
	}
}

// resolveSecrets reads secrets given by file into their Secret fields.
func (c *Config) resolveSecrets() []error {
	var problems []error
	read := func(field, file string, into *Secret) {
		if file == "" {
			return
		}
		b, err := os.ReadFile(file)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: cannot read %s: %w", field, file, unwrapPath(err)))
			return
		}
		*into = Secret(bytes.TrimSpace(b))
	}
	read("github.privateKeyFile", c.GitHub.PrivateKeyFile, &c.GitHub.PrivateKey)
	read("github.webhookSecretFile", c.GitHub.WebhookSecretFile, &c.GitHub.WebhookSecret)
	read("slack.signingSecretFile", c.Slack.SigningSecretFile, &c.Slack.SigningSecret)
	read("slack.botTokenFile", c.Slack.BotTokenFile, &c.Slack.BotToken)
	return problems
}

// unwrapPath drops the *PathError wrapper so messages name the file once.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
