package config

import (
	"fmt"
	"strconv"
	"time"
)

// EnvPrefix starts every environment override.
const EnvPrefix = "FLUXDIFF_"

// envVars maps each FLUXDIFF_* variable (without the prefix) to the setting
// it overrides.
var envVars = []struct {
	name string
	set  func(c *Config, v string) error
}{
	{"LISTEN", func(c *Config, v string) error { c.Listen = v; return nil }},
	{"LOG_LEVEL", func(c *Config, v string) error { c.LogLevel = v; return nil }},
	{"SHUTDOWN_TIMEOUT", func(c *Config, v string) error { return setDuration(&c.ShutdownTimeout, v) }},
	{"GITHUB_APP_ID", func(c *Config, v string) error { return setInt64(&c.GitHub.AppID, v) }},
	{"GITHUB_PRIVATE_KEY", func(c *Config, v string) error { c.GitHub.PrivateKey = Secret(v); return nil }},
	{"GITHUB_PRIVATE_KEY_FILE", func(c *Config, v string) error { c.GitHub.PrivateKeyFile = v; return nil }},
	{"GITHUB_WEBHOOK_SECRET", func(c *Config, v string) error { c.GitHub.WebhookSecret = Secret(v); return nil }},
	{"GITHUB_WEBHOOK_SECRET_FILE", func(c *Config, v string) error { c.GitHub.WebhookSecretFile = v; return nil }},
	{"GITHUB_BASE_URL", func(c *Config, v string) error { c.GitHub.BaseURL = v; return nil }},
	{"GITHUB_SKIP_DRAFTS", func(c *Config, v string) error { return setBool(&c.GitHub.SkipDrafts, v) }},
	{"GITHUB_ALLOW_FORKS", func(c *Config, v string) error { return setBool(&c.GitHub.AllowForks, v) }},
	{"GITHUB_COMMENT_MODE", func(c *Config, v string) error { c.GitHub.CommentMode = v; return nil }},
	{"GITHUB_CHANGES_CONCLUSION", func(c *Config, v string) error { c.GitHub.ChangesConclusion = v; return nil }},
	{"SOURCE_DIR", func(c *Config, v string) error { c.Source.Dir = v; return nil }},
	{"SLACK_SIGNING_SECRET", func(c *Config, v string) error { c.Slack.SigningSecret = Secret(v); return nil }},
	{"SLACK_SIGNING_SECRET_FILE", func(c *Config, v string) error { c.Slack.SigningSecretFile = v; return nil }},
	{"SLACK_BOT_TOKEN", func(c *Config, v string) error { c.Slack.BotToken = Secret(v); return nil }},
	{"SLACK_BOT_TOKEN_FILE", func(c *Config, v string) error { c.Slack.BotTokenFile = v; return nil }},
	{"SLACK_CHANNEL", func(c *Config, v string) error { c.Slack.Channel = v; return nil }},
	{"SLACK_APPROVERS", func(c *Config, v string) error { c.Slack.Approvers = splitList(v); return nil }},
	{"SLACK_REPORT_TTL", func(c *Config, v string) error { return setDuration(&c.Slack.ReportTTL, v) }},
	{"SLACK_API_URL", func(c *Config, v string) error { c.Slack.APIURL = v; return nil }},
	{"STORE_URL", func(c *Config, v string) error { c.Store.URL = v; return nil }},
	{"QUEUE_WORKERS", func(c *Config, v string) error { return setInt(&c.Queue.Workers, v) }},
	{"QUEUE_CLUSTER_CONCURRENCY", func(c *Config, v string) error { return setInt(&c.Queue.ClusterConcurrency, v) }},
	{"DIFF_CONCURRENCY", func(c *Config, v string) error { return setInt(&c.Diff.Concurrency, v) }},
	{"DIFF_TIMEOUT", func(c *Config, v string) error { return setDuration(&c.Diff.Timeout, v) }},
}

// EnvNames lists the supported environment variables, for help text.
func EnvNames() []string {
	names := make([]string, len(envVars))
	for i, e := range envVars {
		names[i] = EnvPrefix + e.name
	}
	return names
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
