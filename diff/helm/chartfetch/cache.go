package chartfetch

import (
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// chartCache keeps chart archives by digest, bounded by their total size:
// the least recently used go first.
type chartCache struct {
	mu    sync.Mutex
	lru   *simplelru.LRU[string, *Chart]
	bytes int64
	max   int64
}

func newChartCache(max int64) *chartCache {
	c := &chartCache{max: max}
	// The entry count is not the bound (bytes are); the LRU needs one.
	c.lru, _ = simplelru.NewLRU[string, *Chart](1<<20, func(_ string, v *Chart) {
		c.bytes -= int64(len(v.Archive))
	})
	return c
}

// get returns the chart with digest d ("sha256:<hex>").
func (c *chartCache) get(d string) (*Chart, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(d)
}

// add keeps ch under its digest; a chart larger than the whole cache is
// not kept.
func (c *chartCache) add(ch *Chart) {
	size := int64(len(ch.Archive))
	if size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lru.Contains(ch.Digest) {
		c.lru.Get(ch.Digest)
		return
	}
	c.lru.Add(ch.Digest, ch)
	c.bytes += size
	for c.bytes > c.max {
		if _, _, ok := c.lru.RemoveOldest(); !ok {
			break
		}
	}
}
