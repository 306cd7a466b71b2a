package deploy_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// TestFluxdiffCanDryRunRBACGrantingMoreThanItHolds: Flux applies Roles and
// ClusterRoles that grant far more than fluxdiff holds (an operator's
// install, bindings to cluster-admin). The API server's RBAC escalation
// check refuses even a dry-run of such a role ("attempting to grant RBAC
// permissions not currently held") unless the requester may escalate, and a
// binding to it unless it may bind; the admission policy still denies the
// real write.
func TestFluxdiffCanDryRunRBACGrantingMoreThanItHolds(t *testing.T) {
	env := kubetest.Shared(t)
	ctx := context.Background()
	applyAll(t, env.Client, build(t, "base"))
	ns := env.NewNamespace(t).Name
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:fluxdiff:fluxdiff"}
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	waitForPolicy(t, env, c, ns)

	everything := []any{map[string]any{"apiGroups": []any{"*"}, "resources": []any{"*"}, "verbs": []any{"*"}}}
	role := func(kind, name string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"rules": everything}}
		u.SetAPIVersion("rbac.authorization.k8s.io/v1")
		u.SetKind(kind)
		u.SetName(name)
		if kind == "Role" {
			u.SetNamespace(ns)
		}
		return u
	}
	binding := &unstructured.Unstructured{Object: map[string]any{
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
		"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": "operator", "namespace": ns}},
	}}
	binding.SetAPIVersion("rbac.authorization.k8s.io/v1")
	binding.SetKind("ClusterRoleBinding")
	binding.SetName("operator-admin-" + ns)

	for _, o := range []*unstructured.Unstructured{role("ClusterRole", "operator-"+ns), role("Role", "operator"), binding} {
		if err := c.Patch(ctx, o.DeepCopy(), client.Apply, append(asKustomizeController, client.DryRunAll)...); err != nil {
			t.Errorf("a dry-run of a %s granting everything was refused: %v", o.GetKind(), err)
		}
		err := c.Patch(ctx, o.DeepCopy(), client.Apply, asKustomizeController...)
		if err == nil || !strings.Contains(err.Error(), policyDenial) {
			t.Errorf("a real apply of the %s: %v, want the policy's denial", o.GetKind(), err)
		}
	}
}

// TestPodPassesTheRestrictedPodSecurityStandard creates (as a dry-run) the
// pod each overlay's Deployment would create, in the fluxdiff namespace,
// which enforces the "restricted" Pod Security Standard: the API server's
// PodSecurity admission rejects a pod that does not meet it.
func TestPodPassesTheRestrictedPodSecurityStandard(t *testing.T) {
	env := kubetest.Shared(t)
	ctx := context.Background()
	applyAll(t, env.Client, ofKind(build(t, "identity"), "Namespace"))
	ns := &corev1.Namespace{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "fluxdiff"}, ns); err != nil {
		t.Fatal(err)
	}
	if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Fatalf("namespace labels %v do not enforce the restricted standard", ns.Labels)
	}
	for _, dir := range []string{"overlays/single", "overlays/ha"} {
		t.Run(dir, func(t *testing.T) {
			d, _ := deployment(t, build(t, dir))
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{GenerateName: "fluxdiff-", Namespace: "fluxdiff", Labels: d.Spec.Template.Labels},
				Spec:       d.Spec.Template.Spec,
			}
			if err := env.Client.Create(ctx, pod, client.DryRunAll); err != nil {
				t.Errorf("the API server rejects fluxdiff's pod: %v", err)
			}
		})
	}

	// The check is real: the same pod without allowPrivilegeEscalation: false
	// is rejected.
	d, _ := deployment(t, build(t, "base"))
	bad := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "fluxdiff-", Namespace: "fluxdiff"}, Spec: *d.Spec.Template.Spec.DeepCopy()}
	bad.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
	err := env.Client.Create(ctx, bad, client.DryRunAll)
	if err == nil || !strings.Contains(err.Error(), "restricted") {
		t.Errorf("a pod breaking the standard: %v, want PodSecurity's rejection", err)
	}
}
