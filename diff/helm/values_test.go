package helm

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/fluxdiff/fluxdiff/diff"
)

func mustObj(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

// The values helm-controller passes to Helm come from
// fluxcd/pkg chartutil.ChartValuesFromReferences: valuesFrom in order (deep
// merge; valuesKey defaulting to values.yaml; targetPath set with Helm's
// --set parser after merging spec.values, a quoted value as a string;
// optional references skipped when missing), then spec.values on top.
func TestComposeValuesFollowsChartValuesFromReferences(t *testing.T) {
	built := []*unstructured.Unstructured{
		mustObj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: base, namespace: apps}\ndata:\n  values.yaml: |\n    a: {x: 1, k: 1}\n    list: [1, 2]\n"),
		mustObj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: over, namespace: apps}\ndata:\n  custom: |\n    a: {k: 2}\n    list: [3]\n"),
		mustObj(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: apps}\nstringData:\n  token: '\"0123\"'\n  doc: |\n    auth: {password: hunter2hunter2}\n"),
	}
	r := &release{Namespace: "apps", Name: "app", Spec: releaseSpec{
		ValuesFrom: []valuesReference{
			{Kind: "ConfigMap", Name: "base"},
			{Kind: "ConfigMap", Name: "over", ValuesKey: "custom"},
			{Kind: "ConfigMap", Name: "missing", Optional: true},
			{Kind: "Secret", Name: "creds", ValuesKey: "token", TargetPath: "auth.token"},
			{Kind: "Secret", Name: "creds", ValuesKey: "doc"},
		},
		Values: map[string]any{"a": map[string]any{"z": 3}, "auth": map[string]any{"user": "me"}},
	}}
	v, err := composeValues(context.Background(), objectSource{built: built}, r)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"a":    map[string]any{"x": float64(1), "k": float64(2), "z": 3},
		"list": []any{float64(3)},
		"auth": map[string]any{"user": "me", "token": "0123", "password": "hunter2hunter2"},
	}
	if d := cmp.Diff(want, v.merged); d != "" {
		t.Errorf("values (-want +got):\n%s", d)
	}
	marked := v.marked["auth"].(map[string]any)
	if marked["token"] != diff.SecretMarker || marked["password"] != diff.SecretMarker || marked["user"] != "me" {
		t.Errorf("marked values = %v; want the Secret-sourced ones marked", v.marked)
	}
	if !strings.Contains(strings.Join(v.secrets, "\n"), "hunter2hunter2") {
		t.Errorf("secret values to scrub = %q; want the password among them", v.secrets)
	}
}

// A missing reference that is not optional is an error naming it
// (ErrValuesReference "could not resolve ... chart values reference").
func TestComposeValuesMissingReferenceIsAnError(t *testing.T) {
	r := &release{Namespace: "apps", Name: "app", Spec: releaseSpec{ValuesFrom: []valuesReference{{Kind: "Secret", Name: "nope"}}}}
	_, err := composeValues(context.Background(), objectSource{}, r)
	if err == nil || !strings.Contains(err.Error(), "could not resolve Secret chart values reference 'apps/nope' with key 'values.yaml': resource not found") {
		t.Fatalf("err = %v", err)
	}
}

// Release name and namespaces follow helm-controller api/v2
// (GetReleaseName, GetReleaseNamespace, GetStorageNamespace) and
// internal/release.ShortenName.
func TestReleaseNameAndNamespaces(t *testing.T) {
	r := &release{Namespace: "flux-system", Name: "podinfo"}
	if got := r.releaseName(); got != "podinfo" {
		t.Errorf("releaseName = %q", got)
	}
	r.Spec.TargetNamespace = "apps"
	if got, ns, st := r.releaseName(), r.releaseNamespace(), r.storageNamespace(); got != "apps-podinfo" || ns != "apps" || st != "flux-system" {
		t.Errorf("with targetNamespace: %q %q %q", got, ns, st)
	}
	r.Spec.TargetNamespace = strings.Repeat("x", 60)
	got := r.releaseName()
	if len(got) != 53 || !strings.HasPrefix(got, strings.Repeat("x", 40)+"-") {
		t.Errorf("long name shortened to %q (%d)", got, len(got))
	}
	r.Spec.ReleaseName, r.Spec.StorageNamespace = "mine", "helm"
	if r.releaseName() != "mine" || r.storageNamespace() != "helm" {
		t.Errorf("releaseName/storageNamespace not taken from spec")
	}
	if r.crdPolicy(false) != "Create" || r.crdPolicy(true) != "Skip" {
		t.Errorf("default CRD policies = %q, %q", r.crdPolicy(false), r.crdPolicy(true))
	}
}
