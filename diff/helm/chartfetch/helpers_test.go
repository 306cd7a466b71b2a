package chartfetch

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// packageChart packs testdata/chart as chart name at version, the way
// `helm package` lays it out (every file under "<name>/"), with Chart.yaml's
// name and version rewritten.
func packageChart(t testing.TB, name, version string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	root := filepath.Join("testdata", "chart")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "Chart.yaml" {
			b = []byte(strings.NewReplacer("name: hello", "name: "+name, "version: 0.1.0", "version: "+version).Replace(string(b)))
		}
		hdr := &tar.Header{Name: name + "/" + filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(b)), ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// chartRepo is a Helm chart repository served by httptest: /index.yaml and
// /charts/<name>-<version>.tgz, with every request counted by path.
type chartRepo struct {
	srv      *httptest.Server
	mu       sync.Mutex
	requests map[string]int
	auth     []string // the Authorization headers seen
	index    string
	charts   map[string][]byte // by path
	username string            // when set, basic auth is required
	password string
	// redirects answers these paths with a redirect to the URL given.
	redirects map[string]string
}

// chartVersion is one version of the index: url is relative or absolute;
// empty means charts/<name>-<version>.tgz.
type chartVersion struct {
	name, version, url, created string
	archive                     []byte
}

// newChartRepo serves versions on addr ("127.0.0.1:0" when empty).
func newChartRepo(t testing.TB, addr string, versions ...chartVersion) *chartRepo {
	t.Helper()
	r := &chartRepo{requests: map[string]int{}, charts: map[string][]byte{}}
	r.srv = serveOn(t, addr, http.HandlerFunc(r.serve))
	var idx strings.Builder
	idx.WriteString("apiVersion: v1\nentries:\n")
	byName := map[string][]chartVersion{}
	var names []string
	for _, v := range versions {
		if _, ok := byName[v.name]; !ok {
			names = append(names, v.name)
		}
		byName[v.name] = append(byName[v.name], v)
	}
	for _, n := range names {
		fmt.Fprintf(&idx, "  %s:\n", n)
		for _, v := range byName[n] {
			p := fmt.Sprintf("charts/%s-%s.tgz", v.name, v.version)
			if v.archive != nil {
				r.charts["/"+p] = v.archive
			}
			u := v.url
			if u == "" {
				u = p
			}
			created := v.created
			if created == "" {
				created = "2026-01-01T00:00:00Z"
			}
			fmt.Fprintf(&idx, "  - name: %s\n    version: %q\n    urls: [%q]\n    created: %q\n    apiVersion: v2\n", v.name, v.version, u, created)
			if v.archive != nil {
				fmt.Fprintf(&idx, "    digest: %s\n", strings.TrimPrefix(digestOf(v.archive), "sha256:"))
			}
		}
	}
	r.index = idx.String()
	return r
}

func (r *chartRepo) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests[req.URL.Path]++
	r.auth = append(r.auth, req.Header.Get("Authorization"))
	r.mu.Unlock()
	if r.username != "" {
		if u, p, ok := req.BasicAuth(); !ok || u != r.username || p != r.password {
			w.Header().Set("WWW-Authenticate", `Basic realm="charts"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	}
	if to, ok := r.redirects[req.URL.Path]; ok {
		http.Redirect(w, req, to, http.StatusFound)
		return
	}
	if req.URL.Path == "/index.yaml" {
		_, _ = w.Write([]byte(r.index))
		return
	}
	if b, ok := r.charts[req.URL.Path]; ok {
		_, _ = w.Write(b)
		return
	}
	http.NotFound(w, req)
}

// count returns the requests made to path, or to every path when empty.
func (r *chartRepo) count(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if path != "" {
		return r.requests[path]
	}
	n := 0
	for _, c := range r.requests {
		n += c
	}
	return n
}

func (r *chartRepo) URL() string { return r.srv.URL }

// serveOn starts h on addr and stops it when the test ends.
func serveOn(t testing.TB, addr string, h http.Handler) *httptest.Server {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// hitCounter is a server that must not be reached: it counts requests.
type hitCounter struct {
	mu   sync.Mutex
	hits int
}

func (h *hitCounter) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	h.hits++
	h.mu.Unlock()
	_, _ = w.Write([]byte("apiVersion: v1\nentries: {}\n"))
}

func (h *hitCounter) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits
}

// loopbackOnly allows exactly the test servers' loopback address, as a
// deployment would allow an in-house range with helm.allowedCIDRs.
func loopbackOnly(addr string) []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix(addr + "/32")}
}
