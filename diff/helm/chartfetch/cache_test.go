package chartfetch

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestChartCacheIsBoundedByBytes(t *testing.T) {
	c := newChartCache(10)
	chart := func(d string, n int) *Chart { return &Chart{Digest: d, Archive: make([]byte, n)} }
	c.add(chart("a", 4))
	c.add(chart("b", 4))
	c.get("a") // a is now the most recently used
	c.add(chart("c", 4))
	c.add(chart("huge", 11)) // larger than the whole cache: not kept
	for d, want := range map[string]bool{"a": true, "b": false, "c": true, "huge": false} {
		if _, ok := c.get(d); ok != want {
			t.Errorf("%s cached=%v, want %v", d, ok, want)
		}
	}
	if c.bytes != 8 {
		t.Errorf("%d bytes accounted, want 8", c.bytes)
	}
}

func TestFetchOverTLSWithTheRepositoryCA(t *testing.T) {
	archive := packageChart(t, "hello", "1.0.0")
	repo := newChartRepo(t, "", chartVersion{name: "hello", version: "1.0.0", archive: archive})
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(repo.serve))
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw})
	f := New(Options{AllowedHosts: []string{"127.0.0.1"}, AllowedCIDRs: loopbackOnly("127.0.0.1")})

	if _, err := f.Fetch(context.Background(), Request{Source: Source{URL: tlsSrv.URL}, Chart: "hello"}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("error %v, want a certificate error without the CA", err)
	}
	c, err := f.Fetch(context.Background(), Request{Source: Source{URL: tlsSrv.URL, CA: ca}, Chart: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Digest != digestOf(archive) {
		t.Errorf("digest %s, want %s", c.Digest, digestOf(archive))
	}
	if _, err := f.Fetch(context.Background(), Request{Source: Source{URL: tlsSrv.URL, CA: []byte("junk")}, Chart: "hello"}); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Errorf("error %v, want a clear CA error", err)
	}
}

// BenchmarkFetchWarmCache is the cost of a Fetch whose chart and resolved
// version are cached (a HelmRelease rendered again within IndexTTL).
func BenchmarkFetchWarmCache(b *testing.B) {
	repo := newChartRepo(b, "", chartVersion{name: "hello", version: "1.0.0", archive: packageChart(b, "hello", "1.0.0")})
	f := New(Options{AllowedHosts: []string{"127.0.0.1"}, AllowedCIDRs: loopbackOnly("127.0.0.1")})
	req := Request{Source: Source{URL: repo.URL()}, Chart: "hello", Version: "^1"}
	if _, err := f.Fetch(context.Background(), req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Fetch(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	if n := repo.count(""); n != 2 {
		b.Errorf("%d requests, want 2 (index and chart, once)", n)
	}
}
