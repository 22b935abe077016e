package stream

import (
	"slices"
	"sync"
)

// Sequencer delivers a stream's numbered items exactly once and in order,
// whatever order and how many times they arrive: duplicates are dropped,
// items after a gap wait until the gap is filled. Seq numbers start at 1 and
// have no gaps at the source.
type Sequencer[T any] struct {
	mu      sync.Mutex
	last    uint64
	pending map[uint64]T
	limit   int
}

// NewSequencer starts after seq last (0 for a new stream) and holds at most
// limit items waiting behind a gap (1024 when limit <= 0).
func NewSequencer[T any](last uint64, limit int) *Sequencer[T] {
	if limit <= 0 {
		limit = 1024
	}
	return &Sequencer[T]{last: last, limit: limit}
}

// Last returns the seq of the last item delivered.
func (s *Sequencer[T]) Last() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Push offers item seq and returns the items now deliverable, in order, and
// whether a gap is open (items are waiting for an earlier seq: the caller
// should fetch the events after Last from the source). When more than limit
// items wait, the oldest waiting ones are delivered anyway, so memory stays
// bounded; gap reports true until the hole is gone.
func (s *Sequencer[T]) Push(seq uint64, item T) (ready []T, gap bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq <= s.last {
		return nil, len(s.pending) > 0
	}
	if seq == s.last+1 {
		ready = append(ready, item)
		s.last = seq
		ready = s.drain(ready)
		return ready, len(s.pending) > 0
	}
	if s.pending == nil {
		s.pending = make(map[uint64]T)
	}
	s.pending[seq] = item
	if len(s.pending) > s.limit {
		keys := make([]uint64, 0, len(s.pending))
		for k := range s.pending {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		s.last = keys[0] - 1 // give up on the hole
		ready = s.drain(ready)
	}
	return ready, len(s.pending) > 0
}

func (s *Sequencer[T]) drain(ready []T) []T {
	for {
		it, ok := s.pending[s.last+1]
		if !ok {
			return ready
		}
		delete(s.pending, s.last+1)
		s.last++
		ready = append(ready, it)
	}
}
