package helm

import (
	"fmt"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
)

// Discover asks the cluster's discovery for its Kubernetes version and API
// versions, as Helm's Configuration.getCapabilities does when it talks to a
// cluster (helm v4 pkg/action/action.go: ServerVersion, GetVersionSet).
func Discover(cfg *rest.Config) (*Capabilities, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	return discover(dc)
}

func discover(dc discovery.DiscoveryInterface) (*Capabilities, error) {
	v, err := dc.ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("discovery: server version: %w", err)
	}
	kv, err := common.ParseKubeVersion(v.GitVersion)
	if err != nil {
		return nil, fmt.Errorf("discovery: server version %q: %w", v.GitVersion, err)
	}
	vs, err := action.GetVersionSet(dc)
	if err != nil {
		return nil, fmt.Errorf("discovery: api versions: %w", err)
	}
	return &Capabilities{KubeVersion: kv, APIVersions: vs}, nil
}
