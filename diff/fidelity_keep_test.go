package diff

import (
	"strings"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// Scenario tests for results the engine already gets right (#15 item 14),
// kept so that they stay right. Each expected value is what
// kustomize-controller does on apply.

// TestKeepStringDataSecrets: the controller applies stringData as written
// and the API server folds it into data, so a Secret whose stringData
// matches the live data is unchanged, and a changed value is configured
// with both sides masked.
func TestKeepStringDataSecrets(t *testing.T) {
	ns := kubetest.Setup(t)
	applyLive(t, ns.Client, ns.Name, "app", `
apiVersion: v1
kind: Secret
metadata: {name: same, namespace: __NS__}
stringData: {user: alice-keep-3f2}
---
apiVersion: v1
kind: Secret
metadata: {name: rotated, namespace: __NS__}
stringData: {user: old-keep-value}
`)
	root := writeTree(t, ns.Name, map[string]string{"app/secrets.yaml": `
apiVersion: v1
kind: Secret
metadata: {name: same, namespace: __NS__}
stringData: {user: alice-keep-3f2}
---
apiVersion: v1
kind: Secret
metadata: {name: rotated, namespace: __NS__}
stringData: {user: new-keep-value}
`})
	ks := newKS(ns.Name, "app", "./app")
	rep, err := (&Differ{Client: ns.Client}).Diff(t.Context(), Request{Root: root, Kustomization: ks})
	if err != nil {
		t.Fatal(err)
	}
	k := rep.Kustomizations[0]
	wantRows(t, k, row{ActionUnchanged, "Secret", ns.Name, "same"}, row{ActionConfigured, "Secret", ns.Name, "rotated"})
	wantDiffLines(t, change(t, k, "Secret", "rotated"), "-  user: '*** (before)'", "+  user: '*** (after)'")
	noCanary(t, rep, "alice-keep-3f2", "old-keep-value", "new-keep-value")
}

// TestKeepOptionalSubstituteFrom: LoadVariables passes over an optional
// substituteFrom reference that does not exist (NotFound); with the
// variables of the others, ${VAR:=default} takes its default. A missing
// required reference fails the build ("substitute from 'ConfigMap/x'
// error").
func TestKeepOptionalSubstituteFrom(t *testing.T) {
	ns := kubetest.Setup(t)
	present := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "present", Namespace: ns.Name}, Data: map[string]string{"ZONE": "b"}}
	if err := ns.Client.Create(t.Context(), present); err != nil {
		t.Fatal(err)
	}
	root := writeTree(t, ns.Name, map[string]string{
		"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: __NS__}\ndata: {region: \"${REGION:=eu-central-1}\", zone: \"${ZONE}\"}\n",
	})
	ks := newKS(ns.Name, "app", "./app")
	ks.Spec.PostBuild = &kustomizev1.PostBuild{SubstituteFrom: []kustomizev1.SubstituteReference{
		{Kind: "ConfigMap", Name: "absent", Optional: true}, {Kind: "ConfigMap", Name: "present"}}}
	k := diffKS(t, ns, root, ks)
	wantRows(t, k, row{ActionCreated, "ConfigMap", ns.Name, "app"})
	wantDiffLines(t, change(t, k, "ConfigMap", "app"), "+  region: eu-central-1", "+  zone: b")

	ks.Spec.PostBuild.SubstituteFrom[0].Optional = false
	if k := diffKS(t, ns, root, ks); !strings.Contains(k.Error, "ConfigMap/absent") {
		t.Errorf("a required reference that is missing: error %q", k.Error)
	}
}

// TestKeepAdoptionByANewKustomization: the controller applies with
// server-side apply and forced ownership, so an object that exists but was
// created outside Flux is taken over, not failed: it is configured with
// Flux's owner labels.
func TestKeepAdoptionByANewKustomization(t *testing.T) {
	ns := kubetest.Setup(t)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "adopted", Namespace: ns.Name}, Data: map[string]string{"a": "b"}}
	if err := ns.Client.Create(t.Context(), cm, client.FieldOwner("helm")); err != nil {
		t.Fatal(err)
	}
	root := writeTree(t, ns.Name, map[string]string{"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: adopted, namespace: __NS__}\ndata: {a: b}\n"})
	k := diffKS(t, ns, root, newKS(ns.Name, "newcomer", "./app"))
	wantRows(t, k, row{ActionConfigured, "ConfigMap", ns.Name, "adopted"})
	wantDiffLines(t, change(t, k, "ConfigMap", "adopted"), "+    kustomize.toolkit.fluxcd.io/name: newcomer")
}

// TestKeepTargetNamespaceOnNamespaceObjects: spec.targetNamespace becomes
// the kustomization's namespace, and kustomize's namespace transformer
// renames a Namespace object to it (its field specs include
// metadata/name of kind Namespace); the objects inside then live in a
// Namespace the same build creates.
func TestKeepTargetNamespaceOnNamespaceObjects(t *testing.T) {
	ns := kubetest.Setup(t)
	target := ns.Name + "-target"
	root := writeTree(t, ns.Name, map[string]string{
		"app/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: placeholder}\n",
		"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n",
	})
	ks := newKS(ns.Name, "app", "./app")
	ks.Spec.TargetNamespace = target
	k := diffKS(t, ns, root, ks)
	wantRows(t, k, row{ActionCreated, "Namespace", "", target}, row{ActionCreated, "ConfigMap", target, "settings"})
}

// TestKeepSpecIgnore: spec.ignore rules leave their paths out of drift
// detection and of the apply (kustomize-controller's drift ignore test: an
// out-of-band change to an ignored field survives the reconcile, a change
// to a managed field is reverted).
func TestKeepSpecIgnore(t *testing.T) {
	ns := kubetest.Setup(t)
	applyLive(t, ns.Client, ns.Name, "app", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: __NS__}\ndata: {managed-key: v1, ignored-key: original}\n")
	patch := client.RawPatch(types.MergePatchType, []byte(`{"data":{"ignored-key":"modified-externally"}}`))
	live := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: ns.Name}}
	if err := ns.Client.Patch(t.Context(), live, patch, client.FieldOwner("external-tool")); err != nil {
		t.Fatal(err)
	}
	ks := newKS(ns.Name, "app", "./app")
	ks.Spec.Ignore = []kustomizev1.IgnoreRule{{Paths: []string{"/data/ignored-key"}}}
	for _, tt := range []struct {
		name, managed string
		want          Action
	}{
		{"an out-of-band change to an ignored field is no drift", "v1", ActionUnchanged},
		{"a change to a managed field is configured and the ignored one kept", "v2", ActionConfigured},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, ns.Name, map[string]string{
				"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: __NS__}\ndata: {managed-key: " + tt.managed + ", ignored-key: original}\n",
			})
			k := diffKS(t, ns, root, ks)
			wantRows(t, k, row{tt.want, "ConfigMap", ns.Name, "cm"})
			if c := change(t, k, "ConfigMap", "cm"); strings.Contains(c.Diff, "+  ignored-key") {
				t.Errorf("the ignored field would change:\n%s", c.Diff)
			}
		})
	}
}
