package fluxsim

import (
	"cmp"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"slices"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	swapi "github.com/fluxcd/source-watcher/api/v2/v1beta1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/kube"
)

// reconcileArtifacts does what source-watcher and kustomize-controller do
// after parent applied ArtifactGenerators that copy from parent's
// GitRepository (Flux 2.7): for each output artifact, it creates the
// ExternalArtifact as source-watcher leaves it (spec.sourceRef naming the
// generator, status.artifact and Ready), assembles its tree from root by
// the generator's copy rules (kube.AssembleArtifact), and reconciles the
// Kustomizations in parent's build that read it, in dependsOn order. It
// returns the Kustomizations reconciled ("namespace/name").
func reconcileArtifacts(ctx context.Context, c client.Client, root string, parent *kustomizev1.Kustomization, objs []*unstructured.Unstructured, opts Options) ([]string, error) {
	trees := map[string]string{} // "namespace/name" of an ExternalArtifact → its tree
	defer func() {
		for _, dir := range trees {
			_ = os.RemoveAll(dir)
		}
	}()
	for _, g := range generatorsFrom(parent, objs) {
		for _, art := range g.Spec.OutputArtifacts {
			dir, err := os.MkdirTemp("", "fluxsim-artifact-")
			if err != nil {
				return nil, err
			}
			trees[g.Namespace+"/"+art.Name] = dir
			inputs := map[string]kube.ArtifactInput{}
			for _, s := range g.Spec.Sources {
				inputs[s.Alias] = kube.ArtifactInput{Root: root, Ignore: opts.Ignore}
			}
			if err := kube.AssembleArtifact(ctx, dir, art.Copy, inputs); err != nil {
				return nil, fmt.Errorf("ArtifactGenerator %s/%s, artifact %s: %w", g.Namespace, g.Name, art.Name, err)
			}
			if err := recordExternalArtifact(ctx, c, g, art.Name, opts.Revision); err != nil {
				return nil, err
			}
		}
	}
	var kids []*kustomizev1.Kustomization
	for _, ks := range kustomizationsIn(parent, objs) {
		ref := ks.Spec.SourceRef
		if _, ok := trees[cmp.Or(ref.Namespace, ks.Namespace)+"/"+ref.Name]; ok && ref.Kind == sourcev1.ExternalArtifactKind && !ks.Spec.Suspend {
			kids = append(kids, ks)
		}
	}
	var done []string
	for _, ks := range byDependsOn(kids) {
		ref := ks.Spec.SourceRef
		more, err := Reconcile(ctx, c, trees[cmp.Or(ref.Namespace, ks.Namespace)+"/"+ref.Name], ks, Options{Revision: opts.Revision, Recursive: opts.Recursive})
		if err != nil {
			return nil, err
		}
		done = append(done, more...)
	}
	return done, nil
}

// generatorsFrom returns the ArtifactGenerators in objs whose every source
// is parent's GitRepository.
func generatorsFrom(parent *kustomizev1.Kustomization, objs []*unstructured.Unstructured) []*swapi.ArtifactGenerator {
	var out []*swapi.ArtifactGenerator
	src := parent.Spec.SourceRef
	for _, o := range objs {
		if o.GetKind() != swapi.ArtifactGeneratorKind || o.GroupVersionKind().Group != swapi.GroupVersion.Group {
			continue
		}
		g := &swapi.ArtifactGenerator{}
		if runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, g) != nil {
			continue
		}
		g.Namespace = cmp.Or(g.Namespace, parent.Namespace)
		ours := func(s swapi.SourceReference) bool {
			return s.Kind == src.Kind && s.Name == src.Name && cmp.Or(s.Namespace, g.Namespace) == cmp.Or(src.Namespace, parent.Namespace)
		}
		if src.Kind == sourcev1.GitRepositoryKind && len(g.Spec.Sources) > 0 && !slices.ContainsFunc(g.Spec.Sources, func(s swapi.SourceReference) bool { return !ours(s) }) {
			out = append(out, g)
		}
	}
	return out
}

// recordExternalArtifact creates or updates the ExternalArtifact name of g
// and its status as source-watcher writes them.
func recordExternalArtifact(ctx context.Context, c client.Client, g *swapi.ArtifactGenerator, name, revision string) error {
	ea := &sourcev1.ExternalArtifact{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: g.Namespace,
		Labels: map[string]string{"source.extensions.fluxcd.io/generator": g.Name}}}
	err := c.Get(ctx, client.ObjectKeyFromObject(ea), ea)
	if apierrors.IsNotFound(err) {
		ea.Spec.SourceRef = &meta.NamespacedObjectKindReference{
			APIVersion: swapi.GroupVersion.String(), Kind: swapi.ArtifactGeneratorKind, Name: g.Name, Namespace: g.Namespace,
		}
		err = c.Create(ctx, ea)
	}
	if err != nil {
		return fmt.Errorf("ExternalArtifact %s/%s: %w", g.Namespace, name, err)
	}
	digest := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(g.Namespace+"/"+name+"@"+revision)))
	now := metav1.Now()
	ea.Status.Artifact = &meta.Artifact{
		Path:     strings.Join([]string{"externalartifact", g.Namespace, name, strings.TrimPrefix(digest, "sha256:") + ".tar.gz"}, "/"),
		URL:      "http://source-watcher.flux-system.svc.cluster.local./externalartifact/" + g.Namespace + "/" + name + ".tar.gz",
		Revision: "latest@" + digest, Digest: digest, LastUpdateTime: now,
	}
	ea.Status.Conditions = []metav1.Condition{{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Reason: meta.SucceededReason,
		Message: "Artifact is ready", LastTransitionTime: now, ObservedGeneration: ea.Generation}}
	if err := c.Status().Update(ctx, ea); err != nil {
		return fmt.Errorf("status of ExternalArtifact %s/%s: %w", g.Namespace, name, err)
	}
	return nil
}

// kustomizationsIn returns every Flux Kustomization in objs, namespace
// defaulted to parent's.
func kustomizationsIn(parent *kustomizev1.Kustomization, objs []*unstructured.Unstructured) []*kustomizev1.Kustomization {
	var out []*kustomizev1.Kustomization
	for _, o := range objs {
		if o.GetKind() != kustomizev1.KustomizationKind || o.GroupVersionKind().Group != kustomizev1.GroupVersion.Group {
			continue
		}
		ks := &kustomizev1.Kustomization{}
		if runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, ks) != nil {
			continue
		}
		ks.Namespace = cmp.Or(ks.Namespace, parent.Namespace)
		out = append(out, ks)
	}
	return out
}
