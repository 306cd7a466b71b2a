package helm

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	rv1 "helm.sh/helm/v4/pkg/release/v1"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Capabilities are what a chart sees as .Capabilities: the cluster's
// Kubernetes version and API versions ("group/version" and
// "group/version/Kind"), from its discovery (see Discover).
type Capabilities struct {
	KubeVersion *common.KubeVersion
	APIVersions common.VersionSet
}

// rendered is one render of a chart.
type rendered struct {
	version string
	// manifest is the release manifest as Helm stores it.
	manifest string
	// objects are the release manifest's objects, then the chart's CRDs
	// when the CRD policy applies them.
	objects []*unstructured.Unstructured
	// crds names the CRD objects among objects.
	crds map[string]bool
	// hooks and tests are "Kind/name (events)".
	hooks, tests []string
}

// Helm's ownership metadata, set on every object it applies (helm v4
// pkg/action/validate.go setMetadataVisitor).
const (
	labelManagedBy      = "app.kubernetes.io/managed-by"
	annotReleaseName    = "meta.helm.sh/release-name"
	annotReleaseNS      = "meta.helm.sh/release-namespace"
	helmManagedByValue  = "Helm"
	crdPolicySkip       = "Skip"
	crdPolicyCreate     = "Create"
	crdPolicyCreateRepl = "CreateReplace"
)

// render renders ch as helm-controller's install or upgrade does
// (internal/action/install.go newInstall): release name and namespace from
// the HelmRelease, Devel, SkipCRDs (CRDs are applied by policy, see
// crdObjects), hooks rendered, the post-renderers of postRenderers with
// Helm 4's default combined strategy; client-only, with caps as the
// cluster's capabilities.
func render(ctx context.Context, r *release, ch *chartv2.Chart, vals map[string]any, caps *Capabilities, upgrade bool) (*rendered, error) {
	pr, err := postRenderers(r)
	if err != nil {
		return nil, err
	}
	cfg := action.NewConfiguration()
	cfg.SetLogger(slog.DiscardHandler)
	inst := action.NewInstall(cfg)
	inst.DryRunStrategy = action.DryRunClient
	inst.ReleaseName, inst.Namespace = r.releaseName(), r.releaseNamespace()
	inst.Devel, inst.SkipCRDs, inst.IsUpgrade = true, true, upgrade
	inst.PostRenderer = pr
	if caps != nil {
		inst.KubeVersion, inst.APIVersions = caps.KubeVersion, caps.APIVersions
	}
	rel, err := inst.RunWithContext(ctx, ch, vals)
	if err != nil {
		return nil, fmt.Errorf("render chart %s %s: %w", ch.Name(), ch.Metadata.Version, err)
	}
	r1, ok := rel.(*rv1.Release)
	if !ok {
		return nil, fmt.Errorf("render chart %s: unexpected release type %T", ch.Name(), rel)
	}
	out := &rendered{version: ch.Metadata.Version, manifest: r1.Manifest, crds: map[string]bool{}}
	if out.objects, err = splitManifest(r1.Manifest); err != nil {
		return nil, fmt.Errorf("render chart %s %s: %w", ch.Name(), ch.Metadata.Version, err)
	}
	out.hooks, out.tests = listHooks(r1.Hooks)
	return out, nil
}

// splitManifest parses a release manifest into objects, in Helm's order.
func splitManifest(manifest string) ([]*unstructured.Unstructured, error) {
	docs := releaseutil.SplitManifests(manifest)
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	sort.Sort(releaseutil.BySplitManifestsOrder(keys))
	var out []*unstructured.Unstructured
	for _, k := range keys {
		objs, err := parseDocs(docs[k])
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// parseDocs parses YAML documents into objects, skipping empty ones.
func parseDocs(text string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, doc := range strings.Split("\n"+text, "\n---") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		m := map[string]any{}
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			return nil, fmt.Errorf("rendered manifest: %w", err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetKind() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("rendered manifest: an object without kind or name:\n%s", firstLines(doc, 5))
		}
		out = append(out, u)
	}
	return out, nil
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// listHooks lists hooks and test hooks as "Kind/name (events)".
func listHooks(hooks []*rv1.Hook) (others, tests []string) {
	for _, h := range hooks {
		var events []string
		test := false
		for _, e := range h.Events {
			events = append(events, string(e))
			test = test || e == rv1.HookTest
		}
		line := fmt.Sprintf("%s/%s (%s)", h.Kind, h.Name, strings.Join(events, ", "))
		if test {
			tests = append(tests, line)
		} else {
			others = append(others, line)
		}
	}
	slices.Sort(others)
	slices.Sort(tests)
	return others, tests
}

// crdObjects returns the chart's CRDs (crds/ folders, subcharts included)
// when policy applies them: Create and CreateReplace do, Skip does not
// (helm-controller internal/action/crds.go applyCRDs).
func crdObjects(ch *chartv2.Chart, policy string) ([]*unstructured.Unstructured, error) {
	if policy == crdPolicySkip {
		return nil, nil
	}
	var out []*unstructured.Unstructured
	for _, crd := range ch.CRDObjects() {
		objs, err := parseDocs(string(crd.File.Data))
		if err != nil {
			return nil, fmt.Errorf("chart %s: %s: %w", ch.Name(), crd.Filename, err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

// setHelmMetadata sets the label and annotations Helm puts on every object
// of a release.
func setHelmMetadata(obj *unstructured.Unstructured, releaseName, releaseNamespace string) {
	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[labelManagedBy] = helmManagedByValue
	obj.SetLabels(labels)
	annots := obj.GetAnnotations()
	if annots == nil {
		annots = map[string]string{}
	}
	annots[annotReleaseName], annots[annotReleaseNS] = releaseName, releaseNamespace
	obj.SetAnnotations(annots)
}
