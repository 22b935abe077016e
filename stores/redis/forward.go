package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/redis/go-redis/v9"
)

// Instances talk through Redis pub/sub, nothing else: each listens on
// "<prefix>:fwd:<instance>" for requests forwarded to it and on
// "<prefix>:ans:<instance>" for the answers to its own; an owner's save
// publishes the session's new last seq on "<prefix>:ev:<tag>", which
// sockets on other instances watch. Pub/sub loses what is sent while
// nobody listens: a forwarded request then fails (the caller retries or
// claims), and an event watcher also reads the store every second.

var _ flow.Forwarder = (*Store)(nil)

// forwardTimeout bounds the wait for an owner's answer.
const forwardTimeout = 10 * time.Second

type envelope struct {
	ID      string          `json:"id"`
	From    string          `json:"from,omitempty"`
	Session string          `json:"session,omitempty"`
	Body    json.RawMessage `json:"body"`
}

type bus struct {
	once    sync.Once
	ps      *redis.PubSub
	mu      sync.Mutex
	handler func(ctx context.Context, id string, req []byte) []byte
	waiting map[string]chan []byte
	watch   map[string][]chan struct{} // channel → watchers
	bcast   map[string]func([]byte)    // channel → broadcast handler
	done    chan struct{}              // closed when the listener returned
	stopped bool

	sent, served atomic.Uint64
	// listening is set while this instance is subscribed to its answers:
	// a request forwarded before that would have its answer lost.
	listening atomic.Bool
}

func (s *Store) fwdChannel(instance string) string { return s.opts.Prefix + ":fwd:" + instance }
func (s *Store) ansChannel(instance string) string { return s.opts.Prefix + ":ans:" + instance }
func (s *Store) eventChannel(tag string) string    { return s.opts.Prefix + ":ev:" + tag }

// listen starts the instance's pub/sub connection, once.
func (s *Store) listen() {
	b := &s.bus
	b.once.Do(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.waiting = make(map[string]chan []byte)
		b.watch = make(map[string][]chan struct{})
		b.bcast = make(map[string]func([]byte))
		if b.stopped {
			return
		}
		b.done = make(chan struct{})
		b.ps = s.c.Subscribe(context.Background(), s.fwdChannel(s.opts.Instance), s.ansChannel(s.opts.Instance))
		go s.receive(b.ps)
	})
}

// receive reads the pub/sub connection until Close. Its own loop, not
// go-redis' Channel: that one's health check can hold the connection for
// ten seconds while it redials a Redis that is still down, and an instance
// that does not listen cannot be forwarded to. Here a quiet connection is
// pinged every two seconds, and a broken one is redialled at once.
func (s *Store) receive(ps *redis.PubSub) {
	b := &s.bus
	defer close(b.done)
	ctx := context.Background()
	for {
		msg, err := ps.ReceiveTimeout(ctx, pubsubPing)
		if err != nil {
			if errors.Is(err, redis.ErrClosed) {
				return
			}
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				if ps.Ping(ctx) != nil { // a dead connection fails here and is redialled
					b.listening.Store(false)
				}
				continue
			}
			b.listening.Store(false)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		switch m := msg.(type) {
		case *redis.Message:
			s.route(m)
		case *redis.Subscription:
			if m.Channel == s.ansChannel(s.opts.Instance) {
				b.listening.Store(m.Kind == "subscribe")
			}
		}
	}
}

// pubsubPing is how long the pub/sub connection may be quiet before it is
// pinged.
const pubsubPing = 2 * time.Second

// route handles one pub/sub message.
func (s *Store) route(m *redis.Message) {
	b := &s.bus
	switch m.Channel {
	case s.fwdChannel(s.opts.Instance):
		var env envelope
		if json.Unmarshal([]byte(m.Payload), &env) != nil || env.From == "" {
			return
		}
		go s.answer(env)
	case s.ansChannel(s.opts.Instance):
		var env envelope
		if json.Unmarshal([]byte(m.Payload), &env) != nil {
			return
		}
		b.mu.Lock()
		ch := b.waiting[env.ID]
		delete(b.waiting, env.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- env.Body
		}
	default:
		b.mu.Lock()
		if fn := b.bcast[m.Channel]; fn != nil {
			b.mu.Unlock()
			fn([]byte(m.Payload))
			return
		}
		for _, w := range b.watch[m.Channel] {
			select {
			case w <- struct{}{}:
			default: // a signal is pending already
			}
		}
		b.mu.Unlock()
	}
}

// answer runs a forwarded request and publishes its answer.
func (s *Store) answer(env envelope) {
	b := &s.bus
	b.served.Add(1)
	b.mu.Lock()
	h := b.handler
	b.mu.Unlock()
	var body []byte
	if h == nil {
		body = []byte(`{"type":"error","error":{"code":"unavailable","message":"this instance takes no forwarded requests"}}`)
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), forwardTimeout)
		body = h(ctx, env.Session, env.Body)
		cancel()
	}
	out, _ := json.Marshal(envelope{ID: env.ID, Body: body})
	ctx, cancel := context.WithTimeout(context.Background(), pipelineTimeout)
	defer cancel()
	if err := s.c.Publish(ctx, s.ansChannel(env.From), out).Err(); err != nil {
		s.opts.Logger.Warn("redisstore: answer a forwarded request", "session", env.Session, "to", env.From, "err", err)
	}
}

// HandleForwarded implements flow.Forwarder.
func (s *Store) HandleForwarded(fn func(ctx context.Context, id string, req []byte) []byte) {
	if s.opts.Instance == "" {
		return
	}
	s.listen()
	s.bus.mu.Lock()
	s.bus.handler = fn
	s.bus.mu.Unlock()
}

// Forward implements flow.Forwarder: it finds the session's owner from its
// lease and publishes req to it.
func (s *Store) Forward(ctx context.Context, id string, req []byte) ([]byte, error) {
	if s.opts.Instance == "" {
		return nil, fmt.Errorf("redisstore: forward for session %s: the store is not shared (no Instance): %w", id, flow.ErrNotOwner)
	}
	s.listen()
	owner, err := s.c.Get(ctx, s.key(tag(id), "own")).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, fmt.Errorf("redisstore: forward for session %s: no instance owns it: %w", id, flow.ErrNotOwner)
	case err != nil:
		return nil, fmt.Errorf("redisstore: forward for session %s: %w", id, classify(err))
	}
	instance, _, _ := strings.Cut(owner, "|")
	if !s.awaitListening(ctx) {
		return nil, fmt.Errorf("redisstore: forward for session %s: not subscribed to answers (Redis reconnecting): %w", id, flow.ErrStoreUnavailable)
	}
	reqID := rand.Text()
	ch := make(chan []byte, 1)
	b := &s.bus
	b.mu.Lock()
	if b.ps == nil {
		b.mu.Unlock()
		return nil, fmt.Errorf("redisstore: forward for session %s: the store is closed: %w", id, flow.ErrStoreUnavailable)
	}
	b.waiting[reqID] = ch
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.waiting, reqID)
		b.mu.Unlock()
	}()
	b.sent.Add(1)
	env, _ := json.Marshal(envelope{ID: reqID, From: s.opts.Instance, Session: id, Body: req})
	n, err := s.c.Publish(ctx, s.fwdChannel(instance), env).Result()
	switch {
	case err != nil:
		return nil, fmt.Errorf("redisstore: forward for session %s to %s: %w", id, instance, classify(err))
	case n == 0:
		// Nobody listens there: the owner is gone, its lease not yet.
		return nil, fmt.Errorf("redisstore: forward for session %s: its owner %s does not listen: %w", id, instance, flow.ErrStoreUnavailable)
	}
	wait, cancel := context.WithTimeout(ctx, forwardTimeout)
	defer cancel()
	select {
	case body := <-ch:
		return body, nil
	case <-wait.Done():
		return nil, fmt.Errorf("redisstore: forward for session %s: no answer from %s: %w", id, instance, errors.Join(flow.ErrStoreUnavailable, wait.Err()))
	}
}

// awaitListening waits, briefly, until this instance hears its answers.
func (s *Store) awaitListening(ctx context.Context) bool {
	deadline := time.Now().Add(2 * time.Second)
	for !s.bus.listening.Load() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// WatchEvents implements flow.Forwarder.
func (s *Store) WatchEvents(id string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	if s.opts.Instance == "" {
		return ch, func() {}
	}
	s.listen()
	name := s.eventChannel(tag(id))
	b := &s.bus
	b.mu.Lock()
	if b.ps == nil { // closed
		b.mu.Unlock()
		return ch, func() {}
	}
	first := len(b.watch[name]) == 0
	b.watch[name] = append(b.watch[name], ch)
	b.mu.Unlock()
	if first {
		_ = b.ps.Subscribe(context.Background(), name)
	}
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			ws := b.watch[name]
			for i, w := range ws {
				if w == ch {
					ws = append(ws[:i], ws[i+1:]...)
					break
				}
			}
			last := len(ws) == 0
			if last {
				delete(b.watch, name)
			} else {
				b.watch[name] = ws
			}
			b.mu.Unlock()
			if last {
				_ = b.ps.Unsubscribe(context.Background(), name)
			}
		})
	}
}

func (s *Store) bcChannel(topic string) string { return s.opts.Prefix + ":bc:" + topic }

// Broadcast publishes payload to every instance that listens on topic
// (OnBroadcast), this one too, and returns how many heard it. Pub/sub keeps
// nothing for an instance that does not listen at that moment.
func (s *Store) Broadcast(ctx context.Context, topic string, payload []byte) (int64, error) {
	n, err := s.c.Publish(ctx, s.bcChannel(topic), payload).Result()
	if err != nil {
		return 0, fmt.Errorf("redisstore: broadcast on %s: %w", topic, classify(err))
	}
	return n, nil
}

// OnBroadcast calls fn with every payload broadcast on topic, on the
// instance's pub/sub goroutine: fn must be quick.
func (s *Store) OnBroadcast(topic string, fn func(payload []byte)) {
	if s.opts.Instance == "" {
		return
	}
	s.listen()
	b := &s.bus
	name := s.bcChannel(topic)
	b.mu.Lock()
	if b.ps == nil {
		b.mu.Unlock()
		return
	}
	b.bcast[name] = fn
	b.mu.Unlock()
	_ = b.ps.Subscribe(context.Background(), name)
}

// stopListening closes the pub/sub connection, at Close.
func (s *Store) stopListening() {
	b := &s.bus
	b.mu.Lock()
	ps := b.ps
	stopped := b.stopped
	b.stopped = true
	b.mu.Unlock()
	if ps == nil || stopped {
		return
	}
	_ = ps.Close()
	<-b.done
}
