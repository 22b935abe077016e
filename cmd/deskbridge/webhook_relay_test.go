package main

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// fakeRelay is two instances' shared store as far as broadcasts go: what
// one broadcasts reaches the other's subscribers.
type fakeRelay struct {
	mu        sync.Mutex
	listeners map[string][]func([]byte)
	sent      []string
}

func (r *fakeRelay) Broadcast(_ context.Context, topic string, payload []byte) (int64, error) {
	r.mu.Lock()
	r.sent = append(r.sent, topic+" "+string(payload))
	fns := slices.Clone(r.listeners[topic])
	r.mu.Unlock()
	for _, fn := range fns {
		fn(payload)
	}
	return int64(len(fns)), nil
}

func (r *fakeRelay) OnBroadcast(topic string, fn func([]byte)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.listeners == nil {
		r.listeners = map[string][]func([]byte){}
	}
	r.listeners[topic] = append(r.listeners[topic], fn)
}

// fakeWebhookKit records the deliveries handed to it.
type fakeWebhookKit struct {
	elsewhere func([]byte) error
	delivered []string
}

func (k *fakeWebhookKit) Factory(context.Context, servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
	return nil, errors.New("not used")
}
func (k *fakeWebhookKit) Close() error                 { return nil }
func (k *fakeWebhookKit) WebhookHandler() http.Handler { return http.NotFoundHandler() }
func (k *fakeWebhookKit) Deliver(p []byte) bool {
	k.delivered = append(k.delivered, string(p))
	return true
}

// startWebhookKit: alone, a kit gets no relay; on a shared store, what
// one instance passes on reaches the other instance's kit, on the kit's
// own topic, and the handler is mounted at the webhook path.
func TestStartWebhookKit(t *testing.T) {
	build := func(into **fakeWebhookKit) func(func([]byte) error) (*fakeWebhookKit, error) {
		return func(elsewhere func([]byte) error) (*fakeWebhookKit, error) {
			*into = &fakeWebhookKit{elsewhere: elsewhere}
			return *into, nil
		}
	}
	var alone *fakeWebhookKit
	k, err := startWebhookKit(kitConfig{Name: "acme"}, build(&alone))
	if err != nil || k.webhook == nil || k.webhookPath != webhookPath {
		t.Fatalf("kit %+v, %v", k, err)
	}
	if alone.elsewhere != nil {
		t.Error("a kit without a shared store was given a relay")
	}

	relay := &fakeRelay{}
	var a, b *fakeWebhookKit
	if _, err := startWebhookKit(kitConfig{Name: "acme", Relay: relay}, build(&a)); err != nil {
		t.Fatal(err)
	}
	if _, err := startWebhookKit(kitConfig{Name: "acme", Relay: relay}, build(&b)); err != nil {
		t.Fatal(err)
	}
	if err := a.elsewhere([]byte("delivery-1")); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.delivered, []string{"delivery-1"}) || !slices.Equal(relay.sent, []string{"acme-webhook delivery-1"}) {
		t.Errorf("delivered %q, sent %q", b.delivered, relay.sent)
	}

	fails := errors.New("refused")
	if _, err := startWebhookKit(kitConfig{Name: "acme"}, func(func([]byte) error) (*fakeWebhookKit, error) { return nil, fails }); !errors.Is(err, fails) {
		t.Errorf("a kit that fails to build: %v", err)
	}
}
