package lifetime

import "sync"

// Slot holds a desk's current connection (a WebSocket, an SSE stream): at
// most one, stopped off the caller's goroutine when the chat ends (the
// caller may be the connection's own read goroutine), closed and waited
// for on Close. The zero value is empty and ready.
type Slot[T interface {
	comparable
	Close() error
}] struct {
	mu sync.Mutex
	v  T
}

// Open stores the connection open makes, unless one is there; it reports
// whether it made one.
func (s *Slot[T]) Open(open func() T) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	var zero T
	if s.v != zero {
		return false
	}
	s.v = open()
	return true
}

// Get returns the current connection, or the zero value.
func (s *Slot[T]) Get() T {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.v
}

func (s *Slot[T]) take() (T, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var zero T
	v := s.v
	s.v = zero
	return v, v != zero
}

// Stop takes the connection out and closes it on a goroutine of l (or one
// of its own once l is closed). A connection that can be muted (its
// callbacks stopped: stream.Socket.Mute) is muted first, here: what it
// says while it closes is not for the owner any more.
func (s *Slot[T]) Stop(l *Lifecycle) {
	v, ok := s.take()
	if m, mutes := any(v).(interface{ Mute() }); ok && mutes {
		m.Mute()
	}
	if ok && !l.Go(func() { _ = v.Close() }) {
		go func() { _ = v.Close() }()
	}
}

// Close takes the connection out and closes it, waiting for it.
func (s *Slot[T]) Close() {
	if v, ok := s.take(); ok {
		_ = v.Close()
	}
}
