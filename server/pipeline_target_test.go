package server

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// startPair starts two control planes, the management cluster (which holds
// the Kustomizations) and a target cluster, stopped when t ends.
func startPair(t *testing.T) (mgmt, target *kubetest.Env) {
	t.Helper()
	var envs [2]*kubetest.Env
	for i := range envs {
		env, err := kubetest.Start()
		if errors.Is(err, kubetest.ErrNoBinaries) {
			kubetest.Unavailable(t, err)
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = env.Stop() })
		envs[i] = env
	}
	return envs[0], envs[1]
}

// tree writes files (path → content) into a new source root.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, data := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func create(t *testing.T, c client.Client, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := c.Create(context.Background(), o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
}

func kustomization(ns, name, path string) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{
		TypeMeta:   metav1.TypeMeta{APIVersion: kustomizev1.GroupVersion.String(), Kind: kustomizev1.KustomizationKind},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: kustomizev1.KustomizationSpec{
			Path: path, Prune: true, Interval: metav1.Duration{Duration: time.Minute},
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "flux-system"},
		},
	}
}

func targetOf(cluster string, ks *kustomizev1.Kustomization) target {
	return target{entry: &kube.Entry{
		ObjectKey: kube.ObjectKey{Cluster: cluster, Namespace: ks.Namespace, Name: ks.Name}, Path: ks.Spec.Path,
		Source: kube.SourceRef{Kind: "GitRepository", Namespace: ks.Namespace, Name: "flux-system"}, Kustomization: ks,
	}}
}

func changeOf(t *testing.T, r diff.KustomizationReport, kind, name string) diff.Change {
	t.Helper()
	for _, c := range r.Changes {
		if c.Kind == kind && c.Name == name {
			return c
		}
	}
	t.Fatalf("no change for %s %s in %s/%s (error %q): %+v", kind, name, r.Namespace, r.Name, r.Error, r.Changes)
	return diff.Change{}
}

func kubeconfigSecret(t *testing.T, ns, name string, data []byte) *corev1.Secret {
	t.Helper()
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{"value": data}}
}

func adminKubeconfig(t *testing.T, env *kubetest.Env) []byte {
	t.Helper()
	p, err := env.Kubeconfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// execKubeconfig is the target's kubeconfig with a user that runs script.
func execKubeconfig(t *testing.T, env *kubetest.Env, script string) []byte {
	t.Helper()
	return []byte(`apiVersion: v1
kind: Config
clusters:
  - name: target
    cluster:
      server: ` + env.Config.Host + `
      certificate-authority-data: ` + b64(env.Config.CAData) + `
users:
  - name: plugin
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: ` + script + `
        interactiveMode: Never
contexts:
  - name: target
    context: {cluster: target, user: plugin}
current-context: target
`)
}

// TestRemoteTargetsAndTenants checks the acceptance of issue 14's remote
// targets and tenants on two real API servers.
func TestRemoteTargetsAndTenants(t *testing.T) {
	mgmt, tgt := startPair(t)
	cl := kube.NewCluster("mgmt", mgmt.Config, 0, 0)
	ctx := context.Background()

	t.Run("a remote target is diffed against the target's live state, with the management cluster's variables and inventory", func(t *testing.T) {
		checkRemoteTarget(t, ctx, mgmt, tgt, cl)
	})
	t.Run("an exec kubeconfig is refused with the reason and runs nothing; allowed, it runs", func(t *testing.T) {
		checkExecRefused(t, ctx, mgmt, tgt, cl)
	})
	t.Run("a configMapRef target is reported as not supported", func(t *testing.T) {
		ns := mgmt.NewNamespace(t).Name
		ks := kustomization(ns, "wi", "./apps")
		ks.Spec.KubeConfig = &meta.KubeConfigReference{ConfigMapRef: &meta.LocalObjectReference{Name: "spoke"}}
		root := tree(t, map[string]string{"apps/cm.yaml": configMapYAML(ns, "x", "v")})
		rows := (&Pipeline{}).diffByTarget(ctx, cl, mgmt.Client, trees{merge: root}, []target{targetOf("mgmt", ks)})
		if len(rows) != 1 || !strings.Contains(rows[0].Error, "configMapRef (workload identity) is not supported") || rows[0].Target != "spoke" {
			t.Fatalf("rows = %+v, want one not-supported error for target spoke", rows)
		}
	})
	t.Run("tenants: impersonation on shows Kubernetes' refusal, off the creation and a warning", func(t *testing.T) {
		checkTenant(t, ctx, mgmt, cl)
	})
}
