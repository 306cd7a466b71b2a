package helmtest

import (
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/fluxdiff/fluxdiff/diff/helm/chartfetch"
)

// Registry is go-containerregistry's in-process OCI registry served over
// plain HTTP on 127.0.0.1, stopped when the test ends. A Fetcher reaches it
// with the host allowed (Options.AllowedHosts "127.0.0.1" and AllowedCIDRs
// 127.0.0.1/32) and the source's insecure flag set.
type Registry struct {
	// Host is "127.0.0.1:<port>".
	Host string
}

// NewRegistry starts a Registry for t.
func NewRegistry(t testing.TB) *Registry {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return &Registry{Host: strings.TrimPrefix(srv.URL, "http://")}
}

// Push packages the chart folder dir and stores it at repo:tag (repo is a
// path such as "charts/podinfo") as `helm push` lays a chart out: an OCI
// manifest with Helm's config media type, one chart layer and the
// org.opencontainers.image title and version annotations. It returns the
// manifest digest, for an OCIRepository's spec.ref.digest.
func (r *Registry) Push(t testing.TB, repo, tag, dir string) v1.Hash {
	t.Helper()
	ch, err := Package(dir)
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: static.NewLayer(ch.Archive, types.MediaType(chartfetch.HelmChartLayerMediaType))})
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, "application/vnd.cncf.helm.config.v1+json")
	img = mutate.Annotations(img, map[string]string{
		"org.opencontainers.image.title":   ch.Name,
		"org.opencontainers.image.version": ch.Version,
	}).(v1.Image)
	ref, err := name.ParseReference(r.Host+"/"+repo+":"+tag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}
