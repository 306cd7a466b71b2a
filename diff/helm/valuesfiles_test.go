package helm_test

import (
	"strings"
	"testing"

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
	chart := copyChart(t, map[string][]byte{"values-prod.yaml": []byte(valuesProd)})
	d := differ(t, ns, getter(t, chart))

	for _, tc := range []struct {
		name, spec string
		// wantDiff are texts of the Deployment's diff, none when nil; a
		// non-empty wantErr is a text of the HelmRelease's error.
		wantDiff []string
		wantErr  string
	}{
		{"values-prod.yaml merges over values.yaml", "      valuesFiles: [values.yaml, values-prod.yaml]\n  values: {}\n",
			[]string{"+  replicas: 4", "from-values-prod"}, ""},
		{"the HelmRelease's values merge over the values files", "      valuesFiles: [values.yaml, values-prod.yaml]\n  values:\n    replicaCount: 2\n",
			[]string{"+  replicas: 2", "from-values-prod"}, ""},
		{"the deprecated valuesFile merges first", "      valuesFile: values.yaml\n      valuesFiles: [values-prod.yaml]\n  values: {}\n",
			[]string{"+  replicas: 4", "from-values-prod"}, ""},
		{"a later file wins", "      valuesFiles: [values-prod.yaml, values.yaml]\n  values: {}\n", nil, ""},
		{"a missing file is an error", "      valuesFiles: [values.yaml, values-missing.yaml]\n  values: {}\n",
			nil, "spec.valuesFiles: no values file found at path 'values-missing.yaml'"},
		{"ignoreMissingValuesFiles skips a missing file", "      valuesFiles: [values.yaml, values-missing.yaml, values-prod.yaml]\n      ignoreMissingValuesFiles: true\n  values: {}\n",
			[]string{"+  replicas: 4", "from-values-prod"}, ""},
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
			for _, want := range tc.wantDiff {
				if !strings.Contains(got, want) {
					t.Errorf("the Deployment's diff lacks %q:\n%s", want, got)
				}
			}
			if tc.wantDiff == nil && got != "" {
				t.Errorf("the Deployment changed:\n%s", got)
			}
		})
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
