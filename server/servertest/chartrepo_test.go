package servertest_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/fluxdiff/fluxdiff/diff/helm/chartfetch"
	"github.com/fluxdiff/fluxdiff/server/servertest"
)

// The demo's chart repository is a Helm repository that chartfetch reads as
// it reads any HelmRepository: the podinfo chart resolves from its index,
// but only when helm.allowedCIDRs holds its loopback address (CIDR).
func TestChartRepoServesThePodinfoChart(t *testing.T) {
	repo, err := servertest.StartChartRepo(servertest.PodinfoChart())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(repo.Close)
	req := chartfetch.Request{Source: chartfetch.Source{URL: repo.URL(), Type: "default", Live: true}, Chart: "podinfo", Version: ">=1.0.0"}

	t.Run("a fetch is refused without the allowance", func(t *testing.T) {
		_, err := chartfetch.New(chartfetch.Options{}).Fetch(t.Context(), req)
		if _, ok := errors.AsType[*chartfetch.RefusedError](err); !ok {
			t.Fatalf("fetch from %s without helm.allowedCIDRs: %v, want a refusal", repo.URL(), err)
		}
	})
	t.Run("the chart resolves with its address alone allowed", func(t *testing.T) {
		p, err := netip.ParsePrefix(repo.CIDR())
		if err != nil || p.Bits() != p.Addr().BitLen() || !p.Addr().IsLoopback() {
			t.Fatalf("CIDR() = %q (%v), want a single loopback address", repo.CIDR(), err)
		}
		ch, err := chartfetch.New(chartfetch.Options{AllowedCIDRs: []netip.Prefix{p}}).Fetch(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		const want = "podinfo 6.9.2" // testdata/charts/podinfo
		if got := ch.Name + " " + ch.Version; got != want || len(ch.Archive) == 0 || repo.Charts()[0] != want {
			t.Errorf("fetched %q (%d bytes), serving %q; want %q", got, len(ch.Archive), repo.Charts(), want)
		}
	})
}
