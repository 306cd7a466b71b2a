package fluxsim_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/kube/fluxsim"
	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

func exampleRepo() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "realrepos", "flux2-kustomize-helm-example-classic")
}

// Flux's example repository, bootstrapped at clusters/staging, leaves the
// flux-system Kustomization and the three it builds, each with the objects
// of its build in its inventory (kustomize-controller records
// "namespace_name_group_kind" entries) and owner labels on every object.
func TestBootstrapOfTheExampleRepositoryRecordsEveryInventory(t *testing.T) {
	env := kubetest.Shared(t)
	if err := env.InstallCRDs(kubetest.StandInCRDDir()); err != nil {
		t.Fatal(err)
	}
	c := env.Client
	done, err := fluxsim.BootstrapCluster(t.Context(), c, exampleRepo(), fluxsim.Bootstrap{
		URL: "https://github.com/acme/fleet", Branch: "main", Path: "./clusters/staging", Revision: "abc",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"flux-system/flux-system", "flux-system/infra-controllers", "flux-system/infra-configs", "flux-system/apps"}
	if d := cmp.Diff(want, done); d != "" {
		t.Errorf("reconciled, in dependsOn order (-want +got):\n%s", d)
	}
	apps := &kustomizev1.Kustomization{}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: "flux-system", Name: "apps"}, apps); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range apps.Status.Inventory.Entries {
		ids = append(ids, e.ID+"@"+e.Version)
	}
	wantIDs := []string{
		"_podinfo__Namespace@v1",
		"podinfo_podinfo_helm.toolkit.fluxcd.io_HelmRelease@v2",
		"podinfo_podinfo_source.toolkit.fluxcd.io_HelmRepository@v1",
	}
	if d := cmp.Diff(wantIDs, ids); d != "" {
		t.Errorf("apps inventory (-want +got):\n%s", d)
	}
	hr := &unstructured.Unstructured{}
	hr.SetGroupVersionKind(schema.GroupVersionKind{Group: "helm.toolkit.fluxcd.io", Version: "v2", Kind: "HelmRelease"})
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: "podinfo", Name: "podinfo"}, hr); err != nil {
		t.Fatal(err)
	}
	if got := hr.GetLabels()[fluxsim.LabelName]; got != "apps" {
		t.Errorf("HelmRelease owner label = %q, want apps", got)
	}
	if m := hr.GetManagedFields(); len(m) == 0 || m[0].Manager != "kustomize-controller" {
		t.Errorf("HelmRelease managed by %+v, want kustomize-controller", m)
	}
}
