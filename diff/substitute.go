package diff

import (
	"context"
	"fmt"
	"maps"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/kustomize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/provider"
)

// substitution is the resolved spec.postBuild of one Kustomization: the
// variables are read from the cluster once and reused for every object.
type substitution struct {
	// ks is the Kustomization as the Flux substitution code reads it, with
	// the cluster-sourced variables folded into spec.postBuild.substitute.
	ks unstructured.Unstructured
	// always is spec.postBuild.substituteStrategy == Always (substitute even
	// without variables, for ${VAR:=default} expressions).
	always bool
	// secretValues are values that came from Secrets; they are masked in
	// every output.
	secretValues []string
}

// loadSubstitution reads spec.postBuild.substituteFrom from the cluster (once)
// and merges spec.postBuild.substitute over it, with Flux's precedence. It
// returns nil when the Kustomization has no postBuild.
func loadSubstitution(ctx context.Context, c client.Client, ks *kustomizev1.Kustomization) (*substitution, error) {
	if ks.Spec.PostBuild == nil {
		return nil, nil
	}
	u, err := toUnstructured(ks)
	if err != nil {
		return nil, err
	}
	var secretVars map[string]string
	ctx = kustomize.ContextWithSecretVarsCollector(ctx, func(m map[string]string) { secretVars = m })
	vars, err := kustomize.LoadVariables(ctx, c, u)
	if err != nil {
		return nil, err
	}
	merged := make(map[string]any, len(vars)+len(ks.Spec.PostBuild.Substitute))
	for k, v := range vars {
		merged[k] = v
	}
	for k, v := range ks.Spec.PostBuild.Substitute {
		merged[k] = v
	}
	if err := unstructured.SetNestedField(u.Object, merged, "spec", "postBuild", "substitute"); err != nil {
		return nil, err
	}
	unstructured.RemoveNestedField(u.Object, "spec", "postBuild", "substituteFrom")
	s := &substitution{ks: u, always: ks.GetSubstituteStrategy() == kustomizev1.SubstituteStrategyAlways}
	for _, v := range secretVars {
		s.secretValues = append(s.secretValues, v)
	}
	return s, nil
}

// apply substitutes variables in every object, honouring the
// kustomize.toolkit.fluxcd.io/substitute: disabled label or annotation.
func (s *substitution) apply(ctx context.Context, objs []*unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	if s == nil {
		return objs, nil
	}
	rf := provider.NewDefaultDepProvider().GetResourceFactory()
	out := make([]*unstructured.Unstructured, len(objs))
	for i, obj := range objs {
		res, err := rf.FromMapWithName(obj.GetName(), maps.Clone(obj.Object))
		if err != nil {
			return nil, err
		}
		// DryRun keeps the Flux code from reading the cluster again: the
		// variables are already in s.ks.
		subst, err := kustomize.SubstituteVariables(ctx, nil, s.ks, res,
			kustomize.SubstituteWithDryRun(true), kustomize.SubstituteWithAlways(s.always))
		if err != nil {
			return nil, fmt.Errorf("post build failed for %s/%s: %w", obj.GetKind(), obj.GetName(), err)
		}
		if subst == nil { // substitution disabled for this object
			out[i] = obj
			continue
		}
		subst.RemoveBuildAnnotations()
		if out[i], err = resourceToUnstructured(subst); err != nil {
			return nil, err
		}
	}
	return out, nil
}
