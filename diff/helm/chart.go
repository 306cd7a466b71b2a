package helm

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/diff/helm/chartfetch"
)

// sourceGroup is the API group of Flux's source kinds.
const sourceGroup = "source.toolkit.fluxcd.io"

// sourceVersions are the versions a source kind is read at from the
// cluster, newest first.
var sourceVersions = map[string][]string{
	"HelmRepository": {"v1", "v1beta2"},
	"GitRepository":  {"v1", "v1beta2"},
	"OCIRepository":  {"v1", "v1beta2"},
	"HelmChart":      {"v1", "v1beta2"},
	"Bucket":         {"v1", "v1beta2"},
}

// loadedChart is a chart ready to render and where it came from.
type loadedChart struct {
	chart *chartv2.Chart
	// source is Kind/namespace/name of the source object.
	source string
	// reload loads a fresh copy (a render may change a chart's
	// dependencies).
	reload func() (*chartv2.Chart, error)
}

// chartLoader resolves a HelmRelease's chart: from the pull request's tree
// for a GitRepository that is the Kustomization's own source, else through
// the Getter.
type chartLoader struct {
	in     diff.HelmInput
	live   client.Reader
	getter chartfetch.Getter
}

// load resolves spec.chartRef (OCIRepository, HelmChart) or spec.chart.spec.
func (l *chartLoader) load(ctx context.Context, r *release) (*loadedChart, error) {
	switch {
	case r.Spec.ChartRef != nil:
		ref := *r.Spec.ChartRef
		ns := defaultString(ref.Namespace, r.Namespace)
		switch ref.Kind {
		case "OCIRepository":
			return l.fromOCIRepository(ctx, ns, ref.Name)
		case "HelmChart":
			hc, live, err := l.source(ctx, "HelmChart", ns, ref.Name)
			if err != nil {
				return nil, err
			}
			var spec chartSpec
			if err := fromField(hc, &spec, "spec"); err != nil {
				return nil, err
			}
			return l.fromChartSpec(ctx, ns, spec, live)
		}
		return nil, fmt.Errorf("spec.chartRef kind %q is not supported (OCIRepository or HelmChart)", ref.Kind)
	case r.Spec.Chart != nil:
		spec := r.Spec.Chart.Spec
		var live *unstructured.Unstructured
		if valuesFilesOf(spec) != nil {
			// helm-controller's HelmChart for the template: named
			// "<namespace>-<name>" of the HelmRelease, in the source's
			// namespace (api/v2 HelmRelease.GetHelmChartName,
			// HelmChartTemplate.GetNamespace).
			var err error
			live, err = l.liveSource(ctx, "HelmChart", defaultString(spec.SourceRef.Namespace, r.Namespace), r.Namespace+"-"+r.Name)
			if err != nil {
				return nil, err
			}
		}
		return l.fromChartSpec(ctx, r.Namespace, spec, live)
	}
	return nil, fmt.Errorf("neither spec.chart nor spec.chartRef is set")
}

// fromChartSpec resolves a chart template (HelmRelease spec.chart.spec or a
// HelmChart's spec) whose sourceRef defaults to namespace ns, with its
// valuesFiles applied as source-controller builds the HelmChart; live is
// that HelmChart in the cluster, nil when it has none.
func (l *chartLoader) fromChartSpec(ctx context.Context, ns string, spec chartSpec, live *unstructured.Unstructured) (*loadedChart, error) {
	lc, err := l.fromChartSource(ctx, ns, spec)
	if err != nil {
		return nil, err
	}
	return l.withValuesFiles(lc, spec, spec.SourceRef.Kind == "GitRepository", chartGeneration(spec, live))
}

// fromChartSource loads the chart of spec from its source, as published.
func (l *chartLoader) fromChartSource(ctx context.Context, ns string, spec chartSpec) (*loadedChart, error) {
	ref := spec.SourceRef
	sns := defaultString(ref.Namespace, ns)
	id := ref.Kind + "/" + sns + "/" + ref.Name
	switch ref.Kind {
	case "HelmRepository":
		obj, live, err := l.source(ctx, ref.Kind, sns, ref.Name)
		if err != nil {
			return nil, err
		}
		src, err := l.repositorySource(ctx, obj, live)
		if err != nil {
			return nil, err
		}
		return l.fetch(ctx, id, chartfetch.Request{Source: src, Chart: spec.Chart, Version: spec.Version})
	case "GitRepository":
		if !l.ownSource(ref.Kind, sns, ref.Name) {
			return nil, fmt.Errorf("chart %s comes from %s, which is not the source of this diff: not rendered", spec.Chart, id)
		}
		ch, err := l.fromTree(spec.Chart)
		if err != nil {
			return nil, err
		}
		return &loadedChart{chart: ch, source: id, reload: func() (*chartv2.Chart, error) { return l.fromTree(spec.Chart) }}, nil
	}
	return nil, fmt.Errorf("charts from a %s (%s) are not rendered", ref.Kind, id)
}

// fromOCIRepository resolves an OCIRepository chartRef.
func (l *chartLoader) fromOCIRepository(ctx context.Context, ns, name string) (*loadedChart, error) {
	obj, live, err := l.source(ctx, "OCIRepository", ns, name)
	if err != nil {
		return nil, err
	}
	src, err := l.repositorySource(ctx, obj, live)
	if err != nil {
		return nil, err
	}
	src.Type = "oci"
	// spec.ref of source-controller's OCIRepository (api/v1
	// OCIRepositoryRef); which of them wins is chartfetch's (Request).
	var ref struct {
		Tag          string `json:"tag"`
		Digest       string `json:"digest"`
		Semver       string `json:"semver"`
		SemverFilter string `json:"semverFilter"`
	}
	if err := fromField(obj, &ref, "spec", "ref"); err != nil {
		return nil, fmt.Errorf("OCIRepository %s/%s: spec.ref: %w", ns, name, err)
	}
	return l.fetch(ctx, "OCIRepository/"+ns+"/"+name, chartfetch.Request{
		Source: src, Version: ref.Semver, Tag: ref.Tag, Digest: ref.Digest, SemverFilter: ref.SemverFilter,
	})
}

// fetch asks the Getter and loads the archive.
func (l *chartLoader) fetch(ctx context.Context, id string, req chartfetch.Request) (*loadedChart, error) {
	what := req.Chart
	if what == "" {
		what = "the chart"
	}
	if l.getter == nil {
		return nil, fmt.Errorf("%s from %s: no chart fetcher is configured", what, id)
	}
	got, err := l.getter.Fetch(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("%s from %s (%s): %w", what, id, req.Source.URL, err)
	}
	reload := func() (*chartv2.Chart, error) { return loader.LoadArchive(bytes.NewReader(got.Archive)) }
	ch, err := reload()
	if err != nil {
		return nil, fmt.Errorf("%s %s from %s: load archive: %w", what, got.Version, id, err)
	}
	return &loadedChart{chart: ch, source: id, reload: reload}, nil
}

// fromTree loads a chart folder of the pull request's tree; the path may not
// leave the tree.
func (l *chartLoader) fromTree(chartPath string) (*chartv2.Chart, error) {
	rel := path.Clean("/" + filepath.ToSlash(chartPath))
	dir := filepath.Join(l.in.Root, filepath.FromSlash(rel))
	if !strings.HasPrefix(dir, filepath.Clean(l.in.Root)) {
		return nil, fmt.Errorf("chart path %q leaves the source tree", chartPath)
	}
	ch, err := loader.LoadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("chart %s of the pull request: %w", chartPath, err)
	}
	return ch, nil
}

// ownSource reports whether kind/ns/name is the Kustomization's source.
func (l *chartLoader) ownSource(kind, ns, name string) bool {
	ref := l.in.Kustomization.Spec.SourceRef
	return ref.Kind == kind && ref.Name == name && defaultString(ref.Namespace, l.in.Kustomization.Namespace) == ns
}

// source finds a source object in the pull request's build, else in the
// cluster; live is the cluster's copy (nil when it has none).
func (l *chartLoader) source(ctx context.Context, kind, ns, name string) (obj, live *unstructured.Unstructured, err error) {
	live, err = l.liveSource(ctx, kind, ns, name)
	if err != nil {
		return nil, nil, err
	}
	for _, o := range l.in.Objects {
		if o.GetKind() == kind && o.GroupVersionKind().Group == sourceGroup && o.GetNamespace() == ns && o.GetName() == name {
			return o, live, nil
		}
	}
	if live == nil {
		return nil, nil, fmt.Errorf("%s %s/%s is neither in this change nor in the cluster", kind, ns, name)
	}
	return live, live, nil
}

func (l *chartLoader) liveSource(ctx context.Context, kind, ns, name string) (*unstructured.Unstructured, error) {
	if l.live == nil {
		return nil, nil
	}
	var last error
	for _, v := range sourceVersions[kind] {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(sourceGroup + "/" + v)
		u.SetKind(kind)
		err := l.live.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u)
		switch {
		case err == nil:
			return u, nil
		case apierrors.IsNotFound(err):
			return nil, nil
		}
		last = err
	}
	if last != nil && !isNoMatch(last) {
		return nil, fmt.Errorf("read %s %s/%s: %w", kind, ns, name, last)
	}
	return nil, nil
}

func defaultString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// fromField decodes obj's field at path into out.
func fromField(obj *unstructured.Unstructured, out any, path ...string) error {
	v, _, _ := unstructured.NestedFieldNoCopy(obj.Object, path...)
	return remarshal(v, out)
}
