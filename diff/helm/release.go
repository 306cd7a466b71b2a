// Package helm renders HelmReleases the way helm-controller does (Helm 4
// SDK, values from valuesFrom and values, post-renderers and origin labels)
// and hands the rendered objects to the diff engine, which compares them
// with the cluster by a server-side apply dry-run with helm-controller's
// field manager. *Differ implements diff.HelmDiffer.
package helm

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Group is the API group of HelmRelease (helm.toolkit.fluxcd.io), also the
// prefix of the origin labels helm-controller adds.
const Group = "helm.toolkit.fluxcd.io"

// FieldManager is the field manager helm-controller applies with: its main
// sets kube.ManagedFieldsManager = controllerName ("helm-controller",
// fluxcd/helm-controller main.go).
const FieldManager = "helm-controller"

// release is the part of a HelmRelease (helm.toolkit.fluxcd.io/v2) that
// rendering needs; field names follow api/v2/helmrelease_types.go.
type release struct {
	Namespace, Name string
	Spec            releaseSpec
}

type releaseSpec struct {
	Chart            *chartTemplate     `json:"chart,omitempty"`
	ChartRef         *crossNamespaceRef `json:"chartRef,omitempty"`
	ReleaseName      string             `json:"releaseName,omitempty"`
	TargetNamespace  string             `json:"targetNamespace,omitempty"`
	StorageNamespace string             `json:"storageNamespace,omitempty"`
	Suspend          bool               `json:"suspend,omitempty"`
	Install          *installSpec       `json:"install,omitempty"`
	Upgrade          *installSpec       `json:"upgrade,omitempty"`
	ValuesFrom       []valuesReference  `json:"valuesFrom,omitempty"`
	Values           map[string]any     `json:"values,omitempty"`
	PostRenderers    []postRendererSpec `json:"postRenderers,omitempty"`
	KubeConfig       *struct{}          `json:"kubeConfig,omitempty"`
}

type chartTemplate struct {
	Spec chartSpec `json:"spec"`
}

// chartSpec is a HelmRelease's spec.chart.spec (helm-controller api/v2
// HelmChartTemplateSpec) or a HelmChart's spec (source-controller api/v1
// HelmChartSpec): the fields both have that change the chart rendered.
type chartSpec struct {
	Chart                    string            `json:"chart"`
	Version                  string            `json:"version,omitempty"`
	SourceRef                crossNamespaceRef `json:"sourceRef"`
	ValuesFiles              []string          `json:"valuesFiles,omitempty"`
	ValuesFile               string            `json:"valuesFile,omitempty"`
	IgnoreMissingValuesFiles bool              `json:"ignoreMissingValuesFiles,omitempty"`
}

type crossNamespaceRef struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Namespace  string `json:"namespace,omitempty"`
}

type installSpec struct {
	CRDs string `json:"crds,omitempty"`
}

type valuesReference struct {
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	ValuesKey  string `json:"valuesKey,omitempty"`
	TargetPath string `json:"targetPath,omitempty"`
	Optional   bool   `json:"optional,omitempty"`
}

// key is spec.valuesFrom[].valuesKey, "values.yaml" when unset
// (meta.ValuesReference.GetValuesKey).
func (v valuesReference) key() string {
	if v.ValuesKey == "" {
		return "values.yaml"
	}
	return v.ValuesKey
}

type postRendererSpec struct {
	Kustomize *kustomizeSpec `json:"kustomize,omitempty"`
}

type kustomizeSpec struct {
	Patches []json.RawMessage `json:"patches,omitempty"`
	Images  []json.RawMessage `json:"images,omitempty"`
}

// parseRelease reads a HelmRelease object.
func parseRelease(obj *unstructured.Unstructured) (*release, error) {
	spec, _, _ := unstructured.NestedFieldNoCopy(obj.Object, "spec")
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	r := &release{Namespace: obj.GetNamespace(), Name: obj.GetName()}
	if err := json.Unmarshal(b, &r.Spec); err != nil {
		return nil, fmt.Errorf("HelmRelease %s/%s: spec: %w", r.Namespace, r.Name, err)
	}
	return r, nil
}

// releaseName is the Helm release name: spec.releaseName, else
// "targetNamespace-name" when targetNamespace is set, else the name;
// shortened to 53 characters by ShortenName (helm-controller api/v2
// HelmRelease.GetReleaseName and internal/release.ShortenName).
func (r *release) releaseName() string {
	name := r.Spec.ReleaseName
	if name == "" {
		name = r.Name
		if r.Spec.TargetNamespace != "" {
			name = r.Spec.TargetNamespace + "-" + r.Name
		}
	}
	return shortenName(name)
}

// shortenName keeps names of up to 53 characters; a longer one becomes its
// first 40 characters, "-" and the first 12 hex digits of its SHA-256
// (helm-controller internal/release.ShortenName).
func shortenName(name string) string {
	const maxLength, hashLength = 53, 12
	if len(name) <= maxLength {
		return name
	}
	sum := fmt.Sprintf("%x", sha256.Sum256([]byte(name)))
	return name[:maxLength-hashLength-1] + "-" + sum[:hashLength]
}

// releaseNamespace is spec.targetNamespace, else the HelmRelease's namespace
// (GetReleaseNamespace).
func (r *release) releaseNamespace() string {
	if r.Spec.TargetNamespace != "" {
		return r.Spec.TargetNamespace
	}
	return r.Namespace
}

// storageNamespace is spec.storageNamespace, else the HelmRelease's
// namespace (GetStorageNamespace).
func (r *release) storageNamespace() string {
	if r.Spec.StorageNamespace != "" {
		return r.Spec.StorageNamespace
	}
	return r.Namespace
}

// crdPolicy is install.crds (default Create) for a first install and
// upgrade.crds (default Skip) for an upgrade (helm-controller
// internal/action/crds.go crdPolicyOrDefault and the CRDs fields of
// api/v2 Install and Upgrade).
func (r *release) crdPolicy(upgrade bool) string {
	if upgrade {
		if r.Spec.Upgrade != nil && r.Spec.Upgrade.CRDs != "" {
			return r.Spec.Upgrade.CRDs
		}
		return "Skip"
	}
	if r.Spec.Install != nil && r.Spec.Install.CRDs != "" {
		return r.Spec.Install.CRDs
	}
	return "Create"
}
