package deploy_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// identityKinds is what deploy/identity holds, on every cluster.
var identityKinds = []string{"ClusterRole", "ClusterRoleBinding", "Namespace", "ServiceAccount",
	"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}

// baseKinds is what every overlay of deploy/base holds.
var baseKinds = sortedWith(identityKinds, "ConfigMap", "Deployment", "NetworkPolicy", "PodDisruptionBudget", "Service")

func sortedWith(kinds []string, more ...string) []string {
	out := append(slices.Clone(kinds), more...)
	slices.Sort(out)
	return out
}

func TestEveryKustomizationBuilds(t *testing.T) {
	for _, tc := range []struct {
		dir   string
		kinds []string
	}{
		{"identity", identityKinds},
		{"base", baseKinds},
		{"overlays/single", sortedWith(baseKinds, "PersistentVolumeClaim")},
		{"overlays/ha", baseKinds},
		{"remote", sortedWith(identityKinds, "Secret")},
		{"flux", []string{"GitRepository", "Kustomization"}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			var kinds []string
			for _, o := range build(t, tc.dir) {
				kinds = append(kinds, o.GetKind())
			}
			slices.Sort(kinds)
			if diff := cmp.Diff(tc.kinds, kinds); diff != "" {
				t.Errorf("kinds (-want +got):\n%s", diff)
			}
		})
	}
}

// convert decodes an unstructured object into a typed one.
func convert[T any](t *testing.T, o *unstructured.Unstructured) *T {
	t.Helper()
	v := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, v); err != nil {
		t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
	}
	return v
}

func deployment(t *testing.T, objs []*unstructured.Unstructured) (*appsv1.Deployment, *corev1.Container) {
	t.Helper()
	d := convert[appsv1.Deployment](t, find(t, objs, "Deployment", "fluxdiff"))
	if n := len(d.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("%d containers, want 1", n)
	}
	return d, &d.Spec.Template.Spec.Containers[0]
}

func volume(t *testing.T, d *appsv1.Deployment, name string) *corev1.Volume {
	t.Helper()
	for i, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == name {
			return &d.Spec.Template.Spec.Volumes[i]
		}
	}
	t.Fatalf("no volume %q", name)
	return nil
}

func mountPath(t *testing.T, c *corev1.Container, volume string) string {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if m.Name == volume {
			return m.MountPath
		}
	}
	t.Fatalf("volume %q is not mounted", volume)
	return ""
}

func envVar(c *corev1.Container, name string) *corev1.EnvVar {
	for i, e := range c.Env {
		if e.Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

func TestBaseMountsTheFilesConfigYAMLNames(t *testing.T) {
	objs := build(t, "base")
	d, c := deployment(t, objs)

	cms := ofKind(objs, "ConfigMap")
	if len(cms) != 1 || !strings.HasPrefix(cms[0].GetName(), "fluxdiff-config-") {
		t.Fatalf("want one generated ConfigMap fluxdiff-config-HASH, got %d", len(cms))
	}
	config := volume(t, d, "config").Projected
	if config == nil || config.Sources[0].ConfigMap == nil || config.Sources[0].ConfigMap.Name != cms[0].GetName() {
		t.Fatalf("the config volume does not project the generated ConfigMap %s: %+v", cms[0].GetName(), config)
	}
	dir := mountPath(t, c, "config")
	if !slices.Equal(c.Args, []string{"serve", "--config", dir + "/config.yaml"}) {
		t.Errorf("args %q do not name %s/config.yaml", c.Args, dir)
	}

	// Every file config.yaml names is one the volume provides.
	files := map[string]bool{}
	for _, src := range config.Sources {
		var items []corev1.KeyToPath
		switch {
		case src.ConfigMap != nil:
			items = src.ConfigMap.Items
		case src.Secret != nil:
			items = src.Secret.Items
			if src.Secret.Name != "fluxdiff" {
				t.Errorf("secret source %q, want the Secret fluxdiff", src.Secret.Name)
			}
		}
		for _, it := range items {
			files[dir+"/"+it.Path] = true
		}
	}
	var cfg struct {
		GitHub map[string]any `json:"github"`
	}
	if err := yaml.Unmarshal([]byte(cms[0].Object["data"].(map[string]any)["config.yaml"].(string)), &cfg); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"privateKeyFile", "webhookSecretFile"} {
		if p, _ := cfg.GitHub[key].(string); !files[p] {
			t.Errorf("github.%s = %q is not a file of the config volume %v", key, p, files)
		}
	}
	for _, want := range []string{"github-app.pem", "webhook-secret", "slack-signing-secret", "slack-bot-token"} {
		if !files[dir+"/"+want] {
			t.Errorf("the Secret's %s is not mounted", want)
		}
	}
	if e := envVar(c, "FLUXDIFF_GITHUB_APP_ID"); e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil ||
		e.ValueFrom.SecretKeyRef.Name != "fluxdiff" || e.ValueFrom.SecretKeyRef.Key != "github-app-id" {
		t.Errorf("FLUXDIFF_GITHUB_APP_ID does not come from the Secret fluxdiff: %+v", e)
	}

}

func TestBaseRunsHardenedAndExposesOnlyItsHTTPPort(t *testing.T) {
	objs := build(t, "base")
	d, c := deployment(t, objs)
	// The defaults ./data/fluxdiff.db and ./data/sources land on the volume.
	if got, want := mountPath(t, c, "data"), c.WorkingDir+"/data"; got != want {
		t.Errorf("data volume at %s, want %s (workingDir + /data)", got, want)
	}
	if sc := c.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("the root file system is writable")
	}
	if c.ReadinessProbe.HTTPGet.Path != "/readyz?exclude=cluster/" || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("probes %s and %s", c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path)
	}
	if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Error("no memory request or limit")
	}
	np := convert[networkingv1.NetworkPolicy](t, find(t, objs, "NetworkPolicy", "fluxdiff"))
	if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].Ports) != 1 || np.Spec.Ingress[0].Ports[0].Port.String() != "http" ||
		len(np.Spec.Ingress[0].From) != 0 || !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{"Ingress"}) ||
		!matches(np.Spec.PodSelector.MatchLabels, d.Spec.Template.Labels) {
		t.Errorf("NetworkPolicy does not admit exactly the http port of fluxdiff's pods: %+v", np.Spec)
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" {
		t.Errorf("container ports %+v, want just http", c.Ports)
	}
	svc := convert[corev1.Service](t, find(t, objs, "Service", "fluxdiff"))
	if svc.Spec.Ports[0].TargetPort.String() != "http" || !matches(svc.Spec.Selector, d.Spec.Template.Labels) {
		t.Errorf("Service does not reach the pods' http port: %+v", svc.Spec)
	}
}

// matches reports whether labels carry every pair of selector.
func matches(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func TestSingleOverlayRunsOneReplicaWithSQLiteOnAClaim(t *testing.T) {
	objs := build(t, "overlays/single")
	d, c := deployment(t, objs)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("replicas %v, strategy %s; want 1 and Recreate (one SQLite writer)", d.Spec.Replicas, d.Spec.Strategy.Type)
	}
	pvc := find(t, objs, "PersistentVolumeClaim", "fluxdiff-data")
	data := volume(t, d, "data")
	if data.PersistentVolumeClaim == nil || data.PersistentVolumeClaim.ClaimName != pvc.GetName() || data.EmptyDir != nil {
		t.Errorf("data volume %+v, want only the claim %s", data.VolumeSource, pvc.GetName())
	}
	if e := envVar(c, "FLUXDIFF_STORE_URL"); e != nil {
		t.Errorf("FLUXDIFF_STORE_URL is set (%+v); the default SQLite file on the claim is wanted", e)
	}
}

func TestHAOverlayRunsReplicasOnPostgreSQLSpreadOverNodes(t *testing.T) {
	objs := build(t, "overlays/ha")
	d, c := deployment(t, objs)
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		t.Errorf("replicas %v, want 2 or more", d.Spec.Replicas)
	}
	if s := d.Spec.Strategy; s.Type != appsv1.RollingUpdateDeploymentStrategyType || s.RollingUpdate == nil || s.RollingUpdate.MaxUnavailable.IntValue() != 0 {
		t.Errorf("strategy %+v, want RollingUpdate with maxUnavailable 0", s)
	}
	e := envVar(c, "FLUXDIFF_STORE_URL")
	if e == nil || e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil ||
		e.ValueFrom.SecretKeyRef.Name != "fluxdiff-postgres" || e.ValueFrom.SecretKeyRef.Key != "url" {
		t.Errorf("FLUXDIFF_STORE_URL = %+v, want it from the Secret fluxdiff-postgres, key url", e)
	}
	aff := d.Spec.Template.Spec.Affinity
	if aff == nil || aff.PodAntiAffinity == nil || len(aff.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) == 0 {
		t.Fatalf("no pod anti-affinity: %+v", aff)
	}
	term := aff.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm
	if term.TopologyKey != "kubernetes.io/hostname" || !matches(term.LabelSelector.MatchLabels, d.Spec.Template.Labels) {
		t.Errorf("anti-affinity term %+v does not keep fluxdiff's own pods on different nodes", term)
	}
	if len(ofKind(objs, "PersistentVolumeClaim")) != 0 || volume(t, d, "data").EmptyDir == nil {
		t.Error("ha keeps only a cache on disk: want an emptyDir data volume and no claim")
	}
	pdb := convert[policyv1.PodDisruptionBudget](t, find(t, objs, "PodDisruptionBudget", "fluxdiff"))
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 || pdb.Spec.MaxUnavailable != nil {
		t.Errorf("PodDisruptionBudget %+v, want minAvailable 1 only", pdb.Spec)
	}
}

func TestRemoteHoldsTheIdentityAndATokenButNoWorkload(t *testing.T) {
	objs := build(t, "remote")
	sa := find(t, objs, "ServiceAccount", "fluxdiff")
	tok := convert[corev1.Secret](t, find(t, objs, "Secret", "fluxdiff-token"))
	if tok.Type != corev1.SecretTypeServiceAccountToken || tok.Annotations[corev1.ServiceAccountNameKey] != sa.GetName() ||
		tok.Namespace != sa.GetNamespace() {
		t.Errorf("token Secret %+v is not a token of %s/%s", tok.ObjectMeta, sa.GetNamespace(), sa.GetName())
	}
	// The same identity as on the management cluster, object for object.
	base := map[string]*unstructured.Unstructured{}
	for _, o := range build(t, "identity") {
		base[o.GetKind()+"/"+o.GetName()] = o
	}
	for _, o := range objs {
		want, ok := base[o.GetKind()+"/"+o.GetName()]
		if !ok {
			continue
		}
		delete(base, o.GetKind()+"/"+o.GetName())
		got := o.DeepCopy()
		unstructured.RemoveNestedField(got.Object, "metadata", "labels", "app.kubernetes.io/name")
		if len(got.GetLabels()) == 0 {
			unstructured.RemoveNestedField(got.Object, "metadata", "labels")
		}
		if diff := cmp.Diff(want.Object, got.Object); diff != "" {
			t.Errorf("%s differs from deploy/identity (-identity +remote):\n%s", o.GetKind(), diff)
		}
	}
	if len(base) != 0 {
		t.Errorf("remote lacks %v", base)
	}
}

// TestAnOverlayOfYourOwnReplacesTheConfig follows README.md: an
// installation's own kustomization takes an overlay as its base and
// replaces config.yaml with configMapGenerator behavior: replace; the
// Deployment then mounts the replacement.
func TestAnOverlayOfYourOwnReplacesTheConfig(t *testing.T) {
	single, err := filepath.Abs("overlays/single")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rel, err := filepath.Rel(dir, single) // kustomize takes no absolute bases
	if err != nil {
		t.Fatal(err)
	}
	kustomization := "resources:\n  - " + filepath.ToSlash(rel) + "\n" +
		"configMapGenerator:\n  - name: fluxdiff-config\n    namespace: fluxdiff\n    behavior: replace\n    files:\n      - config.yaml\n"
	config := "github:\n  privateKeyFile: /etc/fluxdiff/github-app.pem\n  webhookSecretFile: /etc/fluxdiff/webhook-secret\n" +
		"clusters:\n  - name: management\n  - name: production\n    kubeconfig: /etc/fluxdiff-clusters/production\n"
	for name, data := range map[string]string{"kustomization.yaml": kustomization, "config.yaml": config} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	objs := build(t, dir)
	cms := ofKind(objs, "ConfigMap")
	if len(cms) != 1 {
		t.Fatalf("%d ConfigMaps, want the replaced one only", len(cms))
	}
	if got := cms[0].Object["data"].(map[string]any)["config.yaml"]; got != config {
		t.Errorf("config.yaml = %q, want the installation's own", got)
	}
	d, _ := deployment(t, objs)
	if got := volume(t, d, "config").Projected.Sources[0].ConfigMap.Name; got != cms[0].GetName() {
		t.Errorf("the Deployment mounts %s, want %s", got, cms[0].GetName())
	}
}
