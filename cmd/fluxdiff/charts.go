package main

import "github.com/fluxdiff/fluxdiff/diff/helm/chartfetch"

// newChartGetter is the chart fetcher of local diffs: chartfetch's
// defaults, so that the repositories of the live cluster are reachable and
// a URL the local tree adds or changes is refused unless it is one of them
// (the same network policy as the server's without helm.allowedHosts).
func newChartGetter() chartfetch.Getter { return chartfetch.New(chartfetch.Options{}) }
