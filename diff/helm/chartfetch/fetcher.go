package chartfetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/sync/singleflight"
)

// Defaults of Options; the size caps are source-controller's
// (internal/helm/helm.go: MaxIndexSize 50 MiB, MaxChartSize 10 MiB).
const (
	DefaultMaxIndexBytes = 50 << 20
	DefaultMaxChartBytes = 10 << 20
	DefaultFetchTimeout  = time.Minute
	DefaultIndexTTL      = time.Minute
	DefaultCacheBytes    = 256 << 20
	DefaultMaxRedirects  = 5
)

// Options configures a Fetcher. The zero value is safe: no host is allowed
// except the URLs of repositories in the live cluster (Source.Live), and no
// loopback, link-local or private address is reached.
type Options struct {
	// AllowedHosts are the hosts a URL that is not Live may name: host
	// names or IP addresses ("charts.example.com"), or "*.example.com" for
	// every name below example.com; no port. Compared case-insensitively.
	AllowedHosts []string
	// AllowPrivateNetworks allows RFC 1918, unique local (fc00::/7),
	// carrier-grade NAT (100.64.0.0/10) and other private addresses.
	// Loopback, link-local (with the metadata address 169.254.169.254),
	// unspecified and multicast addresses need AllowedCIDRs.
	AllowPrivateNetworks bool
	// AllowedCIDRs are address ranges allowed whatever their kind, e.g.
	// 10.20.0.0/16 for an in-house registry, or 127.0.0.1/32 in a test.
	AllowedCIDRs []netip.Prefix
	// MaxIndexBytes caps an index.yaml (default 50 MiB).
	MaxIndexBytes int64
	// MaxChartBytes caps a chart archive (default 10 MiB).
	MaxChartBytes int64
	// FetchTimeout bounds one Fetch, index and chart together (default 1m).
	FetchTimeout time.Duration
	// IndexTTL is how long an index.yaml, and a version resolved from it or
	// from an OCI tag list, is reused (default 1m).
	IndexTTL time.Duration
	// CacheBytes bounds the chart archives kept in memory, least recently
	// used first out (default 256 MiB).
	CacheBytes int64
	// MaxRedirects bounds the redirects followed per request (default 5).
	MaxRedirects int
	// UserAgent is sent with every request (default "fluxdiff").
	UserAgent string
}

func (o *Options) setDefaults() {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxIndexBytes, DefaultMaxIndexBytes)
	def(&o.MaxChartBytes, DefaultMaxChartBytes)
	def(&o.CacheBytes, DefaultCacheBytes)
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = DefaultFetchTimeout
	}
	if o.IndexTTL <= 0 {
		o.IndexTTL = DefaultIndexTTL
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	if o.UserAgent == "" {
		o.UserAgent = "fluxdiff"
	}
}

// Fetcher fetches charts from HelmRepositories (type default and oci) and
// OCIRepositories, safely (see Options) and with caches: chart archives by
// digest, index.yaml files and resolved versions for Options.IndexTTL.
// Concurrent fetches of the same chart or index share one download. A
// Fetcher is safe for concurrent use.
type Fetcher struct {
	opts     Options
	policy   *policy
	base     *http.Transport // for sources without their own TLS settings
	charts   *chartCache
	indexes  *expirable.LRU[string, *indexFile]
	resolved *expirable.LRU[string, resolvedChart]
	flight   singleflight.Group
}

// resolvedChart is a version resolved from an index or tag list, with
// where its archive is and, once known, its digest.
type resolvedChart struct {
	name, version, digest string
	url                   string // chart URL (HTTP) or "repo:tag" reference (OCI)
}

// New returns a Fetcher; zero fields of opts take their defaults.
func New(opts Options) *Fetcher {
	opts.setDefaults()
	hosts := make([]string, 0, len(opts.AllowedHosts))
	for _, h := range opts.AllowedHosts {
		hosts = append(hosts, normalizeHost(h))
	}
	p := &policy{hosts: hosts, allowPrivate: opts.AllowPrivateNetworks, cidrs: opts.AllowedCIDRs}
	return &Fetcher{
		opts:     opts,
		policy:   p,
		base:     newBaseTransport(p, nil),
		charts:   newChartCache(opts.CacheBytes),
		indexes:  expirable.NewLRU[string, *indexFile](32, nil, opts.IndexTTL),
		resolved: expirable.NewLRU[string, resolvedChart](1024, nil, opts.IndexTTL),
	}
}

// Fetch resolves req's version and returns the chart archive. Errors: a
// *RefusedError when the policy forbids a URL (nothing was sent to it), a
// *TooLargeError past a size cap, otherwise an error naming the chart and
// the repository URL (never credentials).
func (f *Fetcher) Fetch(ctx context.Context, req Request) (*Chart, error) {
	u, err := parseSourceURL(req.Source)
	if err != nil {
		return nil, err
	}
	schemes := []string{"http", "https"}
	if isOCI(req.Source) {
		schemes = []string{"oci"}
	}
	if err := f.policy.checkURL(u, req.Source.Live, schemes...); err != nil {
		return nil, err
	}
	key := resolveKey(req)
	if r, ok := f.resolved.Get(key); ok && r.digest != "" {
		if c, ok := f.charts.get(r.digest); ok {
			return c, nil
		}
	}
	ch := f.flight.DoChan("chart\x00"+key, func() (any, error) {
		// The shared work is not cancelled with the first caller's context.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.opts.FetchTimeout)
		defer cancel()
		var c *Chart
		var err error
		if isOCI(req.Source) {
			c, err = f.fetchOCI(wctx, req, u)
		} else {
			c, err = f.fetchHTTP(wctx, req, u)
		}
		return c, scrub(cleanError(err), req.Source.Password)
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*Chart), nil
	}
}

func isOCI(src Source) bool {
	return src.Type == "oci" || strings.HasPrefix(src.URL, "oci://")
}

// parseSourceURL parses the repository URL and drops user information
// from it: credentials come from Source.Username and Password only.
func parseSourceURL(src Source) (*url.URL, error) {
	u, err := url.Parse(src.URL)
	if err != nil || !u.IsAbs() {
		return nil, fmt.Errorf("repository URL %q is not an absolute URL", redactString(src.URL))
	}
	u.User = nil
	return u, nil
}

// redactString removes user information from a URL string that may not
// parse.
func redactString(s string) string {
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		if at := strings.LastIndex(rest, "@"); at >= 0 && !strings.Contains(rest[:at], "/") {
			return scheme + "://" + rest[at+1:]
		}
	}
	return s
}

// resolveKey identifies a request for the resolved-version cache. It holds
// a hash of the credentials, so a request without them never reuses what
// a request with them resolved.
func resolveKey(req Request) string {
	h := sha256.New()
	for _, b := range [][]byte{[]byte(req.Source.Username), []byte(req.Source.Password), req.Source.CA, req.Source.Cert, req.Source.Key} {
		fmt.Fprintf(h, "%d:", len(b))
		h.Write(b)
	}
	return strings.Join([]string{req.Source.Type, req.Source.URL, req.Chart, req.Version, req.Tag, req.Digest, req.SemverFilter,
		fmt.Sprint(req.Source.Insecure), hex.EncodeToString(h.Sum(nil))}, "\x00")
}

// cleanError drops net/url's "Get \"URL\": " wrapper from a refusal so the
// report row reads as one sentence; other errors are kept as they are.
func cleanError(err error) error {
	var refused *RefusedError
	if errors.As(err, &refused) {
		return refused
	}
	var tooLarge *TooLargeError
	if errors.As(err, &tooLarge) {
		return tooLarge
	}
	return err
}

// digestOf returns "sha256:<hex>" of b.
func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
