package lifetime

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
)

// ErrClosed is returned by Set.Add after Close.
var ErrClosed = errors.New("lifetime: closed")

// Lifecycle is the lifetime of something that starts goroutines and must
// stop them all when it closes (a kit's desk): a context that ends with
// Close, tracked goroutines, and callers' contexts bound to the lifetime.
// The zero value is ready to use.
type Lifecycle struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

func (l *Lifecycle) init() {
	l.once.Do(func() { l.ctx, l.cancel = context.WithCancel(context.Background()) })
}

// Context ends when Close is called.
func (l *Lifecycle) Context() context.Context {
	l.init()
	return l.ctx
}

// Bind returns ctx, also ended by Close, and its cancel function.
func (l *Lifecycle) Bind(ctx context.Context) (context.Context, context.CancelFunc) {
	l.init()
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(l.ctx, cancel)
	return ctx, func() { stop(); cancel() }
}

// Go runs f on a goroutine that Close waits for. After Close it runs
// nothing and reports false.
func (l *Lifecycle) Go(f func()) bool {
	l.init()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		f()
	}()
	return true
}

// Closed reports whether Close was called.
func (l *Lifecycle) Closed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// Close ends the context and waits for every goroutine started by Go. It
// reports whether this call did the closing (false on later calls, which
// still wait).
func (l *Lifecycle) Close() bool {
	l.init()
	l.mu.Lock()
	first := !l.closed
	l.closed = true
	l.mu.Unlock()
	l.cancel()
	l.wg.Wait()
	return first
}

// Set tracks open things (a kit's desks) so that one Close closes them all.
type Set[T interface {
	comparable
	io.Closer
}] struct {
	mu     sync.Mutex
	closed bool
	m      map[T]struct{}
}

// Add tracks v; after Close it fails with ErrClosed.
func (s *Set[T]) Add(v T) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.m == nil {
		s.m = map[T]struct{}{}
	}
	s.m[v] = struct{}{}
	return nil
}

// Remove forgets v (it closed by itself).
func (s *Set[T]) Remove(v T) {
	s.mu.Lock()
	delete(s.m, v)
	s.mu.Unlock()
}

// Close closes every tracked member and refuses new ones; it is
// idempotent and returns the members' errors joined.
func (s *Set[T]) Close() error {
	s.mu.Lock()
	s.closed = true
	all := make([]T, 0, len(s.m))
	for v := range s.m {
		all = append(all, v)
	}
	s.mu.Unlock()
	var errs []error
	for _, v := range all {
		errs = append(errs, v.Close())
	}
	return errors.Join(errs...)
}

// Indicator is an on/off signal that turns itself off after a while unless
// renewed: a typing indicator of a desk that never says "stopped".
type Indicator struct {
	// Set receives the changes (true when On is called, false when the
	// indicator times out or Off is called while on).
	Set func(on bool)

	mu sync.Mutex
	t  *time.Timer
}

// On turns the indicator on (again) for d.
func (i *Indicator) On(d time.Duration) {
	i.mu.Lock()
	if i.t != nil {
		i.t.Stop()
	}
	i.t = time.AfterFunc(d, i.Off)
	i.mu.Unlock()
	i.Set(true)
}

// Off turns the indicator off if it is on.
func (i *Indicator) Off() {
	if i.Stop() {
		i.Set(false)
	}
}

// Stop forgets the indicator without telling Set; it reports whether it
// was on.
func (i *Indicator) Stop() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	t := i.t
	i.t = nil
	if t == nil {
		return false
	}
	t.Stop()
	return true
}
