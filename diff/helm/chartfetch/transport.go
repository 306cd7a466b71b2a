package chartfetch

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// newBaseTransport returns an http.Transport whose every connection passes
// the policy's address check after DNS resolution. It never uses a proxy
// from the environment: a proxy would be the address checked, not the
// repository's.
func newBaseTransport(p *policy, tlsConfig *tls.Config) *http.Transport {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: p.control}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsConfig,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          32,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
}

// tlsConfigFor builds the client TLS configuration of a Source from its
// PEM CA, certificate and key (source-controller's certSecretRef: the CA is
// added to the system pool). It returns nil when the Source sets none.
func tlsConfigFor(src Source) (*tls.Config, error) {
	if len(src.CA) == 0 && len(src.Cert) == 0 && len(src.Key) == 0 {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(src.CA) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(src.CA) {
			return nil, errors.New("the repository's CA (ca.crt) holds no PEM certificate")
		}
		cfg.RootCAs = pool
	}
	if len(src.Cert) > 0 || len(src.Key) > 0 {
		pair, err := tls.X509KeyPair(src.Cert, src.Key)
		if err != nil {
			return nil, errors.New("the repository's client certificate and key (tls.crt, tls.key) do not form a key pair")
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// guard is the RoundTripper that checks every request (each redirect hop
// and, for OCI, each token request too) against the policy before it is
// sent, and names the URL in a refusal that the dialer made.
//
// It also bounds redirect chains and refuses https→http downgrades itself,
// because a client may replace the redirect policy (go-containerregistry's
// does, without a bound).
type guard struct {
	policy       *policy
	live         bool
	schemes      []string
	next         http.RoundTripper
	maxBody      int64
	maxRedirects int
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := g.policy.checkURL(req.URL, g.live, g.schemes...); err != nil {
		return nil, err
	}
	if err := g.checkChain(req); err != nil {
		return nil, err
	}
	resp, err := g.next.RoundTrip(req)
	if err != nil {
		var ar *addrRefusal
		if errors.As(err, &ar) {
			return nil, &RefusedError{URL: redact(req.URL), Reason: ar.reason}
		}
		return nil, err
	}
	if resp.ContentLength > g.maxBody {
		resp.Body.Close()
		return nil, &TooLargeError{URL: redact(req.URL), Limit: g.maxBody}
	}
	resp.Body = &cappedBody{ReadCloser: resp.Body, left: g.maxBody, url: redact(req.URL), limit: g.maxBody}
	return resp, nil
}

// checkChain walks the responses that led to req (a redirect's request
// carries the response that caused it).
func (g *guard) checkChain(req *http.Request) error {
	hops := 0
	for r := req; r.Response != nil && r.Response.Request != nil; r = r.Response.Request {
		hops++
		if prev := r.Response.Request; prev.URL.Scheme == "https" && r.URL.Scheme != "https" {
			return &RefusedError{URL: redact(req.URL), Reason: "redirect from https to " + r.URL.Scheme}
		}
	}
	if hops > g.maxRedirects {
		return fmt.Errorf("GET %s: stopped after %d redirects", redact(req.URL), g.maxRedirects)
	}
	return nil
}

// TooLargeError is a response larger than the configured cap
// (helm.maxIndexBytes or helm.maxChartBytes); the download was stopped.
type TooLargeError struct {
	URL   string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than the limit of %d bytes", e.URL, e.Limit)
}

// cappedBody fails the read that goes past the limit, so that a response
// without Content-Length cannot exceed it either.
type cappedBody struct {
	io.ReadCloser
	left, limit int64
	url         string
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, &TooLargeError{URL: b.url, Limit: b.limit}
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, &TooLargeError{URL: b.url, Limit: b.limit}
	}
	return n, err
}

// basicAuth adds HTTP basic credentials to requests whose host (name and
// port) is the repository's own; requests to any other host, such as a
// redirect target or a chart URL on another host, go without them, as
// Helm does when passCredentials is false.
type basicAuth struct {
	host, username, password string
	next                     http.RoundTripper
}

func (a *basicAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	if a.username == "" && a.password == "" || hostPort(req.URL) != a.host {
		return a.next.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	req.SetBasicAuth(a.username, a.password)
	return a.next.RoundTrip(req)
}

// hostPort is u's lower-case host with the scheme's default port made
// explicit, so https://h and https://h:443 compare equal.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return net.JoinHostPort(normalizeHost(u.Hostname()), port)
}

// checkRedirect bounds redirects and refuses a downgrade from https to
// http; the guard checks each target's host and address.
func checkRedirect(max int) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > max {
			return fmt.Errorf("stopped after %d redirects", max)
		}
		if prev := via[len(via)-1]; prev.URL.Scheme == "https" && req.URL.Scheme != "https" {
			return &RefusedError{URL: redact(req.URL), Reason: "redirect from https to " + req.URL.Scheme}
		}
		return nil
	}
}

// scrub removes the password, if any, from an error's text; a belt over
// the braces of never putting it there.
func scrub(err error, password string) error {
	if err == nil || password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "***"))
}
