package server

import (
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/kube"
)

// NewCachingSelector is NewSelector building through builds, which the
// Pipeline's diffs share (Pipeline.Builds): a Kustomization that selection
// builds on a tree is not built again to be diffed, and one whose read
// files did not change since an earlier commit is not built again at all.
func NewCachingSelector(cacheSize int, builds *diff.BuildCache) *kube.Selector {
	return kube.NewSelector(func(root string, ks *kustomizev1.Kustomization, ignore string, wrap func(filesys.FileSystem) filesys.FileSystem) ([]*unstructured.Unstructured, error) {
		return builds.Build(root, ks, diff.BuildOptions{Ignore: ignore, WrapFS: wrap})
	}, cacheSize)
}
