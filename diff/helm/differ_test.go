package helm_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/diff/helm/helmtest"
)

const repoYAML = `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: podinfo
  namespace: __NS__
spec:
  interval: 5m
  url: https://charts.example.test/podinfo`

// releaseYAML is the podinfo HelmRelease with extra spec lines.
func releaseYAML(version, extra string) string {
	return `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: __NS__
spec:
  interval: 10m
  chart:
    spec:
      chart: podinfo
      version: "` + version + `"
      sourceRef:
        kind: HelmRepository
        name: podinfo
` + extra
}

const kustomizationYAML = "resources: [repo.yaml, release.yaml]\n"

// live leaves the podinfo HelmRelease (chart 6.9.2, replicaCount 1)
// applied by kustomize-controller and installed by helm-controller.
func live(t *testing.T, ns string, apply func(docs string), install func()) {
	apply(repoYAML + "\n---\n" + releaseYAML("6.9.2", "  values:\n    replicaCount: 1\n"))
	install()
}

func getter(t testing.TB, dirs ...string) *helmtest.Getter {
	t.Helper()
	g := &helmtest.Getter{}
	for _, d := range dirs {
		if _, err := g.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// A values change renders the chart as helm-controller would upgrade it and
// diffs the objects: the Deployment and Service change, the values diff
// shows the new values, hooks and tests are listed, not diffed; the live
// objects carry helm-controller's field manager, so the dry-run with the
// same manager (helm-controller main.go kube.ManagedFieldsManager) shows
// only the change.
func TestValuesChangeShowsRenderedObjectChanges(t *testing.T) {
	ns := setup(t)
	live(t, ns.Name, func(d string) { applyLive(t, ns.Client, ns.Name, d) }, func() { install(t, ns, "podinfo", podinfoChart()) })
	root := writeTree(t, ns.Name, map[string]string{
		"apps/kustomization.yaml": kustomizationYAML,
		"apps/repo.yaml":          repoYAML,
		"apps/release.yaml":       releaseYAML("6.9.2", "  values:\n    replicaCount: 3\n    service:\n      externalPort: 8080\n"),
	})
	k := diffApps(t, differ(t, ns, getter(t, podinfoChart())), ns.Name, root)
	h := helmRelease(t, k, "podinfo")
	if h.Error != "" {
		t.Fatal(h.Error)
	}
	want := map[string]diff.Action{"Deployment/podinfo": diff.ActionConfigured, "Service/podinfo": diff.ActionConfigured}
	if d := cmp.Diff(want, actions(h)); d != "" {
		t.Errorf("actions (-want +got):\n%s", d)
	}
	for _, c := range h.Changes {
		if c.Kind == "Deployment" && !strings.Contains(c.Diff, "+  replicas: 3") {
			t.Errorf("Deployment diff lacks the new replicas:\n%s", c.Diff)
		}
		if c.Kind == "Service" && !strings.Contains(c.Diff, "8080") {
			t.Errorf("Service diff lacks the new port:\n%s", c.Diff)
		}
	}
	if h.OldVersion != "6.9.2" || h.NewVersion != "6.9.2" || h.Chart != "podinfo" || h.ChartSource != "HelmRepository/"+ns.Name+"/podinfo" {
		t.Errorf("chart = %s %s → %s from %s", h.Chart, h.OldVersion, h.NewVersion, h.ChartSource)
	}
	if !strings.Contains(h.ValuesDiff, "-replicaCount: 1") || !strings.Contains(h.ValuesDiff, "+replicaCount: 3") {
		t.Errorf("values diff:\n%s", h.ValuesDiff)
	}
	if len(h.Tests) == 0 || !strings.Contains(strings.Join(h.Tests, " "), "(test)") {
		t.Errorf("tests = %v; want podinfo's test hooks listed", h.Tests)
	}
}

// A chart version bump renders the new chart: an object the new version
// drops is deleted (it is in the release's stored manifest), one it adds is
// created, and the report names both versions.
func TestChartVersionBumpShowsTheChartsObjectChanges(t *testing.T) {
	ns := setup(t)
	live(t, ns.Name, func(d string) { applyLive(t, ns.Client, ns.Name, d) }, func() { install(t, ns, "podinfo", podinfoChart()) })
	root := writeTree(t, ns.Name, map[string]string{
		"apps/kustomization.yaml": kustomizationYAML,
		"apps/repo.yaml":          repoYAML,
		"apps/release.yaml":       releaseYAML("6.10.0", "  values:\n    replicaCount: 1\n"),
	})
	g := getter(t, podinfoChart(), bumpedChart(t))
	h := helmRelease(t, diffApps(t, differ(t, ns, g), ns.Name, root), "podinfo")
	if h.Error != "" {
		t.Fatal(h.Error)
	}
	want := map[string]diff.Action{
		"Deployment/podinfo":         diff.ActionConfigured, // helm.sh/chart label
		"ConfigMap/podinfo-settings": diff.ActionCreated,
		"Service/podinfo":            diff.ActionDeleted,
	}
	if d := cmp.Diff(want, actions(h)); d != "" {
		t.Errorf("actions (-want +got):\n%s", d)
	}
	if h.OldVersion != "6.9.2" || h.NewVersion != "6.10.0" {
		t.Errorf("versions %s → %s", h.OldVersion, h.NewVersion)
	}
	if g.Last.Version != "6.10.0" || g.Last.Chart != "podinfo" || !g.Last.Source.Live {
		t.Errorf("fetch request = %+v; want podinfo 6.10.0 from the live HelmRepository", g.Last)
	}
}

// A value that comes from a Secret through valuesFrom never appears in any
// rendering: the field it lands in is masked by position (the marked
// render), the values diff masks it, and texts are scrubbed.
func TestValuesFromSecretNeverAppears(t *testing.T) {
	const canary = "canary-s3cret-message"
	ns := setup(t)
	live(t, ns.Name, func(d string) { applyLive(t, ns.Client, ns.Name, d) }, func() { install(t, ns, "podinfo", podinfoChart()) })
	root := writeTree(t, ns.Name, map[string]string{
		"apps/kustomization.yaml": "resources: [repo.yaml, release.yaml, secret.yaml]\n",
		"apps/repo.yaml":          repoYAML,
		"apps/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: podinfo-values\n  namespace: __NS__\n" +
			"stringData:\n  values.yaml: |\n    ui:\n      message: " + canary + "\n",
		"apps/release.yaml": releaseYAML("6.9.2", "  valuesFrom:\n  - kind: Secret\n    name: podinfo-values\n  values:\n    replicaCount: 1\n"),
	})
	d := differ(t, ns, getter(t, podinfoChart()))
	rep, err := d.Diff(t.Context(), diff.Request{Root: root, Kustomization: newKS(ns.Name)})
	if err != nil {
		t.Fatal(err)
	}
	h := helmRelease(t, rep.Kustomizations[0], "podinfo")
	if h.Error != "" {
		t.Fatal(h.Error)
	}
	dep := ""
	for _, c := range h.Changes {
		if c.Kind == "Deployment" {
			dep = c.Diff
		}
	}
	if !strings.Contains(dep, "PODINFO_UI_MESSAGE") || !strings.Contains(dep, "***") {
		t.Errorf("Deployment diff should show the env var with a masked value:\n%s", dep)
	}
	var out bytes.Buffer
	for _, w := range []func(*bytes.Buffer) error{
		func(b *bytes.Buffer) error { return diff.WriteText(b, rep) },
		func(b *bytes.Buffer) error { return diff.WriteMarkdown(b, rep) },
		func(b *bytes.Buffer) error { return diff.WriteJSON(b, rep) },
	} {
		if err := w(&out); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Contains(out.String(), canary) {
		t.Fatalf("the Secret value appears in the output:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "HelmRelease "+ns.Name+"/podinfo") {
		t.Errorf("the text and Markdown renderings lack the HelmRelease section:\n%s", out.String())
	}
}

// A chart that is a path of the Kustomization's own GitRepository is
// rendered from the pull request's tree (source-controller would build it
// from the same commit), so a template the pull request adds shows.
func TestChartFromOwnRepositoryUsesThePullRequestsChart(t *testing.T) {
	ns := setup(t)
	files := map[string]string{
		"apps/kustomization.yaml": "resources: [release.yaml]\n",
		"apps/release.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: local
  namespace: __NS__
spec:
  interval: 10m
  chart:
    spec:
      chart: ./charts/podinfo
      sourceRef:
        kind: GitRepository
        name: repo
`,
	}
	chart := copyChart(t, map[string][]byte{"templates/pr.yaml": []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-the-pr\n")})
	root := writeTree(t, ns.Name, files)
	if err := copyTree(chart, root+"/charts/podinfo"); err != nil {
		t.Fatal(err)
	}
	h := helmRelease(t, diffApps(t, differ(t, ns, nil), ns.Name, root), "local")
	if h.Error != "" {
		t.Fatal(h.Error)
	}
	if a := actions(h)["ConfigMap/from-the-pr"]; a != diff.ActionCreated {
		t.Errorf("ConfigMap from the pull request's chart: %q; changes %v", a, actions(h))
	}
	if h.ChartSource != "GitRepository/"+ns.Name+"/repo" || h.OldVersion != "" {
		t.Errorf("chart source %q, old version %q", h.ChartSource, h.OldVersion)
	}
}

// An unreachable chart repository is an error on the HelmRelease's row
// naming the chart and repository; the Kustomization's own diff is kept.
func TestUnreachableRepositoryIsAnErrorRow(t *testing.T) {
	ns := setup(t)
	live(t, ns.Name, func(d string) { applyLive(t, ns.Client, ns.Name, d) }, func() { install(t, ns, "podinfo", podinfoChart()) })
	root := writeTree(t, ns.Name, map[string]string{
		"apps/kustomization.yaml": kustomizationYAML,
		"apps/repo.yaml":          repoYAML,
		"apps/release.yaml":       releaseYAML("6.9.2", "  values:\n    replicaCount: 2\n"),
	})
	g := &helmtest.Getter{Err: errors.New("dial tcp 203.0.113.7:443: connect: connection refused")}
	k := diffApps(t, differ(t, ns, g), ns.Name, root)
	if k.Error != "" {
		t.Fatalf("the Kustomization failed as a whole: %s", k.Error)
	}
	found := false
	for _, c := range k.Changes {
		found = found || (c.Kind == "HelmRelease" && c.Action == diff.ActionConfigured)
	}
	if !found {
		t.Errorf("the HelmRelease's own change is missing: %+v", k.Changes)
	}
	h := helmRelease(t, k, "podinfo")
	want := "podinfo from HelmRepository/" + ns.Name + "/podinfo (https://charts.example.test/podinfo): dial tcp 203.0.113.7:443: connect: connection refused"
	if h.Error != want {
		t.Errorf("error = %q\nwant    %q", h.Error, want)
	}
	var rep diff.Report
	rep.Kustomizations = []diff.KustomizationReport{k}
	if !rep.HasErrors() {
		t.Error("Report.HasErrors is false with a failed HelmRelease")
	}
}
