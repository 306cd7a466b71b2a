package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// gitRepo writes files into a fresh Git repository and commits them.
func gitRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, body := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "."}, {"-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "fixture"}} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, bin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func TestDiffKustomizationCommand(t *testing.T) {
	ns := kubetest.Setup(t)
	kubeconfig, err := ns.Kubeconfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	ctx := t.Context()
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: " + ns.Name + "}\ndata: {color: %s}\n"
	repo := gitRepo(t, map[string]string{
		"apps/podinfo/cm.yaml":   strings.Replace(cm, "%s", "blue", 1),
		"apps/broken/cm.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [oops\n",
		"apps/unchanged/cm.yaml": strings.Replace(strings.Replace(cm, "%s", "green", 1), "settings", "same", 1),
		"clusters/new-ks.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n---\n" +
			"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: sibling, namespace: " + ns.Name + "}\nspec:\n  interval: 5m\n  path: ./x\n  prune: true\n  sourceRef: {kind: GitRepository, name: repo}\n---\n" +
			"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: fresh, namespace: " + ns.Name + "}\nspec:\n  interval: 5m\n  path: ./apps/podinfo\n  prune: true\n  sourceRef: {kind: GitRepository, name: repo}\n",
	})
	for _, name := range []string{"podinfo", "unchanged", "broken"} {
		ks := &kustomizev1.Kustomization{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns.Name},
			Spec: kustomizev1.KustomizationSpec{Interval: metav1.Duration{Duration: time.Minute}, Path: "./apps/" + name,
				SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "repo"}},
		}
		if err := ns.Client.Create(ctx, ks); err != nil {
			t.Fatal(err)
		}
	}
	live := strings.Replace(strings.Replace(cm, "%s", "green", 1), "settings", "same", 1)
	applyDoc(t, ns.Client, live, "unchanged", ns.Name)
	base := []string{"diff", "kustomization", "-n", ns.Name, "--kubeconfig", kubeconfig}

	t.Run("a change exits 1 and prints flux-style lines", func(t *testing.T) {
		r := runCLI(t, bin, append(base, "podinfo", "--path", filepath.Join(repo, "apps/podinfo"))...)
		if r.code != 1 || !strings.Contains(r.stdout, "► ConfigMap/"+ns.Name+"/settings created") || !strings.Contains(r.stdout, "+  color: blue") {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("no change exits 0", func(t *testing.T) {
		r := runCLI(t, bin, append(base, "unchanged", "--path", filepath.Join(repo, "apps/unchanged"))...)
		if r.code != 0 || !strings.Contains(r.stdout, "no changes") {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("a broken file exits 2 naming it on stderr", func(t *testing.T) {
		r := runCLI(t, bin, append(base, "broken", "--path", filepath.Join(repo, "apps/broken"))...)
		if r.code != 2 || !strings.Contains(r.stderr, "apps/broken/cm.yaml") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("exit %d\nstderr:\n%s", r.code, r.stderr)
		}
	})
	t.Run("an unknown Kustomization exits 2 and suggests --kustomization-file", func(t *testing.T) {
		r := runCLI(t, bin, append(base, "fresh", "--path", filepath.Join(repo, "apps/podinfo"))...)
		if r.code != 2 || !strings.Contains(r.stderr, "--kustomization-file") {
			t.Errorf("exit %d\nstderr:\n%s", r.code, r.stderr)
		}
	})
	t.Run("--kustomization-file diffs one not yet in the cluster, as JSON", func(t *testing.T) {
		r := runCLI(t, bin, append(base, "fresh", "--path", filepath.Join(repo, "apps/podinfo"),
			"--kustomization-file", filepath.Join(repo, "clusters/new-ks.yaml"), "-o", "json")...)
		var rep diff.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 1 {
			t.Fatalf("exit %d, json %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
		}
		if rep.SchemaVersion != diff.SchemaVersion || rep.Kustomizations[0].Name != "fresh" || rep.Kustomizations[0].Counts.Created != 1 {
			t.Errorf("report %+v", rep)
		}
	})
	t.Run("--kustomization-file without the named Kustomization exits 2 listing what it holds", func(t *testing.T) {
		r := runCLI(t, bin, append(base, "missing", "--path", filepath.Join(repo, "apps/podinfo"),
			"--kustomization-file", filepath.Join(repo, "clusters/new-ks.yaml"))...)
		if r.code != 2 || !strings.Contains(r.stderr, ns.Name+"/sibling") {
			t.Errorf("exit %d\nstderr:\n%s", r.code, r.stderr)
		}
	})
	t.Run("bad flags exit 2", func(t *testing.T) {
		for _, args := range [][]string{
			append(base, "podinfo", "--path", filepath.Join(repo, "nope")),
			append(base, "podinfo", "--path", repo, "-o", "yaml"),
			append(base, "podinfo"),
		} {
			if r := runCLI(t, bin, args...); r.code != 2 || r.stderr == "" {
				t.Errorf("%v: exit %d stderr %q", args[len(args)-2:], r.code, r.stderr)
			}
		}
	})
}

// applyDoc server-side applies one YAML object as kustomize-controller.
func applyDoc(t *testing.T, c client.Client, doc, ksName, ns string) {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := sigsyaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	u.SetLabels(map[string]string{"kustomize.toolkit.fluxcd.io/name": ksName, "kustomize.toolkit.fluxcd.io/namespace": ns})
	if err := c.Patch(t.Context(), u, client.Apply, client.FieldOwner(diff.FieldManager)); err != nil {
		t.Fatal(err)
	}
}

// writeFiles writes files into a fresh folder that is not a Git checkout.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, body := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestDiffOutsideAGitCheckout: kustomize-controller builds spec.path inside
// the source artifact, whose root holds the bases and components that
// spec.path names with "../" (flux diff reads them the same way). Outside a
// Git checkout the root is --path minus spec.path, or --root.
func TestDiffOutsideAGitCheckout(t *testing.T) {
	ns := kubetest.Setup(t)
	kubeconfig, err := ns.Kubeconfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	cm := func(name string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: " + ns.Name + "}\ndata: {a: b}\n"
	}
	files := map[string]string{
		"apps/podinfo/kustomization.yaml":     "resources: [../base]\ncomponents: [../../components/extra]\n",
		"apps/base/kustomization.yaml":        "resources: [cm.yaml]\n",
		"apps/base/cm.yaml":                   cm("from-base"),
		"components/extra/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [cm.yaml]\n",
		"components/extra/cm.yaml":            cm("from-component"),
	}
	tree := writeFiles(t, files)
	elsewhere := writeFiles(t, nil)
	if err := os.CopyFS(filepath.Join(elsewhere, "podinfo-copy"), os.DirFS(filepath.Join(tree, "apps/podinfo"))); err != nil {
		t.Fatal(err)
	}
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: ns.Name},
		Spec: kustomizev1.KustomizationSpec{Interval: metav1.Duration{Duration: time.Minute}, Path: "./apps/podinfo",
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "repo"}},
	}
	if err := ns.Client.Create(t.Context(), ks); err != nil {
		t.Fatal(err)
	}
	base := []string{"diff", "kustomization", "podinfo", "-n", ns.Name, "--kubeconfig", kubeconfig}
	wantBuilt := func(t *testing.T, r result) {
		t.Helper()
		for _, name := range []string{"from-base", "from-component"} {
			if !strings.Contains(r.stdout, "ConfigMap/"+ns.Name+"/"+name+" created") {
				t.Errorf("%s not created; exit %d\nstdout:\n%s\nstderr:\n%s", name, r.code, r.stdout, r.stderr)
			}
		}
		if r.code != 1 {
			t.Errorf("exit %d, want 1", r.code)
		}
	}

	t.Run("--path ending with spec.path: the root is inferred", func(t *testing.T) {
		wantBuilt(t, runCLI(t, bin, append(base, "--path", filepath.Join(tree, "apps/podinfo"))...))
	})
	t.Run("--root names the root", func(t *testing.T) {
		wantBuilt(t, runCLI(t, bin, append(base, "--path", filepath.Join(tree, "apps/podinfo"), "--root", tree)...))
	})
	t.Run("otherwise the failure says to pass --root", func(t *testing.T) {
		r := runCLI(t, bin, append(base, "--path", filepath.Join(elsewhere, "podinfo-copy"))...)
		if r.code != 2 || !strings.Contains(r.stderr, "pass --root DIR") || !strings.Contains(r.stderr, `"./apps/podinfo"`) {
			t.Errorf("exit %d\nstderr:\n%s", r.code, r.stderr)
		}
	})
	t.Run("--path outside --root is refused", func(t *testing.T) {
		r := runCLI(t, bin, append(base, "--path", filepath.Join(elsewhere, "podinfo-copy"), "--root", tree)...)
		if r.code != 2 || !strings.Contains(r.stderr, "is not inside --root") {
			t.Errorf("exit %d\nstderr:\n%s", r.code, r.stderr)
		}
	})
}

func TestSourceRoot(t *testing.T) {
	tree := writeFiles(t, map[string]string{"apps/podinfo/cm.yaml": "x", "other/cm.yaml": "x"})
	repo := gitRepo(t, map[string]string{"apps/podinfo/cm.yaml": "x"})
	tests := []struct {
		name, dir, root, specPath string
		want                      source
		hint                      bool
	}{
		{"a Git checkout is the root", filepath.Join(repo, "apps/podinfo"), "", "./whatever",
			source{root: repo, specPath: "./apps/podinfo"}, false},
		{"--path minus spec.path", filepath.Join(tree, "apps/podinfo"), "", "./apps/podinfo/",
			source{root: tree, specPath: "./apps/podinfo"}, false},
		{"spec.path at the root", filepath.Join(tree, "other"), "", "./",
			source{root: filepath.Join(tree, "other"), specPath: "./"}, false},
		{"--root wins", filepath.Join(tree, "apps/podinfo"), tree, "./elsewhere",
			source{root: tree, specPath: "./apps/podinfo"}, false},
		{"no way to tell", filepath.Join(tree, "other"), "", "./apps/other",
			source{root: filepath.Join(tree, "other"), specPath: "./"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sourceRoot(tt.dir, tt.root, tt.specPath)
			if err != nil {
				t.Fatal(err)
			}
			if (got.hint != "") != tt.hint {
				t.Errorf("hint %q, want one: %v", got.hint, tt.hint)
			}
			got.hint = ""
			if got != tt.want {
				t.Errorf("sourceRoot = %+v, want %+v", got, tt.want)
			}
		})
	}
}
