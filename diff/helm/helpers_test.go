package helm_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/diff/helm"
	"github.com/fluxdiff/fluxdiff/diff/helm/chartfetch"
	"github.com/fluxdiff/fluxdiff/kube/fluxsim"
	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

// podinfoChart is the testdata copy of the podinfo chart (6.9.2).
func podinfoChart() string {
	return filepath.Join("..", "..", "testdata", "charts", "podinfo")
}

var standIns struct {
	once sync.Once
	err  error
}

// setup gives t a namespace on the shared API server, with the stand-in
// HelmRelease, HelmRepository and HelmChart CRDs installed (the real
// OCIRepository CRD is in kubetest's set).
func setup(t testing.TB) *kubetest.Namespace {
	t.Helper()
	ns := kubetest.Setup(t)
	standIns.once.Do(func() {
		if standIns.err = ns.Env.InstallCRDs(kubetest.StandInCRDDir()); standIns.err == nil {
			standIns.err = ns.Env.InstallCRDs(filepath.Join("testdata", "crds"))
		}
	})
	if standIns.err != nil {
		t.Fatal(standIns.err)
	}
	return ns
}

// copyChart copies the podinfo chart into a temp folder and applies edits
// (path → content; nil removes the file).
func copyChart(t testing.TB, edits map[string][]byte) string {
	t.Helper()
	src := podinfoChart()
	dst := filepath.Join(t.TempDir(), "podinfo")
	err := copyTree(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	for p, body := range edits {
		full := filepath.Join(dst, filepath.FromSlash(p))
		if body == nil {
			_ = os.Remove(full)
			continue
		}
		if err := os.WriteFile(full, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// bumpedChart is podinfo as version 6.10.0 with templates/service.yaml
// removed and a ConfigMap added: a chart upgrade that changes objects.
func bumpedChart(t testing.TB) string {
	t.Helper()
	meta, err := os.ReadFile(filepath.Join(podinfoChart(), "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return copyChart(t, map[string][]byte{
		"Chart.yaml":              []byte(strings.Replace(string(meta), "version: 6.9.2", "version: 6.10.0", 1)),
		"templates/service.yaml":  nil,
		"templates/settings.yaml": []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\ndata:\n  level: info\n"),
	})
}

// writeTree writes files into a fresh folder, __NS__ replaced by ns.
func writeTree(t testing.TB, ns string, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, body := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(strings.ReplaceAll(body, "__NS__", ns)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// newKS is a Kustomization "apps" in ns building ./apps from GitRepository
// "repo", with prune.
func newKS(ns string) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{
		TypeMeta:   metav1.TypeMeta{APIVersion: kustomizev1.GroupVersion.String(), Kind: kustomizev1.KustomizationKind},
		ObjectMeta: metav1.ObjectMeta{Name: "apps", Namespace: ns},
		Spec: kustomizev1.KustomizationSpec{
			Path: "./apps", Interval: metav1.Duration{Duration: time.Minute}, Prune: true,
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "repo"},
		},
	}
}

// applyLive server-side applies YAML documents as kustomize-controller
// would, with the owner labels of Kustomization "apps".
func applyLive(t testing.TB, c client.Client, ns, docs string) {
	t.Helper()
	for _, doc := range strings.Split(strings.ReplaceAll(docs, "__NS__", ns), "\n---\n") {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
			t.Fatal(err)
		}
		obj.SetLabels(map[string]string{"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": ns})
		if err := c.Patch(context.Background(), obj, client.Apply, client.FieldOwner(diff.FieldManager), client.ForceOwnership); err != nil {
			t.Fatalf("apply %s: %v", obj.GetName(), err)
		}
	}
}

// install leaves HelmRelease ns/name installed with the chart at dir, as
// helm-controller would.
func install(t testing.TB, ns *kubetest.Namespace, name, dir string) {
	t.Helper()
	ch, err := loader.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := fluxsim.InstallHelmRelease(context.Background(), ns.Client, ns.Config, ns.Name, name, ch); err != nil {
		t.Fatal(err)
	}
}

// differ is the engine with HelmRelease rendering on the shared API server.
func differ(t testing.TB, ns *kubetest.Namespace, g chartfetch.Getter) *diff.Differ {
	t.Helper()
	cs, err := kubernetes.NewForConfig(ns.Config)
	if err != nil {
		t.Fatal(err)
	}
	caps, err := helm.Discover(ns.Config)
	if err != nil {
		t.Fatal(err)
	}
	return &diff.Differ{Client: ns.Client, Cluster: "test",
		Helm: &helm.Differ{Live: ns.Client, Clientset: cs, Getter: g, Capabilities: caps}}
}

// diffApps diffs the Kustomization "apps" of root and returns its report.
func diffApps(t testing.TB, d *diff.Differ, ns, root string) diff.KustomizationReport {
	t.Helper()
	rep, err := d.Diff(context.Background(), diff.Request{Root: root, Kustomization: newKS(ns)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Kustomizations) != 1 {
		t.Fatalf("%d Kustomization reports", len(rep.Kustomizations))
	}
	return rep.Kustomizations[0]
}

// helmRelease returns the HelmRelease section named name, failing t if absent.
func helmRelease(t testing.TB, k diff.KustomizationReport, name string) diff.HelmReleaseReport {
	t.Helper()
	for _, h := range k.HelmReleases {
		if h.Name == name {
			return h
		}
	}
	t.Fatalf("no HelmRelease %s in %+v (Kustomization error %q)", name, k.HelmReleases, k.Error)
	return diff.HelmReleaseReport{}
}

// actions maps "Kind/name" to the action of every change.
func actions(h diff.HelmReleaseReport) map[string]diff.Action {
	out := map[string]diff.Action{}
	for _, c := range h.Changes {
		out[c.Kind+"/"+c.Name] = c.Action
	}
	return out
}

// copyTree copies the files of src into dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
}
