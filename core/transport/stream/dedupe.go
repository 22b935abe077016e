package stream

import "sync"

// Deduper remembers the last N ids it saw, to drop redelivered events
// (webhook retries, duplicated frames, gap fills that overlap live events).
type Deduper struct {
	mu   sync.Mutex
	seen map[string]struct{}
	ring []string
	next int
}

// NewDeduper remembers up to n ids (4096 when n <= 0).
func NewDeduper(n int) *Deduper {
	if n <= 0 {
		n = 4096
	}
	return &Deduper{seen: make(map[string]struct{}, n), ring: make([]string, n)}
}

// Forget drops id, so that a delivery that could not be handled is taken
// when it comes again.
func (d *Deduper) Forget(id string) {
	d.mu.Lock()
	delete(d.seen, id)
	d.mu.Unlock()
}

// First reports whether id is new, and remembers it. An empty id is always
// new: events without ids cannot be deduplicated.
func (d *Deduper) First(id string) bool {
	if id == "" {
		return true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.seen[id]; ok {
		return false
	}
	if old := d.ring[d.next]; old != "" {
		delete(d.seen, old)
	}
	d.ring[d.next] = id
	d.next = (d.next + 1) % len(d.ring)
	d.seen[id] = struct{}{}
	return true
}
