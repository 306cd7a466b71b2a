package kube

import (
	"context"
	"errors"
	"fmt"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	swapi "github.com/fluxcd/source-watcher/api/v2/v1beta1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
)

var (
	gitRepositoriesGVR = sourcev1.GroupVersion.WithResource("gitrepositories")
	kustomizationsGVR  = kustomizev1.GroupVersion.WithResource("kustomizations")
	// Flux 2.7's; a cluster without their CRDs is not unhealthy (see
	// optionalResource).
	externalArtifactsGVR  = sourcev1.GroupVersion.WithResource("externalartifacts")
	artifactGeneratorsGVR = swapi.GroupVersion.WithResource("artifactgenerators")
)

// start builds and runs the cluster's informers.
func (cw *clusterWatch) start(ctx context.Context, ix *Index) error {
	cl := cw.current()
	dc, err := dynamic.NewForConfig(cl.Config)
	if err != nil {
		return fmt.Errorf("dynamic client: %w", err)
	}
	var infs []cache.SharedIndexInformer
	for _, gvr := range []schema.GroupVersionResource{gitRepositoriesGVR, kustomizationsGVR, externalArtifactsGVR, artifactGeneratorsGVR} {
		inf := cw.newInformer(dc, gvr)
		if _, err := inf.AddEventHandler(indexHandler(cl.Name, ix)); err != nil {
			return err
		}
		infs = append(infs, inf)
	}
	cw.mu.Lock()
	cw.informers, cw.started = infs, true
	cw.mu.Unlock()
	for _, inf := range infs {
		go inf.RunWithContext(ctx)
	}
	return nil
}

// newInformer lists and watches gvr in all namespaces, recording every
// request's outcome as the cluster's health, and keeps only the typed,
// trimmed objects.
func (cw *clusterWatch) newInformer(dc dynamic.Interface, gvr schema.GroupVersionResource) cache.SharedIndexInformer {
	res := dc.Resource(gvr).Namespace(metav1.NamespaceAll)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			l, err := res.List(ctx, opts)
			if optionalResource(gvr, err) {
				return emptyList(gvr), cw.record("list", gvr, nil)
			}
			return l, cw.record("list", gvr, err)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			w, err := res.Watch(ctx, opts)
			return w, cw.record("watch", gvr, err)
		},
	}
	inf := cache.NewSharedIndexInformerWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, dc), &unstructured.Unstructured{},
		cache.SharedIndexInformerOptions{ObjectDescription: gvr.String()})
	// Both fail only once the informer runs; it has not been started yet.
	_ = inf.SetTransform(trimFluxObject)
	_ = inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
		if !errors.Is(err, context.Canceled) && !optionalResource(gvr, err) {
			cw.fail(gvr.Resource, fmt.Errorf("watch %s: %w", gvr.Resource, err))
		}
	})
	return inf
}

// record turns the outcome of a list or watch into the health of gvr's
// informer and returns err unchanged.
func (cw *clusterWatch) record(verb string, gvr schema.GroupVersionResource, err error) error {
	switch {
	case err == nil:
		cw.succeed(gvr.Resource)
	case errors.Is(err, context.Canceled):
	case optionalResource(gvr, err):
	case apierrors.IsNotFound(err):
		cw.fail(gvr.Resource, fmt.Errorf("%s %s: %w (are the Flux CRDs installed?)", verb, gvr.GroupResource(), err))
	default:
		cw.fail(gvr.Resource, fmt.Errorf("%s %s: %w", verb, gvr.GroupResource(), err))
	}
	return err
}

// trimFluxObject converts a listed or watched object to its Flux type and
// drops what the index does not need (managed fields, annotations, labels,
// status) so that 5,000 Kustomizations stay small.
func trimFluxObject(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil // already trimmed, or a tombstone
	}
	var typed interface {
		runtime.Object
		metav1.Object
	}
	switch u.GetKind() {
	case sourcev1.GitRepositoryKind:
		typed = &sourcev1.GitRepository{}
	case kustomizev1.KustomizationKind:
		typed = &kustomizev1.Kustomization{}
	case externalArtifactKind:
		typed = &sourcev1.ExternalArtifact{}
	case artifactGeneratorKind:
		typed = &swapi.ArtifactGenerator{}
	default:
		return obj, nil
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, typed); err != nil {
		return nil, fmt.Errorf("convert %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	typed.SetManagedFields(nil)
	typed.SetAnnotations(nil)
	typed.SetLabels(nil)
	switch t := typed.(type) {
	case *sourcev1.GitRepository:
		t.Status = sourcev1.GitRepositoryStatus{}
	case *kustomizev1.Kustomization:
		t.Status = kustomizev1.KustomizationStatus{}
	case *sourcev1.ExternalArtifact:
		t.Status = sourcev1.ExternalArtifactStatus{}
	case *swapi.ArtifactGenerator:
		t.Status = swapi.ArtifactGeneratorStatus{}
	}
	return typed, nil
}

// indexHandler applies informer events to ix.
func indexHandler(cluster string, ix *Index) cache.ResourceEventHandler {
	set := func(obj any) {
		switch o := obj.(type) {
		case *kustomizev1.Kustomization:
			ix.SetKustomization(cluster, o)
		case *sourcev1.GitRepository:
			ix.SetGitRepository(cluster, o)
		case *sourcev1.ExternalArtifact:
			ix.SetExternalArtifact(cluster, o)
		case *swapi.ArtifactGenerator:
			ix.SetArtifactGenerator(cluster, o)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    set,
		UpdateFunc: func(_, obj any) { set(obj) },
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			switch o := obj.(type) {
			case *kustomizev1.Kustomization:
				ix.DeleteKustomization(ObjectKey{Cluster: cluster, Namespace: o.Namespace, Name: o.Name})
			case *sourcev1.GitRepository:
				ix.DeleteGitRepository(ObjectKey{Cluster: cluster, Namespace: o.Namespace, Name: o.Name})
			case *sourcev1.ExternalArtifact:
				ix.DeleteExternalArtifact(ObjectKey{Cluster: cluster, Namespace: o.Namespace, Name: o.Name})
			case *swapi.ArtifactGenerator:
				ix.DeleteArtifactGenerator(ObjectKey{Cluster: cluster, Namespace: o.Namespace, Name: o.Name})
			}
		},
	}
}

// optionalResource reports whether err says that gvr, a Flux 2.7 kind
// (ExternalArtifact, ArtifactGenerator), is not served: a cluster with an
// older Flux has no such objects and is healthy. Its informer keeps
// retrying with backoff, so the kinds are seen once the CRDs appear.
func optionalResource(gvr schema.GroupVersionResource, err error) bool {
	return (gvr == externalArtifactsGVR || gvr == artifactGeneratorsGVR) && apierrors.IsNotFound(err)
}

// emptyList is the answer to a list of a kind that is not served.
func emptyList(gvr schema.GroupVersionResource) *unstructured.UnstructuredList {
	l := &unstructured.UnstructuredList{}
	l.SetAPIVersion(gvr.GroupVersion().String())
	l.SetKind("List")
	return l
}
