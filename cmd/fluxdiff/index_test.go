package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/kube/kubetest"
	"github.com/fluxdiff/fluxdiff/server"
)

func createFluxObjects(t *testing.T, c client.Client, ns string) {
	t.Helper()
	interval := metav1.Duration{Duration: time.Minute}
	objs := []client.Object{
		&sourcev1.GitRepository{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet"},
			Spec:       sourcev1.GitRepositorySpec{URL: "https://github.com/Example/Fleet.git", Interval: interval, Reference: &sourcev1.GitRepositoryRef{Branch: "main"}},
		},
		&sourcev1.GitRepository{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "release"},
			Spec:       sourcev1.GitRepositorySpec{URL: "ssh://git@github.com/example/fleet", Interval: interval, Reference: &sourcev1.GitRepositoryRef{SemVer: "1.x"}},
		},
		&kustomizev1.Kustomization{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "apps"},
			Spec: kustomizev1.KustomizationSpec{Path: "./apps", Interval: interval,
				SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "fleet"}},
		},
		&kustomizev1.Kustomization{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "stable"},
			Spec: kustomizev1.KustomizationSpec{Path: "./apps", Interval: interval,
				SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "release"}},
		},
		&kustomizev1.Kustomization{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "charts"},
			Spec: kustomizev1.KustomizationSpec{Path: "./", Interval: interval,
				SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "OCIRepository", Name: "charts"}},
		},
	}
	for _, o := range objs {
		if err := c.Create(context.Background(), o); err != nil {
			t.Fatalf("create %s: %v", o.GetName(), err)
		}
	}
}

// runInProcess runs the fluxdiff command tree with args and returns its stdout and error.
func runInProcess(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(io.Discard)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func writeConfig(t *testing.T, clusters string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fluxdiff.yaml")
	if err := os.WriteFile(p, []byte("clusters:\n"+clusters), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestIndexCommand(t *testing.T) {
	ns := kubetest.Setup(t)
	createFluxObjects(t, ns.Client, ns.Name)
	kubeconfig, err := ns.Kubeconfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, fmt.Sprintf("  - name: dev\n    kubeconfig: %s\n", kubeconfig))

	t.Run("json lists every Kustomization of the repository with its status", func(t *testing.T) {
		out, err := runInProcess(t, "index", "--config", cfg, "--repo", "git@github.com:example/fleet.git", "-o", "json")
		if err != nil {
			t.Fatal(err)
		}
		var rep struct {
			Clusters       []kube.ClusterStatus
			Kustomizations []map[string]any
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v in\n%s", err, out)
		}
		if diff := cmp.Diff([]kube.ClusterStatus{{Name: "dev", Synced: true}}, rep.Clusters); diff != "" {
			t.Errorf("clusters (-want +got):\n%s", diff)
		}
		got := map[string][3]any{}
		for _, k := range rep.Kustomizations {
			if k["namespace"] == ns.Name {
				got[k["name"].(string)] = [3]any{k["branch"], k["status"], k["reason"]}
			}
		}
		want := map[string][3]any{
			"apps":   {"main", "matched", nil},
			"stable": {nil, "not PR-diffable", "GitRepository " + ns.Name + "/release follows semver range 1.x"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("kustomizations (-want +got):\n%s", diff)
		}
	})
	t.Run("the table names OCI sources as not PR-diffable", func(t *testing.T) {
		out, err := runInProcess(t, "index", "--config", cfg)
		if err != nil {
			t.Fatal(err)
		}
		header, _, _ := strings.Cut(out, "\n")
		if diff := cmp.Diff([]string{"CLUSTER", "NAMESPACE", "NAME", "PATH", "SOURCE", "REPO", "BRANCH", "TARGET", "IDENTITY", "STATUS"}, strings.Fields(header)); diff != "" {
			t.Errorf("table header (-want +got):\n%s", diff)
		}
		wantLine := "not PR-diffable: OCIRepository sources are not diffable from a pull request"
		found := false
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, ns.Name) && strings.Contains(line, " charts ") && strings.HasSuffix(line, wantLine) {
				found = true
			}
		}
		if !found {
			t.Errorf("no line for %s/charts ending in %q in:\n%s", ns.Name, wantLine, out)
		}
	})
	t.Run("an unreachable cluster fails the command but the others are printed", func(t *testing.T) {
		down := writeConfig(t, fmt.Sprintf("  - name: dev\n    kubeconfig: %s\n  - name: gone\n    kubeconfig: %s\n",
			kubeconfig, unreachableKubeconfig(t, kubeconfig)))
		out, err := runInProcess(t, "index", "--config", down, "--timeout", "2s")
		var ce *codeError
		if !errors.As(err, &ce) || ce.code != exitError || !strings.Contains(err.Error(), "cluster gone") {
			t.Errorf("err = %v, want exit code %d naming cluster gone", err, exitError)
		}
		if !strings.Contains(out, ns.Name) {
			t.Errorf("cluster dev's Kustomizations are missing from:\n%s", out)
		}
	})
	t.Run("a kubeconfig that does not load fails the command without waiting for the timeout", func(t *testing.T) {
		bad := writeConfig(t, fmt.Sprintf("  - name: dev\n    kubeconfig: %s\n  - name: broken\n    kubeconfig: %s\n    context: no-such-context\n", kubeconfig, kubeconfig))
		start := time.Now()
		out, err := runInProcess(t, "index", "--config", bad, "--timeout", "60s")
		if took := time.Since(start); took > 20*time.Second {
			t.Errorf("index took %s, want it to stop waiting once dev synced", took)
		}
		var ce *codeError
		if !errors.As(err, &ce) || ce.code != exitError || !strings.Contains(err.Error(), "cluster broken: kubeconfig") {
			t.Errorf("err = %v, want exit code %d naming the kubeconfig of cluster broken", err, exitError)
		}
		if !strings.Contains(out, ns.Name) {
			t.Errorf("cluster dev's Kustomizations are missing from:\n%s", out)
		}
	})
}

// unreachableKubeconfig copies kubeconfig with its server moved to a port
// where nothing listens.
func unreachableKubeconfig(t *testing.T, kubeconfig string) string {
	t.Helper()
	data, err := os.ReadFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	moved := regexp.MustCompile(`server: \S+`).ReplaceAll(data, []byte("server: https://"+addr))
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, moved, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadyzNamesTheClusterThatIsDown(t *testing.T) {
	a := kubetest.Shared(t)
	b, err := kubetest.Start()
	if err != nil {
		t.Fatal(err)
	}
	stopB := sync.OnceValue(b.Stop)
	t.Cleanup(func() { _ = stopB() })

	ctx := t.Context()
	w := startIndex(ctx, []*kube.Cluster{kube.NewCluster("a", a.Config, 0, 0), kube.NewCluster("b", b.Config, 0, 0)})
	syncCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if !w.WaitForSync(syncCtx) {
		t.Fatalf("clusters did not sync: %+v", w.Status())
	}
	ts := httptest.NewServer(server.New(server.Options{Logger: slog.New(slog.DiscardHandler), Checks: clusterChecks(w)}).Handler())
	defer ts.Close()

	if code, rep := readyz(t, ts.URL); code != http.StatusOK {
		t.Fatalf("readyz with both clusters up = %d %+v", code, rep)
	}
	if err := stopB(); err != nil && !strings.Contains(err.Error(), "timeout waiting for process") {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		code, rep := readyz(t, ts.URL)
		got := map[string]bool{}
		for _, c := range rep.Checks {
			got[c.Name] = c.OK
		}
		if code == http.StatusServiceUnavailable && cmp.Equal(got, map[string]bool{"cluster/a": true, "cluster/b": false}) {
			t.Logf("readyz named cluster b %s after it stopped: %+v", time.Since(start), rep.Checks)
			return
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("readyz = %d %+v, want 503 with cluster/a ok and cluster/b down", code, rep)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func readyz(t *testing.T, base string) (int, server.ReadyReport) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep server.ReadyReport
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, rep
}
