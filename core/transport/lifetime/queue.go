package lifetime

import "sync"

// Queue is a FIFO that never blocks its producers, for one consumer
// goroutine: a webhook handler that must answer at once pushes, the
// desk's worker waits on Ready and pops. The zero value is ready.
type Queue[T any] struct {
	mu    sync.Mutex
	items []T
	wake  chan struct{}
}

func (q *Queue[T]) ready() chan struct{} {
	if q.wake == nil {
		q.wake = make(chan struct{}, 1)
	}
	return q.wake
}

// Push appends items and wakes the consumer.
func (q *Queue[T]) Push(items ...T) {
	q.mu.Lock()
	q.items = append(q.items, items...)
	wake := q.ready()
	q.mu.Unlock()
	select {
	case wake <- struct{}{}:
	default:
	}
}

// Ready receives after a Push: Pop until it reports false, then wait
// again.
func (q *Queue[T]) Ready() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.ready()
}

// Pop takes the oldest item; false when there is none.
func (q *Queue[T]) Pop() (T, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var zero T
	if len(q.items) == 0 {
		return zero, false
	}
	it := q.items[0]
	q.items[0] = zero
	q.items = q.items[1:]
	return it, true
}

// Clear drops what is queued.
func (q *Queue[T]) Clear() {
	q.mu.Lock()
	q.items = nil
	q.mu.Unlock()
}
