package config

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// validate checks every setting and returns one error per problem.
func (c *Config) validate() []error {
	var problems []error
	add := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }

	if err := checkListen(c.Listen); err != nil {
		add("listen: %v", err)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		add("logLevel: %q is not one of debug, info, warn, error", c.LogLevel)
	}
	if c.MaxBodyBytes < 0 {
		add("maxBodyBytes: must be positive")
	}
	problems = append(problems, c.GitHub.validate()...)
	problems = append(problems, c.Slack.validate()...)
	problems = append(problems, validateClusters(c.Clusters)...)
	problems = append(problems, c.Helm.validate()...)
	if err := checkStoreURL(c.Store.URL); err != nil {
		add("store.url: %v", err)
	}
	if c.Queue.Workers < 1 || c.Queue.Workers > 256 {
		add("queue.workers: %d is outside 1..256", c.Queue.Workers)
	}
	if c.Queue.ClusterConcurrency < 1 || c.Queue.ClusterConcurrency > 256 {
		add("queue.clusterConcurrency: %d is outside 1..256", c.Queue.ClusterConcurrency)
	}
	if d := c.Queue.JobTimeout.Duration; d < MinJobTimeout || d > MaxJobTimeout {
		add("queue.jobTimeout: %s is outside %s..%s", d, MinJobTimeout, MaxJobTimeout)
	}
	if c.Diff.BuildCacheObjects < 0 {
		add("diff.buildCacheObjects: %d is negative", c.Diff.BuildCacheObjects)
	}
	if c.Diff.Concurrency < 1 || c.Diff.Concurrency > 256 {
		add("diff.concurrency: %d is outside 1..256", c.Diff.Concurrency)
	}
	if c.Diff.Timeout.Duration < 0 {
		add("diff.timeout: must be positive")
	}
	if sa := c.Diff.DefaultServiceAccount; sa != "" && !serviceAccountName.MatchString(sa) {
		add("diff.defaultServiceAccount: %q is not a service account name", sa)
	}
	return problems
}

// serviceAccountName is a DNS subdomain (RFC 1123), as Kubernetes requires
// of a ServiceAccount's name.
var serviceAccountName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: port %q is not a number in 0..65535", addr, port)
	}
	if host != "" && net.ParseIP(host) == nil && strings.ContainsAny(host, " /:") {
		return fmt.Errorf("%q: host %q is not a host name or IP address", addr, host)
	}
	return nil
}

func (g GitHub) validate() []error {
	problems := g.validateBehaviour()
	if !g.Enabled() {
		return problems
	}
	add := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	if g.AppID <= 0 {
		add("github.appID: required when GitHub is configured (a positive number)")
	}
	switch {
	case g.PrivateKey == "" && g.PrivateKeyFile == "":
		add("github.privateKeyFile: required when GitHub is configured")
	case g.PrivateKey != "":
		if err := checkRSAKey([]byte(g.PrivateKey.Value())); err != nil {
			add("github private key: %v", err)
		}
	}
	switch {
	case g.WebhookSecret == "" && g.WebhookSecretFile == "":
		add("github.webhookSecret: required when GitHub is configured")
	case g.WebhookSecret == "":
		// An empty secret would make every delivery fail its signature check.
		add("github.webhookSecretFile: %s holds no secret", g.WebhookSecretFile)
	}
	if g.BaseURL != "" {
		if u, err := url.Parse(g.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add("github.baseURL: %q is not an http(s) URL", g.BaseURL)
		}
	}
	return problems
}

// validateBehaviour checks the GitHub settings that do not depend on the
// App's credentials, so that they are checked even before those are set.
func (g GitHub) validateBehaviour() []error {
	var problems []error
	add := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	modes := map[string]bool{"": true, "auto": true, "summary": true, "manual": true}
	if !modes[g.CommentMode] {
		add("github.commentMode: %q is not auto, summary or manual", g.CommentMode)
	}
	for repo, rs := range g.Repositories {
		if owner, name, ok := strings.Cut(repo, "/"); !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			add("github.repositories: %q is not owner/name", repo)
		}
		if !modes[rs.CommentMode] {
			add("github.repositories.%s.commentMode: %q is not auto, summary or manual", repo, rs.CommentMode)
		}
	}
	if c := g.ChangesConclusion; c != "" && c != "neutral" && c != "success" {
		add("github.changesConclusion: %q is not neutral or success", c)
	}
	return problems
}

// checkRSAKey reports whether pemBytes holds an RSA private key, as GitHub
// issues them (PKCS#1), or the same key in PKCS#8.
func checkRSAKey(pemBytes []byte) error {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return errors.New("not a PEM-encoded private key")
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return nil
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		return nil
	}
	return errors.New("PEM block is not an RSA private key")
}

func (s Slack) validate() []error {
	if !s.Enabled() {
		return nil
	}
	var problems []error
	if s.SigningSecret == "" && s.SigningSecretFile == "" {
		problems = append(problems, errors.New("slack.signingSecret: required when Slack is configured"))
	}
	if s.BotToken == "" && s.BotTokenFile == "" {
		problems = append(problems, errors.New("slack.botToken: required when Slack is configured"))
	}
	return append(problems, s.validateIDs()...)
}

func validateClusters(clusters []Cluster) []error {
	var problems []error
	seen := map[string]bool{}
	for i, cl := range clusters {
		where := fmt.Sprintf("clusters[%d]", i)
		if cl.Name == "" {
			problems = append(problems, fmt.Errorf("%s.name: required", where))
		} else if seen[cl.Name] {
			problems = append(problems, fmt.Errorf("%s.name: %q is used twice", where, cl.Name))
		}
		seen[cl.Name] = true
		if cl.Kubeconfig != "" {
			if _, err := os.Stat(cl.Kubeconfig); err != nil {
				problems = append(problems, fmt.Errorf("%s.kubeconfig: %v", where, err))
			}
		}
		if cl.QPS < 0 || cl.Burst < 0 {
			problems = append(problems, fmt.Errorf("%s: qps and burst must be positive", where))
		}
	}
	return problems
}

// checkStoreURL never quotes raw, which may hold the database password: it
// shows the URL redacted, or nothing of it when it does not parse.
func checkStoreURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	switch u.Scheme {
	case "sqlite":
		if u.Host+u.Path == "" {
			return fmt.Errorf("%q names no file", u.Redacted())
		}
	case "postgres", "postgresql":
	case "":
		return errors.New("no scheme: want sqlite://, postgres:// or postgresql://")
	default:
		return fmt.Errorf("scheme %q: scheme must be sqlite or postgres", u.Scheme)
	}
	return nil
}
