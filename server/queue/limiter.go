package queue

import (
	"context"
	"sync"
)

// ClusterLimiter bounds how many jobs of this process work on one cluster at
// the same time.
type ClusterLimiter struct {
	per   int
	mu    sync.Mutex
	slots map[string]chan struct{}
}

// NewClusterLimiter allows per concurrent holders for each cluster.
func NewClusterLimiter(per int) *ClusterLimiter {
	return &ClusterLimiter{per: max(per, 1), slots: map[string]chan struct{}{}}
}

// Acquire waits for a slot on cluster and returns its release function, or
// ctx's error when ctx ends first.
func (l *ClusterLimiter) Acquire(ctx context.Context, cluster string) (release func(), err error) {
	l.mu.Lock()
	ch, ok := l.slots[cluster]
	if !ok {
		ch = make(chan struct{}, l.per)
		l.slots[cluster] = ch
	}
	l.mu.Unlock()
	select {
	case ch <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-ch }) }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
