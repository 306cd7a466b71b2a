package helm

import (
	"bytes"
	"encoding/json"
	"fmt"

	"helm.sh/helm/v4/pkg/postrenderer"
	"sigs.k8s.io/kustomize/api/builtins"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resmap"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/fluxdiff/fluxdiff/diff/internal/kustbuild"
)

// Origin labels helm-controller sets on every rendered object
// (internal/postrender/origin_labels.go: "<group>/name", "<group>/namespace").
const (
	LabelName      = Group + "/name"
	LabelNamespace = Group + "/namespace"
)

// postRenderers builds the post-renderer chain helm-controller builds
// (internal/postrender/build.go BuildPostRenderers): one kustomize step per
// spec.postRenderers[].kustomize, in order, then the origin labels.
func postRenderers(r *release) (postrenderer.PostRenderer, error) {
	var steps []postrenderer.PostRenderer
	for i, pr := range r.Spec.PostRenderers {
		if pr.Kustomize == nil {
			continue
		}
		k := &kustomizeStep{}
		for _, p := range pr.Kustomize.Patches {
			var patch kustypes.Patch
			if err := json.Unmarshal(p, &patch); err != nil {
				return nil, fmt.Errorf("spec.postRenderers[%d].kustomize.patches: %w", i, err)
			}
			k.patches = append(k.patches, patch)
		}
		for _, im := range pr.Kustomize.Images {
			var image kustypes.Image
			if err := json.Unmarshal(im, &image); err != nil {
				return nil, fmt.Errorf("spec.postRenderers[%d].kustomize.images: %w", i, err)
			}
			k.images = append(k.images, image)
		}
		steps = append(steps, k)
	}
	steps = append(steps, originLabels{namespace: r.Namespace, name: r.Name})
	return chain(steps), nil
}

// chain runs post-renderers in order.
type chain []postrenderer.PostRenderer

// Run implements postrenderer.PostRenderer.
func (c chain) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	var err error
	for _, step := range c {
		if in, err = step.Run(in); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// kustomizeStep builds the render with a kustomization of patches and
// images over it, in memory, builtin plugins only and no load restrictions,
// as helm-controller's Kustomize post-renderer does
// (internal/postrender/kustomize.go).
type kustomizeStep struct {
	patches []kustypes.Patch
	images  []kustypes.Image
}

// Run implements postrenderer.PostRenderer.
func (k *kustomizeStep) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	fs := filesys.MakeFsInMemory()
	const input = "helm-output.yaml"
	if err := fs.WriteFile(input, in.Bytes()); err != nil {
		return nil, err
	}
	cfg := kustypes.Kustomization{Resources: []string{input}, Patches: k.patches, Images: k.images}
	cfg.APIVersion, cfg.Kind = kustypes.KustomizationVersion, kustypes.KustomizationKind
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	if err := fs.WriteFile("kustomization.yaml", b); err != nil {
		return nil, err
	}
	// kustbuild serialises kustomize runs process-wide, as helm-controller
	// does (kustomize issue 3659: concurrent map access), and shares the
	// lock with the Kustomization builds.
	m, err := kustbuild.Run(fs, ".")
	if err != nil {
		return nil, fmt.Errorf("post-renderer kustomize: %w", err)
	}
	out, err := m.AsYaml()
	return bytes.NewBuffer(out), err
}

// originLabels sets helm.toolkit.fluxcd.io/name and /namespace in
// metadata.labels of every object (helm-controller
// internal/postrender/origin_labels.go, kustomize's LabelTransformer).
type originLabels struct{ namespace, name string }

// Run implements postrenderer.PostRenderer.
func (o originLabels) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	m, err := resmap.NewFactory(provider.NewDefaultDepProvider().GetResourceFactory()).NewResMapFromBytes(in.Bytes())
	if err != nil {
		return nil, err
	}
	t := builtins.LabelTransformerPlugin{
		Labels:     map[string]string{LabelName: o.name, LabelNamespace: o.namespace},
		FieldSpecs: []kustypes.FieldSpec{{Path: "metadata/labels", CreateIfNotPresent: true}},
	}
	// kyaml's field specs may read its global OpenAPI state, which a
	// concurrent build resets: transform under the builds' lock.
	if err := kustbuild.Locked(func() error { return t.Transform(m) }); err != nil {
		return nil, err
	}
	out, err := m.AsYaml()
	return bytes.NewBuffer(out), err
}
