package kube_test

import (
	"context"
	"strings"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// kubeconfigYAML is a kubeconfig for server with the given user and cluster
// settings (YAML fragments indented for their place).
func kubeconfigYAML(server, user, cluster string) string {
	return "apiVersion: v1\nkind: Config\nclusters:\n  - name: c\n    cluster:\n      server: " + server + "\n" + cluster +
		"users:\n  - name: u\n    user:\n" + user +
		"contexts:\n  - name: x\n    context: {cluster: c, user: u}\ncurrent-context: x\n"
}

// TestRemoteConfigReadsTheSecretAsKustomizeControllerDoes follows fluxcd/pkg
// runtime/client Impersonator.getRESTConfigFromSecret (the key
// spec.kubeConfig.secretRef.key, else "value", else "value.yaml") and
// KubeConfig (only embedded data is kept; exec and insecure TLS only when
// allowed), refusing with the reason where the controller would drop a
// setting silently.
func TestRemoteConfigReadsTheSecretAsKustomizeControllerDoes(t *testing.T) {
	env := kubetest.Setup(t)
	ctx := context.Background()
	token := "      token: abc\n"
	data := map[string]map[string]string{
		"by-value":      {"value": kubeconfigYAML("https://value.example", token, "")},
		"by-value-yaml": {"value.yaml": kubeconfigYAML("https://value-yaml.example", token, "")},
		"by-key":        {"value": kubeconfigYAML("https://value.example", token, ""), "spoke": kubeconfigYAML("https://key.example", token, "")},
		"no-key":        {"other": "x"},
		"insecure":      {"value": kubeconfigYAML("https://insecure.example", token, "      insecure-skip-tls-verify: true\n")},
		"token-file":    {"value": kubeconfigYAML("https://file.example", "      tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token\n", "")},
		"ca-file":       {"value": kubeconfigYAML("https://file.example", token, "      certificate-authority: /etc/ssl/ca.pem\n")},
		"auth-provider": {"value": kubeconfigYAML("https://ap.example", "      auth-provider:\n        name: oidc\n", "")},
		"exec":          {"value": kubeconfigYAML("https://exec.example", "      exec:\n        apiVersion: client.authentication.k8s.io/v1\n        command: /bin/true\n        interactiveMode: Never\n", "")},
	}
	for name, d := range data {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: env.Name, Name: name}, StringData: d}
		if err := env.Client.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	ks := func(secret, key string) *kustomizev1.Kustomization {
		return &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: env.Name, Name: "spoke"},
			Spec: kustomizev1.KustomizationSpec{KubeConfig: &meta.KubeConfigReference{SecretRef: &meta.SecretKeyReference{Name: secret, Key: key}}}}
	}
	for _, tc := range []struct {
		name, secret, key string
		opts              kube.KubeConfigOptions
		host, err         string
	}{
		{"the key value", "by-value", "", kube.KubeConfigOptions{}, "https://value.example", ""},
		{"the key value.yaml", "by-value-yaml", "", kube.KubeConfigOptions{}, "https://value-yaml.example", ""},
		{"the named key first", "by-key", "spoke", kube.KubeConfigOptions{}, "https://key.example", ""},
		{"a named key that is missing", "by-value", "nope", kube.KubeConfigOptions{}, "", `no key "nope"`},
		{"no value key", "no-key", "", kube.KubeConfigOptions{}, "", `no key "value"`},
		{"a missing Secret", "absent", "", kube.KubeConfigOptions{}, "", "not found"},
		{"insecure TLS refused", "insecure", "", kube.KubeConfigOptions{}, "", "skips TLS verification"},
		{"insecure TLS allowed", "insecure", "", kube.KubeConfigOptions{AllowInsecureTLS: true}, "https://insecure.example", ""},
		{"a token file refused", "token-file", "", kube.KubeConfigOptions{}, "", "names files"},
		{"a CA file refused", "ca-file", "", kube.KubeConfigOptions{}, "", "certificate-authority"},
		{"an auth provider refused even with exec allowed", "auth-provider", "", kube.KubeConfigOptions{AllowExec: true}, "", `auth provider "oidc"`},
		{"exec refused", "exec", "", kube.KubeConfigOptions{}, "", `runs a command (exec: "/bin/true")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := kube.RemoteConfig(ctx, env.Client, ks(tc.secret, tc.key), tc.opts)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Host != tc.host || cfg.BearerToken != "abc" || cfg.ExecProvider != nil || cfg.Insecure != tc.opts.AllowInsecureTLS {
				t.Errorf("config host %q token set %v exec %v insecure %v", cfg.Host, cfg.BearerToken != "", cfg.ExecProvider, cfg.Insecure)
			}
		})
	}
	t.Run("exec allowed keeps the plugin, as the controller with --insecure-kubeconfig-exec", func(t *testing.T) {
		cfg, err := kube.RemoteConfig(ctx, env.Client, ks("exec", ""), kube.KubeConfigOptions{AllowExec: true})
		if err != nil || cfg.ExecProvider == nil || cfg.ExecProvider.Command != "/bin/true" {
			t.Fatalf("config %+v, err %v; want the exec plugin kept", cfg, err)
		}
	})
}

func TestImpersonatedUserPrefersTheKustomizationsAccount(t *testing.T) {
	ks := &kustomizev1.Kustomization{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "apps"}}
	if got := kube.ImpersonatedUser(ks, ""); got != "" {
		t.Errorf("no account: %q, want none", got)
	}
	if got := kube.ImpersonatedUser(ks, "default"); got != "system:serviceaccount:team-a:default" {
		t.Errorf("the default account: %q", got)
	}
	ks.Spec.ServiceAccountName = "deployer"
	if got := kube.ImpersonatedUser(ks, "default"); got != "system:serviceaccount:team-a:deployer" {
		t.Errorf("spec.serviceAccountName: %q", got)
	}
}
