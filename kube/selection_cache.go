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
// commit and spec, evicting the least recently used beyond size.
type readSetCache struct {
	size  int
	mu    sync.Mutex
	order *list.List // of *cacheItem, most recent first
	items map[string]*list.Element
}

type cacheItem struct {
	key string
	set *readSet
}

func newReadSetCache(size int) *readSetCache {
	return &readSetCache{size: size, order: list.New(), items: map[string]*list.Element{}}
}

// cacheKey names a build: the same Kustomization spec with the same ignore
// patterns at the same commit reads the same files.
func cacheKey(key ObjectKey, commit string, ks *kustomizev1.Kustomization, ignore string) string {
	h := fnv.New64a()
	spec, _ := json.Marshal(ks.Spec) // a Spec always marshals
	_, _ = h.Write(spec)
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(ignore))
	return fmt.Sprintf("%s@%s#%x", key, commit, h.Sum64())
}

func (c *readSetCache) get(key string) (*readSet, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheItem).set, true
}

func (c *readSetCache) put(key string, set *readSet) {
	if c.size <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		el.Value.(*cacheItem).set = set
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&cacheItem{key: key, set: set})
	for c.order.Len() > c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*cacheItem).key)
	}
}
