package diff

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/kustomize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resource"
)

// substitution is the resolved spec.postBuild of one Kustomization: the
// variables are read from the cluster once and reused for every object.
type substitution struct {
	// ks is the Kustomization as the Flux substitution code reads it, with
	// the cluster-sourced variables folded into spec.postBuild.substitute.
	ks unstructured.Unstructured
	// marked is ks with every secret-bearing variable replaced by a marker.
	marked unstructured.Unstructured
	// always is spec.postBuild.substituteStrategy == Always (substitute even
	// without variables, for ${VAR:=default} expressions).
	always bool
	// secretValues are values that came from Secrets; they are masked in
	// every output.
	secretValues []string
	// stale holds secret values that only the live Kustomization's spec
	// substitutes; live reads the live objects to find where they sit.
	stale valueMasker
	live  client.Reader
}

// loadSubstitution resolves ks's spec.postBuild with the variables as they
// will be once the builds diffed before it in the run apply (see
// builtObjects), noting in the run where a value cannot be known. It also
// collects the secret values of the live Kustomization's spec (its last
// apply may have substituted Secrets that the new spec no longer reads):
// they are scrubbed, and masked where the live objects hold them.
func (r *run) loadSubstitution(ctx context.Context, ks *kustomizev1.Kustomization) (*substitution, error) {
	reader := &variableReader{Client: r.managementFor(ks), built: r.built}
	subst, err := loadSubstitution(ctx, reader, ks, r.secrets)
	r.notes[keyOf(ks)] = append(r.notes[keyOf(ks)], reader.notes...)
	if err != nil {
		return nil, err
	}
	stale := r.staleSecretValues(ctx, ks, subst)
	if len(stale) == 0 {
		return subst, nil
	}
	r.secrets.add(stale...)
	if subst == nil {
		subst = &substitution{}
	}
	subst.stale, subst.live = valueMasker{values: stale}, r.d.Client
	return subst, nil
}

// staleSecretValues returns the values that the live Kustomization's
// postBuild substituted from Secrets and that the new substitution does not:
// a pull request that drops a substituteFrom Secret together with the ${VAR}
// it fed leaves the old value in the live objects only.
func (r *run) staleSecretValues(ctx context.Context, ks *kustomizev1.Kustomization, subst *substitution) []string {
	live := &kustomizev1.Kustomization{}
	mgmt := r.managementFor(ks)
	if err := mgmt.Get(ctx, client.ObjectKeyFromObject(ks), live); err != nil {
		return nil
	}
	var out []string
	for _, v := range secretVariables(ctx, mgmt, live) {
		if subst == nil || !slices.Contains(subst.secretValues, v) {
			out = append(out, v)
		}
	}
	return out
}

// secretVariables returns the values that ks's postBuild substitutes from
// Secrets, as the cluster holds them. Each Secret is read on its own and a
// missing one is passed over: the values serve masking only.
func secretVariables(ctx context.Context, c client.Client, ks *kustomizev1.Kustomization) []string {
	if ks.Spec.PostBuild == nil {
		return nil
	}
	var out []string
	for _, ref := range ks.Spec.PostBuild.SubstituteFrom {
		if ref.Kind != "Secret" {
			continue
		}
		one := ks.DeepCopy()
		ref.Optional = true
		one.Spec.PostBuild.SubstituteFrom = []kustomizev1.SubstituteReference{ref}
		u, err := toUnstructured(one)
		if err != nil {
			continue
		}
		vars, _ := kustomize.LoadVariables(ctx, c, u)
		for _, v := range vars {
			out = append(out, v)
		}
	}
	return out
}

// maskerFor masks, in the objects of the live Kustomization ks, the secret
// values of its own postBuild and every one the run has seen.
func (r *run) maskerFor(ctx context.Context, ks *kustomizev1.Kustomization) valueMasker {
	return r.secrets.masker(secretVariables(ctx, r.d.Client, ks)...)
}

// loadSubstitution reads spec.postBuild.substituteFrom from the cluster (once)
// and merges spec.postBuild.substitute over it, with Flux's precedence. It
// returns nil when the Kustomization has no postBuild. Variables from Secrets,
// and inline variables that carry a value from known (e.g. a parent's)
// Secrets, are secret-bearing.
func loadSubstitution(ctx context.Context, c client.Client, ks *kustomizev1.Kustomization, known *scrubber) (*substitution, error) {
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
	marked := make(map[string]any, len(merged))
	for k, v := range vars {
		merged[k] = v
	}
	for k, v := range ks.Spec.PostBuild.Substitute {
		merged[k] = v
	}
	s := &substitution{always: ks.GetSubstituteStrategy() == kustomizev1.SubstituteStrategyAlways}
	i := 0
	for k, v := range merged {
		value := v.(string)
		// A variable is secret when its final value is the one a Secret gave
		// (a ConfigMap or an inline variable may override it).
		sv, fromSecret := secretVars[k]
		fromSecret = fromSecret && sv == value
		if fromSecret || known.contains(value) {
			s.secretValues = append(s.secretValues, value)
			marked[k] = markerFor(i)
			i++
			continue
		}
		marked[k] = value
	}
	if s.ks, err = withSubstitute(u, merged); err != nil {
		return nil, err
	}
	if s.marked, err = withSubstitute(u, marked); err != nil {
		return nil, err
	}
	return s, nil
}

// withSubstitute returns a copy of u whose spec.postBuild holds vars inline
// and no substituteFrom, so that the Flux code needs no cluster access.
func withSubstitute(u unstructured.Unstructured, vars map[string]any) (unstructured.Unstructured, error) {
	c := *u.DeepCopy()
	if err := unstructured.SetNestedField(c.Object, maps.Clone(vars), "spec", "postBuild", "substitute"); err != nil {
		return c, err
	}
	unstructured.RemoveNestedField(c.Object, "spec", "postBuild", "substituteFrom")
	return c, nil
}

// apply substitutes variables in every object, honouring the
// kustomize.toolkit.fluxcd.io/substitute: disabled label or annotation. It
// also returns, per object, the fields that carry secret values.
func (s *substitution) apply(ctx context.Context, objs []*unstructured.Unstructured) ([]*unstructured.Unstructured, [][]fieldPath, error) {
	paths := make([][]fieldPath, len(objs))
	if s == nil {
		return objs, paths, nil
	}
	out := objs
	if s.ks.Object != nil {
		out = make([]*unstructured.Unstructured, len(objs))
		for i, obj := range objs {
			subst, err := s.substitute(ctx, s.ks, obj)
			if err != nil {
				return nil, nil, fmt.Errorf("post build failed for %s/%s: %w", obj.GetKind(), obj.GetName(), s.safeError(ctx, obj, err))
			}
			if subst == nil { // substitution disabled for this object
				out[i] = obj
				continue
			}
			out[i] = subst
			if len(s.secretValues) == 0 {
				continue
			}
			// A second pass with markers finds the secret-bearing fields; it
			// cannot fail where the first pass succeeded but for a marker in a
			// field the API server would reject, which only hides more.
			if m, err := s.substitute(ctx, s.marked, obj); err == nil && m != nil {
				paths[i] = markedPaths(m)
			}
		}
	}
	s.stalePaths(ctx, out, paths)
	return out, paths, nil
}

// stalePaths adds, per object, the fields of the live object that hold a
// stale secret value (see staleSecretValues); an object that cannot be read
// keeps the text scrubbing only.
func (s *substitution) stalePaths(ctx context.Context, objs []*unstructured.Unstructured, paths [][]fieldPath) {
	if len(s.stale.values) == 0 || s.live == nil {
		return
	}
	for i, obj := range objs {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(obj.GroupVersionKind())
		if err := s.live.Get(ctx, client.ObjectKeyFromObject(obj), live); err != nil {
			continue
		}
		paths[i] = append(paths[i], s.stale.paths(live)...)
	}
}

// safeError returns a substitution error that cannot echo a secret value:
// the same substitution with markers instead of secret values tells whether
// the error comes from the manifest (its message is then shown, markers
// masked) or from a secret value (then only that is said).
func (s *substitution) safeError(ctx context.Context, obj *unstructured.Unstructured, err error) error {
	if len(s.secretValues) == 0 {
		return err
	}
	if _, merr := s.substitute(ctx, s.marked, obj); merr != nil {
		return errors.New(markerPattern.ReplaceAllString(merr.Error(), maskValue))
	}
	return errors.New("a value substituted from a Secret makes the manifest invalid (the value is not shown)")
}

// markerPattern matches the markers markerFor makes.
var markerPattern = regexp.MustCompile(secretMarker + `[0-9]+x`)

// substitute runs Flux's substitution of vars (held inline in ks) on obj;
// nil means substitution is disabled for obj.
func (s *substitution) substitute(ctx context.Context, ks unstructured.Unstructured, obj *unstructured.Unstructured) (out *unstructured.Unstructured, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("substitution panicked: %v", r)
		}
	}()
	rf := provider.NewDefaultDepProvider().GetResourceFactory()
	res, err := rf.FromMapWithName(obj.GetName(), obj.DeepCopy().Object)
	if err != nil {
		return nil, err
	}
	// DryRun keeps the Flux code from reading the cluster again: the
	// variables are already inline in ks.
	var subst *resource.Resource
	subst, err = kustomize.SubstituteVariables(ctx, nil, ks, res,
		kustomize.SubstituteWithDryRun(true), kustomize.SubstituteWithAlways(s.always))
	if err != nil || subst == nil {
		return nil, err
	}
	subst.RemoveBuildAnnotations()
	return resourceToUnstructured(subst)
}
