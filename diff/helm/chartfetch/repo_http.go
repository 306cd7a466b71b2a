package chartfetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// indexFile is the part of a Helm repository's index.yaml that fetching
// needs (Helm's repo.IndexFile: apiVersion, entries of chart versions).
type indexFile struct {
	APIVersion string                  `json:"apiVersion"`
	Entries    map[string][]indexEntry `json:"entries"`
}

// indexEntry is one chart version of an index.yaml.
type indexEntry struct {
	Name    string    `json:"name"`
	Version string    `json:"version"`
	URLs    []string  `json:"urls"`
	Digest  string    `json:"digest"`
	Created time.Time `json:"created"`
}

// parseIndex reads an index.yaml (or its JSON form) as source-controller's
// IndexFromBytes does: an empty file and a missing apiVersion are errors.
func parseIndex(b []byte) (*indexFile, error) {
	if len(b) == 0 {
		return nil, errors.New("index.yaml is empty")
	}
	idx := &indexFile{}
	var err error
	if json.Valid(b) {
		err = json.Unmarshal(b, idx)
	} else {
		err = yaml.Unmarshal(b, idx)
	}
	if err != nil {
		return nil, fmt.Errorf("index.yaml does not parse: %w", err)
	}
	if idx.APIVersion == "" {
		return nil, errors.New("index.yaml has no apiVersion")
	}
	return idx, nil
}

// fetchHTTP fetches a chart from a HelmRepository of type default:
// index.yaml, the version resolved in it, then the archive at the entry's
// first URL (relative to the repository URL, or absolute).
func (f *Fetcher) fetchHTTP(ctx context.Context, req Request, repo *url.URL) (*Chart, error) {
	if req.Chart == "" {
		return nil, fmt.Errorf("%s: no chart name given (spec.chart.spec.chart)", redact(repo))
	}
	client, done, err := f.httpClient(req.Source, repo)
	if err != nil {
		return nil, err
	}
	defer done()
	idx, err := f.index(ctx, client, req, repo)
	if err != nil {
		return nil, err
	}
	entry, err := pickIndexEntry(idx, req.Chart, req.Version)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", redact(repo), err)
	}
	if len(entry.URLs) == 0 {
		return nil, fmt.Errorf("chart %s %s in %s has no download URL", req.Chart, entry.Version, redact(repo))
	}
	chartURL, err := resolveReferenceURL(repo, entry.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: %w", req.Chart, entry.Version, err)
	}
	if entry.Digest != "" {
		if c, ok := f.charts.get("sha256:" + entry.Digest); ok {
			f.resolved.Add(resolveKey(req), resolvedChart{digest: c.Digest})
			return c, nil
		}
	}
	b, err := get(ctx, client, chartURL, f.opts.MaxChartBytes, f.opts.UserAgent)
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: %w", req.Chart, entry.Version, err)
	}
	c := &Chart{Name: req.Chart, Version: entry.Version, Digest: digestOf(b), Archive: b}
	f.charts.add(c)
	f.resolved.Add(resolveKey(req), resolvedChart{digest: c.Digest})
	return c, nil
}

// index returns the repository's parsed index.yaml, from the cache while it
// is younger than Options.IndexTTL; concurrent loads of one index share a
// download.
func (f *Fetcher) index(ctx context.Context, client *http.Client, req Request, repo *url.URL) (*indexFile, error) {
	indexURL := *repo
	indexURL.Path = path.Join("/", repo.Path, "index.yaml")
	indexURL.RawPath = ""
	key := resolveKey(Request{Source: req.Source})
	if idx, ok := f.indexes.Get(key); ok {
		return idx, nil
	}
	v, err, _ := f.flight.Do("index\x00"+key, func() (any, error) {
		b, err := get(ctx, client, &indexURL, f.opts.MaxIndexBytes, f.opts.UserAgent)
		if err != nil {
			return nil, fmt.Errorf("repository index: %w", err)
		}
		idx, err := parseIndex(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", redact(&indexURL), err)
		}
		f.indexes.Add(key, idx)
		return idx, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*indexFile), nil
}

// resolveReferenceURL is Helm's repo.ResolveReferenceURL
// (pkg/repo/v1/chartrepo.go): ref as is when absolute, else relative to the
// repository URL taken as a directory, with the repository URL's query.
func resolveReferenceURL(base *url.URL, ref string) (*url.URL, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("chart URL %q does not parse", redactString(ref))
	}
	if r.IsAbs() {
		r.User = nil
		return r, nil
	}
	b := *base
	b.RawPath = strings.TrimSuffix(b.RawPath, "/") + "/"
	b.Path = strings.TrimSuffix(b.Path, "/") + "/"
	out := b.ResolveReference(r)
	out.RawQuery = b.RawQuery
	return out, nil
}

// httpClient returns a client for src: the shared transport, or one with
// src's TLS settings (closed by done), wrapped by the policy guard and the
// basic-auth transport, with bounded redirects.
func (f *Fetcher) httpClient(src Source, repo *url.URL) (*http.Client, func(), error) {
	tlsConfig, err := tlsConfigFor(src)
	if err != nil {
		return nil, nil, err
	}
	base, done := f.base, func() {}
	if tlsConfig != nil {
		t := newBaseTransport(f.policy, tlsConfig)
		base, done = t, t.CloseIdleConnections
	}
	maxBody := max(f.opts.MaxIndexBytes, f.opts.MaxChartBytes)
	var rt http.RoundTripper = &guard{policy: f.policy, live: src.Live, schemes: []string{"http", "https"}, next: base, maxBody: maxBody, maxRedirects: f.opts.MaxRedirects}
	rt = &basicAuth{host: hostPort(repo), username: src.Username, password: src.Password, next: rt}
	return &http.Client{Transport: rt, CheckRedirect: checkRedirect(f.opts.MaxRedirects)}, done, nil
}

// get downloads u, at most limit bytes.
func get(ctx context.Context, client *http.Client, u *url.URL, limit int64, userAgent string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	final := redact(resp.Request.URL)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", final, resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, &TooLargeError{URL: final, Limit: limit}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", final, err)
	}
	if int64(len(b)) > limit {
		return nil, &TooLargeError{URL: final, Limit: limit}
	}
	return b, nil
}
