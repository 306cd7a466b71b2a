package diff

import (
	"strings"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// sopsTail is the metadata SOPS appends to an encrypted YAML document.
const sopsTail = `sops:
  age: [{recipient: age1qqq, enc: "-----BEGIN AGE ENCRYPTED FILE-----"}]
  lastmodified: "2026-11-01T00:00:00Z"
  mac: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]
  version: 3.9.0
`

// TestScenarioEncryptedSecretWithSameKeysMayChange: kustomize-controller
// decrypts a SOPS Secret (DecryptResource) and applies the plaintext, which
// fluxdiff cannot know; a pull request that rotates a value leaves the keys
// as they are. So the Secret is never "unchanged" (which would let a
// rotation read as "no changes"): it is configured, with a reason.
func TestScenarioEncryptedSecretWithSameKeysMayChange(t *testing.T) {
	ns := kubetest.Setup(t)
	applyLive(t, ns.Client, ns.Name, "app", "apiVersion: v1\nkind: Secret\nmetadata: {name: rotated, namespace: __NS__}\nstringData: {password: live-password}\n")
	root := writeTree(t, ns.Name, map[string]string{
		"app/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: rotated, namespace: __NS__}\ndata:\n  password: ENC[AES256_GCM,data:bmV3,iv:a,tag:b,type:str]\n" + sopsTail,
	})
	ks := newKS(ns.Name, "app", "./app")
	ks.Spec.Decryption = &kustomizev1.Decryption{Provider: "sops"}
	rep, err := (&Differ{Client: ns.Client}).Diff(t.Context(), Request{Root: root, Kustomization: ks})
	if err != nil {
		t.Fatal(err)
	}
	k := rep.Kustomizations[0]
	wantRows(t, k, row{ActionConfigured, "Secret", ns.Name, "rotated"})
	if c := change(t, k, "Secret", "rotated"); !strings.Contains(c.Reason, "may change") {
		t.Errorf("reason %q", c.Reason)
	}
	if !rep.HasChanges() {
		t.Error("the report says nothing would change")
	}
	noLeak(t, rep, "live-password", b64("live-password"))
}

// TestScenarioEncryptedGeneratorSources: with spec.decryption, the
// controller decrypts secretGenerator files and envs before the build
// (Decryptor.DecryptSources), so kustomize hashes the plaintext into the
// Secret's name and the workloads refer to that name. Unchanged sources give
// the live names again: the Deployment is unchanged and nothing is pruned;
// the Secrets' values cannot be compared, so they may change.
func TestScenarioEncryptedGeneratorSources(t *testing.T) {
	ns := kubetest.Setup(t)
	const fileName, envName = "creds-7f9kd2m5tb", "env-creds-b5g8h6tk2c"
	deploy := `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: __NS__}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        envFrom: [{secretRef: {name: %ENV%}}]
        volumeMounts: [{name: creds, mountPath: /creds}]
      volumes: [{name: creds, secret: {secretName: %FILE%}}]
`
	live := strings.NewReplacer("%ENV%", envName, "%FILE%", fileName).Replace(deploy)
	applyLive(t, ns.Client, ns.Name, "app", live+"---\n"+
		"apiVersion: v1\nkind: Secret\nmetadata: {name: "+fileName+", namespace: __NS__}\nstringData: {token.yaml: 'token: live-plaintext-1'}\n---\n"+
		"apiVersion: v1\nkind: Secret\nmetadata: {name: "+envName+", namespace: __NS__}\nstringData: {TOKEN: live-plaintext-2}\n")
	root := writeTree(t, ns.Name, map[string]string{
		"app/kustomization.yaml": "namespace: __NS__\nresources: [deploy.yaml]\nsecretGenerator:\n- name: creds\n  files: [token.yaml]\n- name: env-creds\n  envs: [creds.env]\n",
		"app/deploy.yaml":        strings.NewReplacer("%ENV%", "env-creds", "%FILE%", "creds").Replace(deploy),
		"app/token.yaml":         "token: ENC[AES256_GCM,data:eHl6,iv:e,tag:f,type:str]\n" + sopsTail,
		"app/creds.env":          "TOKEN=ENC[AES256_GCM,data:cXJz,iv:g,tag:h,type:str]\nsops_mac=ENC[AES256_GCM,data:abc,iv:i,tag:j,type:str]\nsops_version=3.9.0\n",
	})
	ks := newKS(ns.Name, "app", "./app")
	ks.Spec.Prune = true
	ks.Spec.Decryption = &kustomizev1.Decryption{Provider: "sops"}
	ks.Status.Inventory = inventoryOf(ns.Name, "Secret:"+fileName, "Secret:"+envName)
	ks.Status.Inventory.Entries = append(ks.Status.Inventory.Entries, kustomizev1.ResourceRef{ID: ns.Name + "_web_apps_Deployment", Version: "v1"})
	rep, err := (&Differ{Client: ns.Client}).Diff(t.Context(), Request{Root: root, Kustomization: ks})
	if err != nil {
		t.Fatal(err)
	}
	k := rep.Kustomizations[0]
	wantRows(t, k,
		row{ActionUnchanged, "Deployment", ns.Name, "web"},
		row{ActionConfigured, "Secret", ns.Name, fileName},
		row{ActionConfigured, "Secret", ns.Name, envName},
	)
	for _, name := range []string{fileName, envName} {
		if c := change(t, k, "Secret", name); !strings.Contains(c.Reason, "may change") {
			t.Errorf("%s: reason %q", name, c.Reason)
		}
	}
	noLeak(t, rep, "live-plaintext", "ENC[")

	t.Run("a generator the inventory does not know says its name may differ", func(t *testing.T) {
		ks := ks.DeepCopy()
		ks.Status.Inventory = nil
		k := diffKS(t, ns, root, ks)
		if w := strings.Join(k.Warnings, "\n"); !strings.Contains(w, "its name and the references to it may differ") {
			t.Errorf("warnings %q", w)
		}
	})
}
