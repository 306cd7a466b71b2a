package config

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/fluxdiff/fluxdiff/diff/helm/chartfetch"
)

// Helm configures how charts are fetched to render HelmReleases (issue
// #13). A repository URL that a pull request adds or changes is fetched
// only from an allowed host, and no fetch reaches a loopback, link-local or
// private address unless allowed here: a pull request must not turn
// fluxdiff into a proxy into the cluster's network.
type Helm struct {
	// AllowedHosts are the repository hosts a pull request may point a
	// HelmRepository or OCIRepository at: host names or IP addresses, or
	// "*.example.com" for every name below example.com; no port. URLs of
	// repositories already in the live cluster need not be listed.
	AllowedHosts []string `json:"allowedHosts,omitempty"`
	// AllowPrivateNetworks allows RFC 1918, unique local, carrier-grade NAT
	// and other private addresses (not loopback, link-local or metadata).
	AllowPrivateNetworks bool `json:"allowPrivateNetworks,omitempty"`
	// AllowedCIDRs are address ranges allowed whatever their kind, e.g.
	// "10.20.0.0/16" for an in-house chart repository.
	AllowedCIDRs []string `json:"allowedCIDRs,omitempty"`
	// MaxIndexBytes caps a repository's index.yaml (default 50 MiB, as
	// source-controller).
	MaxIndexBytes int64 `json:"maxIndexBytes,omitempty"`
	// MaxChartBytes caps a chart archive (default 10 MiB, as
	// source-controller).
	MaxChartBytes int64 `json:"maxChartBytes,omitempty"`
	// FetchTimeout bounds fetching one chart, index included (default 1m).
	FetchTimeout Duration `json:"fetchTimeout,omitempty"`
	// IndexTTL is how long an index.yaml or an OCI tag list is reused
	// (default 1m).
	IndexTTL Duration `json:"indexTTL,omitempty"`
	// CacheBytes bounds the chart archives kept in memory (default 256 MiB).
	CacheBytes int64 `json:"cacheBytes,omitempty"`
}

func (h *Helm) setDefaults() {
	if h.MaxIndexBytes == 0 {
		h.MaxIndexBytes = chartfetch.DefaultMaxIndexBytes
	}
	if h.MaxChartBytes == 0 {
		h.MaxChartBytes = chartfetch.DefaultMaxChartBytes
	}
	if h.FetchTimeout.Duration == 0 {
		h.FetchTimeout.Duration = chartfetch.DefaultFetchTimeout
	}
	if h.IndexTTL.Duration == 0 {
		h.IndexTTL.Duration = chartfetch.DefaultIndexTTL
	}
	if h.CacheBytes == 0 {
		h.CacheBytes = chartfetch.DefaultCacheBytes
	}
}

func (h Helm) validate() []error {
	var problems []error
	add := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	for i, host := range h.AllowedHosts {
		if err := chartfetch.ValidateHostPattern(host); err != nil {
			add("helm.allowedHosts[%d]: %v", i, err)
		}
	}
	for i, c := range h.AllowedCIDRs {
		if _, err := netip.ParsePrefix(c); err != nil {
			add("helm.allowedCIDRs[%d]: %q is not a CIDR range such as 10.0.0.0/8", i, c)
		}
	}
	sizes := []struct {
		key string
		v   int64
	}{{"maxIndexBytes", h.MaxIndexBytes}, {"maxChartBytes", h.MaxChartBytes}, {"cacheBytes", h.CacheBytes}}
	for _, s := range sizes {
		if s.v < 1 || s.v > 1<<40 {
			add("helm.%s: %d is outside 1..%d", s.key, s.v, int64(1)<<40)
		}
	}
	if h.FetchTimeout.Duration <= 0 || h.FetchTimeout.Duration > time.Hour {
		add("helm.fetchTimeout: %s is outside (0, 1h]", h.FetchTimeout.Duration)
	}
	if h.IndexTTL.Duration <= 0 {
		add("helm.indexTTL: must be positive")
	}
	return problems
}

// ChartFetchOptions returns the chartfetch.Options of a loaded (validated)
// configuration, for chartfetch.New.
func (h Helm) ChartFetchOptions() chartfetch.Options {
	cidrs := make([]netip.Prefix, 0, len(h.AllowedCIDRs))
	for _, c := range h.AllowedCIDRs {
		if p, err := netip.ParsePrefix(c); err == nil {
			cidrs = append(cidrs, p.Masked())
		}
	}
	return chartfetch.Options{
		AllowedHosts:         h.AllowedHosts,
		AllowPrivateNetworks: h.AllowPrivateNetworks,
		AllowedCIDRs:         cidrs,
		MaxIndexBytes:        h.MaxIndexBytes,
		MaxChartBytes:        h.MaxChartBytes,
		FetchTimeout:         h.FetchTimeout.Duration,
		IndexTTL:             h.IndexTTL.Duration,
		CacheBytes:           h.CacheBytes,
	}
}
