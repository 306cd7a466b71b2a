package server

import (
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/diff/helm"
	"github.com/fluxdiff/fluxdiff/diff/helm/chartfetch"
	"github.com/fluxdiff/fluxdiff/kube"
)

// HelmRendering turns on the rendering of HelmReleases (see diff/helm): a
// HelmRelease that a pull request touches is rendered as helm-controller
// would and its objects are diffed under the Kustomization that holds it.
type HelmRendering struct {
	// Getter fetches charts from HelmRepositories and OCI registries;
	// nil leaves only charts of the pull request's own repository
	// renderable (others get an error row).
	Getter chartfetch.Getter

	mu    sync.Mutex
	state map[*kube.Cluster]*helmCluster
}

// helmCluster caches a cluster's release-storage client and capabilities.
type helmCluster struct {
	clientset kubernetes.Interface
	caps      *helm.Capabilities
	asked     time.Time
}

// capabilitiesTTL bounds how long a cluster's discovered capabilities are
// reused (an upgrade of the cluster or a new CRD shows after it).
const capabilitiesTTL = 10 * time.Minute

// differ returns the HelmDiffer for a cluster, or nil when rendering is off.
// Discovery failing is not fatal: the render then uses Helm's default
// capabilities, as `helm template` does.
func (h *HelmRendering) differ(cl *kube.Cluster, c client.Client) diff.HelmDiffer {
	if h == nil || cl == nil || cl.Config == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state == nil {
		h.state = map[*kube.Cluster]*helmCluster{}
	}
	st := h.state[cl]
	if st == nil {
		st = &helmCluster{}
		if cs, err := kubernetes.NewForConfig(cl.Config); err == nil {
			st.clientset = cs
		}
		h.state[cl] = st
	}
	if st.caps == nil || time.Since(st.asked) > capabilitiesTTL {
		if caps, err := helm.Discover(cl.Config); err == nil {
			st.caps, st.asked = caps, time.Now()
		}
	}
	return &helm.Differ{Live: c, Clientset: st.clientset, Getter: h.Getter, Capabilities: st.caps}
}
