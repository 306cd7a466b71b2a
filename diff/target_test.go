package diff

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestARemoteTargetIsNamedAfterTheClusterThatHoldsTheKustomization(t *testing.T) {
	for _, tc := range []struct {
		k    KustomizationReport
		want string
	}{
		{KustomizationReport{Cluster: "mgmt"}, "mgmt"},
		{KustomizationReport{Cluster: "mgmt", Target: "spoke-kubeconfig"}, "mgmt → spoke-kubeconfig"},
		{KustomizationReport{Target: "spoke-kubeconfig"}, "spoke-kubeconfig"},
		{KustomizationReport{}, ""},
	} {
		if got := tc.k.Where(); got != tc.want {
			t.Errorf("%+v.Where() = %q, want %q", tc.k, got, tc.want)
		}
	}
	rep := &Report{Kustomizations: []KustomizationReport{{Cluster: "mgmt", Target: "spoke", Namespace: "ns", Name: "apps", Changes: []Change{}}}}
	var text, md bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "markdown": md.String()} {
		if !strings.Contains(out, "mgmt → spoke") {
			t.Errorf("the %s rendering does not name the target:\n%s", name, out)
		}
	}
	b, err := json.Marshal(rep.Kustomizations[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"cluster":"mgmt","target":"spoke"`) {
		t.Errorf("JSON %s, want cluster and target apart", b)
	}
}
