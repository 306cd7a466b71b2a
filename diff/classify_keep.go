package diff

import (
	"strings"
	"sync"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// kept holds, for one engine run that is to be classified, what the
// classification compares: every built object (after substitution and the
// metadata kustomize-controller sets) and, for configured objects, the live
// object and the dry-run result. It is nil in runs without a base tree, and
// its methods then do nothing.
type kept struct {
	mu sync.Mutex
	// pairs holds dry-run results by built object, until items files them
	// under their Kustomization.
	pairs map[*unstructured.Unstructured]keptPair
	// objects is by Kustomization (keyOf) and object (objectKey).
	objects map[string]map[string]*keptObject
	// secrets is the run's scrubber, for the texts classification adds.
	secrets *scrubber
}

type keptPair struct{ live, merged *unstructured.Unstructured }

// keptObject is one built object of one Kustomization.
type keptObject struct {
	manifest     *unstructured.Unstructured
	live, merged *unstructured.Unstructured
	paths        []fieldPath
}

func newKept() *kept {
	return &kept{pairs: map[*unstructured.Unstructured]keptPair{}, objects: map[string]map[string]*keptObject{}}
}

// dryRun records the live object and dry-run result of built object obj.
func (k *kept) dryRun(obj, live, merged *unstructured.Unstructured) {
	if k == nil || live == nil || merged == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.pairs[obj] = keptPair{live: live.DeepCopy(), merged: merged.DeepCopy()}
}

// items files the built objects of ks with their dry-run results.
func (k *kept) items(ks *kustomizev1.Kustomization, items []item) {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	m := map[string]*keptObject{}
	for _, it := range items {
		o := &keptObject{manifest: it.obj.DeepCopy(), paths: it.paths}
		if p, ok := k.pairs[it.obj]; ok {
			o.live, o.merged = p.live, p.merged
			delete(k.pairs, it.obj)
		}
		m[objectKey(it.obj.GetAPIVersion(), it.obj.GetKind(), it.obj.GetNamespace(), it.obj.GetName())] = o
	}
	k.objects[keyOf(ks)] = m
}

// of returns the kept objects of the Kustomization "namespace/name".
func (k *kept) of(ks string) map[string]*keptObject {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.objects[ks]
}

// objectKey identifies an object across builds: group, kind, namespace and
// name (the version may differ between the two trees).
func objectKey(apiVersion, kind, namespace, name string) string {
	group, _, found := strings.Cut(apiVersion, "/")
	if !found {
		group = "" // the core group: "v1"
	}
	return group + "|" + kind + "|" + namespace + "|" + name
}

// changeKey is objectKey of a change.
func changeKey(c Change) string { return objectKey(c.APIVersion, c.Kind, c.Namespace, c.Name) }
