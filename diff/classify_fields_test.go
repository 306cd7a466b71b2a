package diff

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func obj(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestChangedPathsStopAtTheFirstDifference(t *testing.T) {
	live := obj(t, `
metadata: {labels: {app.kubernetes.io/name: web, team: a}}
spec:
  replicas: 5
  template: {spec: {containers: [{name: web, image: "nginx:1.27"}, {name: log, image: "busybox"}]}}
  ports: [80]`)
	merged := obj(t, `
metadata: {labels: {app.kubernetes.io/name: web}}
spec:
  replicas: 2
  paused: false
  template: {spec: {containers: [{name: web, image: "nginx:1.28"}, {name: log, image: "busybox"}]}}
  ports: [80, 443]`)
	var got []string
	for _, p := range changedPaths(live.Object, merged.Object) {
		got = append(got, pathString(p, merged.Object))
	}
	want := []string{"metadata.labels.team", "spec.paused", "spec.ports", "spec.replicas", "spec.template.spec.containers[name=web].image"}
	if d := cmp.Diff(want, slices.Sorted(slices.Values(got))); d != "" {
		t.Errorf("paths (-want +got):\n%s", d)
	}
	if s := pathString(fieldPath{"metadata", "labels", "app.kubernetes.io/name"}, merged.Object); s != `metadata.labels["app.kubernetes.io/name"]` {
		t.Errorf("a key with dots renders as %s", s)
	}
}

// withValuesOf takes only the chosen fields of the merged object, so that
// the pull request's part and the drift part of a diff can be shown apart.
func TestWithValuesOfTakesOnlyTheChosenFields(t *testing.T) {
	live := obj(t, "spec: {replicas: 5, image: a, extra: x}")
	merged := obj(t, "spec: {replicas: 2, image: b}")
	got := withValuesOf(live, merged, []fieldPath{{"spec", "image"}, {"spec", "extra"}})
	want := obj(t, "spec: {replicas: 5, image: b}")
	if d := cmp.Diff(want.Object, got.Object); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if d := cmp.Diff(obj(t, "spec: {replicas: 5, image: a, extra: x}").Object, live.Object); d != "" {
		t.Errorf("the live object was changed (-want +got):\n%s", d)
	}
}

func TestOverlapsIsPrefixEitherWay(t *testing.T) {
	paths := []fieldPath{{"spec", "template"}, {"data", "key"}}
	for p, want := range map[string]bool{"spec.template.spec": true, "spec": true, "data.other": false, "metadata": false} {
		var fp fieldPath
		for _, s := range strings.Split(p, ".") {
			fp = append(fp, s)
		}
		if got := overlaps(fp, paths); got != want {
			t.Errorf("overlaps(%s) = %v, want %v", p, got, want)
		}
	}
}
