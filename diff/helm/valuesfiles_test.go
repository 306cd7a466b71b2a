package helm_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/diff"
)

// valuesProd is a values-prod.yaml that sets two values and leaves the rest
// to values.yaml.
const valuesProd = "replicaCount: 4\nui:\n  message: from-values-prod\n"

// deploymentDiff is the diff of the Deployment podinfo's change, "" if
// unchanged or absent.
func deploymentDiff(h diff.HelmReleaseReport) string {
	for _, c := range h.Changes {
		if c.Kind == "Deployment" {
			return c.Diff
		}
	}
	return ""
}

// spec.chart.spec.valuesFiles become the chart's default values, as
// source-controller packages them into the HelmChart's artifact: merged in
// the order listed, the later over the earlier (builder_remote.go
// mergeChartValues), the deprecated valuesFile first, then the
// HelmRelease's values over them. A missing
// file fails the build unless ignoreMissingValuesFiles is set.
func TestValuesFilesBecomeTheChartsDefaultValues(t *testing.T) {
	ns := setup(t)
	live(t, ns.Name, func(d string) { applyLive(t, ns.Client, ns.Name, d) }, func() { install(t, ns, "podinfo", podinfoChart()) })
	// helm-controller's HelmChart for the live HelmRelease, generation 1.
	createObjects(t, ns.Client, helmChartYAML(ns.Name, ""))
	chart := copyChart(t, map[string][]byte{"values-prod.yaml": []byte(valuesProd)})
	d := differ(t, ns, getter(t, chart))

	// The change to valuesFiles makes the HelmChart's generation 2, which
	// source-controller appends to the chart version (6.9.2+2), so the
	// chart label changes with it.
	const label = "podinfo-6.9.2_2"
	for _, tc := range []struct {
		name, spec string
		// want and notWant are texts of the Deployment's diff; a
		// non-empty wantErr is a text of the HelmRelease's error.
		want, notWant []string
		wantErr       string
	}{
		{"values-prod.yaml merges over values.yaml", "      valuesFiles: [values.yaml, values-prod.yaml]\n  values: {}\n",
			[]string{"+  replicas: 4", "from-values-prod", label}, nil, ""},
		{"the HelmRelease's values merge over the values files", "      valuesFiles: [values.yaml, values-prod.yaml]\n  values:\n    replicaCount: 2\n",
			[]string{"+  replicas: 2", "from-values-prod", label}, nil, ""},
		{"the deprecated valuesFile merges first", "      valuesFile: values.yaml\n      valuesFiles: [values-prod.yaml]\n  values: {}\n",
			[]string{"+  replicas: 4", "from-values-prod", label}, nil, ""},
		{"a later file wins", "      valuesFiles: [values-prod.yaml, values.yaml]\n  values: {}\n",
			[]string{label}, []string{"replicas", "from-values-prod"}, ""},
		{"a missing file is an error", "      valuesFiles: [values.yaml, values-missing.yaml]\n  values: {}\n",
			nil, nil, "spec.valuesFiles: no values file found at path 'values-missing.yaml'"},
		{"ignoreMissingValuesFiles skips a missing file", "      valuesFiles: [values.yaml, values-missing.yaml, values-prod.yaml]\n      ignoreMissingValuesFiles: true\n  values: {}\n",
			[]string{"+  replicas: 4", "from-values-prod", label}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := writeTree(t, ns.Name, map[string]string{
				"apps/kustomization.yaml": kustomizationYAML,
				"apps/repo.yaml":          repoYAML,
				"apps/release.yaml":       releaseYAML("6.9.2", tc.spec),
			})
			h := helmRelease(t, diffApps(t, d, ns.Name, root), "podinfo")
			if tc.wantErr != "" || h.Error != "" {
				if tc.wantErr == "" || !strings.Contains(h.Error, tc.wantErr) {
					t.Fatalf("error %q, want one with %q", h.Error, tc.wantErr)
				}
				return
			}
			got := deploymentDiff(h)
			for _, want := range tc.want {
				if !strings.Contains(got, want) {
					t.Errorf("the Deployment's diff lacks %q:\n%s", want, got)
				}
			}
			for _, not := range tc.notWant {
				if strings.Contains(got, not) {
					t.Errorf("the Deployment's diff has %q:\n%s", not, got)
				}
			}
			if h.NewVersion != "6.9.2+2" {
				t.Errorf("new version %q, want 6.9.2+2", h.NewVersion)
			}
		})
	}
}

// helmChartYAML is the HelmChart helm-controller keeps for the podinfo
// HelmRelease of namespace ns, with extra spec lines.
func helmChartYAML(ns, extra string) string {
	return `apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata:
  name: ` + ns + `-podinfo
  namespace: ` + ns + `
spec:
  interval: 10m
  chart: podinfo
  version: "6.9.2"
  sourceRef:
    kind: HelmRepository
    name: podinfo
` + extra
}

// When the HelmChart keeps its spec, its generation is kept: a release
// installed from the chart built at generation 2 renders unchanged.
func TestValuesFilesVersionKeepsAnUnchangedHelmChartsGeneration(t *testing.T) {
	ns := setup(t)
	meta, err := os.ReadFile(filepath.Join(podinfoChart(), "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	built := copyChart(t, map[string][]byte{
		"Chart.yaml":       []byte(strings.Replace(string(meta), "version: 6.9.2", "version: 6.9.2+2", 1)),
		"values-prod.yaml": []byte(valuesProd),
	})
	applyLive(t, ns.Client, ns.Name, repoYAML+"\n---\n"+releaseYAML("6.9.2", "  values:\n    replicaCount: 4\n    ui:\n      message: from-values-prod\n"))
	install(t, ns, "podinfo", built)
	createObjects(t, ns.Client, helmChartYAML(ns.Name, "  valuesFiles: [values.yaml, values-prod.yaml]\n"))
	hc := &unstructured.Unstructured{}
	hc.SetAPIVersion("source.toolkit.fluxcd.io/v1")
	hc.SetKind("HelmChart")
	key := client.ObjectKey{Namespace: ns.Name, Name: ns.Name + "-podinfo"}
	if err := ns.Client.Get(t.Context(), key, hc); err != nil {
		t.Fatal(err)
	}
	_ = unstructured.SetNestedField(hc.Object, "5m", "spec", "interval")
	if err := ns.Client.Update(t.Context(), hc); err != nil || hc.GetGeneration() != 2 {
		t.Fatalf("update the HelmChart: %v, generation %d; want 2", err, hc.GetGeneration())
	}
	root := writeTree(t, ns.Name, map[string]string{
		"apps/kustomization.yaml": kustomizationYAML,
		"apps/repo.yaml":          repoYAML,
		"apps/release.yaml":       releaseYAML("6.9.2", "      valuesFiles: [values.yaml, values-prod.yaml]\n  values: {}\n"),
	})
	h := helmRelease(t, diffApps(t, differ(t, ns, getter(t, copyChart(t, map[string][]byte{"values-prod.yaml": []byte(valuesProd)}))), ns.Name, root), "podinfo")
	if h.Error != "" {
		t.Fatal(h.Error)
	}
	if h.OldVersion != "6.9.2+2" || h.NewVersion != "6.9.2+2" {
		t.Errorf("versions %s → %s, want 6.9.2+2 both", h.OldVersion, h.NewVersion)
	}
	want := map[string]diff.Action{"Deployment/podinfo": diff.ActionUnchanged, "Service/podinfo": diff.ActionUnchanged}
	if d := cmp.Diff(want, actions(h)); d != "" {
		t.Errorf("actions (-want +got):\n%s", d)
	}
}

// For a chart in a GitRepository the values files are paths in the source,
// relative to its root (source-controller builder_local.go mergeFileValues
// with the source root as LocalReference.WorkDir), read from the pull
// request's tree.
func TestValuesFilesOfAChartInTheRepositoryArePathsInTheSource(t *testing.T) {
	ns := setup(t)
	root := writeTree(t, ns.Name, map[string]string{
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
      valuesFiles: [charts/podinfo/values.yaml, env/prod.yaml]
      sourceRef:
        kind: GitRepository
        name: repo
`,
		"env/prod.yaml": valuesProd,
	})
	if err := copyTree(podinfoChart(), root+"/charts/podinfo"); err != nil {
		t.Fatal(err)
	}
	h := helmRelease(t, diffApps(t, differ(t, ns, nil), ns.Name, root), "local")
	if h.Error != "" {
		t.Fatal(h.Error)
	}
	got := deploymentDiff(h)
	if !strings.Contains(got, "replicas: 4") || !strings.Contains(got, "from-values-prod") {
		t.Errorf("the Deployment lacks the values of env/prod.yaml:\n%s", got)
	}
}
