package kube

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"

	swapi "github.com/fluxcd/source-watcher/api/v2/v1beta1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// changedGenerator is an ArtifactGenerator defined in a changed file.
type changedGenerator struct {
	file string
	g    *swapi.ArtifactGenerator
}

// changedGenerators returns the ArtifactGenerators defined in the given
// files of the tree at root; files that are not YAML manifests are skipped.
func changedGenerators(root string, files []string) []changedGenerator {
	var out []changedGenerator
	for _, f := range files {
		if ext := path.Ext(f); ext != ".yaml" && ext != ".yml" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil {
			continue // removed, or unreadable: the build reports it
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			var doc map[string]any
			if dec.Decode(&doc) != nil {
				break
			}
			if doc["apiVersion"] != swapi.GroupVersion.String() || doc["kind"] != swapi.ArtifactGeneratorKind {
				continue
			}
			g := &swapi.ArtifactGenerator{}
			if runtime.DefaultUnstructuredConverter.FromUnstructured(doc, g) == nil {
				out = append(out, changedGenerator{file: f, g: g})
			}
		}
	}
	return out
}

// withChangedGenerators returns the candidates with the copy rules of the
// merge result where a changed file defines their ArtifactGenerator (by
// name, and namespace when the file gives one) with other copy rules for
// their artifact, and the reason for each one changed. The artifact is then
// assembled by the new rules from the sources the cluster knows; a rule
// that copies from a new alias fails the build with source-watcher's error.
func withChangedGenerators(cands []*Entry, gens []changedGenerator) ([]*Entry, map[ObjectKey]string) {
	if len(gens) == 0 {
		return cands, nil
	}
	out := make([]*Entry, len(cands))
	reasons := map[ObjectKey]string{}
	for i, e := range cands {
		out[i] = e
		a := e.Artifact
		if a == nil {
			continue
		}
		for _, cg := range gens {
			if cg.g.Name != a.Generator.Name || cg.g.Namespace != "" && cg.g.Namespace != a.Generator.Namespace {
				continue
			}
			copyOps, found := artifactCopy(cg.g, a.Artifact)
			switch {
			case !found:
				reasons[e.ObjectKey] = fmt.Sprintf("its ArtifactGenerator %s/%s, changed in %s, no longer makes artifact %s: the cluster's copy rules are used",
					a.Generator.Namespace, a.Generator.Name, cg.file, a.Artifact)
			case !equality.Semantic.DeepEqual(copyOps, a.Copy):
				ec := *e
				ac := *a
				ac.Copy = copyOps
				ec.Artifact = &ac
				out[i] = &ec
				reasons[e.ObjectKey] = fmt.Sprintf("the copy rules of its ArtifactGenerator %s/%s change in %s",
					a.Generator.Namespace, a.Generator.Name, cg.file)
			}
		}
	}
	return out, reasons
}

func artifactCopy(g *swapi.ArtifactGenerator, name string) ([]swapi.CopyOperation, bool) {
	for _, o := range g.Spec.OutputArtifacts {
		if o.Name == name {
			return o.Copy, true
		}
	}
	return nil, false
}
