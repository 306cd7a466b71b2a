package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// TestDiffKustomizationWithBase: --base classifies each change against the
// base branch's tree. The live ConfigMap was applied from the base, then
// its size edited by hand; the local tree changes its color.
func TestDiffKustomizationWithBase(t *testing.T) {
	ns := kubetest.Setup(t)
	kubeconfig, err := ns.Kubeconfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: " + ns.Name + "}\ndata: {color: %s, size: s}\n"
	baseRepo := gitRepo(t, map[string]string{"apps/web/cm.yaml": strings.Replace(cm, "%s", "blue", 1)})
	prRepo := gitRepo(t, map[string]string{"apps/web/cm.yaml": strings.Replace(cm, "%s", "red", 1)})
	brokenBase := gitRepo(t, map[string]string{"apps/web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [oops\n"})
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns.Name},
		Spec: kustomizev1.KustomizationSpec{Interval: metav1.Duration{Duration: time.Minute}, Path: "./apps/web",
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "repo"}},
	}
	if err := ns.Client.Create(t.Context(), ks); err != nil {
		t.Fatal(err)
	}
	applyDoc(t, ns.Client, strings.Replace(cm, "%s", "blue", 1), "web", ns.Name)
	live := &unstructured.Unstructured{}
	live.SetAPIVersion("v1")
	live.SetKind("ConfigMap")
	live.SetNamespace(ns.Name)
	live.SetName("settings")
	if err := ns.Client.Patch(t.Context(), live, client.RawPatch(types.MergePatchType, []byte(`{"data":{"size":"xl"}}`)), client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	args := []string{"diff", "kustomization", "web", "-n", ns.Name, "--kubeconfig", kubeconfig, "--path", filepath.Join(prRepo, "apps/web")}

	t.Run("the local change is pr and the hand edit drift", func(t *testing.T) {
		r := runCLI(t, bin, append(args, "--base", baseRepo, "-o", "json")...)
		var rep diff.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 1 {
			t.Fatalf("exit %d, json %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
		}
		c := rep.Kustomizations[0].Changes[0]
		want := []diff.FieldChange{{Path: "data.color", Class: diff.ClassPR}, {Path: "data.size", Class: diff.ClassDrift}}
		if d := cmp.Diff(want, c.Fields); d != "" || c.Class != diff.ClassPRAndDrift {
			t.Errorf("class %q, fields (-want +got):\n%s", c.Class, d)
		}
	})
	t.Run("the text lists the drift after the local change", func(t *testing.T) {
		r := runCLI(t, bin, append(args, "--base", baseRepo)...)
		color, drift, size := strings.Index(r.stdout, "+  color: red"), strings.Index(r.stdout, "Drift: "), strings.Index(r.stdout, "+  size: s")
		if r.code != 1 || color < 0 || drift < 0 || size < 0 || !(color < drift && drift < size) {
			t.Errorf("exit %d, color at %d, drift at %d, size at %d:\n%s", r.code, color, drift, size, r.stdout)
		}
	})
	t.Run("a base that does not build is reported, and the diff still shown", func(t *testing.T) {
		r := runCLI(t, bin, append(args, "--base", brokenBase)...)
		if r.code != 1 || !strings.Contains(r.stderr, "base (--base) could not be diffed") || !strings.Contains(r.stdout, "+  color: red") {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("a missing --base folder exits 2", func(t *testing.T) {
		if r := runCLI(t, bin, append(args, "--base", filepath.Join(baseRepo, "nope"))...); r.code != 2 || !strings.Contains(r.stderr, "--base") {
			t.Errorf("exit %d stderr %q", r.code, r.stderr)
		}
	})
}
