package helm_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/diff/helm/chartfetch"
	"github.com/fluxdiff/fluxdiff/diff/helm/helmtest"
)

// registryFetcher is the real chart fetcher allowed to reach the test
// registry on 127.0.0.1 (as a deployment allows an in-house registry).
func registryFetcher() *chartfetch.Fetcher {
	return chartfetch.New(chartfetch.Options{
		AllowedHosts: []string{"127.0.0.1"},
		AllowedCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
	})
}

// chartRefRelease is the podinfo HelmRelease with spec.chartRef lines.
func chartRefRelease(ref string) string {
	return `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: __NS__
spec:
  interval: 10m
  chartRef:
` + ref + `  values:
    replicaCount: 1
`
}

// createObjects creates YAML documents in the cluster as a source
// controller's objects would be, with no Kustomization's labels.
func createObjects(t *testing.T, c client.Client, docs string) {
	t.Helper()
	for _, doc := range strings.Split(docs, "\n---\n") {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
			t.Fatal(err)
		}
		if err := c.Create(context.Background(), obj); err != nil {
			t.Fatalf("create %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}
}

// upgradeTo610 are the changes from podinfo 6.9.2 to bumpedChart (6.10.0).
var upgradeTo610 = map[string]diff.Action{
	"Deployment/podinfo":         diff.ActionConfigured, // helm.sh/chart label
	"ConfigMap/podinfo-settings": diff.ActionCreated,
	"Service/podinfo":            diff.ActionDeleted,
}

// unchanged692 is podinfo 6.9.2 rendered again with the live values.
var unchanged692 = map[string]diff.Action{"Deployment/podinfo": diff.ActionUnchanged, "Service/podinfo": diff.ActionUnchanged}

// A chartRef to an OCIRepository renders the chart artifact the
// OCIRepository's spec.ref selects, as source-controller picks it
// (OCIRepositoryReconciler.getArtifactRef: digest, else semver with
// semverFilter, else tag, else latest); helm-controller then uses that
// artifact as the chart (api/v2 HelmReleaseSpec.ChartRef).
func TestChartRefToOCIRepositoryRendersTheSelectedArtifact(t *testing.T) {
	ns := setup(t)
	live(t, ns.Name, func(d string) { applyLive(t, ns.Client, ns.Name, d) }, func() { install(t, ns, "podinfo", podinfoChart()) })
	reg := helmtest.NewRegistry(t)
	bumped := bumpedChart(t)
	reg.Push(t, "charts/podinfo", "6.9.2", podinfoChart())
	d610 := reg.Push(t, "charts/podinfo", "6.10.0", bumped)
	reg.Push(t, "charts/podinfo", "stable", bumped)
	reg.Push(t, "charts/podinfo", "latest", podinfoChart())
	d := differ(t, ns, registryFetcher())

	for _, tc := range []struct {
		name, ref, version string
		want               map[string]diff.Action
	}{
		{"a tag that is not a version is pulled as is", "    tag: stable\n", "6.10.0", upgradeTo610},
		{"a semver range picks the highest matching tag", "    semver: \"~6.9\"\n", "6.9.2", unchanged692},
		{"a semver filter narrows the tags", "    semver: \">=6.0.0\"\n    semverFilter: \"^6\\\\.9\"\n", "6.9.2", unchanged692},
		{"a digest wins over a tag", "    tag: \"6.9.2\"\n    digest: " + d610.String() + "\n", "6.10.0", upgradeTo610},
		{"no ref is the latest tag", "", "6.9.2", unchanged692},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := ""
			if tc.ref != "" {
				ref = "  ref:\n" + tc.ref
			}
			root := writeTree(t, ns.Name, map[string]string{
				"apps/kustomization.yaml": "resources: [oci.yaml, release.yaml]\n",
				"apps/oci.yaml": `apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: podinfo
  namespace: __NS__
spec:
  interval: 5m
  url: oci://` + reg.Host + `/charts/podinfo
  insecure: true
` + ref,
				"apps/release.yaml": chartRefRelease("    kind: OCIRepository\n    name: podinfo\n"),
			})
			h := helmRelease(t, diffApps(t, d, ns.Name, root), "podinfo")
			if h.Error != "" {
				t.Fatal(h.Error)
			}
			if h.NewVersion != tc.version || h.ChartSource != "OCIRepository/"+ns.Name+"/podinfo" {
				t.Errorf("chart %s from %s, want %s from the OCIRepository", h.NewVersion, h.ChartSource, tc.version)
			}
			if diff := cmp.Diff(tc.want, actions(h)); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
		})
	}
}

// A chartRef to a HelmChart renders the chart that HelmChart describes
// (its chart, version and sourceRef, which is always in the HelmChart's
// own namespace: source-controller api/v1 LocalHelmChartSourceReference).
// The HelmChart is looked up in the HelmRelease's namespace unless
// chartRef.namespace says otherwise (helm-controller
// HelmReleaseReconciler.getSource).
func TestChartRefToHelmChartRendersThatHelmChartsChart(t *testing.T) {
	ns := setup(t)
	other := ns.Env.NewNamespace(t)
	live(t, ns.Name, func(d string) { applyLive(t, ns.Client, ns.Name, d) }, func() { install(t, ns, "podinfo", podinfoChart()) })
	reg := helmtest.NewRegistry(t)
	reg.Push(t, "charts/podinfo", "6.9.2", podinfoChart())
	reg.Push(t, "charts/podinfo", "6.10.0", bumpedChart(t))
	sources := func(namespace, version string) string {
		return `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: podinfo
  namespace: ` + namespace + `
spec:
  interval: 5m
  type: oci
  insecure: true
  url: oci://` + reg.Host + `/charts
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata:
  name: podinfo
  namespace: ` + namespace + `
spec:
  interval: 5m
  chart: podinfo
  version: "` + version + `"
  sourceRef:
    kind: HelmRepository
    name: podinfo`
	}
	createObjects(t, ns.Client, sources(other.Name, "6.10.0"))
	d := differ(t, ns, registryFetcher())

	for _, tc := range []struct {
		name, ref, version, source string
		want                       map[string]diff.Action
	}{
		{"a ref without a namespace is the HelmChart beside the HelmRelease", "", "6.9.2", ns.Name, unchanged692},
		{"a ref's namespace names the HelmChart's", "    namespace: " + other.Name + "\n", "6.10.0", other.Name, upgradeTo610},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := writeTree(t, ns.Name, map[string]string{
				"apps/kustomization.yaml": "resources: [sources.yaml, release.yaml]\n",
				"apps/sources.yaml":       sources("__NS__", "6.9.2"),
				"apps/release.yaml":       chartRefRelease("    kind: HelmChart\n    name: podinfo\n" + tc.ref),
			})
			h := helmRelease(t, diffApps(t, d, ns.Name, root), "podinfo")
			if h.Error != "" {
				t.Fatal(h.Error)
			}
			if h.NewVersion != tc.version || h.ChartSource != "HelmRepository/"+tc.source+"/podinfo" {
				t.Errorf("chart %s from %s, want %s from HelmRepository/%s/podinfo", h.NewVersion, h.ChartSource, tc.version, tc.source)
			}
			if diff := cmp.Diff(tc.want, actions(h)); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("the HelmChart's valuesFiles become the chart's values", func(t *testing.T) {
		// podinfo's own values-prod.yaml enables the HPA and Redis.
		root := writeTree(t, ns.Name, map[string]string{
			"apps/kustomization.yaml": "resources: [sources.yaml, release.yaml]\n",
			"apps/sources.yaml":       sources("__NS__", "6.9.2") + "\n  valuesFiles: [values.yaml, values-prod.yaml]\n",
			"apps/release.yaml":       chartRefRelease("    kind: HelmChart\n    name: podinfo\n"),
		})
		h := helmRelease(t, diffApps(t, d, ns.Name, root), "podinfo")
		if h.Error != "" {
			t.Fatal(h.Error)
		}
		got := actions(h)
		if got["HorizontalPodAutoscaler/podinfo"] != diff.ActionCreated || got["Deployment/podinfo-redis"] != diff.ActionCreated {
			t.Errorf("actions %v; want the HPA and Redis of values-prod.yaml created", got)
		}
		if h.NewVersion != "6.9.2+1" {
			t.Errorf("new version %q, want 6.9.2+1 (a new HelmChart's generation)", h.NewVersion)
		}
	})
	t.Run("a ref to a HelmChart that exists nowhere is an error naming it", func(t *testing.T) {
		root := writeTree(t, ns.Name, map[string]string{
			"apps/kustomization.yaml": "resources: [release.yaml]\n",
			"apps/release.yaml":       chartRefRelease("    kind: HelmChart\n    name: missing\n"),
		})
		h := helmRelease(t, diffApps(t, d, ns.Name, root), "podinfo")
		if want := "HelmChart " + ns.Name + "/missing is neither in this change nor in the cluster"; !strings.Contains(h.Error, want) {
			t.Errorf("error %q, want it to say %q", h.Error, want)
		}
	})
}

// A change to the OCIRepository of a chartRef alone renders the
// HelmRelease: helm-controller upgrades to the new artifact without a
// change to the HelmRelease.
func TestChartRefSourceChangeRendersTheHelmRelease(t *testing.T) {
	ns := setup(t)
	reg := helmtest.NewRegistry(t)
	reg.Push(t, "charts/podinfo", "6.9.2", podinfoChart())
	reg.Push(t, "charts/podinfo", "6.10.0", bumpedChart(t))
	oci := func(tag string) string {
		return `apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: podinfo
  namespace: __NS__
spec:
  interval: 5m
  url: oci://` + reg.Host + `/charts/podinfo
  insecure: true
  ref:
    tag: "` + tag + `"`
	}
	release := chartRefRelease("    kind: OCIRepository\n    name: podinfo\n")
	applyLive(t, ns.Client, ns.Name, oci("6.9.2")+"\n---\n"+release)
	install(t, ns, "podinfo", podinfoChart())
	root := writeTree(t, ns.Name, map[string]string{
		"apps/kustomization.yaml": "resources: [oci.yaml, release.yaml]\n",
		"apps/oci.yaml":           oci("6.10.0"),
		"apps/release.yaml":       release,
	})
	h := helmRelease(t, diffApps(t, differ(t, ns, registryFetcher()), ns.Name, root), "podinfo")
	if h.Error != "" {
		t.Fatal(h.Error)
	}
	if h.OldVersion != "6.9.2" || h.NewVersion != "6.10.0" {
		t.Errorf("versions %s → %s, want 6.9.2 → 6.10.0", h.OldVersion, h.NewVersion)
	}
	if d := cmp.Diff(upgradeTo610, actions(h)); d != "" {
		t.Errorf("actions (-want +got):\n%s", d)
	}
}
