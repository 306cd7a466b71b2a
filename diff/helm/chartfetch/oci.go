package chartfetch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// HelmChartLayerMediaType is the media type of the layer that holds a Helm
// chart archive in an OCI artifact (Helm's registry.ChartLayerMediaType).
const HelmChartLayerMediaType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"

// OCI annotations Helm sets when it pushes a chart.
const (
	annotationTitle   = "org.opencontainers.image.title"
	annotationVersion = "org.opencontainers.image.version"
)

// fetchOCI fetches a chart from a HelmRepository of type oci (the chart is
// the repository URL + "/" + chart name) or from an OCIRepository (the URL
// names the artifact): the reference resolved, the manifest, then the
// Helm chart layer.
func (f *Fetcher) fetchOCI(ctx context.Context, req Request, u *url.URL) (*Chart, error) {
	where := redact(u)
	repoPath := strings.TrimSuffix(u.Host+u.Path, "/")
	if req.Chart != "" {
		repoPath = path.Join(repoPath, req.Chart)
		where += " chart " + req.Chart
	}
	var nameOpts []name.Option
	if req.Source.Insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	repo, err := name.NewRepository(repoPath, nameOpts...)
	if err != nil {
		return nil, fmt.Errorf("%s is not an OCI repository: %w", where, err)
	}
	opts, done, err := f.remoteOptions(ctx, req.Source)
	if err != nil {
		return nil, err
	}
	defer done()
	ref, version, err := ociReference(ctx, req, repo, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	c, err := f.pullChart(ref, repo, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: pull %s: %w", where, ref, err)
	}
	if c.Version == "" {
		c.Version = version
	}
	if c.Name == "" {
		c.Name = path.Base(repo.RepositoryStr())
	}
	f.resolved.Add(resolveKey(req), resolvedChart{digest: c.Digest})
	return c, nil
}

// ociReference resolves the tag or digest to pull, with the chart version it
// stands for.
//
// HelmRepository (req.Chart set), as source-controller's
// OCIChartRepository.getChartVersion: a version that parses is used as the
// tag directly (no tag listing); otherwise the tags are listed (helmTags)
// and pickChartTag chooses. Helm writes "+" as "_" in tags.
//
// OCIRepository, as OCIRepositoryReconciler.getArtifactRef: Digest, else
// the highest tag matching Version (spec.ref.semver, pickSemverTag), else
// Tag, else "latest".
func ociReference(ctx context.Context, req Request, repo name.Repository, opts []remote.Option) (name.Reference, string, error) {
	if req.Chart != "" {
		ver := req.Version
		if _, err := parseVersion(ver); err != nil {
			tags, err := remote.ListWithContext(ctx, repo, opts...)
			if err != nil {
				return nil, "", fmt.Errorf("could not get tags: %w", err)
			}
			if ver, err = pickChartTag(helmTags(tags), ver); err != nil {
				return nil, "", err
			}
		}
		return repo.Tag(strings.ReplaceAll(ver, "+", "_")), ver, nil
	}
	switch {
	case req.Digest != "":
		return repo.Digest(req.Digest), "", nil
	case req.Version != "":
		tags, err := remote.ListWithContext(ctx, repo, opts...)
		if err != nil {
			return nil, "", fmt.Errorf("could not get tags: %w", err)
		}
		tag, err := pickSemverTag(tags, req.Version, req.SemverFilter)
		if err != nil {
			return nil, "", err
		}
		return repo.Tag(tag), tag, nil
	case req.Tag != "":
		return repo.Tag(req.Tag), req.Tag, nil
	}
	return repo.Tag(name.DefaultTag), name.DefaultTag, nil
}

// pullChart reads ref's manifest and returns its Helm chart layer, from
// the cache when its digest is there.
func (f *Fetcher) pullChart(ref name.Reference, repo name.Repository, opts []remote.Option) (*Chart, error) {
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return nil, fmt.Errorf("manifest %s (%s) does not parse as an OCI image manifest: %w", desc.Digest, desc.MediaType, err)
	}
	var layer *v1.Descriptor
	for i := range m.Layers {
		if string(m.Layers[i].MediaType) == HelmChartLayerMediaType {
			layer = &m.Layers[i]
			break
		}
	}
	if layer == nil {
		return nil, fmt.Errorf("the artifact has no Helm chart layer (media type %s)", HelmChartLayerMediaType)
	}
	if layer.Size > f.opts.MaxChartBytes {
		return nil, &TooLargeError{URL: ref.String(), Limit: f.opts.MaxChartBytes}
	}
	chartName, chartVersion := m.Annotations[annotationTitle], m.Annotations[annotationVersion]
	if c, ok := f.charts.get(layer.Digest.String()); ok {
		return &Chart{Name: firstNonEmpty(chartName, c.Name), Version: firstNonEmpty(chartVersion, c.Version), Digest: c.Digest, Archive: c.Archive}, nil
	}
	l, err := remote.Layer(repo.Digest(layer.Digest.String()), opts...)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, f.opts.MaxChartBytes+1))
	if err != nil {
		return nil, fmt.Errorf("chart layer %s: %w", layer.Digest, err)
	}
	if int64(len(b)) > f.opts.MaxChartBytes {
		return nil, &TooLargeError{URL: ref.String(), Limit: f.opts.MaxChartBytes}
	}
	if d := digestOf(b); d != layer.Digest.String() {
		return nil, fmt.Errorf("chart layer digest is %s, the manifest says %s", d, layer.Digest)
	}
	c := &Chart{Name: chartName, Version: chartVersion, Digest: layer.Digest.String(), Archive: b}
	f.charts.add(c)
	return c, nil
}

// remoteOptions are go-containerregistry options whose every request —
// registry, token service, blob redirects — goes through the policy guard
// and the dialer's address check, with src's credentials and TLS settings.
// The credentials go to the registry and to the token service its
// challenge names, as every OCI client sends them.
func (f *Fetcher) remoteOptions(ctx context.Context, src Source) ([]remote.Option, func(), error) {
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
	var auth authn.Authenticator = authn.Anonymous
	if src.Username != "" || src.Password != "" {
		auth = &authn.Basic{Username: src.Username, Password: src.Password}
	}
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(rt),
		remote.WithAuth(auth),
		remote.WithUserAgent(f.opts.UserAgent),
		remote.WithRetryBackoff(remote.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Steps: 2}),
	}, done, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
