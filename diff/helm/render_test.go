package helm

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
)

// The render follows helm-controller: release name and namespace from the
// HelmRelease, the post-renderers in order (kustomize patches and images,
// internal/postrender/build.go) then the origin labels
// helm.toolkit.fluxcd.io/name|namespace (origin_labels.go), Helm's
// ownership metadata (helm pkg/action/validate.go setMetadataVisitor), and
// the chart's test hooks listed apart from the objects.
func TestRenderFollowsHelmController(t *testing.T) {
	ch, err := loader.LoadDir(filepath.Join("..", "..", "testdata", "charts", "podinfo"))
	if err != nil {
		t.Fatal(err)
	}
	patch := json.RawMessage(`{"patch":"- op: add\n  path: /metadata/annotations/patched\n  value: \"yes\"\n","target":{"kind":"Service"}}`)
	image := json.RawMessage(`{"name":"ghcr.io/stefanprodan/podinfo","newName":"registry.example/podinfo","newTag":"9.9.9"}`)
	r := &release{Namespace: "flux-system", Name: "podinfo", Spec: releaseSpec{
		TargetNamespace: "apps",
		PostRenderers:   []postRendererSpec{{Kustomize: &kustomizeSpec{Patches: []json.RawMessage{patch}, Images: []json.RawMessage{image}}}},
	}}
	d := &Differ{Capabilities: testCaps(t)}
	objs, res, err := d.renderObjects(context.Background(), r, ch, map[string]any{"replicaCount": 2}, false)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range objs {
		ids = append(ids, objectID(o))
		l, a := o.GetLabels(), o.GetAnnotations()
		if l[LabelName] != "podinfo" || l[LabelNamespace] != "flux-system" || l["app.kubernetes.io/managed-by"] != "Helm" {
			t.Errorf("%s labels = %v", objectID(o), l)
		}
		if a["meta.helm.sh/release-name"] != "apps-podinfo" || a["meta.helm.sh/release-namespace"] != "apps" {
			t.Errorf("%s annotations = %v", objectID(o), a)
		}
		switch o.GetKind() {
		case "Service":
			if a["patched"] != "yes" {
				t.Errorf("the kustomize patch was not applied to the Service: %v", a)
			}
		case "Deployment":
			b, _ := json.Marshal(o.Object)
			if !strings.Contains(string(b), `"image":"registry.example/podinfo:9.9.9"`) || !strings.Contains(string(b), `"replicas":2`) {
				t.Errorf("Deployment lacks the new image or replicas: %s", b)
			}
		}
	}
	slices.Sort(ids)
	if want := []string{"Deployment/apps/apps-podinfo", "Service/apps/apps-podinfo"}; !slices.Equal(ids, want) {
		t.Errorf("objects = %v, want %v", ids, want)
	}
	if len(res.tests) == 0 || len(res.hooks) != 0 {
		t.Errorf("hooks %v, tests %v: want podinfo's test hooks listed as tests only", res.hooks, res.tests)
	}
	if !strings.Contains(res.manifest, "helm.toolkit.fluxcd.io/name: podinfo") {
		t.Errorf("the stored manifest lacks the origin labels")
	}
}

// testCaps are a cluster's capabilities (podinfo requires Kubernetes
// 1.23 or later; Helm's defaults without a cluster say 1.20).
func testCaps(t *testing.T) *Capabilities {
	kv, err := common.ParseKubeVersion("v1.35.0")
	if err != nil {
		t.Fatal(err)
	}
	return &Capabilities{KubeVersion: kv, APIVersions: common.DefaultVersionSet}
}

// A template error names the chart, its version and the template.
func TestRenderErrorNamesChartAndTemplate(t *testing.T) {
	ch := &chartv2.Chart{
		Metadata:  &chartv2.Metadata{APIVersion: "v2", Name: "broken", Version: "0.1.0"},
		Templates: []*common.File{{Name: "templates/cm.yaml", Data: []byte("value: {{ .Values.missing.key }}\n")}},
	}
	r := &release{Namespace: "apps", Name: "broken"}
	_, err := render(context.Background(), r, ch, nil, testCaps(t), false)
	if err == nil || !strings.Contains(err.Error(), "render chart broken 0.1.0") || !strings.Contains(err.Error(), "broken/templates/cm.yaml") {
		t.Fatalf("err = %v", err)
	}
}
