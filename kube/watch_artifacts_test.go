package kube

import (
	"context"
	"fmt"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	swapi "github.com/fluxcd/source-watcher/api/v2/v1beta1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// TestWatcherFollowsGeneratorsOnARealAPIServer watches a cluster where the
// Flux 2.7 kinds appear and change, and one whose Flux predates them.
func TestWatcherFollowsGeneratorsOnARealAPIServer(t *testing.T) {
	a := kubetest.Setup(t)
	ns := a.Name
	g := generatorsIn(t, example27+"/clusters/staging/artifacts.yaml")[0]
	g.Namespace, g.ResourceVersion = ns, ""
	create(t, a.Client,
		withInterval(gitRepo(ns, "flux-system", fleetURL, &sourcev1.GitRepositoryRef{Branch: "main"})), g,
		externalArtifact(ns, "apps", g.Name),
		withInterval(kustomization(ns, "apps", "./staging", kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.ExternalArtifactKind, Name: "apps"})))
	ix := NewIndex()
	w := NewWatcher(ix, []*Cluster{NewCluster("a", a.Config, 0, 0)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.Start(ctx)
	if !w.WaitForSync(ctx) {
		t.Fatalf("not synced: %+v", w.Status())
	}
	eventually(t, 10*time.Second, "apps matched through the generator", wantKeys(ix, fleetURL, "main", "a/"+ns+"/apps"))
	if err := a.Client.Delete(ctx, g); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the deleted generator as the reason", func() error {
		if got := reasonsOf(ix.List(""))["a/"+ns+"/apps"]; got != "ArtifactGenerator "+ns+"/flux-system not found" {
			return fmt.Errorf("reason %q", got)
		}
		return nil
	})

	t.Run("a cluster without the Flux 2.7 CRDs is healthy", func(t *testing.T) {
		env, _ := startSecondCluster(t)
		for _, name := range []string{"artifactgenerators." + swapi.GroupVersion.Group, "externalartifacts." + sourcev1.GroupVersion.Group} {
			crd := &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: name}}
			if err := env.Client.Delete(ctx, crd); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(2 * time.Second) // let the API server stop serving them
		w := NewWatcher(NewIndex(), []*Cluster{NewCluster("old", env.Config, 0, 0)})
		w.Start(ctx)
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if !w.WaitForSync(sctx) {
			t.Fatalf("not synced: %+v", w.Status())
		}
		time.Sleep(2 * time.Second) // the watches of the missing kinds fail meanwhile
		if s := w.Status()[0]; !s.OK() {
			t.Errorf("status %+v, want healthy", s)
		}
	})
}
