package diff

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

// nsToken in fixture files is replaced by the test's namespace.
const nsToken = "__NS__"

// writeTree writes files (path → content, nsToken replaced by ns) into a
// fresh folder and returns it.
func writeTree(t testing.TB, ns string, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, body := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(strings.ReplaceAll(body, nsToken, ns)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// newKS returns a Kustomization named name in ns building path from the
// GitRepository "repo".
func newKS(ns, name, path string) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{
		TypeMeta:   metav1.TypeMeta{APIVersion: kustomizev1.GroupVersion.String(), Kind: kustomizev1.KustomizationKind},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: kustomizev1.KustomizationSpec{
			Path: path, Interval: metav1.Duration{Duration: time.Minute},
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "repo"},
		},
	}
}

// applyLive server-side applies YAML documents as kustomize-controller
// would have, with the owner labels of Kustomization ksName in ns.
func applyLive(t testing.TB, c client.Client, ns, ksName, docs string) {
	t.Helper()
	for _, doc := range strings.Split(strings.ReplaceAll(docs, nsToken, ns), "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
			t.Fatalf("fixture: %v", err)
		}
		labels := obj.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		if ksName != "" {
			labels["kustomize.toolkit.fluxcd.io/name"] = ksName
			labels["kustomize.toolkit.fluxcd.io/namespace"] = ns
		}
		obj.SetLabels(labels)
		if err := c.Patch(context.Background(), obj, client.Apply, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
			t.Fatalf("apply %s/%s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}
}

// row is the identity and action of one change, for exact set comparisons.
type row struct {
	Action          Action
	Kind, Namespace string
	Name            string
}

func rows(k KustomizationReport) []row {
	out := make([]row, 0, len(k.Changes))
	for _, c := range k.Changes {
		out = append(out, row{c.Action, c.Kind, c.Namespace, c.Name})
	}
	slices.SortFunc(out, func(a, b row) int {
		return strings.Compare(string(a.Action)+a.Kind+a.Namespace+a.Name, string(b.Action)+b.Kind+b.Namespace+b.Name)
	})
	return out
}

// wantRows compares the exact set of changes.
func wantRows(t *testing.T, k KustomizationReport, want ...row) {
	t.Helper()
	slices.SortFunc(want, func(a, b row) int {
		return strings.Compare(string(a.Action)+a.Kind+a.Namespace+a.Name, string(b.Action)+b.Kind+b.Namespace+b.Name)
	})
	if diff := cmp.Diff(want, rows(k)); diff != "" {
		t.Errorf("changes (-want +got):\n%s\nreport error: %s", diff, k.Error)
	}
}

// change finds the change for kind/name.
func change(t *testing.T, k KustomizationReport, kind, name string) Change {
	t.Helper()
	for _, c := range k.Changes {
		if c.Kind == kind && c.Name == name {
			return c
		}
	}
	t.Fatalf("no change for %s/%s in %+v (error %q)", kind, name, rows(k), k.Error)
	return Change{}
}

// wantDiffLines checks that diff contains each line (after trimming).
func wantDiffLines(t *testing.T, c Change, lines ...string) {
	t.Helper()
	have := map[string]bool{}
	for _, l := range strings.Split(c.Diff, "\n") {
		have[strings.TrimRight(l, " ")] = true
	}
	for _, l := range lines {
		if !have[l] {
			t.Errorf("%s: diff lacks line %q:\n%s", c.ID(), l, c.Diff)
		}
	}
}

// diffKS diffs ks from root on the shared API server and returns the only (or
// first) Kustomization report.
func diffKS(t *testing.T, ns *kubetest.Namespace, root string, ks *kustomizev1.Kustomization) KustomizationReport {
	t.Helper()
	d := &Differ{Client: ns.Client, Cluster: "test"}
	rep, err := d.Diff(context.Background(), Request{Root: root, Kustomization: ks})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Kustomizations) == 0 {
		t.Fatal("empty report")
	}
	return rep.Kustomizations[0]
}
