package kube

import (
	"fmt"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// variableSource is a ConfigMap or Secret that a build applies, as
// postBuild.substituteFrom names it: kind, namespace and name.
type variableSource struct {
	Kind, Namespace, Name string
}

func (v variableSource) String() string { return v.Kind + " " + v.Namespace + "/" + v.Name }

// variableSourcesIn returns the ConfigMaps and Secrets among the objects a
// build produced (keys only, never values).
func variableSourcesIn(objs []*unstructured.Unstructured) []variableSource {
	var out []variableSource
	for _, o := range objs {
		kind := o.GetKind()
		if o.GroupVersionKind().Group == "" && (kind == "ConfigMap" || kind == "Secret") {
			out = append(out, variableSource{Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName()})
		}
	}
	return out
}

// producers maps the ConfigMaps and Secrets that candidates' builds apply,
// per cluster, to those candidates.
type producers map[string][]*Entry

func producerKey(cluster string, v variableSource) string { return cluster + "/" + v.String() }

func (p producers) add(e *Entry, sources []variableSource) {
	for _, v := range sources {
		k := producerKey(e.Cluster, v)
		p[k] = append(p[k], e)
	}
}

// selectVariableReaders picks the Kustomizations whose
// postBuild.substituteFrom reads a ConfigMap or Secret that a picked
// Kustomization's build applies: kustomize-controller reads those variables
// from the cluster when it builds, so once the picked one applies a change
// to them, the reader's output changes too. It repeats until no more are
// picked, as a reader's own build may feed another.
func selectVariableReaders(picked map[ObjectKey]*Selected, made producers, candidates []*Entry, built builtDefinitions) {
	for changed := true; changed; {
		changed = false
		for _, e := range candidates {
			for _, ks := range specsOf(e, built) {
				for _, v := range substituteFrom(ks) {
					for _, p := range made[producerKey(e.Cluster, v)] {
						if p == e || picked[p.ObjectKey] == nil {
							continue
						}
						changed = changed || picked[e.ObjectKey] == nil
						pick(picked, e, false, fmt.Sprintf("postBuild.substituteFrom reads %s, which the build of %s applies", v, p.ObjectKey))
					}
				}
			}
		}
	}
}

// specsOf returns e's spec as the cluster has it and, when it differs, as
// the merge result builds it.
func specsOf(e *Entry, built builtDefinitions) []*kustomizev1.Kustomization {
	out := []*kustomizev1.Kustomization{e.Kustomization}
	if d, ok := built[e.ObjectKey]; ok && d.ks != e.Kustomization {
		out = append(out, d.ks)
	}
	return out
}

// substituteFrom lists the ConfigMaps and Secrets ks's postBuild reads, in
// ks's namespace as the controller reads them.
func substituteFrom(ks *kustomizev1.Kustomization) []variableSource {
	if ks == nil || ks.Spec.PostBuild == nil {
		return nil
	}
	out := make([]variableSource, 0, len(ks.Spec.PostBuild.SubstituteFrom))
	for _, ref := range ks.Spec.PostBuild.SubstituteFrom {
		out = append(out, variableSource{Kind: ref.Kind, Namespace: ks.Namespace, Name: ref.Name})
	}
	return out
}
