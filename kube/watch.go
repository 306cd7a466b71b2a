package kube

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/tools/cache"
)

// ClusterStatus is one cluster's health as the Watcher sees it.
type ClusterStatus struct {
	// Name is the cluster's name.
	Name string `json:"name"`
	// Synced is true once the cluster's informers have listed everything.
	Synced bool `json:"synced"`
	// Error says why the cluster is unusable: its kubeconfig's load error,
	// or the last error of each informer whose last request failed (the
	// GitRepository and Kustomization informers fail and recover
	// separately). Empty when every informer's last request succeeded.
	Error string `json:"error,omitempty"`
	// ErrorSince is when the oldest current error first happened.
	ErrorSince time.Time `json:"errorSince,omitzero"`
}

// OK reports whether the cluster's part of the index is complete and current.
func (s ClusterStatus) OK() bool { return s.Synced && s.Error == "" }

// Result is the answer to a lookup: the Kustomizations found and the
// clusters that could not be asked, which may hold more.
type Result struct {
	Entries []*Entry
	// Unavailable lists every cluster whose index is incomplete or stale.
	Unavailable []ClusterStatus
}

// Watcher keeps an Index current with informers (list and watch, never
// polling) on GitRepositories and Kustomizations in all namespaces of every
// cluster. A cluster that cannot be reached does not hold up the others: its
// informers retry with client-go's backoff and its status says why. A
// cluster whose kubeconfig could not be loaded is loaded again with backoff
// (from 1 s up to 5 min) until it can be watched.
type Watcher struct {
	index    *Index
	clusters []*clusterWatch
}

// The backoff between attempts to load a kubeconfig that failed.
const (
	reloadMin = time.Second
	reloadMax = 5 * time.Minute
)

// NewWatcher returns a watcher that feeds index from clusters. Call Start.
func NewWatcher(index *Index, clusters []*Cluster) *Watcher {
	w := &Watcher{index: index}
	now := time.Now()
	for _, cl := range clusters {
		w.clusters = append(w.clusters, &clusterWatch{cluster: cl, errs: map[string]sinceError{}, loadErrAt: now})
	}
	return w
}

// Index returns the index the watcher feeds.
func (w *Watcher) Index() *Index { return w.index }

// Start starts the informers of every usable cluster, and the reloading of
// every cluster whose kubeconfig failed, and returns at once; they stop when
// ctx is done. A cluster whose informers cannot be built is reported by
// Status.
func (w *Watcher) Start(ctx context.Context) {
	for _, cw := range w.clusters {
		cl := cw.current()
		if cl.LoadErr != nil {
			if cl.spec != nil {
				go cw.reload(ctx, w.index, *cl.spec)
			}
			continue
		}
		if err := cw.start(ctx, w.index); err != nil {
			cw.fail("", err)
		}
	}
}

// WaitForSync waits until every cluster has settled or ctx is done, and
// reports whether all synced. A cluster has settled when its informers
// have synced or its kubeconfig could not be loaded (its status says why);
// clusters that are down are not waited for beyond ctx.
func (w *Watcher) WaitForSync(ctx context.Context) bool {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		settled, synced := true, true
		for _, cw := range w.clusters {
			s := cw.status()
			synced = synced && s.Synced
			settled = settled && (s.Synced || cw.current().LoadErr != nil)
		}
		if settled {
			return synced
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}

// Status returns every cluster's status in configuration order.
func (w *Watcher) Status() []ClusterStatus {
	out := make([]ClusterStatus, 0, len(w.clusters))
	for _, cw := range w.clusters {
		out = append(out, cw.status())
	}
	return out
}

// Cluster returns the cluster named name as the watcher has it now (one
// whose kubeconfig failed is replaced once it loads), or nil.
func (w *Watcher) Cluster(name string) *Cluster {
	for _, cw := range w.clusters {
		if cl := cw.current(); cl.Name == name {
			return cl
		}
	}
	return nil
}

// Lookup answers Index.Lookup and names the clusters whose part of the index
// is incomplete or stale.
func (w *Watcher) Lookup(repoURL, branch string) Result {
	res := Result{Entries: w.index.Lookup(repoURL, branch)}
	for _, s := range w.Status() {
		if !s.OK() {
			res.Unavailable = append(res.Unavailable, s)
		}
	}
	return res
}

// Check is the readiness check of one cluster: its informers have synced,
// their last request succeeded, and the API server answers /version now.
func (w *Watcher) Check(ctx context.Context, cluster string) error {
	for _, cw := range w.clusters {
		if cw.current().Name != cluster {
			continue
		}
		s := cw.status()
		switch {
		case s.Error != "":
			return errors.New(s.Error)
		case !s.Synced:
			return errors.New("informers have not synced yet")
		}
		_, err := cw.current().Version(ctx)
		return err
	}
	return fmt.Errorf("unknown cluster %q", cluster)
}

// clusterWatch is the informers of one cluster and their health.
type clusterWatch struct {
	mu        sync.Mutex
	cluster   *Cluster // replaced when a failed kubeconfig is loaded again
	loadErrAt time.Time
	informers []cache.SharedIndexInformer
	started   bool
	// errs holds the current error of each resource's informer, and of the
	// cluster itself under "".
	errs map[string]sinceError
}

// sinceError is an error and when it first happened.
type sinceError struct {
	err   error
	since time.Time
}

// current returns the cluster as last loaded.
func (cw *clusterWatch) current() *Cluster {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	return cw.cluster
}

func (cw *clusterWatch) status() ClusterStatus {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	s := ClusterStatus{Name: cw.cluster.Name, Synced: cw.started}
	for _, inf := range cw.informers {
		s.Synced = s.Synced && inf.HasSynced()
	}
	if cw.cluster.LoadErr != nil {
		s.Error, s.ErrorSince = cw.cluster.LoadErr.Error(), cw.loadErrAt
		return s
	}
	var msgs []string
	for _, res := range slices.Sorted(maps.Keys(cw.errs)) {
		e := cw.errs[res]
		msgs = append(msgs, e.err.Error())
		if s.ErrorSince.IsZero() || e.since.Before(s.ErrorSince) {
			s.ErrorSince = e.since
		}
	}
	s.Error = strings.Join(msgs, "; ")
	return s
}

// fail records err as the current error of resource ("" for the cluster).
func (cw *clusterWatch) fail(resource string, err error) {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	e, ok := cw.errs[resource]
	if !ok {
		e.since = time.Now()
	}
	e.err = err
	cw.errs[resource] = e
}

// succeed clears the error of resource; the cluster is healthy once no
// resource has one.
func (cw *clusterWatch) succeed(resource string) {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	delete(cw.errs, resource)
}

// reload loads the kubeconfig of spec with backoff until it loads, then
// starts the informers, or until ctx is done.
func (cw *clusterWatch) reload(ctx context.Context, ix *Index, spec ClusterSpec) {
	delay := reloadMin
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		cl := LoadCluster(spec)
		cw.mu.Lock()
		cw.cluster = cl
		cw.mu.Unlock()
		if cl.LoadErr == nil {
			if err := cw.start(ctx, ix); err != nil {
				cw.fail("", err)
			}
			return
		}
		delay = min(2*delay, reloadMax)
		timer.Reset(delay)
	}
}
