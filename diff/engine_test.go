package diff

import (
	"context"
	"strings"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/kustomize"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

func TestPlainCreateConfigureUnchanged(t *testing.T) {
	ns := kubetest.Setup(t)
	applyLive(t, ns.Client, ns.Name, "app", `
apiVersion: v1
kind: ConfigMap
metadata: {name: same, namespace: __NS__}
data: {key: value}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: changed, namespace: __NS__}
data: {key: old, kept: "yes"}
`)
	root := writeTree(t, ns.Name, map[string]string{
		"app/configmaps.yaml": `
apiVersion: v1
kind: ConfigMap
metadata: {name: same, namespace: __NS__}
data: {key: value}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: changed, namespace: __NS__}
data: {key: new, kept: "yes"}
`,
		"app/deploy.yaml": `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: __NS__}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
`,
	})
	k := diffKS(t, ns, root, newKS(ns.Name, "app", "./app"))
	wantRows(t, k,
		row{ActionUnchanged, "ConfigMap", ns.Name, "same"},
		row{ActionConfigured, "ConfigMap", ns.Name, "changed"},
		row{ActionCreated, "Deployment", ns.Name, "web"},
	)
	wantDiffLines(t, change(t, k, "ConfigMap", "changed"), "--- live", "+++ merged", "-  key: old", "+  key: new", "   kept: \"yes\"")
	wantDiffLines(t, change(t, k, "Deployment", "web"), "+kind: Deployment", "+      - image: nginx:1.27", "+    kustomize.toolkit.fluxcd.io/name: app")
	if d := change(t, k, "ConfigMap", "changed").Diff; strings.Contains(d, "managedFields") || strings.Contains(d, "resourceVersion") || strings.Contains(d, "uid:") {
		t.Errorf("diff carries server noise:\n%s", d)
	}
	if want := (Counts{Created: 1, Configured: 1, Unchanged: 1}); k.Counts != want {
		t.Errorf("counts = %+v, want %+v", k.Counts, want)
	}
}

func TestPatchesImagesAndComponents(t *testing.T) {
	ns := kubetest.Setup(t)
	root := writeTree(t, ns.Name, map[string]string{
		"apps/web/kustomization.yaml": "resources: [deploy.yaml]\n",
		"apps/web/deploy.yaml": `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: __NS__}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.0"}]}
`,
		"components/extra/kustomization.yaml": `
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
resources: [cm.yaml]
`,
		"components/extra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: __NS__}\ndata: {from: component}\n",
	})
	ks := newKS(ns.Name, "web", "./apps/web")
	ks.Spec.Components = []string{"../../components/extra"}
	ks.Spec.Images = []kustomize.Image{{Name: "nginx", NewTag: "1.27.3"}}
	ks.Spec.Patches = []kustomize.Patch{{
		Patch:  "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n",
		Target: &kustomize.Selector{Kind: "Deployment"},
	}}
	k := diffKS(t, ns, root, ks)
	wantRows(t, k,
		row{ActionCreated, "Deployment", ns.Name, "web"},
		row{ActionCreated, "ConfigMap", ns.Name, "extra"},
	)
	wantDiffLines(t, change(t, k, "Deployment", "web"), "+  replicas: 3", "+      - image: nginx:1.27.3")
	wantDiffLines(t, change(t, k, "ConfigMap", "extra"), "+  from: component")
}

func TestTargetNamespaceAndNamePrefixSuffix(t *testing.T) {
	ns := kubetest.Setup(t)
	root := writeTree(t, ns.Name, map[string]string{
		"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: elsewhere}\ndata: {a: b}\n",
	})
	ks := newKS(ns.Name, "app", "./app")
	ks.Spec.TargetNamespace = ns.Name
	ks.Spec.NamePrefix = "pre-"
	ks.Spec.NameSuffix = "-suf"
	k := diffKS(t, ns, root, ks)
	wantRows(t, k, row{ActionCreated, "ConfigMap", ns.Name, "pre-settings-suf"})
}

func TestCommonMetadataIsApplied(t *testing.T) {
	ns := kubetest.Setup(t)
	root := writeTree(t, ns.Name, map[string]string{
		"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: __NS__}\ndata: {a: b}\n",
	})
	ks := newKS(ns.Name, "app", "./app")
	ks.Spec.CommonMetadata = &kustomizev1.CommonMetadata{Labels: map[string]string{"team": "platform"}, Annotations: map[string]string{"owner": "sre"}}
	k := diffKS(t, ns, root, ks)
	wantDiffLines(t, change(t, k, "ConfigMap", "settings"), "+    team: platform", "+    owner: sre")
}

func TestSubstitution(t *testing.T) {
	ns := kubetest.Setup(t)
	ctx := context.Background()
	const secretValue = "s3cr3t-substituted-value"
	for _, obj := range []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "vars", Namespace: ns.Name}, Data: map[string]string{"from_cm": "cm-value", "greeting": "overridden-by-inline"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "secret-vars", Namespace: ns.Name}, Data: map[string][]byte{"from_secret": []byte(secretValue)}},
	} {
		if err := ns.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	root := writeTree(t, ns.Name, map[string]string{
		"app/cm.yaml": `
apiVersion: v1
kind: ConfigMap
metadata: {name: rendered, namespace: __NS__}
data:
  greeting: ${greeting}
  fromcm: ${from_cm}
  fromsecret: ${from_secret}
  defaulted: ${missing:=fallback}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: literal
  namespace: __NS__
  annotations: {kustomize.toolkit.fluxcd.io/substitute: disabled}
data: {greeting: "${greeting}"}
`,
	})
	ks := newKS(ns.Name, "app", "./app")
	ks.Spec.PostBuild = &kustomizev1.PostBuild{
		Substitute: map[string]string{"greeting": "hello"},
		SubstituteFrom: []kustomizev1.SubstituteReference{
			{Kind: "ConfigMap", Name: "vars"},
			{Kind: "Secret", Name: "secret-vars"},
			{Kind: "ConfigMap", Name: "absent", Optional: true},
		},
	}
	k := diffKS(t, ns, root, ks)
	wantRows(t, k, row{ActionCreated, "ConfigMap", ns.Name, "rendered"}, row{ActionCreated, "ConfigMap", ns.Name, "literal"})
	wantDiffLines(t, change(t, k, "ConfigMap", "rendered"), "+  greeting: hello", "+  fromcm: cm-value", "+  defaulted: fallback", "+  fromsecret: '***'")
	wantDiffLines(t, change(t, k, "ConfigMap", "literal"), "+  greeting: ${greeting}")
	if strings.Contains(change(t, k, "ConfigMap", "rendered").Diff, secretValue) {
		t.Errorf("a value from a Secret leaked into the diff")
	}

	t.Run("a missing substituteFrom that is not optional fails the Kustomization", func(t *testing.T) {
		ks := ks.DeepCopy()
		ks.Spec.PostBuild.SubstituteFrom = append(ks.Spec.PostBuild.SubstituteFrom, kustomizev1.SubstituteReference{Kind: "ConfigMap", Name: "required"})
		k := diffKS(t, ns, root, ks)
		if !strings.Contains(k.Error, "ConfigMap/required") || len(k.Changes) != 0 {
			t.Errorf("error = %q, changes %v", k.Error, rows(k))
		}
	})
}
