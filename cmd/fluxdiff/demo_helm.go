package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/fluxdiff/fluxdiff/server/servertest"
)

// startDemoFleet serves the podinfo chart from a Helm repository on a
// loopback port, writes into dir/repo a copy of Flux's example repository
// whose podinfo HelmRepository points at it (the example's points at
// https://stefanprodan.github.io/podinfo, on the internet, which the demo
// does not reach) and bootstraps the clusters from that copy. The clusters
// then hold the HelmRepository live with the local URL, as a user's
// cluster holds a reachable repository URL, and fluxdiff renders the
// podinfo HelmRelease with the chart fetched from it.
func startDemoFleet(ctx context.Context, rep *demoReporter, step func(string, ...any), dir string) (*servertest.Fleet, *servertest.ChartRepo, error) {
	charts, err := servertest.StartChartRepo(servertest.PodinfoChart())
	if err != nil {
		return nil, nil, fmt.Errorf("demo: chart repository: %w", err)
	}
	rep.Cleanup(charts.Close)
	step("serving the chart %s from a local Helm repository at %s", strings.Join(charts.Charts(), ", "), charts.URL())
	base, err := servertest.ReadTree(servertest.ExampleRepo())
	if err != nil {
		return nil, nil, err
	}
	if base, err = servertest.WithPodinfoRepo(base, charts.URL()); err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	repoDir := filepath.Join(dir, "repo")
	if err := servertest.WriteTree(repoDir, base); err != nil {
		return nil, nil, err
	}
	step("starting two control planes (staging, production) and bootstrapping them from Flux's example repository (%s: spec.url %s)",
		servertest.PodinfoRepository, charts.URL())
	fleet, err := servertest.StartFleet(ctx, rep, repoDir, "staging", "production")
	if err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	return fleet, charts, nil
}
