package deploy_test

import (
	"strings"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// TestFluxExampleDeploysFluxdiff builds the example Flux Kustomization
// (deploy/flux) the way kustomize-controller does, with fluxdiff's own build
// (diff.Build: the kustomize-controller generator, spec.patches and
// spec.images applied, the GitRepository's spec.ignore honoured), from this
// repository's tree, and dry-runs the result on the API server.
func TestFluxExampleDeploysFluxdiff(t *testing.T) {
	var repo sourcev1.GitRepository
	readYAML(t, "flux/gitrepository.yaml", &repo)
	var ks kustomizev1.Kustomization
	readYAML(t, "flux/fluxdiff.yaml", &ks)
	if ks.Spec.SourceRef.Kind != sourcev1.GitRepositoryKind || ks.Spec.SourceRef.Name != repo.Name || ks.Namespace != repo.Namespace {
		t.Errorf("the Kustomization's sourceRef %+v is not the GitRepository %s/%s", ks.Spec.SourceRef, repo.Namespace, repo.Name)
	}
	if !ks.Spec.Prune || !ks.Spec.Wait {
		t.Errorf("prune %v, wait %v: want both", ks.Spec.Prune, ks.Spec.Wait)
	}

	ignore := ""
	if repo.Spec.Ignore != nil {
		ignore = *repo.Spec.Ignore
	}
	objs, err := diff.Build("..", &ks, diff.BuildOptions{Ignore: ignore})
	if err != nil {
		t.Fatalf("kustomize-controller's build of %s: %v", ks.Spec.Path, err)
	}

	// The patch reached the generated ConfigMap, which was renamed with the
	// new content's hash, and the Deployment follows the new name.
	cms := ofKind(objs, "ConfigMap")
	if len(cms) != 1 {
		t.Fatalf("%d ConfigMaps, want 1", len(cms))
	}
	config, _ := cms[0].Object["data"].(map[string]any)["config.yaml"].(string)
	if !strings.Contains(config, "- name: management") {
		t.Errorf("the patch did not reach config.yaml:\n%s", config)
	}
	plain := ofKind(build(t, "overlays/single"), "ConfigMap")[0]
	if cms[0].GetName() == plain.GetName() || !strings.HasPrefix(cms[0].GetName(), "fluxdiff-config-") {
		t.Errorf("ConfigMap %s: want a new fluxdiff-config-HASH (unpatched: %s)", cms[0].GetName(), plain.GetName())
	}
	d, c := deployment(t, objs)
	if got := volume(t, d, "config").Projected.Sources[0].ConfigMap.Name; got != cms[0].GetName() {
		t.Errorf("the Deployment mounts ConfigMap %s, want %s", got, cms[0].GetName())
	}
	if want := ks.Spec.Images[0].Name + ":" + ks.Spec.Images[0].NewTag; c.Image != want {
		t.Errorf("image %s, want %s from spec.images", c.Image, want)
	}
	if len(ofKind(objs, "PersistentVolumeClaim")) != 1 {
		t.Error("the single overlay's claim is missing")
	}

	env := kubetest.Shared(t)
	applyAll(t, env.Client, ofKind(objs, "Namespace"))
	applyAll(t, env.Client, objs, client.DryRunAll)
}
