// Package deploy_test checks fluxdiff's Kubernetes manifests: every
// kustomization builds with the kustomize API (the library behind kubectl
// and kustomize-controller), the result has the shape each overlay promises,
// and the API server of a real control plane accepts it and enforces what
// the identity promises: read and dry-run, never a write.
package deploy_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

// fieldManager owns what the tests apply as an administrator.
const fieldManager = "deploy-test"

// build renders the kustomization in dir (relative to deploy/) as
// `kustomize build` would.
func build(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build deploy/%s: %v", dir, err)
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

// find returns the one object of kind and name in objs, failing t when
// there is none.
func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %q in the build", kind, name)
	return nil
}

// ofKind returns the objects of kind in objs.
func ofKind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// applyAll applies objs server-side as an administrator, Namespaces first,
// the way `kubectl apply --server-side` and kustomize-controller do, with
// opts (client.DryRunAll for a dry-run).
func applyAll(t *testing.T, c client.Client, objs []*unstructured.Unstructured, opts ...client.PatchOption) {
	t.Helper()
	ctx := context.Background()
	opts = append([]client.PatchOption{client.FieldOwner(fieldManager), client.ForceOwnership}, opts...)
	for _, pass := range []bool{true, false} {
		for _, o := range objs {
			if (o.GetKind() == "Namespace") != pass {
				continue
			}
			if err := c.Patch(ctx, o.DeepCopy(), client.Apply, opts...); err != nil {
				t.Errorf("apply %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
			}
		}
	}
}

// ensureNamespace creates the namespace name when it does not exist.
func ensureNamespace(t *testing.T, c client.Client, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.Create(context.Background(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// readYAML decodes the YAML file at path (relative to deploy/) into v.
func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(path))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
