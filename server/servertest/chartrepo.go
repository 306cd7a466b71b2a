package servertest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	repo "helm.sh/helm/v4/pkg/repo/v1"
)

// ChartRepo is a Helm HTTP chart repository on a loopback port, as
// `helm package` and `helm repo index` lay one out: an index.yaml and one
// packaged .tgz per chart version, served as static files (the layout
// source-controller fetches for a HelmRepository of type default).
type ChartRepo struct {
	srv    *httptest.Server
	dir    string
	charts []string
}

// StartChartRepo packages each chart folder in chartDirs (Chart.yaml and
// the rest, .helmignore honoured) with Helm's own packaging, indexes them
// with Helm's repository index code under the server's URL and serves the
// result. Close stops the server and removes the files.
func StartChartRepo(chartDirs ...string) (*ChartRepo, error) {
	dir, err := os.MkdirTemp("", "fluxdiff-charts-")
	if err != nil {
		return nil, err
	}
	r := &ChartRepo{dir: dir, srv: httptest.NewUnstartedServer(http.FileServer(http.Dir(dir)))}
	if err := r.publish(chartDirs); err != nil {
		r.srv.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	r.srv.Start()
	return r, nil
}

// publish packages the charts into r.dir and writes its index.yaml with
// absolute chart URLs under the server's address (known before Start).
func (r *ChartRepo) publish(chartDirs []string) error {
	for _, d := range chartDirs {
		ch, err := loader.LoadDir(d)
		if err != nil {
			return fmt.Errorf("load chart %s: %w", d, err)
		}
		if _, err := chartutil.Save(ch, r.dir); err != nil {
			return fmt.Errorf("package chart %s: %w", d, err)
		}
		r.charts = append(r.charts, ch.Name()+" "+ch.Metadata.Version)
	}
	idx, err := repo.IndexDirectory(r.dir, r.URL())
	if err != nil {
		return fmt.Errorf("index charts: %w", err)
	}
	idx.SortEntries()
	return idx.WriteFile(filepath.Join(r.dir, "index.yaml"), 0o644)
}

// URL is the repository's root, "http://127.0.0.1:PORT" (index.yaml is
// under it): the spec.url of a HelmRepository that uses it.
func (r *ChartRepo) URL() string {
	return "http://" + r.srv.Listener.Addr().String()
}

// CIDR is the narrowest address range that lets chart fetches reach the
// repository: its loopback address alone ("127.0.0.1/32", or "::1/128"),
// for helm.allowedCIDRs. Loopback addresses are refused otherwise.
func (r *ChartRepo) CIDR() string {
	a := r.srv.Listener.Addr().(*net.TCPAddr).AddrPort().Addr().Unmap()
	return netip.PrefixFrom(a, a.BitLen()).String()
}

// Charts are the charts served, "name version" each, in the order given.
func (r *ChartRepo) Charts() []string { return r.charts }

// Close stops the server and removes the packaged charts.
func (r *ChartRepo) Close() {
	r.srv.Close()
	os.RemoveAll(r.dir)
}
