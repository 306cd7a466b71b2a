package helm_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxdiff/fluxdiff/diff"
)

// A values change that moves podinfo's image counts the rendered objects in
// the blast radius, given apart as the HelmReleases' part, and lists the
// image change (old → new, read from the live Deployment that
// helm-controller applied and the dry-run with its field manager) on the
// Deployment, located at the HelmRelease's manifest and naming it.
func TestRenderedChangesCountInTheBlastRadiusAndListImages(t *testing.T) {
	ns := setup(t)
	live(t, ns.Name, func(d string) { applyLive(t, ns.Client, ns.Name, d) }, func() { install(t, ns, "podinfo", podinfoChart()) })
	root := writeTree(t, ns.Name, map[string]string{
		"apps/kustomization.yaml": kustomizationYAML,
		"apps/repo.yaml":          repoYAML,
		"apps/release.yaml":       releaseYAML("6.9.2", "  values:\n    replicaCount: 1\n    image:\n      tag: 6.9.3\n"),
	})
	rep, err := differ(t, ns, getter(t, podinfoChart())).Diff(t.Context(), diff.Request{Root: root, Kustomization: newKS(ns.Name)})
	if err != nil {
		t.Fatal(err)
	}
	k := rep.Kustomizations[0]
	h := helmRelease(t, k, "podinfo")
	if h.Error != "" {
		t.Fatal(h.Error)
	}
	if a := actions(h)["Deployment/podinfo"]; a != diff.ActionConfigured {
		t.Fatalf("Deployment/podinfo %q; changes %v", a, actions(h))
	}
	b := rep.BlastRadius()
	want := diff.BlastRadius{Clusters: 1, Kustomizations: 1, HelmReleases: 1,
		Created: k.Counts.Created + h.Counts.Created, Changed: k.Counts.Configured + h.Counts.Configured, Deleted: k.Counts.Deleted + h.Counts.Deleted,
		HelmCreated: h.Counts.Created, HelmChanged: h.Counts.Configured, HelmDeleted: h.Counts.Deleted, Images: 1}
	if d := cmp.Diff(want, b); d != "" {
		t.Errorf("blast radius (-want +got):\n%s", d)
	}
	var text bytes.Buffer
	if err := diff.WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	part := strconv.Itoa(h.Counts.Configured) + " in HelmReleases"
	if line, _, _ := strings.Cut(text.String(), "\n"); !strings.Contains(line, strconv.Itoa(b.Changed)+" changed ("+part+")") {
		t.Errorf("blast-radius line %q lacks %q", line, part)
	}
	flags := rep.Risks()
	if len(flags) != 1 {
		t.Fatalf("flags = %+v, want the image change alone", flags)
	}
	f := flags[0]
	wantFlag := diff.Risk{Kind: diff.RiskImage, APIVersion: "apps/v1", ObjectKind: "Deployment", Namespace: ns.Name, Name: "podinfo",
		Field: "spec.template.spec.containers[podinfo].image", Old: "ghcr.io/stefanprodan/podinfo:6.9.2", New: "ghcr.io/stefanprodan/podinfo:6.9.3",
		Message: "image ghcr.io/stefanprodan/podinfo:6.9.2 → ghcr.io/stefanprodan/podinfo:6.9.3", File: "apps/release.yaml", Line: 4} // metadata.name's line
	if d := cmp.Diff(wantFlag, f.Risk); d != "" {
		t.Errorf("image flag (-want +got):\n%s", d)
	}
	if f.HelmRelease != ns.Name+"/podinfo" {
		t.Errorf("flag's HelmRelease = %q", f.HelmRelease)
	}
}

// upgradeChart is podinfo as version 6.10.0 with the Deployment's selector
// widened by a label (a field that cannot change), a ClusterRole that reads
// Secrets, and the claims of claimChart gone.
func upgradeChart(t testing.TB) string {
	t.Helper()
	meta, err := os.ReadFile(filepath.Join(podinfoChart(), "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	helpers, err := os.ReadFile(filepath.Join(podinfoChart(), "templates", "_helpers.tpl"))
	if err != nil {
		t.Fatal(err)
	}
	const selector = "app.kubernetes.io/name: {{ include \"podinfo.fullname\" . }}\n{{- end }}"
	if !strings.Contains(string(helpers), selector) {
		t.Fatal("podinfo's _helpers.tpl has no selectorLabels as expected")
	}
	return copyChart(t, map[string][]byte{
		"Chart.yaml": []byte(strings.Replace(string(meta), "version: 6.9.2", "version: 6.10.0", 1)),
		"templates/_helpers.tpl": []byte(strings.Replace(string(helpers), selector,
			"app.kubernetes.io/name: {{ include \"podinfo.fullname\" . }}\napp.kubernetes.io/component: web\n{{- end }}", 1)),
		"templates/rbac.yaml": []byte("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {{ .Release.Namespace }}-podinfo-secrets\n" +
			"rules:\n- apiGroups: [\"\"]\n  resources: [secrets]\n  verbs: [get]\n"),
	})
}

// claimChart is podinfo with two claims: podinfo-data, and podinfo-kept
// annotated helm.sh/resource-policy: keep.
func claimChart(t testing.TB) string {
	t.Helper()
	claim := func(name, annotations string) string {
		return "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: " + name + "\n" + annotations +
			"spec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n"
	}
	return copyChart(t, map[string][]byte{
		"templates/claims.yaml": []byte(claim("podinfo-data", "") + "---\n" +
			claim("podinfo-kept", "  annotations:\n    helm.sh/resource-policy: keep\n")),
	})
}

// A chart upgrade is flagged by what Helm would do with it: the selector
// change is refused by the API server, so the upgrade fails (Helm applies
// with server-side apply and never re-creates); the claim the new chart
// drops is deleted by the upgrade (once every object applies), the claim
// kept by helm.sh/resource-policy is not flagged; the new ClusterRole's
// grant on Secrets is an RBAC flag. Every flag names the HelmRelease and
// counts in the blast radius.
func TestChartUpgradeFlagsWhatHelmWouldDo(t *testing.T) {
	ns := setup(t)
	live(t, ns.Name, func(d string) { applyLive(t, ns.Client, ns.Name, d) }, func() { install(t, ns, "podinfo", claimChart(t)) })
	root := writeTree(t, ns.Name, map[string]string{
		"apps/kustomization.yaml": kustomizationYAML,
		"apps/repo.yaml":          repoYAML,
		"apps/release.yaml":       releaseYAML("6.10.0", "  values:\n    replicaCount: 1\n"),
	})
	rep, err := differ(t, ns, getter(t, claimChart(t), upgradeChart(t))).Diff(t.Context(), diff.Request{Root: root, Kustomization: newKS(ns.Name)})
	if err != nil {
		t.Fatal(err)
	}
	h := helmRelease(t, rep.Kustomizations[0], "podinfo")
	if h.Error != "" {
		t.Fatal(h.Error)
	}
	got := map[string]string{}
	for _, f := range rep.Risks() {
		if f.HelmRelease != ns.Name+"/podinfo" || f.File != "apps/release.yaml" || f.Line <= 0 {
			t.Errorf("flag %s on %s: HelmRelease %q at %s:%d", f.Kind, f.ObjectID(), f.HelmRelease, f.File, f.Line)
		}
		got[string(f.Kind)+" "+strings.ReplaceAll(f.ObjectID(), ns.Name, "NS")] = f.Message
	}
	want := map[string]string{
		"immutable Deployment/NS/podinfo": "the Helm upgrade will fail: spec.selector",
		"deletion PersistentVolumeClaim/NS/podinfo-data": "deleted by the Helm upgrade (it left the chart's render), its volume's data may be lost; " +
			"would be deleted after a successful upgrade; Helm deletes only once every object of the release applies, and 1 object fails here",
		"rbac ClusterRole/NS-podinfo-secrets": "new ClusterRole grants get on Secrets",
	}
	for key, prefix := range want {
		if !strings.HasPrefix(got[key], prefix) {
			t.Errorf("%s: message %q, want it to begin %q", key, got[key], prefix)
		}
	}
	if len(got) != len(want) {
		t.Errorf("flags %v, want only %v", got, want)
	}
	if a := actions(h)["PersistentVolumeClaim/podinfo-kept"]; a != diff.ActionSkipped {
		t.Errorf("the kept claim is %q, want skipped (helm.sh/resource-policy: keep)", a)
	}
	if b := rep.BlastRadius(); b.RiskFlags != len(want) || b.HelmDeleted != 1 || b.HelmCreated != h.Counts.Created || b.HelmCreated == 0 {
		t.Errorf("blast radius %+v; HelmRelease counts %+v", b, h.Counts)
	}
}
