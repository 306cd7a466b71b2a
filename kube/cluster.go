package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// ClusterSpec names a cluster by kubeconfig file and context.
type ClusterSpec struct {
	// Name identifies the cluster in reports.
	Name string
	// Kubeconfig is a file; empty means the default loading rules
	// ($KUBECONFIG, then ~/.kube/config, then in-cluster).
	Kubeconfig string
	// Context is the kubeconfig context; empty means the current one.
	Context string
	// QPS and Burst limit the client's request rate; zero keeps client-go's defaults.
	QPS   float32
	Burst int
}

// Cluster is one reachable (or, when LoadErr is set, unconfigurable) cluster.
type Cluster struct {
	// Name identifies the cluster in reports.
	Name string
	// Config is the REST configuration; nil when LoadErr is set.
	Config *rest.Config
	// LoadErr says why the kubeconfig could not be loaded.
	LoadErr error

	// spec is what LoadCluster loaded it from; nil for NewCluster. A
	// Watcher loads it again while LoadErr is set.
	spec *ClusterSpec
	// discovery is built once and reused by every readiness probe.
	discovery *discovery.DiscoveryClient
}

// LoadCluster builds the REST configuration for spec. A kubeconfig that cannot
// be loaded is not fatal: the cluster is returned with LoadErr set so that
// /readyz and reports can say why it is unusable, and a Watcher loads it
// again with backoff.
func LoadCluster(spec ClusterSpec) *Cluster {
	cl := loadCluster(spec)
	cl.spec = &spec
	return cl
}

func loadCluster(spec ClusterSpec) *Cluster {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if spec.Kubeconfig != "" {
		rules.ExplicitPath = spec.Kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: spec.Context}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		err = errors.New("no kubeconfig found ($KUBECONFIG, ~/.kube/config) and not running inside a cluster")
	}
	if err != nil {
		return &Cluster{Name: spec.Name, LoadErr: fmt.Errorf("kubeconfig: %w", err)}
	}
	return NewCluster(spec.Name, cfg, spec.QPS, spec.Burst)
}

// NewCluster wraps an existing REST configuration (tests, in-cluster use).
func NewCluster(name string, cfg *rest.Config, qps float32, burst int) *Cluster {
	cfg = rest.CopyConfig(cfg)
	if qps > 0 {
		cfg.QPS = qps
	}
	if burst > 0 {
		cfg.Burst = burst
	}
	cfg.UserAgent = "fluxdiff"
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return &Cluster{Name: name, Config: cfg, LoadErr: fmt.Errorf("client: %w", err)}
	}
	return &Cluster{Name: name, Config: cfg, discovery: dc}
}

// Version asks the API server for its version; it is the readiness probe.
func (c *Cluster) Version(ctx context.Context) (string, error) {
	if c.LoadErr != nil {
		return "", c.LoadErr
	}
	body, err := c.discovery.RESTClient().Get().AbsPath("/version").Do(ctx).Raw()
	if err != nil {
		return "", fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return "", fmt.Errorf("cluster %s: /version: %w", c.Name, err)
	}
	return v.GitVersion, nil
}
