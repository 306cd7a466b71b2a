package helm_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxdiff/fluxdiff/diff"
)

// fiftyObjectChart writes a chart of 50 objects (25 ConfigMaps, 25
// Services) whose data follows .Values.level.
func fiftyObjectChart(b *testing.B) string {
	dir := filepath.Join(b.TempDir(), "fifty")
	if err := os.MkdirAll(filepath.Join(dir, "templates"), 0o755); err != nil {
		b.Fatal(err)
	}
	files := map[string]string{
		"Chart.yaml":  "apiVersion: v2\nname: fifty\nversion: 1.0.0\n",
		"values.yaml": "level: info\n",
		"templates/objects.yaml": `{{- range $i := until 25 }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $.Release.Name }}-cm-{{ $i }}
data:
  level: {{ $.Values.level | quote }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $.Release.Name }}-svc-{{ $i }}
spec:
  ports:
  - port: {{ add 8000 $i }}
    name: http
  selector:
    app: fifty-{{ $i }}
{{- end }}
`,
	}
	for p, body := range files {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(p)), []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// BenchmarkRenderAndDiff50Objects measures one HelmRelease of a 50-object
// chart rendered and diffed against an installed release on the real API
// server, with the chart already fetched (a warm cache: the Getter serves
// it from memory). Reported: ms per HelmRelease and objects per second.
func BenchmarkRenderAndDiff50Objects(b *testing.B) {
	ns := setup(b)
	chart := fiftyObjectChart(b)
	repo := strings.Replace(repoYAML, "podinfo", "fifty", 1)
	release := strings.NewReplacer("name: podinfo\n  namespace", "name: fifty\n  namespace", "chart: podinfo", "chart: fifty",
		"name: podinfo\n", "name: fifty\n").Replace(releaseYAML("1.0.0", "  values:\n    level: %s\n"))
	applyLive(b, ns.Client, ns.Name, repo+"\n---\n"+fmt.Sprintf(release, "info"))
	install(b, ns, "fifty", chart)
	root := writeTree(b, ns.Name, map[string]string{
		"apps/kustomization.yaml": kustomizationYAML,
		"apps/repo.yaml":          repo,
		"apps/release.yaml":       fmt.Sprintf(release, "debug"),
	})
	d := differ(b, ns, getter(b, chart))
	b.ResetTimer()
	objects := 0
	for b.Loop() {
		rep, err := d.Diff(b.Context(), diff.Request{Root: root, Kustomization: newKS(ns.Name)})
		if err != nil {
			b.Fatal(err)
		}
		h := helmRelease(b, rep.Kustomizations[0], "fifty")
		if h.Error != "" || h.Counts.Configured != 25 || h.Counts.Unchanged != 25 {
			b.Fatalf("unexpected result: error %q, counts %+v", h.Error, h.Counts)
		}
		objects += len(h.Changes)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/helmrelease")
	b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
}
