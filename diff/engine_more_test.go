package diff

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

func TestAnnotationsAreHonoured(t *testing.T) {
	ns := kubetest.Setup(t)
	applyLive(t, ns.Client, ns.Name, "app", `
apiVersion: v1
kind: ConfigMap
metadata: {name: disabled, namespace: __NS__}
data: {v: live}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ignored, namespace: __NS__}
data: {v: live}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: present, namespace: __NS__}
data: {v: live}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: forced, namespace: __NS__}
spec:
  selector: {matchLabels: {app: old}}
  template:
    metadata: {labels: {app: old}}
    spec: {containers: [{name: c, image: "nginx:1"}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: immutable, namespace: __NS__}
spec:
  selector: {matchLabels: {app: old}}
  template:
    metadata: {labels: {app: old}}
    spec: {containers: [{name: c, image: "nginx:1"}]}
`)
	deploy := func(name, annotations string) string {
		return `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ` + name + `, namespace: __NS__, annotations: {` + annotations + `}}
spec:
  selector: {matchLabels: {app: new}}
  template:
    metadata: {labels: {app: new}}
    spec: {containers: [{name: c, image: "nginx:1"}]}
`
	}
	root := writeTree(t, ns.Name, map[string]string{
		"app/cms.yaml": `
apiVersion: v1
kind: ConfigMap
metadata: {name: disabled, namespace: __NS__, annotations: {kustomize.toolkit.fluxcd.io/reconcile: disabled}}
data: {v: source}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ignored, namespace: __NS__, annotations: {kustomize.toolkit.fluxcd.io/ssa: Ignore}}
data: {v: source}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: present, namespace: __NS__, annotations: {kustomize.toolkit.fluxcd.io/ssa: IfNotPresent}}
data: {v: source}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: absent, namespace: __NS__, annotations: {kustomize.toolkit.fluxcd.io/ssa: IfNotPresent}}
data: {v: source}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: merged, namespace: __NS__, annotations: {kustomize.toolkit.fluxcd.io/ssa: Merge}}
data: {v: source}
`,
		"app/forced.yaml":    deploy("forced", "kustomize.toolkit.fluxcd.io/force: enabled"),
		"app/immutable.yaml": deploy("immutable", ""),
	})
	k := diffKS(t, ns, root, newKS(ns.Name, "app", "./app"))
	wantRows(t, k,
		row{ActionSkipped, "ConfigMap", ns.Name, "disabled"},
		row{ActionSkipped, "ConfigMap", ns.Name, "ignored"},
		row{ActionSkipped, "ConfigMap", ns.Name, "present"},
		row{ActionCreated, "ConfigMap", ns.Name, "absent"},
		row{ActionCreated, "ConfigMap", ns.Name, "merged"},
		row{ActionConfigured, "Deployment", ns.Name, "forced"},
		row{ActionFailed, "Deployment", ns.Name, "immutable"},
	)
	for name, want := range map[string]string{
		"disabled": "reconcile: disabled", "ignored": "ssa: Ignore", "present": "IfNotPresent, and the object exists",
	} {
		if got := change(t, k, "ConfigMap", name).Reason; !strings.Contains(got, want) {
			t.Errorf("%s: reason %q lacks %q", name, got, want)
		}
	}
	if got := change(t, k, "Deployment", "forced"); !strings.Contains(got.Reason, "deleted and re-created") {
		t.Errorf("forced: reason %q", got.Reason)
	} else {
		wantDiffLines(t, got, "-      app: old", "+      app: new")
	}
	if got := change(t, k, "Deployment", "immutable").Reason; !strings.Contains(got, "immutable") {
		t.Errorf("immutable: reason %q should say the field is immutable", got)
	}

	t.Run("spec.force re-creates every object with immutable changes", func(t *testing.T) {
		ks := newKS(ns.Name, "app", "./app")
		ks.Spec.Force = true
		k := diffKS(t, ns, root, ks)
		if c := change(t, k, "Deployment", "immutable"); c.Action != ActionConfigured {
			t.Errorf("with spec.force: %s %s", c.Action, c.Reason)
		}
	})
}

func TestPrune(t *testing.T) {
	ns := kubetest.Setup(t)
	applyLive(t, ns.Client, ns.Name, "app", `
apiVersion: v1
kind: ConfigMap
metadata: {name: kept, namespace: __NS__}
data: {v: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: gone, namespace: __NS__}
data: {v: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: protected, namespace: __NS__, annotations: {kustomize.toolkit.fluxcd.io/prune: disabled}}
data: {v: "1"}
`)
	applyLive(t, ns.Client, ns.Name, "", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: foreign, namespace: __NS__}\ndata: {v: \"1\"}\n")
	root := writeTree(t, ns.Name, map[string]string{
		"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kept, namespace: __NS__}\ndata: {v: \"1\"}\n",
	})
	ks := newKS(ns.Name, "app", "./app")
	ks.Status.Inventory = &kustomizev1.ResourceInventory{}
	for _, name := range []string{"kept", "gone", "protected", "foreign", "already-deleted"} {
		ks.Status.Inventory.Entries = append(ks.Status.Inventory.Entries, kustomizev1.ResourceRef{ID: ns.Name + "_" + name + "__ConfigMap", Version: "v1"})
	}

	t.Run("with prune, objects that left the build are deleted", func(t *testing.T) {
		ks := ks.DeepCopy()
		ks.Spec.Prune = true
		k := diffKS(t, ns, root, ks)
		wantRows(t, k,
			row{ActionUnchanged, "ConfigMap", ns.Name, "kept"},
			row{ActionDeleted, "ConfigMap", ns.Name, "gone"},
			row{ActionSkipped, "ConfigMap", ns.Name, "protected"},
			row{ActionSkipped, "ConfigMap", ns.Name, "foreign"},
		)
		wantDiffLines(t, change(t, k, "ConfigMap", "gone"), "-  name: gone", "-  v: \"1\"")
	})
	t.Run("without prune, nothing is deleted", func(t *testing.T) {
		k := diffKS(t, ns, root, ks)
		wantRows(t, k, row{ActionUnchanged, "ConfigMap", ns.Name, "kept"})
	})
}

func TestObjectsInANewNamespaceAreCreatedNotFailed(t *testing.T) {
	ns := kubetest.Setup(t)
	newNS := ns.Name + "-new"
	root := writeTree(t, ns.Name, map[string]string{
		"app/ns.yaml":     "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + newNS + "}\n",
		"app/cm.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: inside, namespace: " + newNS + "}\ndata: {a: b}\n",
		"app/orphan.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: orphan, namespace: " + ns.Name + "-nowhere}\ndata: {a: b}\n",
	})
	k := diffKS(t, ns, root, newKS(ns.Name, "app", "./app"))
	wantRows(t, k,
		row{ActionCreated, "Namespace", "", newNS},
		row{ActionCreated, "ConfigMap", newNS, "inside"},
		row{ActionFailed, "ConfigMap", ns.Name + "-nowhere", "orphan"},
	)
	if c := change(t, k, "ConfigMap", "inside"); !c.NotValidated || !strings.Contains(c.Reason, "not validated by the API server") {
		t.Errorf("inside: notValidated=%v reason %q", c.NotValidated, c.Reason)
	}
	if c := change(t, k, "ConfigMap", "orphan"); !strings.Contains(c.Reason, "not found") {
		t.Errorf("orphan: reason %q should say the namespace is missing", c.Reason)
	}
}

func TestCRDAndCustomResourceInOneBuild(t *testing.T) {
	ns := kubetest.Setup(t)
	root := writeTree(t, ns.Name, map[string]string{
		"app/crd.yaml": `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.__NS__.example.com}
spec:
  group: __NS__.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`,
		"app/widget.yaml": "apiVersion: __NS__.example.com/v1\nkind: Widget\nmetadata: {name: gear, namespace: __NS__}\nspec: {teeth: 12}\n",
	})
	k := diffKS(t, ns, root, newKS(ns.Name, "app", "./app"))
	wantRows(t, k,
		row{ActionCreated, "CustomResourceDefinition", "", "widgets." + ns.Name + ".example.com"},
		row{ActionCreated, "Widget", ns.Name, "gear"},
	)
	c := change(t, k, "Widget", "gear")
	if !c.NotValidated || !strings.Contains(c.Reason, "CustomResourceDefinition is created or changed by the same change") {
		t.Errorf("widget: notValidated=%v reason %q", c.NotValidated, c.Reason)
	}
	wantDiffLines(t, c, "+  teeth: 12")
}

func TestSecretValuesNeverLeave(t *testing.T) {
	ns := kubetest.Setup(t)
	ctx := context.Background()
	const liveCanary, srcCanary, varCanary = "CANARY-live-7f3a9", "CANARY-source-4b1e2", "CANARY-var-9c0d5"
	// Applied by kustomize-controller's field manager, so keys that leave the
	// source are removed by the next apply.
	applyLive(t, ns.Client, ns.Name, "app", "apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: __NS__}\n"+
		"data: {token: "+b64(liveCanary)+", same: "+b64("unchanged-value")+", dropped: "+b64(liveCanary)+"}\n")
	vars := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "vars", Namespace: ns.Name}, Data: map[string][]byte{"password": []byte(varCanary)}}
	if err := ns.Client.Create(ctx, vars); err != nil {
		t.Fatal(err)
	}
	root := writeTree(t, ns.Name, map[string]string{
		"app/secret.yaml": `
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: __NS__}
data: {token: ` + b64(srcCanary) + `, same: ` + b64("unchanged-value") + `, added: ` + b64(srcCanary) + `}
---
apiVersion: v1
kind: Secret
metadata: {name: fresh, namespace: __NS__}
data: {key: ` + base64.StdEncoding.EncodeToString([]byte(srcCanary)) + `}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: uses-var, namespace: __NS__}
data: {dsn: "postgres://app:${password}@db"}
`,
	})
	ks := newKS(ns.Name, "app", "./app")
	ks.Spec.PostBuild = &kustomizev1.PostBuild{SubstituteFrom: []kustomizev1.SubstituteReference{{Kind: "Secret", Name: "vars"}}}
	d := &Differ{Client: ns.Client}
	rep, err := d.Diff(ctx, Request{Root: root, Kustomization: ks})
	if err != nil {
		t.Fatal(err)
	}
	k := rep.Kustomizations[0]
	wantRows(t, k,
		row{ActionConfigured, "Secret", ns.Name, "creds"},
		row{ActionCreated, "Secret", ns.Name, "fresh"},
		row{ActionCreated, "ConfigMap", ns.Name, "uses-var"},
	)
	wantDiffLines(t, change(t, k, "Secret", "creds"), "-  token: '*** (before)'", "+  token: '*** (after)'", "+  added: '***'", "-  dropped: '***'", "   same: '***'")
	for format, out := range renderAll(t, rep) {
		for _, canary := range []string{liveCanary, srcCanary, varCanary, "unchanged-value"} {
			for _, form := range []string{canary, base64.StdEncoding.EncodeToString([]byte(canary))} {
				if strings.Contains(out, form) {
					t.Errorf("%s output leaks %q", format, form)
				}
			}
		}
	}
}

func TestSOPSSecretsAreComparedByKeys(t *testing.T) {
	ns := kubetest.Setup(t)
	applyLive(t, ns.Client, ns.Name, "app", `
apiVersion: v1
kind: Secret
metadata: {name: same-keys, namespace: __NS__}
stringData: {user: alice, password: live-password}
---
apiVersion: v1
kind: Secret
metadata: {name: new-key, namespace: __NS__}
stringData: {user: alice}
`)
	sops := `sops:
  age: [{recipient: age1qqq, enc: "-----BEGIN AGE ENCRYPTED FILE-----"}]
  lastmodified: "2026-11-01T00:00:00Z"
  mac: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]
  version: 3.9.0
`
	root := writeTree(t, ns.Name, map[string]string{
		"app/same.yaml":  "apiVersion: v1\nkind: Secret\nmetadata: {name: same-keys, namespace: __NS__}\ndata:\n  user: ENC[AES256_GCM,data:Zm9v,iv:a,tag:b,type:str]\n  password: ENC[AES256_GCM,data:YmFy,iv:c,tag:d,type:str]\n" + sops,
		"app/new.yaml":   "apiVersion: v1\nkind: Secret\nmetadata: {name: new-key, namespace: __NS__}\ndata:\n  user: ENC[AES256_GCM,data:Zm9v,iv:a,tag:b,type:str]\n  token: ENC[AES256_GCM,data:eHl6,iv:e,tag:f,type:str]\n" + sops,
		"app/fresh.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: fresh, namespace: __NS__}\nstringData:\n  key: ENC[AES256_GCM,data:eHl6,iv:e,tag:f,type:str]\n" + sops,
	})
	ks := newKS(ns.Name, "app", "./app")
	ks.Spec.Decryption = &kustomizev1.Decryption{Provider: "sops"}
	k := diffKS(t, ns, root, ks)
	// Same keys may still hide a rotated value: configured, never unchanged
	// (the controller applies the decrypted values, unknown here).
	wantRows(t, k,
		row{ActionConfigured, "Secret", ns.Name, "same-keys"},
		row{ActionConfigured, "Secret", ns.Name, "new-key"},
		row{ActionCreated, "Secret", ns.Name, "fresh"},
	)
	c := change(t, k, "Secret", "new-key")
	wantDiffLines(t, c, "+  token: '***'", "   user: '***'")
	if !strings.Contains(c.Reason, "SOPS") || strings.Contains(c.Diff, "ENC[") {
		t.Errorf("reason %q, diff:\n%s", c.Reason, c.Diff)
	}

	t.Run("without spec.decryption the Kustomization fails as in Flux", func(t *testing.T) {
		k := diffKS(t, ns, root, newKS(ns.Name, "app", "./app"))
		if !strings.Contains(k.Error, "configuring decryption is required") || len(k.Changes) != 0 {
			t.Errorf("error %q, changes %v", k.Error, rows(k))
		}
	})
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
