package githubapp

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Comment modes (github.commentMode): how much of a report goes into the
// sticky pull request comment and the check run's text.
const (
	// CommentAuto puts the full diff in the comment (split when long).
	CommentAuto = "auto"
	// CommentSummary puts only the counts table in the comment.
	CommentSummary = "summary"
	// CommentManual posts no comment until someone asks (e.g. Slack's
	// "Post diff to PR" button); an existing comment is still updated.
	CommentManual = "manual"
)

// Config configures an App.
type Config struct {
	// AppID is the numeric GitHub App ID.
	AppID int64
	// PrivateKey is the App's private key, PEM-encoded.
	PrivateKey []byte
	// BaseURL is the REST API root: empty for github.com, or
	// https://HOST/api/v3/ for GitHub Enterprise Server.
	BaseURL string
	// Transport is the base HTTP transport under the retry and metrics
	// middleware; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Logger receives request logs at debug and retries at warn; nil
	// discards.
	Logger *slog.Logger
	// Registerer takes the request metrics; nil registers none.
	Registerer prometheus.Registerer

	// CommentMode is the default comment mode (CommentAuto when empty);
	// RepoCommentModes overrides it per "owner/name".
	CommentMode      string
	RepoCommentModes map[string]string
	// ChangesConclusion is the check run conclusion when a report has
	// changes and no errors: "neutral" (default) or "success".
	ChangesConclusion string
	// CheckRunName is the check run's name ("fluxdiff" when empty).
	CheckRunName string
	// AllowForks lets "/flux-diff" comments diff pull requests from forks
	// (github.allowForks; the webhook takes the same setting).
	AllowForks bool

	// MergePollTimeout bounds the wait for GitHub to compute a pull
	// request's test-merge commit (default 2m).
	MergePollTimeout time.Duration
	// MaxRetries bounds the retries of one request after a transient
	// failure or a rate limit (default 4).
	MaxRetries int
	// MaxRetryWait is the longest a rate limit may make one request wait
	// before it fails instead (default 5m).
	MaxRetryWait time.Duration

	// SourceDir is the directory of the source tree cache (see
	// NewSourceCache); empty means "fluxdiff-sources" under os.TempDir.
	SourceDir string
	// SourceCacheBytes bounds the extracted trees kept in SourceDir
	// (bytes of file content; DefaultSourceCacheBytes, 2 GiB, when zero).
	// Trees in use are kept even beyond it.
	SourceCacheBytes int64
	// SourceLimits bounds one repository tarball: compressed and
	// uncompressed bytes, bytes of one file, and entries (see Limits;
	// zero fields take the defaults: 256 MiB, 512 MiB, 64 MiB, 100,000).
	SourceLimits Limits
}

// CommentModeFor returns the comment mode of repo ("owner/name").
func (c Config) CommentModeFor(repo string) string {
	if m, ok := c.RepoCommentModes[repo]; ok && m != "" {
		return m
	}
	if c.CommentMode == "" {
		return CommentAuto
	}
	return c.CommentMode
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Transport == nil {
		c.Transport = http.DefaultTransport
	}
	if c.ChangesConclusion == "" {
		c.ChangesConclusion = "neutral"
	}
	if c.CheckRunName == "" {
		c.CheckRunName = "fluxdiff"
	}
	if c.MergePollTimeout <= 0 {
		c.MergePollTimeout = 2 * time.Minute
	}
	if c.MaxRetries <= 0 {
		c.MaxRetries = 4
	}
	if c.MaxRetryWait <= 0 {
		c.MaxRetryWait = 5 * time.Minute
	}
	return c
}

func (c Config) validate() error {
	if c.AppID <= 0 {
		return fmt.Errorf("githubapp: app ID %d is not positive", c.AppID)
	}
	if len(c.PrivateKey) == 0 {
		return fmt.Errorf("githubapp: private key is empty")
	}
	modes := map[string]bool{"": true, CommentAuto: true, CommentSummary: true, CommentManual: true}
	if !modes[c.CommentMode] {
		return fmt.Errorf("githubapp: comment mode %q is not auto, summary or manual", c.CommentMode)
	}
	for repo, m := range c.RepoCommentModes {
		if !modes[m] {
			return fmt.Errorf("githubapp: comment mode %q of %s is not auto, summary or manual", m, repo)
		}
	}
	if c.ChangesConclusion != "" && c.ChangesConclusion != "neutral" && c.ChangesConclusion != "success" {
		return fmt.Errorf("githubapp: changes conclusion %q is not neutral or success", c.ChangesConclusion)
	}
	return nil
}
