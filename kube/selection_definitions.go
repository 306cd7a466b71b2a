package kube

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// definition is a Flux Kustomization object found in a changed file.
type definition struct {
	file string
	ks   *kustomizev1.Kustomization
}

// definitions returns the Flux Kustomizations (kustomize.toolkit.fluxcd.io/v1)
// defined in the given files of the tree at root. Files that are not YAML
// manifests are skipped.
func definitions(root string, files []string) ([]definition, error) {
	var out []definition
	for _, f := range files {
		if ext := path.Ext(f); ext != ".yaml" && ext != ".yml" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		for _, ks := range kustomizationsIn(data) {
			out = append(out, definition{file: f, ks: ks})
		}
	}
	return out, nil
}

// kustomizationsIn decodes the YAML documents of data and keeps the Flux
// Kustomizations. Decoding stops at the first document that is not an
// object: such a file is not a manifest Flux would apply.
func kustomizationsIn(data []byte) []*kustomizev1.Kustomization {
	var out []*kustomizev1.Kustomization
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			return out // io.EOF, or not a manifest
		}
		if doc["apiVersion"] != kustomizev1.GroupVersion.String() || doc["kind"] != kustomizev1.KustomizationKind {
			continue
		}
		var ks kustomizev1.Kustomization
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(doc, &ks); err != nil {
			continue
		}
		out = append(out, &ks)
	}
}

// newEntry describes a Kustomization that exists only in the pull request,
// taking the repository and branch from a candidate with the same source.
func newEntry(cluster string, ks *kustomizev1.Kustomization, candidates []*Entry) *Entry {
	ref := ks.Spec.SourceRef
	e := &Entry{
		ObjectKey:     ObjectKey{Cluster: cluster, Namespace: ks.Namespace, Name: ks.Name},
		Path:          ks.Spec.Path,
		Source:        SourceRef{Kind: ref.Kind, Namespace: cmp.Or(ref.Namespace, ks.Namespace), Name: ref.Name},
		Suspended:     ks.Spec.Suspend,
		Kustomization: ks,
		Reason:        fmt.Sprintf("its source %s %s/%s is not a known source of this repository", ref.Kind, cmp.Or(ref.Namespace, ks.Namespace), ref.Name),
	}
	if ref.Kind == "OCIRepository" || ref.Kind == "Bucket" {
		e.Reason = fmt.Sprintf("%s sources are not diffable from a pull request", ref.Kind)
		return e
	}
	for _, c := range candidates {
		if c.Cluster == cluster && c.Source == e.Source {
			e.URL, e.Repo, e.Branch, e.Reason, e.Ignore = c.URL, c.Repo, c.Branch, c.Reason, c.Ignore
			e.Artifact, e.Includes, e.SparseCheckout = c.Artifact, c.Includes, c.SparseCheckout
			break
		}
	}
	return e
}
