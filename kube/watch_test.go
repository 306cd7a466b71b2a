package kube

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

// startSecondCluster starts another control plane and returns it with a
// stop function that the test may call; it is stopped at cleanup otherwise.
func startSecondCluster(t *testing.T) (*kubetest.Env, func() error) {
	t.Helper()
	kubetest.Shared(t)
	env, err := kubetest.Start()
	if errors.Is(err, kubetest.ErrNoBinaries) {
		kubetest.Unavailable(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	stop := sync.OnceValue(env.Stop)
	t.Cleanup(func() { _ = stop() })
	return env, stop
}

// stopCluster stops a control plane. envtest kills an API server that does
// not stop within its timeout and says so; either way it is down.
func stopCluster(t *testing.T, stop func() error) {
	t.Helper()
	if err := stop(); err != nil && !strings.Contains(err.Error(), "timeout waiting for process") {
		t.Fatal(err)
	} else if err != nil {
		t.Logf("stop: %v (killed)", err)
	}
}

func create(t *testing.T, c client.Client, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := c.Create(context.Background(), o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
}

func rawNamespace(t *testing.T, c client.Client, name string) string {
	t.Helper()
	create(t, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	return name
}

func withInterval[T interface {
	*sourcev1.GitRepository | *kustomizev1.Kustomization
}](obj T) T {
	switch o := any(obj).(type) {
	case *sourcev1.GitRepository:
		o.Spec.Interval = metav1.Duration{Duration: time.Minute}
	case *kustomizev1.Kustomization:
		o.Spec.Interval = metav1.Duration{Duration: time.Minute}
	}
	return obj
}

// eventually calls check until it returns nil or within passes.
func eventually(t *testing.T, within time.Duration, what string, check func() error) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := check()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("%s: not within %s: %v", what, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func wantKeys(ix *Index, url, branch string, want ...string) func() error {
	want = slices.Sorted(slices.Values(want))
	return func() error {
		if diff := cmp.Diff(want, keysOf(ix.Lookup(url, branch))); diff != "" {
			return fmt.Errorf("Lookup(%s, %s) (-want +got):\n%s", url, branch, diff)
		}
		return nil
	}
}

func TestWatcherIndexesTwoClusters(t *testing.T) {
	a := kubetest.Setup(t)
	envB, stopB := startSecondCluster(t)
	ctx := t.Context()

	appsA := a.NewNamespace(t).Name
	create(t, a.Client,
		withInterval(gitRepo(a.Name, "fleet", "https://github.com/Org/Fleet.git", &sourcev1.GitRepositoryRef{Branch: "main"})),
		withInterval(gitRepo(a.Name, "release", "https://github.com/org/fleet", &sourcev1.GitRepositoryRef{Tag: "v1.2.0"})),
		withInterval(kustomization(a.Name, "infra", "./infra", gitRef("", "fleet"))),
		withInterval(kustomization(appsA, "web", "./apps/web", gitRef(a.Name, "fleet"))),
		withInterval(kustomization(appsA, "pinned", "./apps", gitRef(a.Name, "release"))),
		withInterval(kustomization(appsA, "oci", "./", kustomizev1.CrossNamespaceSourceReference{Kind: "OCIRepository", Name: "charts"})),
	)
	nsB := rawNamespace(t, envB.Client, "flux-system")
	appsB := rawNamespace(t, envB.Client, "apps")
	create(t, envB.Client,
		withInterval(gitRepo(nsB, "flux-system", "ssh://git@github.com:22/org/fleet.git/", &sourcev1.GitRepositoryRef{Name: "refs/heads/main"})),
		withInterval(kustomization(nsB, "flux-system", "./clusters/b", gitRef("", "flux-system"))),
		withInterval(kustomization(appsB, "web", "./apps/web", gitRef(nsB, "flux-system"))),
	)

	w := NewWatcher(NewIndex(), []*Cluster{NewCluster("a", a.Config, 0, 0), NewCluster("b", envB.Config, 0, 0)})
	w.Start(ctx)
	syncCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if !w.WaitForSync(syncCtx) {
		t.Fatalf("clusters did not sync: %+v", w.Status())
	}
	ix := w.Index()
	fleet := []string{"a/" + a.Name + "/infra", "a/" + appsA + "/web", "b/apps/web", "b/flux-system/flux-system"}

	t.Run("both clusters answer a lookup in any URL form", func(t *testing.T) {
		eventually(t, 5*time.Second, "lookup", wantKeys(ix, "git@github.com:org/fleet", "main", fleet...))
	})
	t.Run("tag and OCI sources are listed with their reasons", func(t *testing.T) {
		got := reasonsOf(ix.List(""))
		want := map[string]string{
			"a/" + appsA + "/pinned": "GitRepository " + a.Name + "/release follows tag v1.2.0",
			"a/" + appsA + "/oci":    "OCIRepository sources are not diffable from a pull request",
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("reason of %s = %q, want %q", k, got[k], v)
			}
		}
	})
	t.Run("creating, changing and deleting a Kustomization shows within 5 s", func(t *testing.T) {
		ks := withInterval(kustomization(appsA, "api", "./apps/api", gitRef(a.Name, "fleet")))
		create(t, a.Client, ks)
		withAPI := append([]string{"a/" + a.Name + "/infra", "a/" + appsA + "/api"}, fleet[1:]...)
		took := eventually(t, 5*time.Second, "create", wantKeys(ix, "https://github.com/org/fleet", "main", withAPI...))
		t.Logf("create seen after %s", took)

		ks.Spec.Path = "./apps/api-v2"
		if err := a.Client.Update(ctx, ks); err != nil {
			t.Fatal(err)
		}
		took = eventually(t, 5*time.Second, "update", func() error {
			for _, e := range ix.Lookup("https://github.com/org/fleet", "main") {
				if e.Name == "api" && e.Path == "./apps/api-v2" {
					return nil
				}
			}
			return errors.New("path not updated")
		})
		t.Logf("update seen after %s", took)

		if err := a.Client.Delete(ctx, ks); err != nil {
			t.Fatal(err)
		}
		took = eventually(t, 5*time.Second, "delete", wantKeys(ix, "https://github.com/org/fleet", "main", fleet...))
		t.Logf("delete seen after %s", took)
	})
	t.Run("a stopped cluster is reported and the other keeps answering", func(t *testing.T) {
		stopCluster(t, stopB)
		took := eventually(t, 10*time.Second, "outage", func() error {
			res := w.Lookup("https://github.com/org/fleet", "main")
			if len(res.Unavailable) != 1 || res.Unavailable[0].Name != "b" {
				return fmt.Errorf("unavailable = %+v, want b", res.Unavailable)
			}
			return nil
		})
		t.Logf("outage seen %s after Stop returned", took)
		if err := w.Check(ctx, "a"); err != nil {
			t.Errorf("Check(a) = %v, want nil", err)
		}
		if err := w.Check(ctx, "b"); err == nil || !strings.Contains(err.Error(), "connect") {
			t.Errorf("Check(b) = %v, want a connection error", err)
		}
		create(t, a.Client, withInterval(kustomization(appsA, "late", "./apps/late", gitRef(a.Name, "fleet"))))
		eventually(t, 5*time.Second, "lookup after the outage", func() error {
			for _, e := range ix.Lookup("https://github.com/org/fleet", "main") {
				if e.Name == "late" {
					return nil
				}
			}
			return errors.New("a's new Kustomization is not indexed")
		})
	})
}

func TestClusterHealthIsKeptPerInformer(t *testing.T) {
	w := NewWatcher(NewIndex(), []*Cluster{NewCluster("a", &rest.Config{Host: "https://a.example"}, 0, 0)})
	cw := w.clusters[0]
	forbidden := errors.New(`kustomizations is forbidden: User "fluxdiff" cannot list resource "kustomizations"`)
	_ = cw.record("list", kustomizationsGVR, forbidden)
	_ = cw.record("watch", gitRepositoriesGVR, nil)
	if got := cw.status().Error; !strings.Contains(got, "forbidden") {
		t.Errorf("after the GitRepository watch succeeded, error = %q, want the Kustomization list error", got)
	}
	_ = cw.record("list", gitRepositoriesGVR, errors.New("connection refused"))
	got := cw.status().Error
	if !strings.Contains(got, "forbidden") || !strings.Contains(got, "connection refused") {
		t.Errorf("with both informers failing, error = %q, want both errors", got)
	}
	_ = cw.record("list", kustomizationsGVR, nil)
	_ = cw.record("list", gitRepositoriesGVR, nil)
	if s := cw.status(); s.Error != "" || !s.ErrorSince.IsZero() {
		t.Errorf("after both informers succeeded, status = %+v, want no error", s)
	}
}

func TestWatcherLoadsAFailedKubeconfigAgain(t *testing.T) {
	a := kubetest.Setup(t)
	ctx := t.Context()
	create(t, a.Client,
		withInterval(gitRepo(a.Name, "fleet", "https://github.com/org/reloaded", &sourcev1.GitRepositoryRef{Branch: "main"})),
		withInterval(kustomization(a.Name, "apps", "./apps", gitRef("", "fleet"))),
	)
	dir := t.TempDir()
	late := LoadCluster(ClusterSpec{Name: "late", Kubeconfig: filepath.Join(dir, "kubeconfig")})
	if late.LoadErr == nil {
		t.Fatal("a missing kubeconfig loaded")
	}
	w := NewWatcher(NewIndex(), []*Cluster{late, NewCluster("a", a.Config, 0, 0)})
	w.Start(ctx)

	syncCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	start := time.Now()
	if w.WaitForSync(syncCtx) {
		t.Error("WaitForSync = true with a kubeconfig that does not load, want false")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("WaitForSync took %s, want it to settle once the other cluster synced", took)
	}
	s := w.Status()[0]
	if s.Synced || !strings.Contains(s.Error, "kubeconfig") || s.ErrorSince.IsZero() {
		t.Errorf("status of late = %+v, want unsynced with the kubeconfig error", s)
	}

	if _, err := a.Kubeconfig(dir); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, 15*time.Second, "reload", func() error {
		if s := w.Status()[0]; !s.OK() {
			return fmt.Errorf("status of late = %+v", s)
		}
		return wantKeys(w.Index(), "https://github.com/org/reloaded", "main", "a/"+a.Name+"/apps", "late/"+a.Name+"/apps")()
	})
	t.Logf("kubeconfig loaded and synced %s after it was written", took)
}
