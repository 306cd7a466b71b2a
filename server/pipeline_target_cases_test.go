package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func configMapYAML(ns, name, color string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  namespace: " + ns + "\ndata:\n  color: " + color + "\n"
}

// checkRemoteTarget: a Kustomization on the management cluster applies,
// through spec.kubeConfig.secretRef, to the target cluster. As in
// kustomize-controller (KustomizationReconciler.reconcile: the apply and
// prune use the client from runtime/client Impersonator.GetClient; build's
// SubstituteVariables uses r.Client), the objects are compared with the
// target's (the ConfigMap that exists only there is configured, not
// created), prune reads the inventory entries there, and substituteFrom
// and the live status come from the management cluster.
func checkRemoteTarget(t *testing.T, ctx context.Context, mgmt, tgt *kubetest.Env, cl *kube.Cluster) {
	kns := mgmt.NewNamespace(t).Name
	ons := tgt.NewNamespace(t).Name
	owner := map[string]string{"kustomize.toolkit.fluxcd.io/name": "spoke-apps", "kustomize.toolkit.fluxcd.io/namespace": kns}
	create(t, tgt.Client,
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ons, Name: "only-on-target", Labels: owner}, Data: map[string]string{"color": "red"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ons, Name: "stale", Labels: owner}, Data: map[string]string{"old": "yes"}})
	create(t, mgmt.Client,
		kubeconfigSecret(t, kns, "spoke-kubeconfig", adminKubeconfig(t, tgt)),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: kns, Name: "vars"}, Data: map[string]string{"color": "blue"}})
	ks := kustomization(kns, "spoke-apps", "./apps")
	ks.Spec.KubeConfig = &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: "spoke-kubeconfig"}}
	ks.Spec.PostBuild = &kustomizev1.PostBuild{SubstituteFrom: []kustomizev1.SubstituteReference{{Kind: "ConfigMap", Name: "vars"}}}
	live := ks.DeepCopy()
	create(t, mgmt.Client, live)
	live.Status.Inventory = &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{
		{ID: ons + "_only-on-target__ConfigMap", Version: "v1"}, {ID: ons + "_stale__ConfigMap", Version: "v1"}}}
	if err := mgmt.Client.Status().Update(ctx, live); err != nil {
		t.Fatal(err)
	}
	root := tree(t, map[string]string{"apps/cm.yaml": configMapYAML(ons, "only-on-target", "${color}")})

	rows := (&Pipeline{}).diffByTarget(ctx, cl, mgmt.Client, trees{merge: root}, []target{targetOf("mgmt", ks)})
	if len(rows) != 1 || rows[0].Error != "" {
		t.Fatalf("rows = %+v, want one diffed row", rows)
	}
	r := rows[0]
	if r.Cluster != "mgmt" || r.Target != "spoke-kubeconfig" || r.Where() != "mgmt → spoke-kubeconfig" {
		t.Errorf("cluster %q target %q where %q, want mgmt → spoke-kubeconfig", r.Cluster, r.Target, r.Where())
	}
	c := changeOf(t, r, "ConfigMap", "only-on-target")
	if c.Action != diff.ActionConfigured || !strings.Contains(c.Diff, "red") || !strings.Contains(c.Diff, "blue") {
		t.Errorf("only-on-target: %s\n%s\nwant configured red → blue (the target's object, the management cluster's variable)", c.Action, c.Diff)
	}
	if c := changeOf(t, r, "ConfigMap", "stale"); c.Action != diff.ActionDeleted {
		t.Errorf("stale: %s, want deleted (inventory on the management cluster, object on the target)", c.Action)
	}
	var md bytes.Buffer
	if err := diff.WriteMarkdown(&md, &diff.Report{Kustomizations: rows}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "mgmt → spoke-kubeconfig") {
		t.Errorf("the Markdown does not name the target:\n%s", md.String())
	}
}

// checkExecRefused: a kubeconfig Secret whose user runs a command is
// refused, as kustomize-controller refuses it without
// --insecure-kubeconfig-exec (runtime/client KubeConfig drops ExecProvider),
// with the reason, and the command never runs. With
// diff.insecureKubeconfigExec the same kubeconfig runs it: the marker
// check below can fail.
func checkExecRefused(t *testing.T, ctx context.Context, mgmt, tgt *kubetest.Env, cl *kube.Cluster) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	script := filepath.Join(dir, "plugin.sh")
	body := "#!/bin/sh\ntouch " + marker + "\n" +
		`echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"not-a-token"}}'` + "\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	kns := mgmt.NewNamespace(t).Name
	create(t, mgmt.Client, kubeconfigSecret(t, kns, "exec-kubeconfig", execKubeconfig(t, tgt, script)))
	ks := kustomization(kns, "exec-apps", "./apps")
	ks.Spec.KubeConfig = &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: "exec-kubeconfig"}}
	root := tree(t, map[string]string{"apps/cm.yaml": configMapYAML("default", "x", "v")})

	rows := (&Pipeline{}).diffByTarget(ctx, cl, mgmt.Client, trees{merge: root}, []target{targetOf("mgmt", ks)})
	if len(rows) != 1 || !strings.Contains(rows[0].Error, `runs a command (exec: "`+script+`")`) ||
		!strings.Contains(rows[0].Error, "diff.insecureKubeconfigExec") || rows[0].Target != "exec-kubeconfig" {
		t.Fatalf("rows = %+v, want one refusal naming the command and the setting", rows)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("the exec plugin ran (marker %s: %v)", marker, err)
	}

	allow := &Pipeline{Tenancy: Tenancy{KubeConfig: kube.KubeConfigOptions{AllowExec: true}}}
	rows = allow.diffByTarget(ctx, cl, mgmt.Client, trees{merge: root}, []target{targetOf("mgmt", ks)})
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("with AllowExec the plugin did not run (rows %+v): %v", rows, err)
	}
}

// checkTenant: a tenant's Kustomization (spec.serviceAccountName, or the
// default service account) whose service account may write only its own
// namespace adds a ClusterRole. kustomize-controller applies it as
// system:serviceaccount:NS:SA (runtime/client
// Impersonator.setImpersonationConfig), so Kubernetes refuses it. With
// diff.impersonate the report shows that refusal; without it the
// ClusterRole shows as created, with a warning that impersonation is off.
func checkTenant(t *testing.T, ctx context.Context, mgmt *kubetest.Env, cl *kube.Cluster) {
	ns := mgmt.NewNamespace(t).Name
	create(t, mgmt.Client,
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant-admin"},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "tenant", Namespace: ns}}})
	waitForRBAC(t, mgmt, "system:serviceaccount:"+ns+":tenant", ns)
	role := "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: " + ns + "-escalate\n" +
		"rules:\n  - apiGroups: [\"*\"]\n    resources: [\"*\"]\n    verbs: [\"*\"]\n"
	root := tree(t, map[string]string{"tenant/role.yaml": role, "tenant/cm.yaml": configMapYAML(ns, "settings", "green")})
	named := kustomization(ns, "tenant-apps", "./tenant")
	named.Spec.ServiceAccountName = "tenant"
	byDefault := kustomization(ns, "tenant-apps", "./tenant")
	user := "system:serviceaccount:" + ns + ":tenant"

	for _, tc := range []struct {
		name    string
		tenancy Tenancy
		ks      *kustomizev1.Kustomization
		refused bool
	}{
		{"impersonating spec.serviceAccountName", Tenancy{Impersonate: true}, named, true},
		{"impersonating the default service account", Tenancy{Impersonate: true, DefaultServiceAccount: "tenant"}, byDefault, true},
		{"impersonation off", Tenancy{}, named, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := (&Pipeline{Tenancy: tc.tenancy}).diffByTarget(ctx, cl, mgmt.Client, trees{merge: root}, []target{targetOf("mgmt", tc.ks)})
			if len(rows) != 1 || rows[0].Error != "" {
				t.Fatalf("rows = %+v, want one diffed row", rows)
			}
			r := rows[0]
			if c := changeOf(t, r, "ConfigMap", "settings"); c.Action != diff.ActionCreated {
				t.Errorf("the ConfigMap in the tenant's namespace: %s (%s), want created", c.Action, c.Reason)
			}
			c := changeOf(t, r, "ClusterRole", ns+"-escalate")
			warned := strings.Contains(strings.Join(r.Warnings, "\n"), "impersonation is off")
			if tc.refused {
				if c.Action != diff.ActionFailed || !strings.Contains(c.Reason, "forbidden") || !strings.Contains(c.Reason, `"`+user+`"`) {
					t.Errorf("ClusterRole: %s %q, want Kubernetes' forbidden error for %s", c.Action, c.Reason, user)
				}
				t.Logf("ClusterRole as %s: %s", user, c.Reason)
				if warned {
					t.Errorf("warnings %q, want none about impersonation", r.Warnings)
				}
				return
			}
			if c.Action != diff.ActionCreated || !warned {
				t.Errorf("ClusterRole: %s, warnings %q; want created and a warning that impersonation is off", c.Action, r.Warnings)
			}
		})
	}
}

// waitForRBAC waits until the API server's authorizer lets user patch
// ConfigMaps in ns: a new RoleBinding reaches it through an informer, a
// moment after it is created.
func waitForRBAC(t *testing.T, env *kubetest.Env, user, ns string) {
	t.Helper()
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:               user,
		Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: "patch", Resource: "configmaps"},
	}}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		r := review.DeepCopy()
		if err := env.Client.Create(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		if r.Status.Allowed {
			return
		}
	}
	t.Fatalf("%s may still not patch ConfigMaps in %s", user, ns)
}
