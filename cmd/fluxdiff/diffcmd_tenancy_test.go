package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// TestDiffKustomizationImpersonates: kustomize-controller applies a
// Kustomization with spec.serviceAccountName as that account
// (system:serviceaccount:NS:SA). The tenant's Role lets it manage
// ConfigMaps but not Services: with --impersonate the Service's dry-run is
// refused as Flux's apply would be; without, it shows as created and the
// Kustomization carries the warning that impersonation is off.
func TestDiffKustomizationImpersonates(t *testing.T) {
	ns := kubetest.Setup(t)
	kubeconfig, err := ns.Kubeconfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	meta := "metadata: {name: web, namespace: " + ns.Name + "}\n"
	repo := gitRepo(t, map[string]string{
		"apps/web/cm.yaml":  "apiVersion: v1\nkind: ConfigMap\n" + meta + "data: {color: blue}\n",
		"apps/web/svc.yaml": "apiVersion: v1\nkind: Service\n" + meta + "spec:\n  ports: [{port: 80}]\n",
	})
	tenantRBAC(t, ns.Client, ns.Name, "tenant", []string{"configmaps"})
	for _, ks := range []struct{ name, sa string }{{"tenant-web", "tenant"}, {"default-web", ""}} {
		if err := ns.Client.Create(t.Context(), &kustomizev1.Kustomization{
			ObjectMeta: metav1.ObjectMeta{Name: ks.name, Namespace: ns.Name},
			Spec: kustomizev1.KustomizationSpec{Interval: metav1.Duration{Duration: time.Minute}, Path: "./apps/web", ServiceAccountName: ks.sa,
				SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "repo"}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	args := func(name string, more ...string) []string {
		return append([]string{"diff", "kustomization", name, "-n", ns.Name, "--kubeconfig", kubeconfig, "--path", filepath.Join(repo, "apps/web")}, more...)
	}
	svc := "Service/" + ns.Name + "/web"

	t.Run("with --impersonate the dry-run is refused as the account", func(t *testing.T) {
		r := runCLI(t, bin, args("tenant-web", "--impersonate")...)
		if r.code != 2 || !strings.Contains(r.stderr, "error: "+svc+": ") || !strings.Contains(r.stderr, "forbidden") ||
			!strings.Contains(r.stderr, "system:serviceaccount:"+ns.Name+":tenant") || !strings.Contains(r.stdout, "ConfigMap/"+ns.Name+"/web created") {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("without it the object is created and a warning says impersonation is off", func(t *testing.T) {
		r := runCLI(t, bin, args("tenant-web")...)
		if r.code != 1 || !strings.Contains(r.stdout, svc+" created") || !strings.Contains(r.stdout, "impersonation is off (--impersonate)") || r.stderr != "" {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("--default-service-account is the account of a Kustomization without one", func(t *testing.T) {
		r := runCLI(t, bin, args("default-web", "--impersonate", "--default-service-account", "tenant")...)
		if r.code != 2 || !strings.Contains(r.stderr, "error: "+svc+": ") || !strings.Contains(r.stderr, "forbidden") {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
		if r := runCLI(t, bin, args("default-web", "--impersonate")...); r.code != 1 || !strings.Contains(r.stdout, svc+" created") {
			t.Errorf("without --default-service-account: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
	})
}

// tenantRBAC creates the service account sa in namespace with a Role that
// grants every verb on resources (core API group) and nothing else.
func tenantRBAC(t *testing.T, c client.Client, namespace, sa string, resources []string) {
	t.Helper()
	objs := []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: namespace}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: namespace},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: resources, Verbs: []string{"*"}}}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: namespace},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: sa},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: namespace}}},
	}
	for _, o := range objs {
		if err := c.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
}
