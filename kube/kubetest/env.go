package kubetest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/fluxdiff/fluxdiff/kube/scheme"
)

// HowToGetBinaries tells a developer how to provide the API server.
const HowToGetBinaries = "kube-apiserver and etcd are not available: run `make test`, " +
	"or `export KUBEBUILDER_ASSETS=$(hack/testbin/build.sh)` and then `go test`"

// ErrNoBinaries is returned by Start when KUBEBUILDER_ASSETS does not hold
// the binaries.
var ErrNoBinaries = errors.New(HowToGetBinaries)

// Env is one running control plane.
type Env struct {
	// Config reaches the API server as an administrator.
	Config *rest.Config
	// Scheme knows core Kubernetes, apiextensions and Flux types.
	Scheme *k8sruntime.Scheme
	// Client is a controller-runtime client on Config.
	Client client.Client

	env *envtest.Environment
}

// NewScheme returns a scheme with core Kubernetes, CRD and Flux types.
func NewScheme() *k8sruntime.Scheme { return scheme.New() }

// Start starts a new control plane with the Flux CRDs installed. Most tests
// share the one that Main starts; tests of several clusters start more.
func Start() (*Env, error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" || !isFile(filepath.Join(assets, "kube-apiserver")) || !isFile(filepath.Join(assets, "etcd")) {
		return nil, ErrNoBinaries
	}
	scheme := NewScheme()
	te := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{CRDDir()},
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
	}
	te.ControlPlane.GetAPIServer().Configure().
		Set("advertise-address", "127.0.0.1").
		Set("endpoint-reconciler-type", "none")
	cfg, err := te.Start()
	if err != nil {
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	// client-go's default of 5 requests per second would make every test
	// that touches many objects measure the rate limiter instead.
	cfg.QPS, cfg.Burst = 1000, 2000
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		_ = te.Stop()
		return nil, err
	}
	return &Env{Config: cfg, Scheme: scheme, Client: c, env: te}, nil
}

// Stop stops the API server and etcd.
func (e *Env) Stop() error { return e.env.Stop() }

// Kubeconfig writes a kubeconfig for this API server into dir and returns its
// path.
func (e *Env) Kubeconfig(dir string) (string, error) {
	p := filepath.Join(dir, "kubeconfig")
	return p, os.WriteFile(p, e.env.KubeConfig, 0o600)
}

// CRDDir is the project's testdata/crds folder.
func CRDDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "crds")
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// StandInCRDDir is the project's testdata/crds-standins folder: permissive
// CRDs for HelmRelease, HelmRepository and ClusterIssuer.
func StandInCRDDir() string {
	return filepath.Join(CRDDir(), "..", "crds-standins")
}

// InstallCRDs installs the CRDs in dir and waits until they are served.
func (e *Env) InstallCRDs(dir string) error {
	_, err := envtest.InstallCRDs(e.Config, envtest.CRDInstallOptions{Paths: []string{dir}, ErrorIfPathMissing: true})
	if err != nil {
		return fmt.Errorf("install CRDs from %s: %w", dir, err)
	}
	return nil
}
