package kube

import (
	"bytes"
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
