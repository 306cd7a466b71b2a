package kube

import (
	"context"
	"errors"
	"fmt"
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
	// Error is the last error reaching the cluster; empty after a success.
	Error string `json:"error,omitempty"`
	// ErrorSince is when the current error first happened.
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
// informers retry with client-go's backoff and its status says why.
type Watcher struct {
	index    *Index
	clusters []*clusterWatch
}

// NewWatcher returns a watcher that feeds index from clusters. Call Start.
func NewWatcher(index *Index, clusters []*Cluster) *Watcher {
	w := &Watcher{index: index}
	for _, cl := range clusters {
		w.clusters = append(w.clusters, &clusterWatch{cluster: cl})
	}
	return w
}

// Index returns the index the watcher feeds.
func (w *Watcher) Index() *Index { return w.index }

// Start starts the informers of every usable cluster and returns at once;
// they stop when ctx is done. A cluster whose informers cannot be built is
// reported by Status.
func (w *Watcher) Start(ctx context.Context) {
	for _, cw := range w.clusters {
		if cw.cluster.LoadErr != nil {
			continue
		}
		if err := cw.start(ctx, w.index); err != nil {
			cw.fail(err)
		}
	}
}

// WaitForSync waits until every cluster has synced or ctx is done, and
// reports whether all synced. Clusters that are down are not waited for
// beyond ctx.
func (w *Watcher) WaitForSync(ctx context.Context) bool {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		all := true
		for _, cw := range w.clusters {
			all = all && cw.status().Synced
		}
		if all {
			return true
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
		if cw.cluster.Name != cluster {
			continue
		}
		s := cw.status()
		switch {
		case s.Error != "":
			return errors.New(s.Error)
		case !s.Synced:
			return errors.New("informers have not synced yet")
		}
		_, err := cw.cluster.Version(ctx)
		return err
	}
	return fmt.Errorf("unknown cluster %q", cluster)
}

// clusterWatch is the informers of one cluster and their health.
type clusterWatch struct {
	cluster   *Cluster
	informers []cache.SharedIndexInformer

	mu      sync.Mutex
	started bool
	err     error
	errAt   time.Time
}

func (cw *clusterWatch) status() ClusterStatus {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	s := ClusterStatus{Name: cw.cluster.Name, Synced: cw.started}
	for _, inf := range cw.informers {
		s.Synced = s.Synced && inf.HasSynced()
	}
	switch {
	case cw.cluster.LoadErr != nil:
		s.Error = cw.cluster.LoadErr.Error()
	case cw.err != nil:
		s.Error, s.ErrorSince = cw.err.Error(), cw.errAt
	}
	return s
}

// fail records err as the cluster's current error.
func (cw *clusterWatch) fail(err error) {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	if cw.err == nil {
		cw.errAt = time.Now()
	}
	cw.err = err
}

// succeed clears the cluster's error.
func (cw *clusterWatch) succeed() {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	cw.err = nil
	cw.errAt = time.Time{}
}
