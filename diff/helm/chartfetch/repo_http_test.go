package chartfetch

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestFetchFromHTTPRepository(t *testing.T) {
	hello1 := packageChart(t, "hello", "1.0.0")
	hello2 := packageChart(t, "hello", "1.1.0")
	other := newChartRepo(t, "", chartVersion{name: "hello", version: "2.0.0", archive: packageChart(t, "hello", "2.0.0")})
	repo := newChartRepo(t, "",
		chartVersion{name: "hello", version: "1.0.0", archive: hello1},
		chartVersion{name: "hello", version: "1.1.0", archive: hello2},
		// An absolute URL on another host, as GitHub-released charts have.
		chartVersion{name: "hello", version: "2.0.0", url: other.URL() + "/charts/hello-2.0.0.tgz"},
	)
	f := New(Options{AllowedHosts: []string{"127.0.0.1"}, AllowedCIDRs: loopbackOnly("127.0.0.1")})
	src := Source{URL: repo.URL() + "/", Type: "default"}

	t.Run("a relative chart URL is resolved against the repository URL", func(t *testing.T) {
		c, err := f.Fetch(context.Background(), Request{Source: src, Chart: "hello", Version: "1.0.x"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Name != "hello" || c.Version != "1.0.0" || !bytes.Equal(c.Archive, hello1) || c.Digest != digestOf(hello1) {
			t.Errorf("got %s %s %s (%d bytes), want hello 1.0.0 %s", c.Name, c.Version, c.Digest, len(c.Archive), digestOf(hello1))
		}
	})
	t.Run("an absolute chart URL is fetched from its own host", func(t *testing.T) {
		c, err := f.Fetch(context.Background(), Request{Source: src, Chart: "hello", Version: ">=2.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Version != "2.0.0" || other.count("/charts/hello-2.0.0.tgz") != 1 {
			t.Errorf("got version %s, other host served %d chart requests; want 2.0.0 from the other host", c.Version, other.count("/charts/hello-2.0.0.tgz"))
		}
	})
	t.Run("an empty version is the latest stable one", func(t *testing.T) {
		c, err := f.Fetch(context.Background(), Request{Source: src, Chart: "hello"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Version != "2.0.0" {
			t.Errorf("version %s, want 2.0.0", c.Version)
		}
	})
	t.Run("a chart missing from the index is a clear error", func(t *testing.T) {
		_, err := f.Fetch(context.Background(), Request{Source: src, Chart: "nope"})
		if err == nil || !strings.Contains(err.Error(), `no chart named "nope"`) {
			t.Errorf("error %v, want one naming the missing chart", err)
		}
	})
}

func TestFetchCachesIndexAndCharts(t *testing.T) {
	archive := packageChart(t, "hello", "1.0.0")
	repo := newChartRepo(t, "", chartVersion{name: "hello", version: "1.0.0", archive: archive})
	f := New(Options{AllowedHosts: []string{"127.0.0.1"}, AllowedCIDRs: loopbackOnly("127.0.0.1")})
	req := Request{Source: Source{URL: repo.URL()}, Chart: "hello", Version: "^1"}

	t.Run("concurrent fetches of one chart share one download", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				c, err := f.Fetch(context.Background(), req)
				if err == nil && !bytes.Equal(c.Archive, archive) {
					err = errors.New("wrong archive")
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n, m := repo.count("/index.yaml"), repo.count("/charts/hello-1.0.0.tgz"); n != 1 || m != 1 {
			t.Errorf("index requested %d times, chart %d times; want 1 and 1", n, m)
		}
	})
	t.Run("a second fetch makes no request", func(t *testing.T) {
		before := repo.count("")
		if _, err := f.Fetch(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		if after := repo.count(""); after != before {
			t.Errorf("%d requests made by a cached fetch, want 0", after-before)
		}
	})
	t.Run("another range resolving to the cached version reuses the index and the archive", func(t *testing.T) {
		before := repo.count("")
		c, err := f.Fetch(context.Background(), Request{Source: req.Source, Chart: "hello", Version: "1.0.0"})
		if err != nil || c.Version != "1.0.0" {
			t.Fatalf("got %v, %v", c, err)
		}
		if after := repo.count(""); after != before {
			t.Errorf("%d requests made, want 0 (index cached, archive cached by digest)", after-before)
		}
	})
}

func TestFetchWithBasicAuth(t *testing.T) {
	const password = "s3cr3t-Pa55"
	other := newChartRepo(t, "", chartVersion{name: "hello", version: "2.0.0", archive: packageChart(t, "hello", "2.0.0")})
	repo := newChartRepo(t, "",
		chartVersion{name: "hello", version: "1.0.0", archive: packageChart(t, "hello", "1.0.0")},
		chartVersion{name: "hello", version: "2.0.0", url: other.URL() + "/charts/hello-2.0.0.tgz"},
		chartVersion{name: "hello", version: "3.0.0", url: "moved/hello-3.0.0.tgz"},
	)
	repo.username, repo.password = "flux", password
	repo.redirects = map[string]string{"/moved/hello-3.0.0.tgz": other.URL() + "/charts/hello-2.0.0.tgz"}
	f := New(Options{AllowedHosts: []string{"127.0.0.1"}, AllowedCIDRs: loopbackOnly("127.0.0.1")})

	t.Run("the repository's credentials fetch the index and the chart", func(t *testing.T) {
		src := Source{URL: repo.URL(), Username: "flux", Password: password}
		c, err := f.Fetch(context.Background(), Request{Source: src, Chart: "hello", Version: "1.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Version != "1.0.0" {
			t.Errorf("version %s, want 1.0.0", c.Version)
		}
	})
	t.Run("the credentials are not sent to a chart URL or a redirect on another host", func(t *testing.T) {
		src := Source{URL: repo.URL(), Username: "flux", Password: password}
		for _, v := range []string{"2.0.0", "3.0.0"} {
			if _, err := f.Fetch(context.Background(), Request{Source: src, Chart: "hello", Version: v}); err != nil {
				t.Fatal(err)
			}
		}
		if n := other.count("/charts/hello-2.0.0.tgz"); n != 2 {
			t.Errorf("the other host served the chart %d times, want 2 (absolute URL, then redirect)", n)
		}
		for _, a := range other.auth {
			if a != "" {
				t.Error("the other host received an Authorization header")
			}
		}
	})
	t.Run("without credentials the error is clear and a wrong password never appears", func(t *testing.T) {
		_, err := f.Fetch(context.Background(), Request{Source: Source{URL: repo.URL()}, Chart: "hello"})
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("error %v, want a 401", err)
		}
		wrong := "wr0ng-" + password
		_, err = f.Fetch(context.Background(), Request{Source: Source{URL: repo.URL(), Username: "flux", Password: wrong}, Chart: "hello"})
		if err == nil || strings.Contains(err.Error(), wrong) {
			t.Errorf("error %v: want an error without the password", err)
		}
	})
	t.Run("credentials in the URL are dropped from errors", func(t *testing.T) {
		u := strings.Replace(repo.URL(), "http://", "http://flux:"+password+"@", 1)
		_, err := f.Fetch(context.Background(), Request{Source: Source{URL: u}, Chart: "hello"})
		if err == nil || strings.Contains(err.Error(), password) {
			t.Errorf("error %v: want an error without the password", err)
		}
	})
}

func TestFetchRedirectsAreChecked(t *testing.T) {
	// The repository is on 127.0.0.2, the one address allowed; the
	// redirect targets are on 127.0.0.1, reached by IP literal and by the
	// name localhost (refused after DNS resolution, in the dialer).
	var target hitCounter
	targetSrv := serveOn(t, "127.0.0.1:0", &target)
	_, port, _ := strings.Cut(strings.TrimPrefix(targetSrv.URL, "http://"), ":")
	redirects := map[string]string{
		"/literal/index.yaml":  targetSrv.URL + "/index.yaml",
		"/named/index.yaml":    "http://localhost:" + port + "/index.yaml",
		"/metadata/index.yaml": "http://169.254.169.254/latest/meta-data/",
	}
	repo := serveOn(t, "127.0.0.2:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, redirects[r.URL.Path], http.StatusFound)
	}))
	f := New(Options{AllowedHosts: []string{"127.0.0.1", "127.0.0.2", "localhost", "169.254.169.254"}, AllowedCIDRs: loopbackOnly("127.0.0.2")})

	for _, tc := range []struct{ name, path, reason string }{
		{"a redirect to a loopback IP is refused", "/literal", "127.0.0.1 is a loopback address"},
		{"a redirect to a name resolving to loopback is refused after resolution", "/named", "is a loopback address"},
		{"a redirect to the metadata address is refused", "/metadata", "cloud instance metadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.Fetch(context.Background(), Request{Source: Source{URL: repo.URL + tc.path}, Chart: "hello"})
			var refused *RefusedError
			if !errors.As(err, &refused) || !strings.Contains(refused.Reason, tc.reason) {
				t.Fatalf("error %v, want a *RefusedError saying %q", err, tc.reason)
			}
			if target.count() != 0 {
				t.Errorf("the redirect target received %d requests, want 0", target.count())
			}
		})
	}
}
