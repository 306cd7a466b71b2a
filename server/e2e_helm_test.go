package server_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/server/servertest"
)

// helmOf finds the HelmRelease section name under Kustomization ks of cluster.
func helmOf(r diff.Report, cluster, ks, name string) (diff.HelmReleaseReport, bool) {
	for _, k := range r.Kustomizations {
		if k.Cluster != cluster || k.Name != ks {
			continue
		}
		for _, h := range k.HelmReleases {
			if h.Name == name {
				return h, true
			}
		}
	}
	return diff.HelmReleaseReport{}, false
}

func helmActions(h diff.HelmReleaseReport) map[string]diff.Action {
	out := map[string]diff.Action{}
	for _, c := range h.Changes {
		if c.Action != diff.ActionUnchanged {
			out[c.Kind+"/"+c.Name] = c.Action
		}
	}
	return out
}

// The podinfo HelmRelease of Flux's example repository is installed in both
// clusters as helm-controller leaves it (servertest.StartFleet); pull
// requests on the repository render it as helm-controller would and show
// the objects that would change, nested under the Kustomization that holds
// it.
func TestHelmReleasesOfTheExampleRepository(t *testing.T) {
	w := newWorld(t)
	const values = "apps/staging/podinfo-values.yaml"

	t.Run("a change to the staging values shows the rendered Deployment and Service changes under staging only", func(t *testing.T) {
		body := replaceIn(t, w.Base, values, "  values:\n", "  values:\n    replicaCount: 2\n    service:\n      externalPort: 8080\n")
		head := w.open(t, servertest.PR{Number: 21, Title: "podinfo: two replicas", Changes: map[string][]byte{values: body}})
		w.send(t, "pull_request", w.payload(t, "pull_request.opened.1.json", 21, head), webhookSecret)
		cr := w.waitCheck(t, head)
		rep := w.lastReport(t, 21)
		h, ok := helmOf(rep, "staging", "apps", "podinfo")
		if !ok || h.Error != "" {
			t.Fatalf("staging podinfo section = %+v (found %v); check run %q", h, ok, cr.Conclusion)
		}
		// The chart's Ingress (enabled in the base values) points at the
		// Service's port, so it follows externalPort too.
		want := map[string]diff.Action{"Deployment/podinfo": diff.ActionConfigured, "Service/podinfo": diff.ActionConfigured,
			"Ingress/podinfo": diff.ActionConfigured}
		if d := cmp.Diff(want, helmActions(h)); d != "" {
			t.Errorf("rendered changes (-want +got):\n%s", d)
		}
		if _, ok := helmOf(rep, "production", "apps", "podinfo"); ok {
			t.Error("production shows a podinfo HelmRelease section for a staging-only change")
		}
		if h.OldVersion != "6.9.2" || h.NewVersion != "6.9.2" || !strings.Contains(h.ValuesDiff, "+replicaCount: 2") {
			t.Errorf("chart %s → %s, values diff:\n%s", h.OldVersion, h.NewVersion, h.ValuesDiff)
		}
		comment := w.gh.Comments(fleetRepo, 21)
		if len(comment) == 0 || !strings.Contains(comment[0].Body, "HelmRelease <code>podinfo/podinfo</code>") || !strings.Contains(comment[0].Body, "+  replicas: 2") {
			t.Errorf("the comment lacks the HelmRelease section:\n%v", comment)
		}
	})

	t.Run("a chart version bump shows the chart's object changes", func(t *testing.T) {
		bumped := bumpPodinfo(t)
		if _, err := w.charts.Add(bumped); err != nil {
			t.Fatal(err)
		}
		body := replaceIn(t, w.Base, values, `version: ">=1.0.0-alpha"`, `version: "6.10.0"`)
		head := w.open(t, servertest.PR{Number: 22, Title: "podinfo 6.10.0", Changes: map[string][]byte{values: body}})
		w.send(t, "pull_request", w.payload(t, "pull_request.opened.1.json", 22, head), webhookSecret)
		w.waitCheck(t, head)
		h, ok := helmOf(w.lastReport(t, 22), "staging", "apps", "podinfo")
		if !ok || h.Error != "" {
			t.Fatalf("staging podinfo section = %+v (found %v)", h, ok)
		}
		if h.OldVersion != "6.9.2" || h.NewVersion != "6.10.0" {
			t.Errorf("chart %s → %s, want 6.9.2 → 6.10.0", h.OldVersion, h.NewVersion)
		}
		if a := helmActions(h)["ConfigMap/podinfo-settings"]; a != diff.ActionCreated {
			t.Errorf("the new chart's ConfigMap = %q; changes %v", a, helmActions(h))
		}
	})

	t.Run("a value from a valuesFrom Secret never appears in any output", func(t *testing.T) {
		const canary = "e2e-helm-s3cret-canary"
		kust := replaceIn(t, w.Base, "apps/staging/kustomization.yaml", "resources:\n", "resources:\n  - podinfo-secret.yaml\n")
		secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: podinfo-ui\n  namespace: podinfo\n" +
			"stringData:\n  values.yaml: |\n    ui:\n      message: " + canary + "\n"
		vals := replaceIn(t, w.Base, values, "  values:\n", "  valuesFrom:\n    - kind: Secret\n      name: podinfo-ui\n  values:\n")
		head := w.open(t, servertest.PR{Number: 23, Title: "podinfo message", Changes: map[string][]byte{
			"apps/staging/kustomization.yaml": kust, "apps/staging/podinfo-secret.yaml": []byte(secret), values: vals,
		}})
		w.send(t, "pull_request", w.payload(t, "pull_request.opened.1.json", 23, head), webhookSecret)
		cr := w.waitCheck(t, head)
		rep := w.lastReport(t, 23)
		h, ok := helmOf(rep, "staging", "apps", "podinfo")
		if !ok || h.Error != "" || helmActions(h)["Deployment/podinfo"] != diff.ActionConfigured {
			t.Fatalf("staging podinfo section = %+v (found %v)", h, ok)
		}
		stored, _ := json.Marshal(rep)
		outputs := map[string]string{"report": string(stored), "check run": cr.Output.Title + cr.Output.Summary + cr.Output.Text}
		for _, c := range w.gh.Comments(fleetRepo, 23) {
			outputs["comment"] += c.Body
		}
		for name, text := range outputs {
			if strings.Contains(text, canary) {
				t.Errorf("the Secret value appears in the %s", name)
			}
		}
		if !strings.Contains(outputs["comment"], "PODINFO_UI_MESSAGE") {
			t.Errorf("the comment does not show the masked env var:\n%s", outputs["comment"])
		}
	})
}

// bumpPodinfo is the podinfo chart as 6.10.0 with one more template.
func bumpPodinfo(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "podinfo")
	files, err := servertest.ReadTree(servertest.PodinfoChart())
	if err != nil {
		t.Fatal(err)
	}
	files["Chart.yaml"] = []byte(strings.Replace(string(files["Chart.yaml"]), "version: 6.9.2", "version: 6.10.0", 1))
	files["templates/settings.yaml"] = []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\ndata:\n  level: info\n")
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
