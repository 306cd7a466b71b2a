package config

import (
	"fmt"
	"strconv"
	"time"
)

// EnvPrefix starts every environment override.
const EnvPrefix = "FLUXDIFF_"

// envVars maps each FLUXDIFF_* variable (without the prefix) to the setting
// it overrides, named by its dotted key in the YAML file.
var envVars = []struct {
	name string
	key  string
	set  func(c *Config, v string) error
}{
	{"LISTEN", "listen", func(c *Config, v string) error { c.Listen = v; return nil }},
	{"LOG_LEVEL", "logLevel", func(c *Config, v string) error { c.LogLevel = v; return nil }},
	{"SHUTDOWN_TIMEOUT", "shutdownTimeout", func(c *Config, v string) error { return setDuration(&c.ShutdownTimeout, v) }},
	{"GITHUB_APP_ID", "github.appID", func(c *Config, v string) error { return setInt64(&c.GitHub.AppID, v) }},
	{"GITHUB_PRIVATE_KEY", "github.privateKey", func(c *Config, v string) error { c.GitHub.PrivateKey = Secret(v); return nil }},
	{"GITHUB_PRIVATE_KEY_FILE", "github.privateKeyFile", func(c *Config, v string) error { c.GitHub.PrivateKeyFile = v; return nil }},
	{"GITHUB_WEBHOOK_SECRET", "github.webhookSecret", func(c *Config, v string) error { c.GitHub.WebhookSecret = Secret(v); return nil }},
	{"GITHUB_WEBHOOK_SECRET_FILE", "github.webhookSecretFile", func(c *Config, v string) error { c.GitHub.WebhookSecretFile = v; return nil }},
	{"GITHUB_BASE_URL", "github.baseURL", func(c *Config, v string) error { c.GitHub.BaseURL = v; return nil }},
	{"GITHUB_SKIP_DRAFTS", "github.skipDrafts", func(c *Config, v string) error { return setBool(&c.GitHub.SkipDrafts, v) }},
	{"GITHUB_ALLOW_FORKS", "github.allowForks", func(c *Config, v string) error { return setBool(&c.GitHub.AllowForks, v) }},
	{"GITHUB_COMMENT_MODE", "github.commentMode", func(c *Config, v string) error { c.GitHub.CommentMode = v; return nil }},
	{"GITHUB_CHANGES_CONCLUSION", "github.changesConclusion", func(c *Config, v string) error { c.GitHub.ChangesConclusion = v; return nil }},
	{"SOURCE_DIR", "source.dir", func(c *Config, v string) error { c.Source.Dir = v; return nil }},
	{"SLACK_SIGNING_SECRET", "slack.signingSecret", func(c *Config, v string) error { c.Slack.SigningSecret = Secret(v); return nil }},
	{"SLACK_SIGNING_SECRET_FILE", "slack.signingSecretFile", func(c *Config, v string) error { c.Slack.SigningSecretFile = v; return nil }},
	{"SLACK_BOT_TOKEN", "slack.botToken", func(c *Config, v string) error { c.Slack.BotToken = Secret(v); return nil }},
	{"SLACK_BOT_TOKEN_FILE", "slack.botTokenFile", func(c *Config, v string) error { c.Slack.BotTokenFile = v; return nil }},
	{"SLACK_CHANNEL", "slack.channel", func(c *Config, v string) error { c.Slack.Channel = v; return nil }},
	{"SLACK_APPROVERS", "slack.approvers", func(c *Config, v string) error { c.Slack.Approvers = splitList(v); return nil }},
	{"SLACK_REPORT_TTL", "slack.reportTTL", func(c *Config, v string) error { return setDuration(&c.Slack.ReportTTL, v) }},
	{"SLACK_API_URL", "slack.apiURL", func(c *Config, v string) error { c.Slack.APIURL = v; return nil }},
	{"STORE_URL", "store.url", func(c *Config, v string) error { c.Store.URL = v; return nil }},
	{"QUEUE_WORKERS", "queue.workers", func(c *Config, v string) error { return setInt(&c.Queue.Workers, v) }},
	{"QUEUE_CLUSTER_CONCURRENCY", "queue.clusterConcurrency", func(c *Config, v string) error { return setInt(&c.Queue.ClusterConcurrency, v) }},
	{"QUEUE_JOB_TIMEOUT", "queue.jobTimeout", func(c *Config, v string) error { return setDuration(&c.Queue.JobTimeout, v) }},
	{"DIFF_CONCURRENCY", "diff.concurrency", func(c *Config, v string) error { return setInt(&c.Diff.Concurrency, v) }},
	{"DIFF_TIMEOUT", "diff.timeout", func(c *Config, v string) error { return setDuration(&c.Diff.Timeout, v) }},
	{"DIFF_IMPERSONATE", "diff.impersonate", func(c *Config, v string) error { return setBool(&c.Diff.Impersonate, v) }},
	{"DIFF_DEFAULT_SERVICE_ACCOUNT", "diff.defaultServiceAccount", func(c *Config, v string) error { c.Diff.DefaultServiceAccount = v; return nil }},
	{"HELM_ALLOWED_HOSTS", "helm.allowedHosts", func(c *Config, v string) error { c.Helm.AllowedHosts = splitList(v); return nil }},
	{"HELM_ALLOW_PRIVATE_NETWORKS", "helm.allowPrivateNetworks", func(c *Config, v string) error { return setBool(&c.Helm.AllowPrivateNetworks, v) }},
	{"HELM_ALLOWED_CIDRS", "helm.allowedCIDRs", func(c *Config, v string) error { c.Helm.AllowedCIDRs = splitList(v); return nil }},
	{"HELM_FETCH_TIMEOUT", "helm.fetchTimeout", func(c *Config, v string) error { return setDuration(&c.Helm.FetchTimeout, v) }},
}

// EnvNames lists the supported environment variables, for help text.
func EnvNames() []string {
	names := make([]string, len(envVars))
	for i, e := range envVars {
		names[i] = EnvPrefix + e.name
	}
	return names
}

// EnvKeys maps each supported environment variable to the dotted key of
// the setting it overrides, e.g. "FLUXDIFF_GITHUB_APP_ID" → "github.appID".
func EnvKeys() map[string]string {
	keys := make(map[string]string, len(envVars))
	for _, e := range envVars {
		keys[EnvPrefix+e.name] = e.key
	}
	return keys
}

func applyEnv(c *Config, lookup func(string) (string, bool)) []error {
	if lookup == nil {
		return nil
	}
	var problems []error
	for _, e := range envVars {
		v, ok := lookup(EnvPrefix + e.name)
		if !ok || v == "" {
			continue
		}
		if err := e.set(c, v); err != nil {
			problems = append(problems, fmt.Errorf("%s%s: %w", EnvPrefix, e.name, err))
		}
	}
	return problems
}

func setInt64(into *int64, v string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return fmt.Errorf("not an integer: %q", v)
	}
	*into = n
	return nil
}

func setInt(into *int, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("not an integer: %q", v)
	}
	*into = n
	return nil
}

func setDuration(into *Duration, v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("not a duration: %q", v)
	}
	into.Duration = d
	return nil
}

func setBool(into *bool, v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("not true or false: %q", v)
	}
	*into = b
	return nil
}
