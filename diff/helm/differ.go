package helm

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/ssa"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/diff/helm/chartfetch"
)

// Differ renders the HelmReleases of a build and diffs the rendered objects
// against one cluster. It implements diff.HelmDiffer; set it as
// diff.Differ.Helm.
type Differ struct {
	// Live reads the cluster: source objects (HelmRepository,
	// OCIRepository, HelmChart), the ConfigMaps and Secrets of valuesFrom
	// and the repositories' credentials. Usually the diff.Differ's client.
	Live client.Client
	// Clientset reads Helm's release Secrets (storage driver "secret").
	Clientset kubernetes.Interface
	// Getter fetches charts from HelmRepositories and OCI registries.
	Getter chartfetch.Getter
	// Capabilities are the cluster's (see Discover); nil means Helm's
	// defaults.
	Capabilities *Capabilities
	// Only, when set ("namespace/name"), renders that HelmRelease whether
	// or not the change touches it, and no other (`diff helmrelease`).
	Only string
}

// owner is the field manager and label group helm-controller applies with.
var owner = ssa.Owner{Field: FieldManager, Group: Group}

// DiffHelmReleases implements diff.HelmDiffer: it renders every HelmRelease
// of the build that the change touches (see touched) and diffs it.
func (d *Differ) DiffHelmReleases(ctx context.Context, in diff.HelmInput) []diff.HelmReleaseReport {
	var out []diff.HelmReleaseReport
	for _, obj := range in.Objects {
		if obj.GetKind() != "HelmRelease" || obj.GroupVersionKind().Group != Group {
			continue
		}
		r, err := parseRelease(obj)
		if err != nil {
			out = append(out, diff.HelmReleaseReport{Namespace: obj.GetNamespace(), Name: obj.GetName(), Changes: []diff.Change{}, Error: err.Error()})
			continue
		}
		why := touched(in, r)
		if d.Only != "" {
			if d.Only != r.Namespace+"/"+r.Name {
				continue
			}
			why = whyChanged
		}
		if why == "" {
			continue
		}
		rep := d.Diff(ctx, in, r.Namespace, r.Name)
		if why == whyOwnChart && rep.Error == "" && rep.Counts.Created+rep.Counts.Configured+rep.Counts.Deleted+rep.Counts.Failed == 0 && rep.ValuesDiff == "" {
			continue // its chart in the repository is rendered unchanged
		}
		out = append(out, rep)
	}
	return out
}

// Reasons a HelmRelease is rendered.
const (
	whyChanged   = "the HelmRelease is created or changed"
	whyValues    = "a ConfigMap or Secret of its valuesFrom is created or changed"
	whyOwnChart  = "its chart is in the source being diffed"
	actionCreate = diff.ActionCreated
)

// touched says why the change touches r, or "": r itself is created or
// changed; a ConfigMap or Secret named in valuesFrom is created or changed
// by the same build; or its chart is a path of the Kustomization's own
// GitRepository (rendered from the pull request's tree, kept in the report
// only when something changes).
func touched(in diff.HelmInput, r *release) string {
	if c, ok := in.Changes["HelmRelease/"+r.Namespace+"/"+r.Name]; ok && (c.Action == actionCreate || c.Action == diff.ActionConfigured) {
		return whyChanged
	}
	for _, ref := range r.Spec.ValuesFrom {
		if c, ok := in.Changes[ref.Kind+"/"+r.Namespace+"/"+ref.Name]; ok && (c.Action == actionCreate || c.Action == diff.ActionConfigured) {
			return whyValues
		}
	}
	if ch := r.Spec.Chart; ch != nil && ch.Spec.SourceRef.Kind == "GitRepository" {
		l := chartLoader{in: in}
		if l.ownSource("GitRepository", defaultString(ch.Spec.SourceRef.Namespace, r.Namespace), ch.Spec.SourceRef.Name) {
			return whyOwnChart
		}
	}
	return ""
}

// Diff renders the HelmRelease namespace/name of in.Objects and diffs it.
// Every problem becomes the report's Error.
func (d *Differ) Diff(ctx context.Context, in diff.HelmInput, namespace, name string) (rep diff.HelmReleaseReport) {
	rep = diff.HelmReleaseReport{Namespace: namespace, Name: name, Changes: []diff.Change{}}
	defer func() {
		if p := recover(); p != nil {
			rep.Changes, rep.Counts, rep.Risks = []diff.Change{}, diff.Counts{}, nil
			rep.Error = fmt.Sprintf("internal error while rendering: %v", p)
		}
	}()
	var obj *unstructured.Unstructured
	for _, o := range in.Objects {
		if o.GetKind() == "HelmRelease" && o.GetNamespace() == namespace && o.GetName() == name {
			obj = o
		}
	}
	if obj == nil {
		rep.Error = "HelmRelease " + namespace + "/" + name + " is not in the build"
		return rep
	}
	r, err := parseRelease(obj)
	if err != nil {
		rep.Error = err.Error()
		return rep
	}
	rep.ReleaseName, rep.ReleaseNamespace = r.releaseName(), r.releaseNamespace()
	switch {
	case r.Spec.Suspend:
		rep.Warnings = append(rep.Warnings, "spec.suspend is true: helm-controller leaves the release as it is, so it is not rendered")
		return rep
	case r.Spec.KubeConfig != nil:
		rep.Warnings = append(rep.Warnings, "spec.kubeConfig is set: the release lives in another cluster, so it is not rendered")
		return rep
	}
	if err := d.diffRelease(ctx, in, r, &rep); err != nil {
		rep.Changes, rep.Counts, rep.Risks = []diff.Change{}, diff.Counts{}, nil
		rep.Error = err.Error()
	}
	return rep
}
