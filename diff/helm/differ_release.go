package helm

import (
	"context"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	rv1 "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fluxdiff/fluxdiff/diff"
)

// diffRelease resolves the chart and values of r, renders it (twice when
// values come from Secrets: the second, marked render locates the fields
// that carry them), and diffs the objects against the cluster and the
// current release.
func (d *Differ) diffRelease(ctx context.Context, in diff.HelmInput, r *release, rep *diff.HelmReleaseReport) error {
	cur, err := currentRelease(d.Clientset, r.storageNamespace(), r.releaseName())
	if err != nil {
		return err
	}
	if cur != nil && cur.Chart != nil && cur.Chart.Metadata != nil {
		rep.OldVersion = cur.Chart.Metadata.Version
	}
	loader := &chartLoader{in: in, live: d.Live, getter: d.Getter}
	lc, err := loader.load(ctx, r)
	if err != nil {
		return err
	}
	rep.Chart, rep.ChartSource, rep.NewVersion = lc.chart.Name(), lc.source, lc.chart.Metadata.Version
	vals, err := composeValues(ctx, objectSource{built: in.Objects, live: d.Live}, r)
	if err != nil {
		return err
	}
	if in.AddSecrets != nil {
		in.AddSecrets(vals.secrets...)
	}
	upgrade := cur != nil
	objs, res, err := d.renderObjects(ctx, r, lc.chart, vals.merged, upgrade)
	if err != nil {
		return err
	}
	rep.Hooks, rep.Tests = res.hooks, res.tests
	set := diff.RenderedSet{Owner: owner}
	marked := map[string]*unstructured.Unstructured{}
	if vals.marked != nil {
		if err := d.markedObjects(ctx, r, lc, vals.marked, upgrade, marked); err != nil {
			rep.Warnings = append(rep.Warnings, "the render with Secret values marked failed, so fields are masked by value only: "+err.Error())
		}
	}
	for _, o := range objs {
		set.Objects = append(set.Objects, diff.RenderedObject{Object: o, Marked: marked[objectID(o)]})
	}
	if cur != nil {
		if set.Previous, err = splitManifest(cur.Manifest); err != nil {
			return err
		}
		d.setNamespaces(set.Previous, cur.Namespace)
	}
	found := in.DryRun(ctx, set)
	// A CRD the Create policy leaves as it is carries no flag: the rules
	// that flag a configured object (RBAC, images) never match a CRD.
	rep.Changes, rep.Risks = applyCRDPolicy(found.Changes, res.crds, r.crdPolicy(upgrade)), found.Risks
	rep.Tally()
	rep.ValuesDiff, err = diff.MaskedValuesDiff(oldConfig(cur), vals.merged, vals.marked)
	return err
}

// renderObjects renders and prepares the objects as Helm and
// helm-controller would apply them: namespaces defaulted to the release
// namespace for namespaced kinds, Helm's ownership metadata, and the
// chart's CRDs (with the origin labels) when the CRD policy applies them.
func (d *Differ) renderObjects(ctx context.Context, r *release, ch *chartv2.Chart, vals map[string]any, upgrade bool) ([]*unstructured.Unstructured, *rendered, error) {
	res, err := render(ctx, r, ch, vals, d.Capabilities, upgrade)
	if err != nil {
		return nil, nil, err
	}
	d.setNamespaces(res.objects, r.releaseNamespace())
	for _, o := range res.objects {
		setHelmMetadata(o, r.releaseName(), r.releaseNamespace())
	}
	crds, err := crdObjects(ch, r.crdPolicy(upgrade))
	if err != nil {
		return nil, nil, err
	}
	for _, c := range crds {
		labels := c.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[LabelName], labels[LabelNamespace] = r.Name, r.Namespace
		c.SetLabels(labels)
		res.crds[objectID(c)] = true
	}
	return append(crds, res.objects...), res, nil
}

// markedObjects renders a fresh copy of the chart with the marked values
// and records the objects by objectID.
func (d *Differ) markedObjects(ctx context.Context, r *release, lc *loadedChart, vals map[string]any, upgrade bool, out map[string]*unstructured.Unstructured) error {
	ch, err := lc.reload()
	if err != nil {
		return err
	}
	objs, _, err := d.renderObjects(ctx, r, ch, vals, upgrade)
	if err != nil {
		return err
	}
	for _, o := range objs {
		out[objectID(o)] = o
	}
	return nil
}

// setNamespaces gives namespaced objects without a namespace ns, as Helm's
// kube client does when it builds the release's objects. A kind the cluster
// does not know yet (its CRD comes with the chart) counts as namespaced.
func (d *Differ) setNamespaces(objs []*unstructured.Unstructured, ns string) {
	for _, o := range objs {
		if o.GetNamespace() != "" {
			continue
		}
		namespaced := true
		if d.Live != nil {
			if n, err := d.Live.IsObjectNamespaced(o); err == nil {
				namespaced = n
			}
		}
		if namespaced {
			o.SetNamespace(ns)
		}
	}
}

// applyCRDPolicy turns changes of existing CRDs into skips under the
// Create policy: helm-controller creates missing CRDs but leaves existing
// ones as they are (internal/action/crds.go).
func applyCRDPolicy(changes []diff.Change, crds map[string]bool, policy string) []diff.Change {
	if policy != crdPolicyCreate {
		return changes
	}
	for i, c := range changes {
		if crds[c.Kind+"/"+c.Name] && c.Action == diff.ActionConfigured {
			changes[i] = diff.Change{Action: diff.ActionSkipped, APIVersion: c.APIVersion, Kind: c.Kind, Name: c.Name,
				Reason: "the CRD policy is Create: an existing CustomResourceDefinition is left as it is"}
		}
	}
	return changes
}

// objectID is Kind/namespace/name, as diff.Change.ID.
func objectID(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetKind() + "/" + o.GetName()
	}
	return o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
}

// oldConfig is the current release's user-supplied values, nil without one.
func oldConfig(cur *rv1.Release) map[string]any {
	if cur == nil {
		return nil
	}
	return cur.Config
}
