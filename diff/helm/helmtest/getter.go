// Package helmtest serves Helm charts from local folders through the
// chartfetch.Getter contract, for tests of HelmRelease rendering that do
// not need a chart repository.
package helmtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/Masterminds/semver/v3"
	"sigs.k8s.io/yaml"

	"github.com/fluxdiff/fluxdiff/diff/helm/chartfetch"
)

// Getter serves the charts added to it, resolving versions and ranges as
// source-controller does (highest match; "" or "*" the highest). Err, when
// set, is returned for every fetch (an unreachable repository). It counts
// fetches and keeps the last request. Safe for concurrent use.
type Getter struct {
	mu     sync.Mutex
	charts map[string][]*chartfetch.Chart
	// Err is returned by every Fetch when set.
	Err error
	// Fetches counts Fetch calls; Last is the latest request.
	Fetches int
	Last    chartfetch.Request
}

// Add packages the chart folder dir (Chart.yaml and the rest) as a .tgz
// archive under the chart's name and version.
func (g *Getter) Add(dir string) (*chartfetch.Chart, error) {
	ch, err := Package(dir)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.charts == nil {
		g.charts = map[string][]*chartfetch.Chart{}
	}
	g.charts[ch.Name] = append(g.charts[ch.Name], ch)
	return ch, nil
}

// Package packs the chart folder dir as `helm package` does (every file
// under "<name>/"), named and versioned from its Chart.yaml.
func Package(dir string) (*chartfetch.Chart, error) {
	meta, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil, err
	}
	var md struct{ Name, Version string }
	if err := yaml.Unmarshal(meta, &md); err != nil {
		return nil, fmt.Errorf("%s/Chart.yaml: %w", dir, err)
	}
	archive, err := pack(dir, md.Name)
	if err != nil {
		return nil, err
	}
	return &chartfetch.Chart{Name: md.Name, Version: md.Version, Digest: fmt.Sprintf("sha256:%x", sha256.Sum256(archive)), Archive: archive}, nil
}

// Fetch implements chartfetch.Getter. An OCI request (no chart name) is
// served by the only chart added.
func (g *Getter) Fetch(ctx context.Context, req chartfetch.Request) (*chartfetch.Chart, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.Fetches++
	g.Last = req
	if g.Err != nil {
		return nil, g.Err
	}
	name := req.Chart
	if name == "" && len(g.charts) == 1 {
		for n := range g.charts {
			name = n
		}
	}
	want := req.Version
	if want == "" {
		want = "*"
	}
	c, err := semver.NewConstraint(want)
	if err != nil {
		return nil, fmt.Errorf("invalid version %q: %w", req.Version, err)
	}
	var best *chartfetch.Chart
	var bestV *semver.Version
	for _, ch := range g.charts[name] {
		v, err := semver.NewVersion(ch.Version)
		if err != nil || !c.Check(v) {
			continue
		}
		if bestV == nil || v.GreaterThan(bestV) {
			best, bestV = ch, v
		}
	}
	if best == nil {
		return nil, fmt.Errorf("no chart version found for %s-%s", name, req.Version)
	}
	return best, nil
}

// pack writes dir as a gzipped tar with every path under name/, as `helm
// package` lays a chart out.
func pack(dir, name string) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: name + "/" + filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err = tw.Write(body)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
