package helm

import (
	"context"
	"fmt"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Rendered is a HelmRelease rendered with a given chart, for tools that
// simulate helm-controller (kube/fluxsim): fluxdiff itself never applies.
type Rendered struct {
	// ReleaseName, Namespace (of the release's objects) and
	// StorageNamespace (of the release Secret) follow helm-controller.
	ReleaseName, Namespace, StorageNamespace string
	// Objects are the objects as Helm applies them (namespaces defaulted,
	// Helm's ownership metadata, helm-controller's origin labels).
	Objects []*unstructured.Unstructured
	// Manifest is the release manifest Helm stores; Values the values
	// helm-controller passes to Helm (valuesFrom then values).
	Manifest string
	Values   map[string]any
}

// Render renders the HelmRelease obj with chart ch, values read from live
// (ConfigMaps and Secrets of valuesFrom), as a first install.
func Render(ctx context.Context, live client.Client, obj *unstructured.Unstructured, ch *chartv2.Chart, caps *Capabilities) (*Rendered, error) {
	r, err := parseRelease(obj)
	if err != nil {
		return nil, err
	}
	vals, err := composeValues(ctx, objectSource{live: live}, r)
	if err != nil {
		return nil, err
	}
	d := &Differ{Live: live, Capabilities: caps}
	objs, res, err := d.renderObjects(ctx, r, ch, vals.merged, false)
	if err != nil {
		return nil, fmt.Errorf("HelmRelease %s/%s: %w", r.Namespace, r.Name, err)
	}
	return &Rendered{
		ReleaseName: r.releaseName(), Namespace: r.releaseNamespace(), StorageNamespace: r.storageNamespace(),
		Objects: objs, Manifest: res.manifest, Values: vals.merged,
	}, nil
}
