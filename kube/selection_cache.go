package kube

import (
	"container/list"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sync"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
)

// readSetCache keeps the read-sets of recent builds, keyed by Kustomization,
// tree (base or merge commit), spec and ignore patterns, evicting the least
// recently used beyond size.
type readSetCache struct {
	size  int
	mu    sync.Mutex
	order *list.List // of *cacheItem, most recent first
	items map[string]*list.Element
}

// cacheItem is a read-set and the tree it was recorded on: the merge commit
// and the paths where that differs from the base.
type cacheItem struct {
	key     string
	set     *readSet
	commit  string
	changed []string
}

func newReadSetCache(size int) *readSetCache {
	return &readSetCache{size: size, order: list.New(), items: map[string]*list.Element{}}
}

// cacheKey names a build: the same Kustomization spec with the same ignore
// patterns on the same tree reads the same files.
func cacheKey(key ObjectKey, tree string, ks *kustomizev1.Kustomization, ignore string) string {
	h := fnv.New64a()
	spec, _ := json.Marshal(ks.Spec) // a Spec always marshals
	_, _ = h.Write(spec)
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(ignore))
	return fmt.Sprintf("%s@%s#%x", key, tree, h.Sum64())
}

// get returns the item under key; it must not be modified.
func (c *readSetCache) get(key string) (*cacheItem, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheItem), true
}

// put stores it under key, replacing what was there.
func (c *readSetCache) put(key string, it *cacheItem) {
	if c.size <= 0 {
		return
	}
	it.key = key
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		el.Value = it
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(it)
	for c.order.Len() > c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*cacheItem).key)
	}
}
