package diff

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// riskReport is sampleReport on two clusters with a flag of every kind:
// each shows at the top of every rendering, warnings before image changes.
func riskReport() *Report {
	r := sampleReport()
	apps := &r.Kustomizations[0]
	apps.Risks = []Risk{
		{Kind: RiskImage, APIVersion: "apps/v1", ObjectKind: "Deployment", Namespace: "podinfo", Name: "podinfo",
			Field: "spec.template.spec.containers[podinfod].image", Old: "ghcr.io/stefanprodan/podinfo:6.7.0", New: "ghcr.io/stefanprodan/podinfo:6.8.0",
			Message: "image ghcr.io/stefanprodan/podinfo:6.7.0 → ghcr.io/stefanprodan/podinfo:6.8.0", File: "apps/podinfo/deployment.yaml", Line: 4},
		{Kind: RiskImmutable, APIVersion: "apps/v1", ObjectKind: "Deployment", Namespace: "podinfo", Name: "podinfo",
			Field: "spec.selector.matchLabels.app", Old: "podinfo", New: "podinfo-v2",
			Message: failMessage + ": spec.selector.matchLabels.app cannot change (podinfo → podinfo-v2)", File: "apps/podinfo/deployment.yaml", Line: 4},
		{Kind: RiskDeletion, APIVersion: "v1", ObjectKind: "PersistentVolumeClaim", Namespace: "podinfo", Name: "cache",
			Message: "deleted by prune (it left the build), its volume's data may be lost", File: "apps/kustomization.yaml", Line: 1},
		{Kind: RiskRBAC, APIVersion: "rbac.authorization.k8s.io/v1", ObjectKind: "ClusterRole", Name: "ops",
			Field: "rules[0]", New: `{"apiGroups":["*"],"resources":["*"],"verbs":["*"]}`,
			Message: "widened ClusterRole grants every verb on every resource", File: "apps/rbac.yaml", Line: 4},
		{Kind: RiskIgnored, APIVersion: "v1", ObjectKind: "ConfigMap", Namespace: "podinfo", Name: "manual",
			Message: "Flux will ignore this change: the object is marked kustomize.toolkit.fluxcd.io/reconcile: disabled in the cluster"},
	}
	staging := KustomizationReport{Cluster: "staging", Namespace: "flux-system", Name: "apps", Path: "./apps", Changes: []Change{
		{Action: ActionConfigured, APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: "db", Name: "pg",
			Reason: recreateReason, Diff: "--- live\n+++ merged\n@@ -1 +1 @@\n-  serviceName: pg\n+  serviceName: pg-headless"},
	}}
	staging.Counts.add(ActionConfigured)
	staging.Risks = []Risk{
		{Kind: RiskImmutable, APIVersion: "apps/v1", ObjectKind: "StatefulSet", Namespace: "db", Name: "pg", Field: "spec.serviceName",
			Old: "pg", New: "pg-headless", Message: recreateMessage + ": spec.serviceName cannot change (pg → pg-headless)", File: "apps/db/statefulset.yaml", Line: 4},
		{Kind: RiskSuspended, APIVersion: "kustomize.toolkit.fluxcd.io/v1", ObjectKind: "Kustomization", Namespace: "flux-system", Name: "apps", Field: "spec.suspend",
			Message: "the Kustomization is suspended (spec.suspend: true): nothing of this change applies until it is resumed"},
		{Kind: RiskDependency, APIVersion: "kustomize.toolkit.fluxcd.io/v1", ObjectKind: "Kustomization", Namespace: "flux-system", Name: "apps", Field: "spec.dependsOn",
			Message: "Flux waits before applying this change: its dependency Kustomization flux-system/infra is not Ready (HealthCheckFailed: timeout)"},
	}
	staging.HelmReleases = []HelmReleaseReport{helmRiskSection()}
	r.Kustomizations = append(r.Kustomizations, staging)
	return r
}

// helmRiskSection is a HelmRelease whose chart upgrade changes the
// Deployment's image and drops a claim, flagged as the engine flags
// rendered objects (located at the HelmRelease's manifest).
func helmRiskSection() HelmReleaseReport {
	h := HelmReleaseReport{Namespace: "apps", Name: "podinfo", ReleaseName: "podinfo", ReleaseNamespace: "apps",
		Chart: "podinfo", ChartSource: "HelmRepository/apps/podinfo", OldVersion: "6.9.1", NewVersion: "6.9.2",
		Changes: []Change{
			{Action: ActionConfigured, APIVersion: "apps/v1", Kind: "Deployment", Namespace: "apps", Name: "podinfo",
				Diff: "--- live\n+++ merged\n@@ -1 +1 @@\n-  image: ghcr.io/stefanprodan/podinfo:6.9.1\n+  image: ghcr.io/stefanprodan/podinfo:6.9.2"},
			{Action: ActionConfigured, APIVersion: "v1", Kind: "Service", Namespace: "apps", Name: "podinfo",
				Diff: "--- live\n+++ merged\n@@ -1 +1 @@\n-  helm.sh/chart: podinfo-6.9.1\n+  helm.sh/chart: podinfo-6.9.2"},
			{Action: ActionDeleted, APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: "apps", Name: "podinfo-data",
				Diff: "--- live\n+++ merged\n@@ -1 +0,0 @@\n-kind: PersistentVolumeClaim"},
		},
		Risks: []Risk{
			{Kind: RiskImage, APIVersion: "apps/v1", ObjectKind: "Deployment", Namespace: "apps", Name: "podinfo",
				Field: "spec.template.spec.containers[podinfo].image", Old: "ghcr.io/stefanprodan/podinfo:6.9.1", New: "ghcr.io/stefanprodan/podinfo:6.9.2",
				Message: "image ghcr.io/stefanprodan/podinfo:6.9.1 → ghcr.io/stefanprodan/podinfo:6.9.2", File: "apps/podinfo/release.yaml", Line: 4},
			{Kind: RiskDeletion, APIVersion: "v1", ObjectKind: "PersistentVolumeClaim", Namespace: "apps", Name: "podinfo-data",
				Message: helmDeletedBy + ", its volume's data may be lost", File: "apps/podinfo/release.yaml", Line: 4},
		},
	}
	h.Tally()
	return h
}

func TestRiskRenderingsMatchGoldenFiles(t *testing.T) {
	out := renderAll(t, riskReport())
	for format, ext := range map[string]string{"text": "txt", "markdown": "md", "json": "json"} {
		t.Run(format, func(t *testing.T) {
			checkGolden(t, "report-risks."+ext, out[format])
		})
	}
}

// checkGolden compares got with testdata/golden/name, rewriting it with
// -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./diff -run Golden -update)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s (-want +got):\n%s", name, d)
	}
}

// TestBlastRadiusLine: the numbers come from the Kustomizations' counts and
// flags and those of their HelmReleases, which the line also gives apart;
// image changes are not risk flags.
func TestBlastRadiusLine(t *testing.T) {
	r := riskReport()
	got := r.BlastRadius()
	want := BlastRadius{Clusters: 2, Kustomizations: 3, Created: 2, Changed: 4, Deleted: 2, RiskFlags: 8, Images: 2,
		HelmReleases: 1, HelmChanged: 2, HelmDeleted: 1}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("blast radius (-want +got):\n%s", d)
	}
	if s := got.String(); s != "2 clusters, 3 Kustomizations, 2 created, 4 changed (2 in HelmReleases), 2 deleted (1 in HelmReleases), 8 risk flags" {
		t.Errorf("line = %q", s)
	}
	if s := got.Short(); s != "2 clusters, 3 Kustomizations, 2 created, 4 changed, 2 deleted, 8 risk flags" {
		t.Errorf("short line = %q", s)
	}
	one := BlastRadius{Clusters: 1, Kustomizations: 1, RiskFlags: 1}.String()
	if one != "1 cluster, 1 Kustomization, 0 created, 0 changed, 0 deleted, 1 risk flag" {
		t.Errorf("singular line = %q", one)
	}
	out := renderAll(t, r)
	for format, first := range map[string]string{
		"text":     "Blast radius: 2 clusters, 3 Kustomizations, 2 created, 4 changed (2 in HelmReleases), 2 deleted (1 in HelmReleases), 8 risk flags",
		"markdown": "**Blast radius:** 2 clusters, 3 Kustomizations, 2 created, 4 changed (2 in HelmReleases), 2 deleted (1 in HelmReleases), 8 risk flags",
	} {
		if line, _, _ := strings.Cut(out[format], "\n"); line != first {
			t.Errorf("%s starts with %q, want %q", format, line, first)
		}
	}
	if !strings.Contains(out["json"], `"riskFlags": 8`) || !strings.Contains(out["json"], `"helmChanged": 2`) {
		t.Errorf("JSON lacks blastRadius.riskFlags: %.300s", out["json"])
	}
}

// TestRisksKeepOrderAndRoundTrip: Report.Risks lists warnings by kind
// (immutable, deletion, rbac, suspended, dependency, ignored) then images,
// a HelmRelease's flags among them by kind and naming the HelmRelease, and
// the JSON rendering decodes back into the same risks.
func TestRisksKeepOrderAndRoundTrip(t *testing.T) {
	r := riskReport()
	var kinds []RiskKind
	for _, f := range r.Risks() {
		kinds = append(kinds, f.Kind)
	}
	want := []RiskKind{RiskImmutable, RiskImmutable, RiskDeletion, RiskDeletion, RiskRBAC, RiskSuspended, RiskDependency, RiskIgnored, RiskImage, RiskImage}
	if d := cmp.Diff(want, kinds); d != "" {
		t.Errorf("order (-want +got):\n%s", d)
	}
	var helm []string
	for _, f := range r.Risks() {
		if f.HelmRelease != "" {
			helm = append(helm, string(f.Kind)+" "+f.ObjectID()+f.Where())
		}
	}
	wantHelm := []string{
		"deletion PersistentVolumeClaim/apps/podinfo-data (cluster staging, Kustomization flux-system/apps, HelmRelease apps/podinfo)",
		"image Deployment/apps/podinfo (cluster staging, Kustomization flux-system/apps, HelmRelease apps/podinfo)",
	}
	if d := cmp.Diff(wantHelm, helm); d != "" {
		t.Errorf("HelmRelease flags (-want +got):\n%s", d)
	}
	var got Report
	if err := json.Unmarshal([]byte(renderAll(t, r)["json"]), &got); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(*r, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
}
