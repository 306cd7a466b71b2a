package diff

import (
	"context"
	"strings"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// noLeak fails when any rendering of rep contains one of values.
func noLeak(t *testing.T, rep *Report, values ...string) {
	t.Helper()
	for format, out := range renderAll(t, rep) {
		for _, v := range values {
			if strings.Contains(out, v) {
				t.Errorf("%s output leaks %q:\n%s", format, v, out)
			}
		}
	}
}

func TestSecretValuesAreMaskedByPosition(t *testing.T) {
	ns := kubetest.Setup(t)
	ctx := context.Background()
	const current = "current secret value with spaces that is long enough for YAML to fold it across two lines, surely"
	const old, short = "OldRotatedSecret", "k3y"
	vars := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "vars", Namespace: ns.Name},
		Data: map[string][]byte{"long": []byte(current), "short": []byte(short), "rotated": []byte("NewRotatedSecret")}}
	if err := ns.Client.Create(ctx, vars); err != nil {
		t.Fatal(err)
	}
	applyLive(t, ns.Client, ns.Name, "app", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: __NS__}\ndata: {rotated: "+old+", short: "+short+"}\n")
	root := writeTree(t, ns.Name, map[string]string{
		"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: __NS__}\ndata:\n  rotated: ${rotated}\n  short: ${short}\n  long: ${long}\n",
		"app/child.yaml": `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: child, namespace: __NS__}
spec:
  interval: 5m
  path: ./child
  sourceRef: {kind: GitRepository, name: repo}
  postBuild:
    substitute: {passed: "${rotated}"}
`,
		"child/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: child, namespace: __NS__}\ndata:\n  k: ${passed}\n",
	})
	ks := newKS(ns.Name, "app", "./app")
	ks.Spec.PostBuild = &kustomizev1.PostBuild{SubstituteFrom: []kustomizev1.SubstituteReference{{Kind: "Secret", Name: "vars"}}}
	rep, err := (&Differ{Client: ns.Client}).Diff(ctx, Request{Root: root, Kustomization: ks, Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Kustomizations) != 2 {
		t.Fatalf("want parent and child, got %d", len(rep.Kustomizations))
	}
	wantDiffLines(t, change(t, rep.Kustomizations[0], "ConfigMap", "app"),
		"-  rotated: '*** (before)'", "+  rotated: '*** (after)'", "   short: '***'", "+  long: '***'")
	wantDiffLines(t, change(t, rep.Kustomizations[1], "ConfigMap", "child"), "+  k: '***'")
	noLeak(t, rep, old, "NewRotatedSecret", "current secret value", "lines, surely")
}

func TestAnErrorEchoingASecretIsScrubbed(t *testing.T) {
	ns := kubetest.Setup(t)
	vars := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "vars", Namespace: ns.Name}, Data: map[string][]byte{"v": []byte("*Hunter2secret")}}
	if err := ns.Client.Create(context.Background(), vars); err != nil {
		t.Fatal(err)
	}
	root := writeTree(t, ns.Name, map[string]string{"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: __NS__}\ndata:\n  k: ${v}\n"})
	ks := newKS(ns.Name, "app", "./app")
	ks.Spec.PostBuild = &kustomizev1.PostBuild{SubstituteFrom: []kustomizev1.SubstituteReference{{Kind: "Secret", Name: "vars"}}}
	rep, err := (&Differ{Client: ns.Client}).Diff(context.Background(), Request{Root: root, Kustomization: ks})
	if err != nil {
		t.Fatal(err)
	}
	if e := rep.Kustomizations[0].Error; !strings.Contains(e, "post build failed") {
		t.Fatalf("want a substitution error, got %q %+v", e, rows(rep.Kustomizations[0]))
	}
	noLeak(t, rep, "Hunter2secret")
}

func TestSOPSEncryptedConfigMapShowsNoValues(t *testing.T) {
	ns := kubetest.Setup(t)
	applyLive(t, ns.Client, ns.Name, "app", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: enc, namespace: __NS__}\ndata: {password: live-plaintext}\n")
	root := writeTree(t, ns.Name, map[string]string{
		"app/enc.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: enc, namespace: __NS__}\ndata:\n  password: ENC[AES256_GCM,data:Zm9v,type:str]\n  extra: ENC[AES256_GCM,data:YmFy,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:abc,type:str]\n  version: 3.9.0\n",
	})
	ks := newKS(ns.Name, "app", "./app")
	ks.Spec.Decryption = &kustomizev1.Decryption{Provider: "sops"}
	rep, err := (&Differ{Client: ns.Client}).Diff(context.Background(), Request{Root: root, Kustomization: ks})
	if err != nil {
		t.Fatal(err)
	}
	c := change(t, rep.Kustomizations[0], "ConfigMap", "enc")
	if c.Action != ActionConfigured || !strings.Contains(c.Reason, "SOPS") {
		t.Errorf("%s %q", c.Action, c.Reason)
	}
	wantDiffLines(t, c, "+  extra: '***'", "   password: '***'")
	noLeak(t, rep, "live-plaintext", "ENC[")
}

func TestFluxFidelityEdges(t *testing.T) {
	ns := kubetest.Setup(t)
	applyLive(t, ns.Client, ns.Name, "app", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: frozen, namespace: __NS__, annotations: {kustomize.toolkit.fluxcd.io/reconcile: disabled}}\n")
	root := writeTree(t, ns.Name, map[string]string{
		"app/.sops.yaml":     "creation_rules:\n  - path_regex: .*.yaml\n    encrypted_regex: ^(data|stringData)$\n",
		"app/.github/ci.yml": "on: push\n",
		"app/cm.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine, namespace: __NS__}\n",
		"app/bad.yaml":       "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name, namespace: __NS__}\n",
		"app/child.yaml":     strings.Replace(ksYAML("sleepy", "./x"), "interval: 10m", "interval: 10m\n  suspend: true", 1),
	})
	ks := newKS(ns.Name, "app", "./app")
	ks.Spec.Force, ks.Spec.Prune = true, true
	ks.Status.Inventory = &kustomizev1.ResourceInventory{Entries: []kustomizev1.ResourceRef{{ID: ns.Name + "_frozen__ConfigMap", Version: "v1"}}}
	rep, err := (&Differ{Client: ns.Client}).Diff(context.Background(), Request{Root: root, Kustomization: ks, Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	k := rep.Kustomizations[0]
	t.Run("files the artifact leaves out are not parsed", func(t *testing.T) {
		if k.Error != "" {
			t.Fatalf("build failed: %s", k.Error)
		}
	})
	t.Run("force does not hide an invalid new object", func(t *testing.T) {
		if c := change(t, k, "ConfigMap", "Bad_Name"); c.Action != ActionFailed {
			t.Errorf("Bad_Name: %s %q", c.Action, c.Reason)
		}
	})
	t.Run("prune leaves reconcile-disabled objects alone", func(t *testing.T) {
		if c := change(t, k, "ConfigMap", "frozen"); c.Action != ActionSkipped {
			t.Errorf("frozen: %s %q", c.Action, c.Reason)
		}
	})
	t.Run("a suspended child is not diffed and says so", func(t *testing.T) {
		if len(rep.Kustomizations) != 1 || !strings.Contains(strings.Join(k.Warnings, "\n"), "suspended") {
			t.Errorf("reports %d, warnings %v", len(rep.Kustomizations), k.Warnings)
		}
	})
}
