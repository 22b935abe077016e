package mockdesk

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Faults says what to inject, per transport. Rates are probabilities per
// request (REST, poll), per connection (WS drop), or per delivery
// (webhook). Decisions come from one random stream per transport seeded by
// Seed, so a seed replays the same decisions for the same traffic.
type Faults struct {
	Seed    uint64        `json:"seed"`
	REST    HTTPFaults    `json:"rest"`
	Poll    PollFaults    `json:"poll"`
	WS      WSFaults      `json:"ws"`
	Webhook WebhookFaults `json:"webhook"`
}

// HTTPFaults are faults of plain HTTP requests.
type HTTPFaults struct {
	// Latency is added before each request is handled.
	Latency Duration `json:"latency,omitempty"`
	// Rate5xx answers 503 without doing anything.
	Rate5xx float64 `json:"rate_5xx,omitempty"`
	// Rate429 answers 429 with Retry-After without doing anything.
	Rate429 float64 `json:"rate_429,omitempty"`
	// RetryAfter is the Retry-After of injected 429s and 503s. Default 1s.
	RetryAfter Duration `json:"retry_after,omitempty"`
}

// PollFaults are faults of long polls.
type PollFaults struct {
	HTTPFaults
	// DuplicateRate repeats an event already answered at the head of an
	// answer; ReorderRate swaps two neighbouring events of an answer.
	DuplicateRate float64 `json:"duplicate_rate,omitempty"`
	ReorderRate   float64 `json:"reorder_rate,omitempty"`
	// StallRate holds a poll for its whole wait and answers no events,
	// even when there are some (the client must poll again).
	StallRate float64 `json:"stall_rate,omitempty"`
}

// WSFaults are faults of WebSocket connections.
type WSFaults struct {
	// Rate5xx and Rate429 refuse the handshake (503 or 429 with
	// Retry-After) before the upgrade.
	Rate5xx    float64  `json:"rate_5xx,omitempty"`
	Rate429    float64  `json:"rate_429,omitempty"`
	RetryAfter Duration `json:"retry_after,omitempty"`
	// Latency delays every frame the desk sends.
	Latency Duration `json:"latency,omitempty"`
	// DropAfterFrames drops every connection abruptly (no close frame)
	// after it has sent this many frames. 0: never.
	DropAfterFrames int `json:"drop_after_frames,omitempty"`
	// DropRate drops a connection after each frame with this probability.
	DropRate float64 `json:"drop_rate,omitempty"`
	// ActionRate5xx and ActionRate429 answer an action frame (message,
	// typing, read, end, screen share) with an unavailable or rate_limited
	// error frame carrying retry_after, without doing anything.
	ActionRate5xx float64 `json:"action_rate_5xx,omitempty"`
	ActionRate429 float64 `json:"action_rate_429,omitempty"`
	// DuplicateRate sends an event frame twice; ReorderRate swaps two
	// event frames that are written back to back.
	DuplicateRate float64 `json:"duplicate_rate,omitempty"`
	ReorderRate   float64 `json:"reorder_rate,omitempty"`
}

// WebhookFaults are faults of webhook deliveries.
type WebhookFaults struct {
	Latency Duration `json:"latency,omitempty"`
	// DuplicateRate delivers an event twice.
	DuplicateRate float64 `json:"duplicate_rate,omitempty"`
	// ReorderRate delivers an event after the next one of its chat.
	ReorderRate float64 `json:"reorder_rate,omitempty"`
	// UnreachableRate fails a delivery attempt as if the endpoint were
	// down; it is retried with backoff.
	UnreachableRate float64 `json:"unreachable_rate,omitempty"`
}

// Fault kinds: the names of the counters and of InjectFault's kinds.
const (
	FaultRESTLatency        = "rest_latency"
	FaultREST5xx            = "rest_5xx"
	FaultREST429            = "rest_429"
	FaultREST5xxAfter       = "rest_5xx_after" // did the work, then answered 503
	FaultPollLatency        = "poll_latency"
	FaultPoll5xx            = "poll_5xx"
	FaultPoll429            = "poll_429"
	FaultPollStall          = "poll_stall"
	FaultPollDuplicate      = "poll_duplicate"
	FaultPollReorder        = "poll_reorder"
	FaultWSLatency          = "ws_latency"
	FaultWS5xx              = "ws_5xx"
	FaultWS429              = "ws_429"
	FaultWSDrop             = "ws_drop"
	FaultWSAction5xx        = "ws_action_5xx"
	FaultWSAction429        = "ws_action_429"
	FaultWSDuplicate        = "ws_duplicate"
	FaultWSReorder          = "ws_reorder"
	FaultWebhookLatency     = "webhook_latency"
	FaultWebhookDuplicate   = "webhook_duplicate"
	FaultWebhookReorder     = "webhook_reorder"
	FaultWebhookUnreachable = "webhook_unreachable"
)

// FaultKinds lists every kind InjectFault takes.
var FaultKinds = []string{FaultREST5xx, FaultREST429, FaultREST5xxAfter, FaultPoll5xx, FaultPoll429, FaultPollStall, FaultPollDuplicate, FaultPollReorder, FaultWS5xx, FaultWS429, FaultWSDrop, FaultWSAction5xx, FaultWSAction429, FaultWSDuplicate, FaultWSReorder, FaultWebhookDuplicate, FaultWebhookReorder, FaultWebhookUnreachable}

type faultInjector struct {
	mu     sync.Mutex
	cfg    Faults
	rng    map[string]*rand.Rand
	forced map[string]int
	counts map[string]int64
}

func newFaultInjector(cfg Faults) *faultInjector {
	f := &faultInjector{forced: map[string]int{}, counts: map[string]int64{}}
	f.set(cfg)
	return f
}

func (f *faultInjector) set(cfg Faults) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfg = cfg
	f.rng = map[string]*rand.Rand{}
	for i, t := range []string{"rest", "poll", "ws", "webhook"} {
		f.rng[t] = rand.New(rand.NewPCG(cfg.Seed, uint64(i)+1))
	}
}

func (f *faultInjector) config() Faults {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cfg
}

// hit decides whether fault kind happens now: a forced one first, else a
// roll of transport's stream at rate. It counts what it injects.
func (f *faultInjector) hit(transport, kind string, rate float64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.forced[kind] > 0 {
		f.forced[kind]--
		f.counts[kind]++
		return true
	}
	if rate <= 0 {
		return false
	}
	if f.rng[transport].Float64() < rate {
		f.counts[kind]++
		return true
	}
	return false
}

func (f *faultInjector) count(kind string) {
	f.mu.Lock()
	f.counts[kind]++
	f.mu.Unlock()
}

// SetFaults replaces the fault configuration and restarts its random
// streams from the seed. Forced faults (InjectFault) stay pending.
func (d *Desk) SetFaults(f Faults) { d.faults.set(f) }

// currentFaults returns the fault configuration.
func (d *Desk) currentFaults() Faults { return d.faults.config() }

// InjectFault forces the next n occurrences of kind (one of FaultKinds),
// whatever the rates: "the next 2 REST calls answer 503".
func (d *Desk) InjectFault(kind string, n int) error {
	if !slices.Contains(FaultKinds, kind) || n < 0 {
		return fmt.Errorf("mockdesk: inject fault %q ×%d: %w", kind, n, ErrBadRequest)
	}
	d.faults.mu.Lock()
	defer d.faults.mu.Unlock()
	d.faults.forced[kind] = n
	return nil
}

// FaultCounts returns how many faults of each kind were injected so far.
func (d *Desk) FaultCounts() map[string]int64 {
	d.faults.mu.Lock()
	defer d.faults.mu.Unlock()
	return maps.Clone(d.faults.counts)
}

func retryAfter(h HTTPFaults) time.Duration {
	if h.RetryAfter <= 0 {
		return time.Second
	}
	return time.Duration(h.RetryAfter)
}
