package githubapp

import (
	"context"
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/golang-jwt/jwt/v4"
	"github.com/google/go-github/v55/github"
	ghv88 "github.com/google/go-github/v88/github"
	lru "github.com/hashicorp/golang-lru/v2"
)

// installationCacheSize bounds the cached installation clients; one
// client per installation keeps its token until ghinstallation refreshes
// it (a minute before expiry).
const installationCacheSize = 1024

// App is a GitHub App: its JWT-authenticated client and a cache of
// installation clients. Its methods are safe for concurrent use.
//
// Every client's transport is, from the outside in: retry (see
// retryTransport), authentication (ghinstallation: a fresh JWT or the
// cached installation token on every attempt), metrics and debug logs
// (see metricsTransport, which also sees installation token requests),
// then Config.Transport.
type App struct {
	cfg     Config
	key     *rsa.PrivateKey
	apiBase *url.URL
	metrics *metricsTransport
	app     *github.Client

	mu    sync.Mutex
	cache *lru.Cache[int64, *installation]
	bot   string

	// sleep waits between retries (d, or until ctx ends); tests replace
	// it before the first request to record waits instead.
	sleep func(ctx context.Context, d time.Duration) error
}

type installation struct {
	client *github.Client
	http   *http.Client
}

// New checks cfg, fills in its defaults and builds the App. It does no I/O.
// Errors: an invalid Config, a private key that is not a PEM RSA key, a
// BaseURL that is not an absolute http(s) URL.
func New(cfg Config) (*App, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM(cfg.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("githubapp: parse private key: %w", err)
	}
	base, err := apiBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	m, err := newMetricsTransport(cfg.Transport, cfg.Logger, cfg.Registerer, base.Path)
	if err != nil {
		return nil, err
	}
	cache, err := lru.New[int64, *installation](installationCacheSize)
	if err != nil {
		return nil, fmt.Errorf("githubapp: installation cache: %w", err)
	}
	a := &App{cfg: cfg, key: key, apiBase: base, metrics: m, cache: cache, sleep: sleepCtx}
	a.app = a.client(&http.Client{Transport: a.retry(a.appsTransport())})
	return a, nil
}

// apiBaseURL parses Config.BaseURL ("" is https://api.github.com/) and
// adds the trailing slash go-github needs. It is used as given: a GitHub
// Enterprise Server URL must include its "/api/v3/".
func apiBaseURL(s string) (*url.URL, error) {
	if s == "" {
		s = "https://api.github.com/"
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("githubapp: base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("githubapp: base URL %q is not an absolute http(s) URL", s)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

// appsTransport signs requests with a fresh App JWT. Each installation
// gets its own: ghinstallation's token refresh writes to the
// AppsTransport it was built from.
func (a *App) appsTransport() *ghinstallation.AppsTransport {
	atr := ghinstallation.NewAppsTransportFromPrivateKey(a.metrics, a.cfg.AppID, a.key)
	// ghinstallation joins "/app/installations/..." to BaseURL itself.
	atr.BaseURL = strings.TrimSuffix(a.apiBase.String(), "/")
	return atr
}

func (a *App) retry(next http.RoundTripper) http.RoundTripper {
	t := newRetryTransport(next, a.cfg, a.apiBase.Path)
	t.sleep = func(ctx context.Context, d time.Duration) error { return a.sleep(ctx, d) }
	return t
}

// client makes a go-github client on hc for the configured API.
func (a *App) client(hc *http.Client) *github.Client {
	c := github.NewClient(hc)
	c.BaseURL = a.apiBase
	if strings.HasSuffix(a.apiBase.Path, "/api/v3/") {
		u := *a.apiBase
		u.Path = strings.TrimSuffix(u.Path, "v3/") + "uploads/"
		c.UploadURL = &u
	}
	return c
}

// Config returns the App's configuration with defaults filled in.
func (a *App) Config() Config { return a.cfg }

// AppClient returns the client authenticated as the App (JWT), for the
// /app endpoints.
func (a *App) AppClient() *github.Client { return a.app }

// Installation returns the client of installation id, authenticated with
// its installation token (fetched on first use and refreshed by
// ghinstallation before expiry). Clients are cached by ID (LRU, 1024).
func (a *App) Installation(id int64) (*github.Client, error) {
	in, err := a.installation(id)
	if err != nil {
		return nil, err
	}
	return in.client, nil
}

// InstallationHTTPClient returns an http.Client authenticated as
// installation id (sharing Installation's token), for downloads outside
// go-github such as tarballs. It follows redirects; the installation token
// goes with every request it sends.
func (a *App) InstallationHTTPClient(id int64) (*http.Client, error) {
	in, err := a.installation(id)
	if err != nil {
		return nil, err
	}
	return in.http, nil
}

func (a *App) installation(id int64) (*installation, error) {
	if id <= 0 {
		return nil, fmt.Errorf("githubapp: installation ID %d is not positive", id)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if in, ok := a.cache.Get(id); ok {
		return in, nil
	}
	itr := ghinstallation.NewFromAppsTransport(a.appsTransport(), id)
	// Without options ghinstallation posts the body "null", which the
	// API description does not allow; {} asks for the installation's
	// own permissions and repositories.
	itr.InstallationTokenOptions = &ghv88.InstallationTokenOptions{}
	hc := &http.Client{Transport: a.retry(itr)}
	in := &installation{client: a.client(hc), http: hc}
	a.cache.Add(id, in)
	return in, nil
}

// BotLogin returns the login of the App's bot user, the App's slug with
// "[bot]" (the author of the comments it writes). The first success is
// cached; errors are returned wrapped and not cached.
func (a *App) BotLogin(ctx context.Context) (string, error) {
	a.mu.Lock()
	bot := a.bot
	a.mu.Unlock()
	if bot != "" {
		return bot, nil
	}
	app, _, err := a.app.Apps.Get(ctx, "")
	if err != nil {
		return "", fmt.Errorf("githubapp: get app: %w", err)
	}
	if app.GetSlug() == "" {
		return "", fmt.Errorf("githubapp: get app: answer has no slug")
	}
	bot = app.GetSlug() + "[bot]"
	a.mu.Lock()
	a.bot = bot
	a.mu.Unlock()
	return bot, nil
}
