package diff

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	openapierrors "k8s.io/kube-openapi/pkg/validation/errors"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
)

// awaitsDefinition reports whether a dry-run was refused only because the
// object's kind or Namespace does not exist yet: "no matches for kind", or
// not found. Any other refusal is about the object itself.
func awaitsDefinition(err error) bool {
	return meta.IsNoMatchError(err) || apierrors.IsNotFound(err)
}

// checkNewSchema validates c's object against the new schema of its kind
// when a build creates or changes its CustomResourceDefinition. The API
// server validates a dry-run against the schema it holds; kustomize-
// controller applies CRDs in a stage before custom resources, so those are
// validated against the new one. The check uses the API server's own
// schema code: its structural form, unknown fields (an apply of an unknown
// field fails, "field not declared in schema") and the OpenAPI value rules,
// with the API server's validation ratcheting: on an update, a value that
// does not change is not held against the object. Defaults and CEL rules
// (x-kubernetes-validations) are not applied: the packages that hold them
// would pull the API server's CEL runtime into fluxdiff. An object that
// fails becomes a failed change; failed and skipped changes are returned as
// they are. live is the existing object, nil for a new one.
func (r *run) checkNewSchema(c Change, obj, live *unstructured.Unstructured) Change {
	if c.Action == ActionFailed || c.Action == ActionSkipped {
		return c
	}
	crd := r.pending.definition(obj.GroupVersionKind().GroupKind())
	if crd == nil {
		return c
	}
	problems, err := validateCustomResource(crd, obj)
	var msgs []string
	for _, p := range problems {
		if p.value && live != nil && unchangedAt(p.path, obj, live) {
			continue // ratcheted
		}
		msgs = append(msgs, p.msg)
	}
	if err != nil {
		msgs = append(msgs, err.Error())
	}
	if len(msgs) == 0 {
		return c
	}
	f := changeFor(obj, ActionFailed)
	f.Reason = "fails the new schema of its CustomResourceDefinition, which the same change applies first: " + strings.Join(msgs, "; ")
	return f
}

// schemaProblem is one way an object fails a schema: path is the field
// (dot-separated, [i] for list items); value is false for an unknown field,
// true for a value rule.
type schemaProblem struct {
	path, msg string
	value     bool
}

// validateCustomResource validates obj against the schema crd gives obj's
// version. A CRD without a schema for that version validates nothing; err
// says that the schema could not be used.
func validateCustomResource(crd, obj *unstructured.Unstructured) ([]schemaProblem, error) {
	props, err := versionSchema(crd, obj.GroupVersionKind().Version)
	if err != nil || props == nil {
		return nil, err
	}
	s, err := structuralschema.NewStructural(props)
	if err != nil {
		return nil, fmt.Errorf("the new schema is not structural: %w", err)
	}
	u := runtime.DeepCopyJSON(obj.Object)
	var out []schemaProblem
	unknown := pruning.PruneWithOptions(u, s, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	for _, p := range unknown {
		out = append(out, schemaProblem{path: p, msg: "." + p + ": field not declared in schema"})
	}
	res := validate.NewSchemaValidator(s.ToKubeOpenAPI(), nil, "", strfmt.Default).Validate(u)
	for _, e := range res.Errors {
		p := schemaProblem{msg: e.Error(), value: true}
		var v *openapierrors.Validation
		if errors.As(e, &v) {
			p.path = strings.TrimPrefix(v.Name, ".")
		}
		out = append(out, p)
	}
	return out, nil
}

// unchangedAt reports whether the field at path holds the same value in a
// and b; a path that does not resolve in both counts as changed.
func unchangedAt(path string, a, b *unstructured.Unstructured) bool {
	if path == "" {
		return false
	}
	va, oka := valueAt(a.Object, path)
	vb, okb := valueAt(b.Object, path)
	return oka && okb && reflect.DeepEqual(va, vb)
}

// valueAt resolves a path like "spec.items[2].name" in v.
func valueAt(v any, path string) (any, bool) {
	for _, part := range strings.Split(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[name]; !ok {
				return nil, false
			}
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			i, err := strconv.Atoi(idx)
			l, isList := v.([]any)
			if !ok || err != nil || !isList || i < 0 || i >= len(l) {
				return nil, false
			}
			v, rest = l[i], strings.TrimPrefix(after, "[")
		}
	}
	return v, true
}

// versionSchema returns the internal form of crd's openAPIV3Schema for
// version, nil when it has none.
func versionSchema(crd *unstructured.Unstructured, version string) (*apiextensions.JSONSchemaProps, error) {
	var def apiextensionsv1.CustomResourceDefinition
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(crd.Object, &def); err != nil {
		return nil, fmt.Errorf("read the new CustomResourceDefinition: %w", err)
	}
	for _, v := range def.Spec.Versions {
		if v.Name != version || v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			continue
		}
		out := &apiextensions.JSONSchemaProps{}
		if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, out, nil); err != nil {
			return nil, fmt.Errorf("read the new schema: %w", err)
		}
		return out, nil
	}
	return nil, nil
}
