package stream

import "slices"

// Skip gives up on the gap the waiting items are behind, for a source that
// may never fill it (a desk whose numbers skip what this side is not
// shown): it returns the waiting items in order and moves Last to the
// newest of them. Nil when nothing waits.
func (s *Sequencer[T]) Skip() []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) == 0 {
		return nil
	}
	keys := make([]uint64, 0, len(s.pending))
	for k := range s.pending {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]T, 0, len(keys))
	for _, k := range keys {
		out = append(out, s.pending[k])
		delete(s.pending, k)
	}
	s.last = keys[len(keys)-1]
	return out
}
