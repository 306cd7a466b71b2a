package deploy_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"

	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// The admission policy's messages.
const (
	policyDenial      = "fluxdiff may only send dry-run requests"
	subresourceDenial = "fluxdiff may not write to subresources"
)

// asKustomizeController are the options fluxdiff dry-runs with, those of
// kustomize-controller's apply: its field manager, taking over fields others
// own.
var asKustomizeController = []client.PatchOption{client.FieldOwner("kustomize-controller"), client.ForceOwnership}

// TestManifestsApplyServerSide applies every kustomization the way an
// installation does (server-side, as an administrator), and the Flux example
// and the single overlay's pod as dry-runs; the API server validates all of
// it against its schemas.
func TestManifestsApplyServerSide(t *testing.T) {
	env := kubetest.Shared(t)
	for _, dir := range []string{"base", "overlays/single", "overlays/ha", "remote"} {
		t.Run(dir, func(t *testing.T) { applyAll(t, env.Client, build(t, dir)) })
	}
	t.Run("flux", func(t *testing.T) {
		ensureNamespace(t, env.Client, "flux-system")
		applyAll(t, env.Client, build(t, "flux"), client.DryRunAll)
	})
}

// TestFluxdiffIdentityCanOnlyReadAndDryRun acts as fluxdiff in each of the
// ways it reaches a cluster and checks what the RBAC and the admission
// policy let through.
func TestFluxdiffIdentityCanOnlyReadAndDryRun(t *testing.T) {
	env := kubetest.Shared(t)
	applyAll(t, env.Client, build(t, "base"))
	applyAll(t, env.Client, build(t, "remote"))

	t.Run("the service account fluxdiff runs as, on its own cluster", func(t *testing.T) {
		cfg := rest.CopyConfig(env.Config)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:fluxdiff:fluxdiff"}
		checkIdentity(t, env, cfg)
	})
	t.Run("a remote cluster's kubeconfig with a token of the service account", func(t *testing.T) {
		checkIdentity(t, env, remoteKubeconfig(t, env))
	})
	t.Run("an exec plugin's identity mapped into the group fluxdiff:dry-run-only", func(t *testing.T) {
		cfg := rest.CopyConfig(env.Config)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: "arn:aws:iam::111122223333:role/fluxdiff", Groups: []string{"fluxdiff:dry-run-only"}}
		checkIdentity(t, env, cfg)
	})
}

// remoteKubeconfig follows deploy/README.md for a remote cluster: a token
// of the fluxdiff service account (TokenRequest, as `kubectl create token`
// does; the long-lived token Secret needs kube-controller-manager, which the
// test control plane does not run), the API server's address and CA, in a
// kubeconfig file that fluxdiff loads as it loads any cluster's.
func remoteKubeconfig(t *testing.T, env *kubetest.Env) *rest.Config {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "fluxdiff", Namespace: "fluxdiff"}}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}
	if err := env.Client.SubResource("token").Create(context.Background(), sa, tr); err != nil {
		t.Fatalf("token request: %v", err)
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["production"] = &clientcmdapi.Cluster{Server: env.Config.Host, CertificateAuthorityData: env.Config.CAData}
	kc.AuthInfos["fluxdiff"] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	kc.Contexts["production"] = &clientcmdapi.Context{Cluster: "production", AuthInfo: "fluxdiff"}
	kc.CurrentContext = "production"
	path := filepath.Join(t.TempDir(), "production")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	cl := kube.LoadCluster(kube.ClusterSpec{Name: "production", Kubeconfig: path})
	if cl.LoadErr != nil {
		t.Fatal(cl.LoadErr)
	}
	if v, err := cl.Version(context.Background()); err != nil {
		t.Fatalf("the remote kubeconfig does not reach the API server: %v", err)
	} else {
		t.Logf("reached %s with the service account's token", v)
	}
	return cl.Config
}

// waitForPolicy waits until RBAC lets c patch and the admission policy
// denies it: both reach the API server's authorizer and admission through
// informers, a moment after they are applied.
func waitForPolicy(t *testing.T, env *kubetest.Env, c client.Client, ns string) {
	t.Helper()
	ctx := context.Background()
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		err = c.Patch(ctx, configMap(ns, "probe"), client.Apply, asKustomizeController...)
		if err == nil {
			_ = env.Client.Delete(ctx, configMap(ns, "probe"))
			continue
		}
		if strings.Contains(err.Error(), policyDenial) {
			return
		}
	}
	t.Fatalf("a real apply by fluxdiff: %v, want the policy's denial", err)
}

// actor is one identity of fluxdiff acting in its own test namespace,
// where an administrator created the Deployment and Pod "web", the Secret
// "creds" and the service account "bot".
type actor struct {
	env *kubetest.Env
	cfg *rest.Config
	c   client.Client
	ns  string
}

// checkIdentity runs, as the identity cfg carries, every request fluxdiff
// must be able to send and every write it must not.
func checkIdentity(t *testing.T, env *kubetest.Env, cfg *rest.Config) {
	t.Helper()
	ns := env.NewNamespace(t).Name
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	waitForPolicy(t, env, c, ns)
	web := webDeployment(ns)
	for _, o := range []client.Object{
		web,
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}, Spec: web.Spec.Template.Spec},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: ns}, StringData: map[string]string{"k": "v"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "bot", Namespace: ns}},
	} {
		if err := env.Client.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	a := actor{env: env, cfg: cfg, c: c, ns: ns}
	t.Run("reads objects by name, Secrets included, and lists Flux objects and built-in kinds but not Secrets", a.reads)
	t.Run("dry-runs an apply of a changed Deployment and of a new object", a.dryRuns)
	t.Run("a real apply or create is denied by the policy, a delete by RBAC", a.writesDenied)
	t.Run("writes to subresources are denied by the policy, even as dry-runs", a.subresourcesDenied)
	t.Run("exec and the node proxy are denied by the policy", a.connectDenied)
	t.Run("nothing it sent changed the cluster", a.nothingChanged)
}

func (a actor) reads(t *testing.T) {
	ctx := context.Background()
	if err := a.c.Get(ctx, client.ObjectKey{Namespace: a.ns, Name: "web"}, &appsv1.Deployment{}); err != nil {
		t.Errorf("get Deployment: %v", err)
	}
	if err := a.c.Get(ctx, client.ObjectKey{Namespace: a.ns, Name: "creds"}, &corev1.Secret{}); err != nil {
		t.Errorf("get Secret: %v", err)
	}
	if err := a.c.List(ctx, &kustomizev1.KustomizationList{}); err != nil {
		t.Errorf("list Kustomizations in every namespace: %v", err)
	}
	if err := a.c.List(ctx, &corev1.SecretList{}, client.InNamespace(a.ns)); !apierrors.IsForbidden(err) {
		t.Errorf("list Secrets: %v, want forbidden", err)
	}
	// The diff's bulk reads (diff/run_live.go): built-in kinds without
	// secret data may be listed, custom resources may not.
	if err := a.c.List(ctx, &appsv1.DeploymentList{}, client.InNamespace(a.ns)); err != nil {
		t.Errorf("list Deployments: %v", err)
	}
	if err := a.c.List(ctx, &corev1.ConfigMapList{}, client.InNamespace(a.ns)); err != nil {
		t.Errorf("list ConfigMaps: %v", err)
	}
	if err := a.c.List(ctx, &corev1.PodList{}, client.InNamespace(a.ns)); !apierrors.IsForbidden(err) {
		t.Errorf("list Pods: %v, want forbidden", err)
	}
}

func (a actor) dryRuns(t *testing.T) {
	ctx := context.Background()
	changed := applyDeployment(a.ns, 3)
	if err := a.c.Patch(ctx, changed, client.Apply, append(asKustomizeController, client.DryRunAll)...); err != nil {
		t.Fatalf("dry-run apply of a Deployment: %v", err)
	}
	if got, _, _ := unstructured.NestedInt64(changed.Object, "spec", "replicas"); got != 3 {
		t.Errorf("the dry-run answered replicas %d, want 3", got)
	}
	if err := a.c.Patch(ctx, configMap(a.ns, "new"), client.Apply, append(asKustomizeController, client.DryRunAll)...); err != nil {
		t.Errorf("dry-run apply of a new ConfigMap: %v", err)
	}
}

func (a actor) writesDenied(t *testing.T) {
	ctx := context.Background()
	for _, o := range []*unstructured.Unstructured{applyDeployment(a.ns, 3), configMap(a.ns, "new")} {
		err := a.c.Patch(ctx, o, client.Apply, asKustomizeController...)
		if err == nil || !strings.Contains(err.Error(), policyDenial) {
			t.Errorf("real apply of %s: %v, want the policy's denial", o.GetKind(), err)
		}
	}
	err := a.c.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "made", Namespace: a.ns}})
	if err == nil || !strings.Contains(err.Error(), policyDenial) {
		t.Errorf("create: %v, want the policy's denial", err)
	}
	if err := a.c.Delete(ctx, webDeployment(a.ns)); !apierrors.IsForbidden(err) || strings.Contains(err.Error(), policyDenial) {
		t.Errorf("delete: %v, want forbidden by RBAC", err)
	}
}

func (a actor) subresourcesDenied(t *testing.T) {
	ctx := context.Background()
	scale := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":0}}`))
	for _, opts := range [][]client.SubResourcePatchOption{nil, {client.DryRunAll}} {
		err := a.c.SubResource("scale").Patch(ctx, webDeployment(a.ns), scale, opts...)
		if err == nil || !strings.Contains(err.Error(), subresourceDenial) && !strings.Contains(err.Error(), policyDenial) {
			t.Errorf("patch of deployments/scale %v: %v, want the policy's denial", opts, err)
		}
	}
	// A dry-run TokenRequest would return a real token (see
	// TestDryRunTokenRequestReturnsAToken).
	tr := &authenticationv1.TokenRequest{}
	bot := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "bot", Namespace: a.ns}}
	err := a.c.SubResource("token").Create(ctx, bot, tr, client.DryRunAll)
	if err == nil || !strings.Contains(err.Error(), subresourceDenial) || tr.Status.Token != "" {
		t.Errorf("dry-run TokenRequest: %v, want the policy's denial", err)
	}
}

func (a actor) connectDenied(t *testing.T) {
	ctx := context.Background()
	cs, err := kubernetes.NewForConfig(a.cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = cs.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes/node-1/proxy/pods").Do(ctx).Error()
	if err == nil || !strings.Contains(err.Error(), policyDenial) {
		t.Errorf("GET nodes/proxy: %v, want the policy's denial", err)
	}
	err = cs.CoreV1().RESTClient().Post().Namespace(a.ns).Resource("pods").Name("web").SubResource("exec").
		Param("command", "true").Param("stdout", "true").Do(ctx).Error()
	if err == nil || !strings.Contains(err.Error(), policyDenial) {
		t.Errorf("POST pods/exec: %v, want the policy's denial", err)
	}
}

func (a actor) nothingChanged(t *testing.T) {
	ctx := context.Background()
	live := &appsv1.Deployment{}
	if err := a.env.Client.Get(ctx, client.ObjectKey{Namespace: a.ns, Name: "web"}, live); err != nil || *live.Spec.Replicas != 1 {
		t.Errorf("the Deployment changed: %v, replicas %v", err, live.Spec.Replicas)
	}
	for _, name := range []string{"new", "made", "probe"} {
		if err := a.env.Client.Get(ctx, client.ObjectKey{Namespace: a.ns, Name: name}, &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
			t.Errorf("ConfigMap %s: %v, want not found", name, err)
		}
	}
}

func webDeployment(ns string) *appsv1.Deployment {
	labels := map[string]string{"app": "web"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
}

// applyDeployment is web as Flux would apply it, with replicas.
func applyDeployment(ns string, replicas int64) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"spec": map[string]any{
			"replicas": replicas,
			"selector": map[string]any{"matchLabels": map[string]any{"app": "web"}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app": "web"}},
				"spec":     map[string]any{"containers": []any{map[string]any{"name": "web", "image": "nginx"}}},
			},
		},
	}}
	u.SetAPIVersion("apps/v1")
	u.SetKind("Deployment")
	u.SetNamespace(ns)
	u.SetName("web")
	return u
}

func configMap(ns, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"data": map[string]any{"a": "b"}}}
	u.SetAPIVersion("v1")
	u.SetKind("ConfigMap")
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

// TestDryRunTokenRequestReturnsAToken shows why the admission policy denies
// fluxdiff every subresource, dry-run or not: the API server answers a
// dry-run TokenRequest with a real, signed token (the token storage does not
// look at dryRun), so "create" on serviceaccounts/token would let any
// identity that may dry-run mint tokens for every service account.
func TestDryRunTokenRequestReturnsAToken(t *testing.T) {
	env := kubetest.Setup(t)
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "bot", Namespace: env.Name}}
	if err := env.Client.Create(ctx, sa); err != nil {
		t.Fatal(err)
	}
	tr := &authenticationv1.TokenRequest{}
	if err := env.Client.SubResource("token").Create(ctx, sa, tr, client.DryRunAll); err != nil {
		t.Fatal(err)
	}
	if tr.Status.Token == "" {
		t.Fatal("the API server no longer issues a token on a dry-run TokenRequest: update the comments in identity/ and README.md")
	}
	cfg := rest.AnonymousClientConfig(env.Config)
	cfg.BearerToken = tr.Status.Token
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("the dry-run token does not authenticate: %v", err)
	}
	if got, want := review.Status.UserInfo.Username, "system:serviceaccount:"+env.Name+":bot"; got != want {
		t.Errorf("the dry-run token authenticates as %q, want %q", got, want)
	}
}
