package chartfetch

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		addr    string
		public  bool
		private bool
	}{
		{"8.8.8.8", true, false},
		{"2606:4700::1111", true, false},
		{"127.0.0.1", false, false},
		{"127.8.9.10", false, false},
		{"::1", false, false},
		{"::ffff:127.0.0.1", false, false},
		{"169.254.169.254", false, false},
		{"169.254.1.1", false, false},
		{"fe80::1", false, false},
		{"0.0.0.0", false, false},
		{"::", false, false},
		{"224.0.0.1", false, false},
		{"ff02::1", false, false},
		{"255.255.255.255", false, false},
		{"10.1.2.3", false, true},
		{"172.16.0.1", false, true},
		{"192.168.1.1", false, true},
		{"fd00:ec2::254", false, true},
		{"100.64.0.1", false, true},
		{"64:ff9b::7f00:1", false, false},
		{"64:ff9b::a00:1", false, true},
	} {
		what, private := classify(netip.MustParseAddr(tc.addr))
		if (what == "") != tc.public || private != tc.private {
			t.Errorf("%s: classified %q private=%v, want public=%v private=%v", tc.addr, what, private, tc.public, tc.private)
		}
	}
}

func TestCheckAddr(t *testing.T) {
	p := &policy{allowPrivate: true, cidrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	for addr, allowed := range map[string]bool{
		"10.0.0.1":        true,  // private, allowed by allowPrivate
		"127.0.0.1":       true,  // in the CIDR
		"127.0.0.2":       false, // loopback needs a CIDR
		"169.254.169.254": false, // never by allowPrivate
		"93.184.215.14":   true,
	} {
		if got := p.checkAddr(netip.MustParseAddr(addr)) == ""; got != allowed {
			t.Errorf("%s: allowed=%v, want %v", addr, got, allowed)
		}
	}
}

func TestFetchRefusesHostsNotAllowed(t *testing.T) {
	var target hitCounter
	srv := serveOn(t, "127.0.0.1:0", &target)
	f := New(Options{AllowedHosts: []string{"charts.example.com", "*.example.org"}, AllowedCIDRs: loopbackOnly("127.0.0.1")})

	t.Run("a URL the pull request added, on a host not allowed, is refused before any request", func(t *testing.T) {
		_, err := f.Fetch(context.Background(), Request{Source: Source{URL: srv.URL}, Chart: "hello"})
		var refused *RefusedError
		if !errors.As(err, &refused) || !strings.Contains(refused.Reason, "not on helm.allowedHosts") {
			t.Fatalf("error %v, want a *RefusedError about helm.allowedHosts", err)
		}
		if refused.URL != srv.URL {
			t.Errorf("refused URL %q, want %q", refused.URL, srv.URL)
		}
		if target.count() != 0 {
			t.Errorf("%d requests reached the server, want 0", target.count())
		}
	})
	t.Run("the URL of a repository in the live cluster is fetched", func(t *testing.T) {
		_, err := f.Fetch(context.Background(), Request{Source: Source{URL: srv.URL, Live: true}, Chart: "hello"})
		if err == nil || !strings.Contains(err.Error(), `no chart named "hello"`) {
			t.Fatalf("error %v, want the index to be read (and to lack the chart)", err)
		}
	})
	t.Run("other schemes are refused", func(t *testing.T) {
		_, err := f.Fetch(context.Background(), Request{Source: Source{URL: "file:///etc/passwd", Live: true}, Chart: "hello"})
		var refused *RefusedError
		if !errors.As(err, &refused) {
			t.Fatalf("error %v, want a *RefusedError", err)
		}
	})
	t.Run("wildcards match names below the domain only", func(t *testing.T) {
		for host, want := range map[string]bool{"charts.example.com": true, "CHARTS.example.com.": true, "a.b.example.org": true, "example.org": false, "evilexample.org": false} {
			if got := f.policy.hostAllowed(host); got != want {
				t.Errorf("%s: allowed=%v, want %v", host, got, want)
			}
		}
	})
}

func TestFetchRefusesNamesResolvingToLoopback(t *testing.T) {
	var target hitCounter
	srv := serveOn(t, "127.0.0.1:0", &target)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	// localhost is on the allowed hosts, but what it resolves to is not an
	// allowed address: the check runs after DNS resolution.
	f := New(Options{AllowedHosts: []string{"localhost"}})
	_, err := f.Fetch(context.Background(), Request{Source: Source{URL: "http://localhost:" + port}, Chart: "hello"})
	var refused *RefusedError
	if !errors.As(err, &refused) || !strings.Contains(refused.Reason, "loopback") {
		t.Fatalf("error %v, want a *RefusedError for a loopback address", err)
	}
	if want := "refused to fetch http://localhost:" + port + "/index.yaml: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want it to start %q", err, want)
	}
	if target.count() != 0 {
		t.Errorf("%d requests reached the server, want 0", target.count())
	}
}

func TestFetchSizeCaps(t *testing.T) {
	archive := packageChart(t, "hello", "1.0.0")
	repo := newChartRepo(t, "", chartVersion{name: "hello", version: "1.0.0", archive: archive})
	opts := Options{AllowedHosts: []string{"127.0.0.1"}, AllowedCIDRs: loopbackOnly("127.0.0.1")}
	req := Request{Source: Source{URL: repo.URL()}, Chart: "hello"}

	t.Run("a chart above maxChartBytes is refused", func(t *testing.T) {
		o := opts
		o.MaxChartBytes = int64(len(archive)) - 1
		_, err := New(o).Fetch(context.Background(), req)
		var tooLarge *TooLargeError
		if !errors.As(err, &tooLarge) || tooLarge.Limit != o.MaxChartBytes {
			t.Fatalf("error %v, want a *TooLargeError with limit %d", err, o.MaxChartBytes)
		}
	})
	t.Run("an index above maxIndexBytes is refused, even without Content-Length", func(t *testing.T) {
		big := serveOn(t, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for range 100 {
				_, _ = w.Write([]byte(strings.Repeat("# padding\n", 100)))
				w.(http.Flusher).Flush() // chunked: no Content-Length
			}
		}))
		o := opts
		o.MaxIndexBytes = 50_000
		_, err := New(o).Fetch(context.Background(), Request{Source: Source{URL: big.URL}, Chart: "hello"})
		var tooLarge *TooLargeError
		if !errors.As(err, &tooLarge) {
			t.Fatalf("error %v, want a *TooLargeError", err)
		}
	})
}

func TestFetchUnreachableRepository(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	f := New(Options{AllowedHosts: []string{"127.0.0.1"}, AllowedCIDRs: loopbackOnly("127.0.0.1")})
	_, err = f.Fetch(context.Background(), Request{Source: Source{URL: "http://" + addr + "/charts"}, Chart: "hello"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"repository index", "http://" + addr + "/charts/index.yaml", "connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
