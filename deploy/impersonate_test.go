package deploy_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// impersonatedDenial is the message of impersonate/admission-policy.yaml.
const impersonatedDenial = "fluxdiff may only send dry-run requests, also as an impersonated service account"

// withImpersonation builds a kustomization of your own: dir (relative to
// deploy/) with the impersonate component, as deploy/impersonate asks.
func withImpersonation(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	own := t.TempDir()
	var rel [2]string
	for i, p := range []string{dir, "impersonate"} {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		if rel[i], err = filepath.Rel(own, abs); err != nil { // kustomize takes no absolute paths
			t.Fatal(err)
		}
	}
	k := "resources:\n  - " + filepath.ToSlash(rel[0]) + "\ncomponents:\n  - " + filepath.ToSlash(rel[1]) + "\n"
	if err := os.WriteFile(filepath.Join(own, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		t.Fatal(err)
	}
	return build(t, own)
}

func TestImpersonateComponentAddsTheGrantAndASecondPolicy(t *testing.T) {
	extra := []string{"ClusterRole", "ClusterRoleBinding", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}
	for dir, kinds := range map[string][]string{
		"overlays/single": sortedWith(baseKinds, append(extra, "PersistentVolumeClaim")...),
		"remote":          sortedWith(identityKinds, append(extra, "Secret")...),
	} {
		t.Run(dir, func(t *testing.T) {
			objs := withImpersonation(t, dir)
			var got []string
			for _, o := range objs {
				got = append(got, o.GetKind())
			}
			slices.Sort(got)
			if d := cmp.Diff(kinds, got); d != "" {
				t.Errorf("kinds (-want +got):\n%s", d)
			}
			role := convert[rbacv1.ClusterRole](t, find(t, objs, "ClusterRole", "fluxdiff-impersonate"))
			want := []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"serviceaccounts"}, Verbs: []string{"impersonate"}},
				{APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"userextras/" + kube.DryRunOnlyExtra},
					ResourceNames: []string{"true"}, Verbs: []string{"impersonate"}},
			}
			if d := cmp.Diff(want, role.Rules); d != "" {
				t.Errorf("impersonate rules (-want +got):\n%s", d)
			}
			find(t, objs, "ValidatingAdmissionPolicy", "fluxdiff-dry-run-only") // the first one stays
		})
	}
}

// TestImpersonatedRequestsAreDryRunOnly acts as fluxdiff (a token of its
// service account) impersonating a tenant's service account the way the
// pipeline does (kube.Impersonation), on a cluster with remote/ and the
// impersonate component: RBAC decides as for the tenant, and the second
// policy holds every request to dry-runs.
func TestImpersonatedRequestsAreDryRunOnly(t *testing.T) {
	env := kubetest.Shared(t)
	applyAll(t, env.Client, withImpersonation(t, "remote"))
	ns := env.NewNamespace(t).Name
	ctx := context.Background()
	for _, o := range []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant-admin"},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "tenant", Namespace: ns}}},
		webDeployment(ns),
	} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	cfg := rest.CopyConfig(remoteKubeconfig(t, env))
	cfg.Impersonate = kube.Impersonation("system:serviceaccount:" + ns + ":tenant")
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	waitForDenial(t, env.Client, c, configMap(ns, "probe"), impersonatedDenial)

	if err := c.Patch(ctx, configMap(ns, "new"), client.Apply, append(asKustomizeController, client.DryRunAll)...); err != nil {
		t.Errorf("dry-run apply in the tenant's namespace: %v", err)
	}
	role := &unstructured.Unstructured{Object: map[string]any{"rules": []any{}}}
	role.SetAPIVersion("rbac.authorization.k8s.io/v1")
	role.SetKind("ClusterRole")
	role.SetName(ns + "-tenant-escalate")
	err = c.Patch(ctx, role, client.Apply, append(asKustomizeController, client.DryRunAll)...)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "system:serviceaccount:"+ns+":tenant") {
		t.Errorf("dry-run of a ClusterRole as the tenant: %v, want RBAC's refusal of the tenant", err)
	}
	scale := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":0}}`))
	err = c.SubResource("scale").Patch(ctx, webDeployment(ns), scale, client.DryRunAll)
	if err == nil || !strings.Contains(err.Error(), "may not write to subresources, also as an impersonated") {
		t.Errorf("dry-run patch of deployments/scale as the tenant: %v, want the second policy's denial", err)
	}
	live := &appsv1.Deployment{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, live); err != nil || *live.Spec.Replicas != 1 {
		t.Errorf("the Deployment changed: %v", err)
	}
	for _, name := range []string{"new", "probe"} {
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
			t.Errorf("ConfigMap %s: %v, want not found", name, err)
		}
	}
}

// waitForDenial waits until a real apply of o by c is denied with message:
// RBAC and admission policies reach the API server through informers, a
// moment after they are applied. An apply that got through meanwhile is
// undone by admin.
func waitForDenial(t *testing.T, admin, c client.Client, o *unstructured.Unstructured, message string) {
	t.Helper()
	ctx := context.Background()
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		err = c.Patch(ctx, o.DeepCopy(), client.Apply, asKustomizeController...)
		if err != nil && strings.Contains(err.Error(), message) {
			return
		}
		if err == nil {
			_ = admin.Delete(ctx, o.DeepCopy())
		}
	}
	t.Fatalf("a real apply as the impersonated tenant: %v, want %q", err, message)
}
