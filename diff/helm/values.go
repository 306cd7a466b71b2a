package helm

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/strvals"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// values are a release's computed values and, when any came from a
// Secret, the same values with each Secret-sourced value replaced by
// diff.SecretMarker (marked), and the Secret values seen (to scrub).
type values struct {
	merged  map[string]any
	marked  map[string]any
	secrets []string
}

// objectSource finds ConfigMaps and Secrets: in the pull request's build
// first (it is what the cluster will hold), else in the cluster.
type objectSource struct {
	built []*unstructured.Unstructured
	live  client.Reader
}

// data returns the data of a ConfigMap or Secret (decoded), whether it was
// found, and the live Secret's values too (for scrubbing: the diff shows
// old values as well).
func (s objectSource) data(ctx context.Context, kind, namespace, name string) (data map[string]string, found bool, old []string, err error) {
	liveData, liveFound, err := s.liveData(ctx, kind, namespace, name)
	if err != nil {
		return nil, false, nil, err
	}
	for _, v := range liveData {
		old = append(old, v)
	}
	for _, o := range s.built {
		if o.GetKind() == kind && o.GetAPIVersion() == "v1" && o.GetNamespace() == namespace && o.GetName() == name {
			d, err := objectData(o)
			return d, true, old, err
		}
	}
	return liveData, liveFound, old, nil
}

func (s objectSource) liveData(ctx context.Context, kind, namespace, name string) (map[string]string, bool, error) {
	if s.live == nil {
		return nil, false, nil
	}
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind(kind)
	err := s.live.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, u)
	switch {
	case apierrors.IsNotFound(err):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("read %s %s/%s: %w", kind, namespace, name, err)
	}
	d, err := objectData(u)
	return d, true, err
}

// objectData returns data (and binaryData, for a ConfigMap) of a ConfigMap,
// or data (base64-decoded) and stringData of a Secret, as strings.
func objectData(o *unstructured.Unstructured) (map[string]string, error) {
	out := map[string]string{}
	data, _, _ := unstructured.NestedMap(o.Object, "data")
	for k, v := range data {
		s, _ := v.(string)
		if o.GetKind() == "Secret" {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("Secret %s/%s: data.%s is not base64", o.GetNamespace(), o.GetName(), k)
			}
			s = string(b)
		}
		out[k] = s
	}
	if o.GetKind() == "Secret" {
		sdata, _, _ := unstructured.NestedMap(o.Object, "stringData")
		for k, v := range sdata {
			out[k] = fmt.Sprint(v)
		}
	}
	return out, nil
}

// composeValues computes a release's values as helm-controller does
// (fluxcd/pkg chartutil.ChartValuesFromReferences): every valuesFrom
// reference in order, each ConfigMap or Secret read once from the
// HelmRelease's namespace, data[valuesKey] merged deeply (or, with
// targetPath, spec.values merged first and the value set at the path as
// `helm --set` would, a quoted value as a string), a missing object or key
// skipped when optional and an error otherwise; spec.values merged last.
// The chart's defaults are merged under them by Helm when rendering.
func composeValues(ctx context.Context, src objectSource, r *release) (*values, error) {
	out := &values{merged: map[string]any{}, marked: map[string]any{}}
	anySecret := false
	for _, ref := range r.Spec.ValuesFrom {
		if ref.Kind != "ConfigMap" && ref.Kind != "Secret" {
			return nil, refError(r, ref, "unsupported values reference kind")
		}
		data, found, old, err := src.data(ctx, ref.Kind, r.Namespace, ref.Name)
		if err != nil {
			return nil, refError(r, ref, err.Error())
		}
		if !found {
			if ref.Optional {
				continue
			}
			return nil, refError(r, ref, "resource not found")
		}
		raw, ok := data[ref.key()]
		if !ok {
			if ref.Optional {
				continue
			}
			return nil, refError(r, ref, "key not found")
		}
		secret := ref.Kind == "Secret"
		if secret {
			anySecret = true
			out.secrets = append(out.secrets, leafStrings(raw)...)
			for _, o := range old {
				out.secrets = append(out.secrets, leafStrings(o)...)
			}
		}
		if err := out.merge(r, ref, raw, secret); err != nil {
			return nil, err
		}
	}
	out.merged = mergeMaps(out.merged, r.Spec.Values)
	out.marked = mergeMaps(out.marked, r.Spec.Values)
	if !anySecret {
		out.marked = nil
	}
	return out, nil
}

// merge adds one reference's data to both the real and the marked values.
func (v *values) merge(r *release, ref valuesReference, raw string, secret bool) error {
	markedRaw := raw
	if secret {
		markedRaw = markLeaves(raw, ref.TargetPath != "")
	}
	if ref.TargetPath != "" {
		v.merged = mergeMaps(v.merged, r.Spec.Values)
		v.marked = mergeMaps(v.marked, r.Spec.Values)
		if err := replacePathValue(v.merged, ref.TargetPath, raw); err != nil {
			return refError(r, ref, "failed to merge value: "+err.Error())
		}
		return replacePathValue(v.marked, ref.TargetPath, markedRaw)
	}
	vals, err := common.ReadValues([]byte(raw))
	if err != nil {
		return refError(r, ref, "failed to read values data: "+err.Error())
	}
	v.merged = mergeMaps(v.merged, vals)
	markedVals, err := common.ReadValues([]byte(markedRaw))
	if err != nil {
		return refError(r, ref, "failed to read values data: "+err.Error())
	}
	v.marked = mergeMaps(v.marked, markedVals)
	return nil
}

// replacePathValue sets value at a dot-notation path with Helm's --set
// parser; a single- or double-quoted value is set as a string
// (fluxcd/pkg chartutil.ReplacePathValue).
func replacePathValue(vals map[string]any, path, value string) error {
	quoted := len(value) >= 2 && (value[0] == '\'' && value[len(value)-1] == '\'' || value[0] == '"' && value[len(value)-1] == '"')
	if quoted {
		return strvals.ParseIntoString(path+"="+strings.Trim(value, `'"`), vals)
	}
	return strvals.ParseInto(path+"="+value, vals)
}

// mergeMaps merges b into a copy of a: nested maps merge, anything else in
// b replaces (fluxcd/pkg chartutil.MergeMaps).
func mergeMaps(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if bm, ok := v.(map[string]any); ok {
			// A copy even when a has no such map: the real and the marked
			// values must not share maps that --set parsing changes.
			am, _ := out[k].(map[string]any)
			out[k] = mergeMaps(am, bm)
			continue
		}
		out[k] = v
	}
	return out
}

func refError(r *release, ref valuesReference, why string) error {
	opt := ""
	if ref.Optional {
		opt = " optional"
	}
	return fmt.Errorf("could not resolve%s %s chart values reference '%s/%s' with key '%s': %s",
		opt, ref.Kind, r.Namespace, ref.Name, ref.key(), why)
}
