package deploy_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

// build renders the deploy/ kustomization.
func build(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), ".")
	if err != nil {
		t.Fatalf("kustomize build deploy/: %v", err)
	}
	var out []*unstructured.Unstructured
	for _, r := range res.Resources() {
		b, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(b); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

func TestManifestsAreAcceptedByTheAPIServer(t *testing.T) {
	env := kubetest.Shared(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fluxdiff"}}
	if err := env.Client.Create(context.Background(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	for _, obj := range build(t) {
		if obj.GetKind() == "Namespace" {
			continue // created for real above, so the rest has a home
		}
		if err := env.Client.Create(context.Background(), obj.DeepCopy(), client.DryRunAll); err != nil {
			t.Errorf("%s/%s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}
}

// fluxdiffClient installs the RBAC and admission policy and returns a client
// acting as fluxdiff's service account, once the policy is in force.
func fluxdiffClient(t *testing.T) client.Client {
	t.Helper()
	env := kubetest.Shared(t)
	ctx := context.Background()
	for _, obj := range build(t) {
		switch obj.GetKind() {
		case "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding":
			if err := env.Client.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatalf("install %s: %v", obj.GetKind(), err)
			}
		}
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:fluxdiff:fluxdiff"}
	sa, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	cm := func(name string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Data: map[string]string{"a": "b"}}
	}
	// The policy takes effect once the API server has compiled it.
	deadline := time.Now().Add(20 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		lastErr = sa.Create(ctx, cm("should-not-exist"))
		if lastErr != nil {
			break
		}
		_ = env.Client.Delete(ctx, cm("should-not-exist"))
		time.Sleep(200 * time.Millisecond)
	}
	if lastErr == nil || !strings.Contains(lastErr.Error(), "fluxdiff may only send dry-run requests") {
		t.Fatalf("a real create by fluxdiff: %v, want the policy's denial", lastErr)
	}
	return sa
}

// TestFluxdiffIdentityCanOnlyDryRun acts as fluxdiff's service account.
func TestFluxdiffIdentityCanOnlyDryRun(t *testing.T) {
	ctx := context.Background()
	sa := fluxdiffClient(t)
	if err := sa.Patch(ctx, applyConfigMap("dry"), client.Apply, client.DryRunAll, client.FieldOwner("kustomize-controller")); err != nil {
		t.Errorf("a dry-run apply by fluxdiff was refused: %v", err)
	}
	err := sa.Patch(ctx, applyConfigMap("real"), client.Apply, client.FieldOwner("kustomize-controller"))
	if err == nil || !strings.Contains(err.Error(), "fluxdiff may only send dry-run requests") {
		t.Errorf("a real apply by fluxdiff: %v, want the policy's denial", err)
	}
	if err := sa.Get(ctx, client.ObjectKey{Namespace: "default", Name: "kubernetes"}, &corev1.Service{}); err != nil {
		t.Errorf("fluxdiff cannot read: %v", err)
	}
	err = sa.Delete(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default"}})
	if !apierrors.IsForbidden(err) && !errors.Is(err, context.Canceled) {
		t.Errorf("fluxdiff could delete: %v", err)
	}
}

func applyConfigMap(name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"data": map[string]any{"a": "b"}}}
	u.SetAPIVersion("v1")
	u.SetKind("ConfigMap")
	u.SetNamespace("default")
	u.SetName(name)
	return u
}

// TestFluxdiffCanDryRunRBAC: Flux applies Roles and ClusterRoles that grant
// far more than fluxdiff holds (an operator's install, cluster-admin
// bindings). The API server's RBAC escalation check refuses even a dry-run
// of such a role ("attempting to grant RBAC permissions not currently held")
// unless the requester may escalate, and a binding to it unless it may bind;
// the admission policy still denies the real write.
func TestFluxdiffCanDryRunRBAC(t *testing.T) {
	ctx := context.Background()
	sa := fluxdiffClient(t)
	role := func(name string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{
			"rules": []any{map[string]any{"apiGroups": []any{"*"}, "resources": []any{"*"}, "verbs": []any{"*"}}},
		}}
		u.SetAPIVersion("rbac.authorization.k8s.io/v1")
		u.SetKind("ClusterRole")
		u.SetName(name)
		return u
	}
	binding := &unstructured.Unstructured{Object: map[string]any{
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
		"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": "operator", "namespace": "default"}},
	}}
	binding.SetAPIVersion("rbac.authorization.k8s.io/v1")
	binding.SetKind("ClusterRoleBinding")
	binding.SetName("operator-admin")

	// RBAC changes reach the authorizer through an informer: wait for them.
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err = sa.Patch(ctx, role("operator"), client.Apply, client.DryRunAll, client.FieldOwner("kustomize-controller")); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("a dry-run of a ClusterRole granting everything was refused: %v", err)
	}
	if err := sa.Patch(ctx, binding.DeepCopy(), client.Apply, client.DryRunAll, client.FieldOwner("kustomize-controller")); err != nil {
		t.Errorf("a dry-run of a binding to cluster-admin was refused: %v", err)
	}
	for _, obj := range []*unstructured.Unstructured{role("operator-real"), binding.DeepCopy()} {
		err := sa.Patch(ctx, obj, client.Apply, client.FieldOwner("kustomize-controller"))
		if err == nil || !strings.Contains(err.Error(), "fluxdiff may only send dry-run requests") {
			t.Errorf("a real apply of %s by fluxdiff: %v, want the policy's denial", obj.GetKind(), err)
		}
	}
}
