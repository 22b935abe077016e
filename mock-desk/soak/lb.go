package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// LB is a TCP load balancer: each accepted connection goes to the next
// healthy backend, round robin, and is copied both ways until either side
// closes. Health is each backend's GET /healthz (200 = healthy), polled
// every HealthEvery; a backend that cannot be dialled is skipped for that
// connection. A connection whose backend dies is cut with it, as a real L4
// balancer does: the browser must reconnect.
type LB struct {
	ln       net.Listener
	backends []*backend
	every    time.Duration
	next     atomic.Uint64
	client   *http.Client

	stop   chan struct{} // closed by Close: ends the health loop
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup

	accepted, refused atomic.Int64
}

type backend struct {
	addr    string
	healthy atomic.Bool
	active  atomic.Int64
}

// NewLB listens on addr and balances over backends (host:port). Health is
// polled every healthEvery until ctx ends or Close; backends are checked
// once before it returns.
func NewLB(ctx context.Context, addr string, backends []string, healthEvery time.Duration) (*LB, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("soak: lb listen %s: %w", addr, err)
	}
	lb := &LB{
		ln:     ln,
		every:  healthEvery,
		client: &http.Client{Timeout: healthEvery},
		conns:  map[net.Conn]struct{}{},
		stop:   make(chan struct{}),
	}
	for _, a := range backends {
		lb.backends = append(lb.backends, &backend{addr: a})
	}
	lb.checkAll(ctx)
	lb.wg.Add(2)
	go lb.healthLoop(ctx)
	go lb.acceptLoop()
	return lb, nil
}

// Addr is where the balancer listens.
func (lb *LB) Addr() string { return lb.ln.Addr().String() }

// Healthy reports which backends are healthy now, in the order given.
func (lb *LB) Healthy() []bool {
	out := make([]bool, len(lb.backends))
	for i, b := range lb.backends {
		out[i] = b.healthy.Load()
	}
	return out
}

// Active returns the open connections per backend.
func (lb *LB) Active() []int64 {
	out := make([]int64, len(lb.backends))
	for i, b := range lb.backends {
		out[i] = b.active.Load()
	}
	return out
}

// Stats returns the connections accepted and refused (no healthy backend
// could be reached) so far.
func (lb *LB) Stats() (accepted, refused int64) { return lb.accepted.Load(), lb.refused.Load() }

// Close stops accepting and checking, cuts every open connection and
// waits for the balancer's goroutines.
func (lb *LB) Close() error {
	err := lb.ln.Close()
	lb.mu.Lock()
	if !lb.closed {
		close(lb.stop)
	}
	lb.closed = true
	for c := range lb.conns {
		_ = c.Close()
	}
	lb.mu.Unlock()
	lb.wg.Wait()
	return err
}

func (lb *LB) healthLoop(ctx context.Context) {
	defer lb.wg.Done()
	t := time.NewTicker(lb.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-lb.stop:
			return
		case <-t.C:
			lb.checkAll(ctx)
		}
	}
}

func (lb *LB) checkAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, b := range lb.backends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.healthy.Store(lb.check(ctx, b.addr))
		}()
	}
	wg.Wait()
}

func (lb *LB) check(ctx context.Context, addr string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return false
	}
	resp, err := lb.client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (lb *LB) acceptLoop() {
	defer lb.wg.Done()
	for {
		c, err := lb.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // EMFILE and the like: do not spin
			continue
		}
		lb.accepted.Add(1)
		lb.wg.Add(1)
		go func() {
			defer lb.wg.Done()
			lb.serve(c)
		}()
	}
}

// pick dials the next healthy backend, trying each healthy one at most
// once.
func (lb *LB) pick() (net.Conn, *backend) {
	n := uint64(len(lb.backends))
	start := lb.next.Add(1)
	for i := range n {
		b := lb.backends[(start+i)%n]
		if !b.healthy.Load() {
			continue
		}
		up, err := net.DialTimeout("tcp", b.addr, time.Second)
		if err != nil {
			continue
		}
		return up, b
	}
	return nil, nil
}

// track adds c to the open connections, or closes it once the balancer
// is closed (a connection accepted during Close is cut too).
func (lb *LB) track(c net.Conn) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if lb.closed {
		_ = c.Close()
		return
	}
	lb.conns[c] = struct{}{}
}

func (lb *LB) untrack(c net.Conn) {
	lb.mu.Lock()
	delete(lb.conns, c)
	lb.mu.Unlock()
}

func (lb *LB) serve(down net.Conn) {
	up, b := lb.pick()
	if up == nil {
		lb.refused.Add(1)
		_ = down.Close()
		return
	}
	b.active.Add(1)
	defer b.active.Add(-1)
	lb.track(down)
	lb.track(up)
	defer lb.untrack(down)
	defer lb.untrack(up)
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		// Either side ending ends both: a dead backend cuts its browsers.
		_ = dst.Close()
		_ = src.Close()
		done <- struct{}{}
	}
	go cp(up, down)
	go cp(down, up)
	<-done
	<-done
}
