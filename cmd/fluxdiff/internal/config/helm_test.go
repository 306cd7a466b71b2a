package config

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxdiff/fluxdiff/diff/helm/chartfetch"
)

func TestHelmDefaultsAreSafeAndSourceControllers(t *testing.T) {
	cfg, err := Load("", envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := chartfetch.Options{
		AllowedCIDRs:  []netip.Prefix{},
		MaxIndexBytes: 50 << 20,
		MaxChartBytes: 10 << 20,
		FetchTimeout:  time.Minute,
		IndexTTL:      time.Minute,
		CacheBytes:    256 << 20,
	}
	if diff := cmp.Diff(want, cfg.Helm.ChartFetchOptions()); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}
}

func TestHelmSettingsFromFileAndEnvironment(t *testing.T) {
	path := writeFile(t, "config.yaml", `
helm:
  allowedHosts: [charts.example.com, "*.example.org"]
  allowedCIDRs: [10.20.0.0/16]
  maxChartBytes: 1048576
  fetchTimeout: 20s
`)
	cfg, err := Load(path, envMap(map[string]string{
		"FLUXDIFF_HELM_ALLOW_PRIVATE_NETWORKS": "true",
		"FLUXDIFF_HELM_ALLOWED_CIDRS":          "10.30.0.0/16,fd00::/8",
	}))
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Helm.ChartFetchOptions()
	want := chartfetch.Options{
		AllowedHosts:         []string{"charts.example.com", "*.example.org"},
		AllowPrivateNetworks: true,
		AllowedCIDRs:         []netip.Prefix{netip.MustParsePrefix("10.30.0.0/16"), netip.MustParsePrefix("fd00::/8")},
		MaxIndexBytes:        50 << 20,
		MaxChartBytes:        1 << 20,
		FetchTimeout:         20 * time.Second,
		IndexTTL:             time.Minute,
		CacheBytes:           256 << 20,
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}
}

func TestHelmSettingsAreValidated(t *testing.T) {
	path := writeFile(t, "config.yaml", `
helm:
  allowedHosts: ["https://charts.example.com", "charts.example.com:443", ok.example.com]
  allowedCIDRs: [10.0.0.0/33, not-a-cidr]
  maxChartBytes: -1
  fetchTimeout: 2h
`)
	_, err := Load(path, envMap(nil))
	var cfgErr *Error
	if !errors.As(err, &cfgErr) {
		t.Fatalf("error %v, want *Error", err)
	}
	for _, want := range []string{
		"helm.allowedHosts[0]", "helm.allowedHosts[1]", "helm.allowedCIDRs[0]", "helm.allowedCIDRs[1]",
		"helm.maxChartBytes: -1", "helm.fetchTimeout: 2h0m0s",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "helm.allowedHosts[2]") {
		t.Errorf("a valid host was reported:\n%v", err)
	}
}
