package fluxsim_test

import (
	"errors"
	"path/filepath"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/kube/fluxsim"
	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// In the Flux 2.7 layout of the example repository, flux-system applies an
// ArtifactGenerator; source-watcher makes the ExternalArtifacts
// "infrastructure" and "apps" (spec.sourceRef naming the generator) and
// kustomize-controller reconciles the Kustomizations that read them from
// the artifact trees: the same objects as the classic layout's apps.
func TestBootstrapOfThe27LayoutReconcilesGeneratedArtifacts(t *testing.T) {
	kubetest.Shared(t)
	env, err := kubetest.Start()
	if errors.Is(err, kubetest.ErrNoBinaries) {
		kubetest.Unavailable(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	if err := env.InstallCRDs(kubetest.StandInCRDDir()); err != nil {
		t.Fatal(err)
	}
	c := env.Client
	repo := filepath.Join(filepath.Dir(exampleRepo()), "flux2-kustomize-helm-example-2.7")
	done, err := fluxsim.BootstrapCluster(t.Context(), c, repo, fluxsim.Bootstrap{
		URL: "https://github.com/acme/fleet", Branch: "main", Path: "./clusters/staging", Revision: "abc",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"flux-system/flux-system", "flux-system/infra-controllers", "flux-system/infra-configs", "flux-system/apps"}
	if d := cmp.Diff(want, done); d != "" {
		t.Errorf("reconciled, in dependsOn order (-want +got):\n%s", d)
	}
	for _, name := range []string{"apps", "infrastructure"} {
		ea := &sourcev1.ExternalArtifact{}
		if err := c.Get(t.Context(), client.ObjectKey{Namespace: "flux-system", Name: name}, ea); err != nil {
			t.Fatal(err)
		}
		if ref := ea.Spec.SourceRef; ref == nil || ref.Kind != "ArtifactGenerator" || ref.Name != "flux-system" || ea.Status.Artifact == nil {
			t.Errorf("ExternalArtifact %s: sourceRef %+v, artifact %+v; want the generator flux-system and an artifact", name, ref, ea.Status.Artifact)
		}
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
}
