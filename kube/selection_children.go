package kube

import (
	"cmp"
	"encoding/json"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// childrenIn returns the Flux Kustomizations among the objects that the
// build of applier produced, with the namespace defaulted to the applier's
// as kustomize-controller does. Objects that do not convert are left out:
// the diff reports them.
func childrenIn(applier *Entry, objs []*unstructured.Unstructured) []*kustomizev1.Kustomization {
	var out []*kustomizev1.Kustomization
	for _, obj := range objs {
		gvk := obj.GroupVersionKind()
		if gvk.Group != kustomizev1.GroupVersion.Group || gvk.Kind != kustomizev1.KustomizationKind {
			continue
		}
		ks := &kustomizev1.Kustomization{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, ks); err != nil {
			continue
		}
		ks.Namespace = cmp.Or(ks.Namespace, applier.Namespace)
		out = append(out, ks)
	}
	return out
}

// builtDefinition is a Flux Kustomization as the build of its applier, on
// the merge result, defines it.
type builtDefinition struct {
	ks      *kustomizev1.Kustomization
	applier *Entry
}

// builtDefinitions are the definitions of every candidate's build, by the
// key the child has in the applier's cluster. The first applier wins.
type builtDefinitions map[ObjectKey]builtDefinition

func (b builtDefinitions) add(applier *Entry, children []*kustomizev1.Kustomization) {
	for _, ks := range children {
		key := ObjectKey{Cluster: applier.Cluster, Namespace: ks.Namespace, Name: ks.Name}
		if _, ok := b[key]; !ok {
			b[key] = builtDefinition{ks: ks, applier: applier}
		}
	}
}

// fill sets sel.Definition to the built definition when there is one that
// can be used; a definition from a changed file stays otherwise.
func (b builtDefinitions) fill(sel *Selected) {
	d, ok := b[sel.Entry.ObjectKey]
	switch {
	case ok && !usesPostBuildVariables(d.applier, d.ks):
		sel.Definition = d.ks
	case ok:
		sel.Definition = nil
		sel.Reasons = append(sel.Reasons, "its definition uses post-build variables of "+d.applier.ObjectKey.String()+": the cluster's spec is built")
	}
}

// selectBuiltChanges picks the Kustomizations whose spec, as the merge
// result builds it, differs from the cluster's: a kustomize patch,
// transformer or new resource entry in an applier's kustomization.yaml
// changes them without a change to their own file. A built Kustomization
// unknown to the cluster is new when it reads the applier's source (else it
// would be a candidate).
func selectBuiltChanges(picked map[ObjectKey]*Selected, built builtDefinitions, candidates []*Entry) {
	byKey := make(map[ObjectKey]*Entry, len(candidates))
	for _, e := range candidates {
		byKey[e.ObjectKey] = e
	}
	for key, d := range built {
		if usesPostBuildVariables(d.applier, d.ks) {
			continue // only the cluster can resolve them; compared, they always differ
		}
		e, ok := byKey[key]
		switch {
		case ok && !equality.Semantic.DeepEqual(e.Kustomization.Spec, d.ks.Spec):
			pick(picked, e, false, "spec as built by "+d.applier.ObjectKey.String()+" differs from the cluster's")
		case ok:
		case picked[key] == nil && newEntry(key.Cluster, d.ks, candidates).Source == d.applier.Source:
			pick(picked, newEntry(key.Cluster, d.ks, candidates), true, "new Kustomization built by "+d.applier.ObjectKey.String())
		}
	}
}

// usesPostBuildVariables reports whether ks's spec holds ${var} references
// that applier's post-build substitution would replace.
func usesPostBuildVariables(applier *Entry, ks *kustomizev1.Kustomization) bool {
	pb := applier.Kustomization.Spec.PostBuild
	if pb == nil || len(pb.Substitute) == 0 && len(pb.SubstituteFrom) == 0 {
		return false
	}
	spec, _ := json.Marshal(ks.Spec) // a Spec always marshals
	return strings.Contains(string(spec), "${")
}
