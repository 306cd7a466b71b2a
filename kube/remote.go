package kube

import (
	"context"
	"errors"
	"fmt"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// KubeConfigOptions decide which remote kubeconfigs are accepted. They are
// kustomize-controller's --insecure-kubeconfig-exec and
// --insecure-kubeconfig-tls (fluxcd/pkg runtime/client KubeConfigOptions),
// both off by default.
type KubeConfigOptions struct {
	// AllowExec accepts a kubeconfig whose user runs a credential plugin
	// (users[].user.exec).
	AllowExec bool
	// AllowInsecureTLS accepts a kubeconfig whose cluster skips TLS
	// verification (insecure-skip-tls-verify).
	AllowInsecureTLS bool
	// Timeout bounds each request to the remote API server; zero means 30s,
	// the controller's default.
	Timeout time.Duration
}

// RemoteTarget names the cluster a Kustomization applies to when it is not
// the one that holds it (spec.kubeConfig): the referenced Secret's or
// ConfigMap's name, e.g. "prod-kubeconfig". It is "" without
// spec.kubeConfig.
func RemoteTarget(ks *kustomizev1.Kustomization) string {
	ref := ks.Spec.KubeConfig
	switch {
	case ref == nil:
		return ""
	case ref.SecretRef != nil:
		return ref.SecretRef.Name
	case ref.ConfigMapRef != nil:
		return ref.ConfigMapRef.Name
	}
	return "kubeConfig"
}

// ErrConfigMapKubeConfig is returned for spec.kubeConfig.configMapRef.
//
// kustomize-controller turns such a ConfigMap (provider aws, azure, gcp or
// generic) into a client with fluxcd/pkg/auth: it mints a service account
// token with a TokenRequest (the controller's own account, or the
// ConfigMap's serviceAccountName) and, for the cloud providers, exchanges it
// at the cloud's token service for the controller's cloud identity. fluxdiff
// holds neither: it is not kustomize-controller's service account, and its
// admission policy denies it every write to a subresource, the TokenRequest
// included (deploy/identity/admission-policy.yaml), so it could only
// authenticate as some other identity and would show a diff Flux does not
// see.
var ErrConfigMapKubeConfig = errors.New("spec.kubeConfig.configMapRef (workload identity) is not supported: " +
	"kustomize-controller authenticates to the target with a service account token it mints (TokenRequest) and, " +
	"for aws, azure and gcp, exchanges with the cloud; fluxdiff may not mint tokens and has no such cloud identity")

// RemoteConfig builds the REST configuration of the cluster ks applies to
// from the Secret that spec.kubeConfig.secretRef names, read through mgmt
// (the cluster that holds ks) in ks's namespace, the way kustomize-controller
// does (fluxcd/pkg runtime/client Impersonator.getRESTConfigFromSecret): the
// key spec.kubeConfig.secretRef.key, else "value", else "value.yaml", with the
// kubeconfig's current context. It returns nil, nil without spec.kubeConfig.
//
// The result keeps only what the controller's KubeConfig sanitizer keeps:
// the server address, TLS data (not file paths), basic auth and bearer
// token. A kubeconfig whose user runs a command (exec, unless AllowExec) or
// names an auth provider, or whose cluster skips TLS verification (unless
// AllowInsecureTLS), is refused with the reason: the controller drops those
// settings silently (so it would reach the target without credentials),
// and a refusal says why. Nothing in the kubeconfig runs while it is read.
func RemoteConfig(ctx context.Context, mgmt client.Reader, ks *kustomizev1.Kustomization, opts KubeConfigOptions) (*rest.Config, error) {
	ref := ks.Spec.KubeConfig
	switch {
	case ref == nil:
		return nil, nil
	case ref.SecretRef == nil && ref.ConfigMapRef != nil:
		return nil, ErrConfigMapKubeConfig
	case ref.SecretRef == nil:
		return nil, errors.New("invalid spec.kubeConfig: neither secretRef nor configMapRef is set")
	}
	key := client.ObjectKey{Namespace: ks.Namespace, Name: ref.SecretRef.Name}
	var secret corev1.Secret
	if err := mgmt.Get(ctx, key, &secret); err != nil {
		return nil, fmt.Errorf("read the kubeconfig Secret %s: %w", key, err)
	}
	data, err := kubeconfigData(&secret, ref.SecretRef.Key)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig Secret %s: %w", key, err)
	}
	cfg, err := sanitizedConfig(data, opts)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig Secret %s: %w", key, err)
	}
	return cfg, nil
}

// kubeconfigData picks the kubeconfig out of a Secret as the controller
// does: the named key, else "value", else "value.yaml".
func kubeconfigData(s *corev1.Secret, key string) ([]byte, error) {
	switch {
	case key != "":
		if b := s.Data[key]; b != nil {
			return b, nil
		}
		return nil, fmt.Errorf("no key %q with a kubeconfig", key)
	case s.Data["value"] != nil:
		return s.Data["value"], nil
	case s.Data["value.yaml"] != nil:
		return s.Data["value.yaml"], nil
	}
	return nil, errors.New(`no key "value" (or "value.yaml") with a kubeconfig`)
}

// sanitizedConfig parses a kubeconfig, refuses what opts do not allow and
// copies the allowed fields into a fresh rest.Config. Parsing does not run
// exec plugins or auth providers: they would run only when a transport is
// built from a config that still holds them, and the result never does
// unless AllowExec.
func sanitizedConfig(data []byte, opts KubeConfigOptions) (*rest.Config, error) {
	raw, err := clientcmd.Load(data)
	if err != nil {
		return nil, fmt.Errorf("parse kubeconfig: %w", err)
	}
	if err := refuseUnsafe(raw, opts); err != nil {
		return nil, err
	}
	in, err := clientcmd.NewDefaultClientConfig(*raw, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	out := &rest.Config{
		Host: in.Host, APIPath: in.APIPath, DisableCompression: in.DisableCompression,
		TLSClientConfig: rest.TLSClientConfig{
			ServerName: in.ServerName, CAData: in.CAData, CertData: in.CertData, KeyData: in.KeyData,
		},
		Username: in.Username, Password: in.Password, BearerToken: in.BearerToken,
		Timeout: 30 * time.Second, UserAgent: "fluxdiff",
	}
	if opts.Timeout > 0 {
		out.Timeout = opts.Timeout
	}
	if opts.AllowInsecureTLS {
		out.Insecure = in.Insecure
	}
	if opts.AllowExec {
		out.ExecProvider = in.ExecProvider
	}
	return out, nil
}

// refuseUnsafe says why the current context of raw cannot be used: a user
// that runs a command or an auth provider, or a cluster without TLS
// verification, unless allowed.
func refuseUnsafe(raw *clientcmdapi.Config, opts KubeConfigOptions) error {
	ctx, ok := raw.Contexts[raw.CurrentContext]
	if !ok {
		return fmt.Errorf("kubeconfig has no current context %q", raw.CurrentContext)
	}
	if user := raw.AuthInfos[ctx.AuthInfo]; user != nil {
		if user.Exec != nil && !opts.AllowExec {
			return fmt.Errorf("refused: kubeconfig user %q runs a command (exec: %q); kustomize-controller does not run it "+
				"unless started with --insecure-kubeconfig-exec, and fluxdiff only with diff.insecureKubeconfigExec: true",
				ctx.AuthInfo, user.Exec.Command)
		}
		if user.TokenFile != "" || user.ClientCertificate != "" || user.ClientKey != "" {
			return fmt.Errorf("refused: kubeconfig user %q names files (tokenFile, client-certificate or client-key) "+
				"on the reading process's own file system; only embedded credentials are used", ctx.AuthInfo)
		}
		if user.AuthProvider != nil {
			return fmt.Errorf("refused: kubeconfig user %q uses the auth provider %q, which kustomize-controller never uses",
				ctx.AuthInfo, user.AuthProvider.Name)
		}
	}
	cl := raw.Clusters[ctx.Cluster]
	if cl != nil && cl.CertificateAuthority != "" {
		return fmt.Errorf("refused: kubeconfig cluster %q names a file (certificate-authority) on the reading process's "+
			"own file system; only certificate-authority-data is used", ctx.Cluster)
	}
	if cl != nil && cl.InsecureSkipTLSVerify && !opts.AllowInsecureTLS {
		return fmt.Errorf("refused: kubeconfig cluster %q skips TLS verification; kustomize-controller verifies it "+
			"unless started with --insecure-kubeconfig-tls, and fluxdiff unless diff.insecureKubeconfigTLS: true", ctx.Cluster)
	}
	return nil
}

// ImpersonatedUser is the user kustomize-controller acts as for ks:
// system:serviceaccount:NAMESPACE:NAME of spec.serviceAccountName, else of
// defaultSA (the controller's --default-service-account), in ks's namespace;
// "" when neither is set (fluxcd/pkg runtime/client
// Impersonator.setImpersonationConfig). With spec.kubeConfig the same user is
// impersonated on the target cluster.
func ImpersonatedUser(ks *kustomizev1.Kustomization, defaultSA string) string {
	name := ks.Spec.ServiceAccountName
	if name == "" {
		name = defaultSA
	}
	if name == "" {
		return ""
	}
	return "system:serviceaccount:" + ks.Namespace + ":" + name
}

// DryRunOnlyExtra is the user extra fluxdiff sets, to "true", on every
// request it sends as an impersonated service account, so that the
// admission policy of deploy/impersonate can hold those requests to
// dry-runs: the API server gives admission the impersonated user only, and
// that user is also the one Flux applies as for real.
const DryRunOnlyExtra = "dry-run-only.fluxdiff.io"

// Impersonation is the impersonation configuration for user (see
// ImpersonatedUser): the user, with DryRunOnlyExtra. The API server fills in
// a service account's groups itself when none are given.
func Impersonation(user string) rest.ImpersonationConfig {
	return rest.ImpersonationConfig{UserName: user, Extra: map[string][]string{DryRunOnlyExtra: {"true"}}}
}
