package chartfetch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ociRegistry is go-containerregistry's in-process registry on loopback,
// counting requests by path and optionally requiring basic auth.
type ociRegistry struct {
	host     string // host:port
	mu       sync.Mutex
	requests map[string]int
	username string
	password string
	// blobRedirect, when set, answers blob GETs with a redirect to it, as
	// registries that serve blobs from a storage host do.
	blobRedirect string
}

func newOCIRegistry(t *testing.T) *ociRegistry {
	t.Helper()
	return newOCIRegistryOn(t, "127.0.0.1:0")
}

func newOCIRegistryOn(t *testing.T, addr string) *ociRegistry {
	t.Helper()
	r := &ociRegistry{requests: map[string]int{}}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := serveOn(t, addr, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.requests[req.URL.Path]++
		user, pass, redirect := r.username, r.password, r.blobRedirect
		r.mu.Unlock()
		if redirect != "" && req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/blobs/") {
			http.Redirect(w, req, redirect, http.StatusTemporaryRedirect)
			return
		}
		if user != "" {
			if u, p, ok := req.BasicAuth(); !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		reg.ServeHTTP(w, req)
	}))
	r.host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

func (r *ociRegistry) count(substr string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for p, c := range r.requests {
		if strings.Contains(p, substr) {
			n += c
		}
	}
	return n
}

func (r *ociRegistry) setBlobRedirect(u string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.blobRedirect = u
}

func (r *ociRegistry) requireAuth(user, pass string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.username, r.password = user, pass
}

// push stores archive at repo:tag the way `helm push` lays out a chart: an
// OCI manifest with Helm's config media type, one chart layer and the
// title/version annotations. withChart=false pushes an artifact without a
// chart layer.
func (r *ociRegistry) push(t *testing.T, repo, tag string, archive []byte, withChart bool) v1.Hash {
	t.Helper()
	mediaType := types.MediaType(HelmChartLayerMediaType)
	if !withChart {
		mediaType = "application/vnd.cncf.flux.content.v1.tar+gzip"
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: static.NewLayer(archive, mediaType)})
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, "application/vnd.cncf.helm.config.v1+json")
	version := strings.ReplaceAll(tag, "_", "+")
	img = mutate.Annotations(img, map[string]string{annotationTitle: repo[strings.LastIndex(repo, "/")+1:], annotationVersion: version}).(v1.Image)
	ref, err := name.ParseReference(r.host+"/"+repo+":"+tag, name.Insecure)
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

func ociFetcher() *Fetcher {
	return New(Options{AllowedHosts: []string{"127.0.0.1"}, AllowedCIDRs: loopbackOnly("127.0.0.1")})
}

func TestFetchFromOCIHelmRepository(t *testing.T) {
	reg := newOCIRegistry(t)
	archives := map[string][]byte{}
	for _, tag := range []string{"1.0.0", "1.1.0_build.1", "2.0.0-rc.1", "v3.0.0"} {
		archives[tag] = packageChart(t, "hello", strings.ReplaceAll(tag, "_", "+"))
		reg.push(t, "charts/hello", tag, archives[tag], true)
	}
	f := ociFetcher()
	src := Source{URL: "oci://" + reg.host + "/charts", Type: "oci"}

	for _, tc := range []struct{ name, version, want, tag string }{
		{"an empty version is the highest stable tag, _ read as +", "", "1.1.0+build.1", "1.1.0_build.1"},
		{"a range matches prereleases only when it names one", ">=2.0.0-0", "2.0.0-rc.1", "2.0.0-rc.1"},
		{"a tag with a v prefix is not a chart version", "~3", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := f.Fetch(context.Background(), Request{Source: src, Chart: "hello", Version: tc.version})
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), "could not locate a version matching provided version string ~3") {
					t.Fatalf("got %v, %v; want source-controller's no-match error", c, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != "hello" || c.Version != tc.want || !bytes.Equal(c.Archive, archives[tc.tag]) || c.Digest != digestOf(archives[tc.tag]) {
				t.Errorf("got %s %s %s, want hello %s with the archive pushed as %s", c.Name, c.Version, c.Digest, tc.want, tc.tag)
			}
		})
	}
	t.Run("an exact version is pulled without listing tags", func(t *testing.T) {
		before := reg.count("/tags/list")
		c, err := f.Fetch(context.Background(), Request{Source: src, Chart: "hello", Version: "1.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Version != "1.0.0" || reg.count("/tags/list") != before {
			t.Errorf("version %s, %d tag listings; want 1.0.0 and none", c.Version, reg.count("/tags/list")-before)
		}
	})
	t.Run("a second fetch makes no request", func(t *testing.T) {
		before := reg.count("/")
		if _, err := f.Fetch(context.Background(), Request{Source: src, Chart: "hello", Version: "1.0.0"}); err != nil {
			t.Fatal(err)
		}
		if after := reg.count("/"); after != before {
			t.Errorf("%d requests made by a cached fetch, want 0", after-before)
		}
	})
}

func TestFetchFromOCIRepository(t *testing.T) {
	reg := newOCIRegistry(t)
	v1Archive, v12Archive := packageChart(t, "podinfo", "1.0.0"), packageChart(t, "podinfo", "1.2.0")
	reg.push(t, "stefanprodan/charts/podinfo", "v1.0.0", v1Archive, true)
	d12 := reg.push(t, "stefanprodan/charts/podinfo", "v1.2.0", v12Archive, true)
	reg.push(t, "stefanprodan/charts/podinfo", "latest", v12Archive, true)
	reg.push(t, "stefanprodan/manifests", "latest", []byte("not a chart"), false)
	f := ociFetcher()
	src := Source{URL: "oci://" + reg.host + "/stefanprodan/charts/podinfo", Type: "oci"}

	for _, tc := range []struct {
		name string
		req  Request
		want []byte
	}{
		{"spec.ref.semver picks the highest matching tag as written", Request{Source: src, Version: "~1"}, v12Archive},
		{"spec.ref.semverFilter narrows the tags", Request{Source: src, Version: ">=1.0.0", SemverFilter: `^v1\.0`}, v1Archive},
		{"spec.ref.tag is pulled as is", Request{Source: src, Tag: "v1.0.0"}, v1Archive},
		{"spec.ref.digest wins over the rest", Request{Source: src, Digest: d12.String(), Tag: "v1.0.0"}, v12Archive},
		{"no ref is latest", Request{Source: src}, v12Archive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := f.Fetch(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(c.Archive, tc.want) || c.Name != "podinfo" {
				t.Errorf("got %s %s (%d bytes), not the expected archive", c.Name, c.Version, len(c.Archive))
			}
		})
	}
	t.Run("an artifact without a Helm chart layer is a clear error", func(t *testing.T) {
		_, err := f.Fetch(context.Background(), Request{Source: Source{URL: "oci://" + reg.host + "/stefanprodan/manifests", Type: "oci"}})
		if err == nil || !strings.Contains(err.Error(), "has no Helm chart layer") {
			t.Errorf("error %v, want one saying there is no Helm chart layer", err)
		}
	})
	t.Run("a chart layer above maxChartBytes is refused before download", func(t *testing.T) {
		small := New(Options{AllowedHosts: []string{"127.0.0.1"}, AllowedCIDRs: loopbackOnly("127.0.0.1"), MaxChartBytes: 100})
		blobs := reg.count("/blobs/")
		_, err := small.Fetch(context.Background(), Request{Source: src, Tag: "v1.0.0"})
		var tooLarge *TooLargeError
		if !errors.As(err, &tooLarge) {
			t.Fatalf("error %v, want a *TooLargeError", err)
		}
		if reg.count("/blobs/") != blobs {
			t.Errorf("the layer was downloaded")
		}
	})
}

func TestFetchFromOCIWithBasicAuth(t *testing.T) {
	const password = "oci-Pa55word"
	reg := newOCIRegistry(t)
	archive := packageChart(t, "hello", "1.0.0")
	reg.push(t, "charts/hello", "1.0.0", archive, true)
	reg.requireAuth("flux", password)
	f := ociFetcher()

	_, err := f.Fetch(context.Background(), Request{Source: Source{URL: "oci://" + reg.host + "/charts", Type: "oci"}, Chart: "hello", Version: "1.0.0"})
	if err == nil {
		t.Fatal("fetched without credentials")
	}
	_, err = f.Fetch(context.Background(), Request{Source: Source{URL: "oci://" + reg.host + "/charts", Type: "oci", Username: "flux", Password: "x" + password}, Chart: "hello", Version: "1.0.0"})
	if err == nil || strings.Contains(err.Error(), password) {
		t.Fatalf("error %v: want one without the password", err)
	}
	c, err := f.Fetch(context.Background(), Request{Source: Source{URL: "oci://" + reg.host + "/charts", Type: "oci", Username: "flux", Password: password}, Chart: "hello", Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.Archive, archive) {
		t.Error("wrong archive")
	}
}

func TestFetchFromOCIRefusesHostsNotAllowed(t *testing.T) {
	reg := newOCIRegistry(t)
	f := New(Options{AllowedHosts: []string{"registry.example.com"}})
	_, err := f.Fetch(context.Background(), Request{Source: Source{URL: "oci://" + reg.host + "/charts", Type: "oci"}, Chart: "hello"})
	var refused *RefusedError
	if !errors.As(err, &refused) || !strings.Contains(refused.Reason, "helm.allowedHosts") {
		t.Fatalf("error %v, want a *RefusedError about helm.allowedHosts", err)
	}
	// A live repository's host needs no listing, but loopback stays refused.
	_, err = f.Fetch(context.Background(), Request{Source: Source{URL: "oci://" + reg.host + "/charts", Type: "oci", Live: true}, Chart: "hello", Version: "1.0.0"})
	if !errors.As(err, &refused) || !strings.Contains(refused.Reason, "loopback") {
		t.Fatalf("error %v, want a *RefusedError for a loopback address", err)
	}
	if n := reg.count("/"); n != 0 {
		t.Errorf("the registry received %d requests, want 0", n)
	}
}

func TestFetchFromOCIChecksBlobRedirects(t *testing.T) {
	// The registry is on 127.0.0.2, the one address allowed; a blob
	// redirect to a name resolving to 127.0.0.1 is refused after DNS
	// resolution. (go-containerregistry itself refuses redirects to private
	// IP literals, not names.)
	var target hitCounter
	targetSrv := serveOn(t, "127.0.0.1:0", &target)
	_, port, _ := strings.Cut(strings.TrimPrefix(targetSrv.URL, "http://"), ":")
	reg := newOCIRegistryOn(t, "127.0.0.2:0")
	reg.push(t, "charts/hello", "1.0.0", packageChart(t, "hello", "1.0.0"), true)
	f := New(Options{AllowedHosts: []string{"127.0.0.2", "localhost"}, AllowedCIDRs: loopbackOnly("127.0.0.2")})
	src := Source{URL: "oci://" + reg.host + "/charts", Type: "oci", Insecure: true}

	t.Run("a redirect to a name resolving to loopback is refused", func(t *testing.T) {
		reg.setBlobRedirect("http://localhost:" + port + "/blob")
		_, err := f.Fetch(context.Background(), Request{Source: src, Chart: "hello", Version: "1.0.0"})
		var refused *RefusedError
		if !errors.As(err, &refused) || !strings.Contains(refused.Reason, "is a loopback address") {
			t.Fatalf("error %v, want a *RefusedError for a loopback address", err)
		}
		if target.count() != 0 {
			t.Errorf("the redirect target received %d requests, want 0", target.count())
		}
	})
	t.Run("a redirect loop is stopped", func(t *testing.T) {
		reg.setBlobRedirect("http://" + reg.host + "/v2/charts/hello/blobs/loop")
		_, err := f.Fetch(context.Background(), Request{Source: src, Chart: "hello", Version: "1.0.0"})
		if err == nil || !strings.Contains(err.Error(), "stopped after 5 redirects") {
			t.Fatalf("error %v, want the redirects to be bounded", err)
		}
	})
}

func TestFetchFromUnreachableOCIRegistry(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := l.Addr().String()
	l.Close() // nothing listens there now
	_, err = ociFetcher().Fetch(context.Background(), Request{Source: Source{URL: "oci://" + host + "/charts", Type: "oci"}, Chart: "hello", Version: "1.0.0"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"oci://" + host + "/charts chart hello", "connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestFetchFromOCIKeepsCredentialsOnTheRegistryHost(t *testing.T) {
	const password = "oci-Pa55word"
	archive := packageChart(t, "hello", "1.0.0")
	// The blob store is another host (port) that serves the layer without
	// authentication, as registries' storage back ends do.
	var mu sync.Mutex
	var storeAuth []string
	store := serveOn(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		storeAuth = append(storeAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		_, _ = w.Write(archive)
	}))
	reg := newOCIRegistry(t)
	reg.push(t, "charts/hello", "1.0.0", archive, true)
	reg.requireAuth("flux", password)
	reg.setBlobRedirect(store.URL + "/blob")

	src := Source{URL: "oci://" + reg.host + "/charts", Type: "oci", Username: "flux", Password: password}
	c, err := ociFetcher().Fetch(context.Background(), Request{Source: src, Chart: "hello", Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.Archive, archive) {
		t.Error("wrong archive")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(storeAuth) == 0 {
		t.Fatal("the blob store was not asked")
	}
	for _, a := range storeAuth {
		if a != "" {
			t.Error("the blob store received an Authorization header")
		}
	}
}
