package servertest

import (
	"cmp"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ConfigOptions say what WriteConfig puts in a `fluxdiff serve`
// configuration besides the fleet.
type ConfigOptions struct {
	// WebhookSecret is github.webhookSecret; required.
	WebhookSecret string
	// CommentMode is github.commentMode (empty: fluxdiff's default).
	CommentMode string
	// LogLevel is logLevel (default "info").
	LogLevel string
	// Slack, when set, configures the Slack app.
	Slack *SlackConfig
	// Helm turns HelmRelease rendering on; off by default (helm.disabled:
	// true), as the example repository's chart repository is on the
	// internet, which tests do not reach. The demo points it at a
	// ChartRepo instead.
	Helm bool
	// HelmAllowedCIDRs is helm.allowedCIDRs, with Helm: the address ranges
	// chart fetches may reach, e.g. a ChartRepo's CIDR (loopback is
	// refused otherwise).
	HelmAllowedCIDRs []string
}

// SlackConfig is the slack section of a configuration.
type SlackConfig struct {
	// APIURL is the Slack API root (a chattest server's APIURL).
	APIURL, SigningSecret, BotToken string
	// Channel gets every pull request's diff.
	Channel string
	// Approvers and GitHubLogins are slack.approvers and
	// slack.githubLogins.
	Approvers    []string
	GitHubLogins map[string]string
}

// Config is a configuration written by WriteConfig.
type Config struct {
	// Path is the YAML file; Listen the "127.0.0.1:port" it listens on;
	// StoreURL its SQLite store.
	Path, Listen, StoreURL string
}

// WriteConfig writes into dir a `fluxdiff serve` configuration for fleet:
// a free port on 127.0.0.1, the stand-in's App ID, key (github-app.pem)
// and URL, a kubeconfig per cluster (dir/NAME/kubeconfig), a SQLite store
// (dir/fluxdiff.db) and a source cache (dir/sources). Writing it again
// in the same dir picks another port but keeps the store.
func WriteConfig(fleet *Fleet, dir string, opts ConfigOptions) (Config, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Config{}, err
	}
	c := Config{Listen: l.Addr().String(), StoreURL: "sqlite://" + filepath.Join(dir, "fluxdiff.db"), Path: filepath.Join(dir, "config.yaml")}
	l.Close()
	keyPath := filepath.Join(dir, "github-app.pem")
	if err := os.WriteFile(keyPath, fleet.GitHub.PrivateKeyPEM(), 0o600); err != nil {
		return Config{}, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "listen: %q\nlogLevel: %q\n", c.Listen, cmp.Or(opts.LogLevel, "info"))
	fmt.Fprintf(&b, "github:\n  appID: %d\n  privateKeyFile: %q\n  webhookSecret: %q\n  baseURL: %q\n  mergePollTimeout: 30s\n",
		fleet.GitHub.AppID(), keyPath, opts.WebhookSecret, fleet.GitHub.URL())
	if opts.CommentMode != "" {
		fmt.Fprintf(&b, "  commentMode: %q\n", opts.CommentMode)
	}
	b.WriteString("clusters:\n")
	for _, name := range fleet.Names {
		kdir := filepath.Join(dir, name)
		if err := os.MkdirAll(kdir, 0o700); err != nil {
			return Config{}, err
		}
		kc, err := fleet.Envs[name].Kubeconfig(kdir)
		if err != nil {
			return Config{}, err
		}
		fmt.Fprintf(&b, "  - name: %s\n    kubeconfig: %q\n    qps: 200\n    burst: 400\n", name, kc)
	}
	fmt.Fprintf(&b, "store:\n  url: %q\nsource:\n  dir: %q\n", c.StoreURL, filepath.Join(dir, "sources"))
	writeHelm(&b, opts)
	if s := opts.Slack; s != nil {
		writeSlack(&b, s)
	}
	return c, os.WriteFile(c.Path, []byte(b.String()), 0o600)
}

func writeHelm(b *strings.Builder, opts ConfigOptions) {
	if !opts.Helm {
		b.WriteString("helm:\n  disabled: true\n")
		return
	}
	if len(opts.HelmAllowedCIDRs) > 0 {
		b.WriteString("helm:\n  allowedCIDRs:\n")
		for _, c := range opts.HelmAllowedCIDRs {
			fmt.Fprintf(b, "    - %q\n", c)
		}
	}
}

func writeSlack(b *strings.Builder, s *SlackConfig) {
	fmt.Fprintf(b, "slack:\n  apiURL: %q\n  signingSecret: %q\n  botToken: %q\n  channel: %q\n", s.APIURL, s.SigningSecret, s.BotToken, s.Channel)
	if len(s.Approvers) > 0 {
		b.WriteString("  approvers:\n")
		for _, a := range s.Approvers {
			fmt.Fprintf(b, "    - %q\n", a)
		}
	}
	if len(s.GitHubLogins) > 0 {
		b.WriteString("  githubLogins:\n")
		users := make([]string, 0, len(s.GitHubLogins))
		for u := range s.GitHubLogins {
			users = append(users, u)
		}
		sort.Strings(users)
		for _, u := range users {
			fmt.Fprintf(b, "    %q: %q\n", u, s.GitHubLogins[u])
		}
	}
}
