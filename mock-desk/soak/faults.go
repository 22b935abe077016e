package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// Fault kinds the soak injects.
const (
	FaultInstanceKill9   = "instance_kill9"   // kill -9 one serve, start it again on its port
	FaultInstanceSIGTERM = "instance_sigterm" // drain one serve (SIGTERM), start it again
	FaultRedisKill9      = "redis_kill9"      // kill -9 Redis, start it again on its AOF
	FaultBrowserDrop     = "browser_drop"     // cut some browsers' sockets
	FaultBrowserResend   = "browser_resend"   // cut a socket right after a send; resend the same messageID
	FaultDesk5xx         = "desk_5xx"         // the desk answers 503 to some actions and a handshake
	FaultDesk429         = "desk_429"         // the desk answers 429 to some actions and a handshake
	FaultDeskWSDrop      = "desk_ws_drop"     // the desk drops some of its WebSockets
	FaultWebhookDup      = "webhook_dup"      // rest kit: webhook deliveries twice
	FaultWebhookReorder  = "webhook_reorder"  // rest kit: webhook deliveries swapped
)

// FaultKindsFor lists the kinds a kit can take.
func FaultKindsFor(kit string) []string {
	k := []string{FaultInstanceKill9, FaultInstanceSIGTERM, FaultRedisKill9, FaultBrowserDrop, FaultBrowserResend, FaultDesk5xx, FaultDesk429}
	switch kit {
	case "websocket":
		k = append(k, FaultDeskWSDrop)
	case "rest":
		k = append(k, FaultWebhookDup, FaultWebhookReorder)
	}
	return k
}

// recovers says whether the run waits for, and measures, the recovery
// from a kind: the faults of processes every browser depends on.
func recovers(kind string) bool {
	return kind == FaultInstanceKill9 || kind == FaultInstanceSIGTERM || kind == FaultRedisKill9
}

// planFaults is n faults: every kind once, then kinds drawn at random,
// shuffled; the same seed makes the same plan.
func planFaults(rng *rand.Rand, kinds []string, n int) []string {
	plan := append([]string{}, kinds...)
	for len(plan) < n {
		plan = append(plan, kinds[rng.IntN(len(kinds))])
	}
	rng.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })
	return plan
}

// FaultRecord is one injected fault.
type FaultRecord struct {
	Kind   string    `json:"kind"`
	At     time.Time `json:"at"`
	Target string    `json:"target,omitempty"`
	// RecoveryMs: from the fault until every client had round-tripped a
	// message sent after it (-1: not within the bound).
	RecoveryMs int64  `json:"recovery_ms,omitempty"`
	Note       string `json:"note,omitempty"`
}

// deskControl is mock-desk's control API.
type deskControl struct {
	base  string
	token string // the control API's
	c     *http.Client
}

// inject forces the next n faults of a mock-desk kind.
func (d deskControl) inject(ctx context.Context, kind string, n int) error {
	body, _ := json.Marshal(map[string]any{"kind": kind, "n": n})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.base+"/control/faults/inject", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+d.token)
	resp, err := d.c.Do(req)
	if err != nil {
		return fmt.Errorf("soak: inject %s: %w", kind, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("soak: inject %s: %s", kind, resp.Status)
	}
	return nil
}

// counts are the faults mock-desk injected so far, by its kinds.
func (d deskControl) counts(ctx context.Context) (map[string]int64, error) {
	var out struct {
		Counts map[string]int64 `json:"counts"`
	}
	return out.Counts, d.get(ctx, "/control/faults", &out)
}

func (d deskControl) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+d.token)
	resp, err := d.c.Do(req)
	if err != nil {
		return fmt.Errorf("soak: GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("soak: GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("soak: GET %s: %w", path, err)
	}
	return nil
}

// deskFaults maps a soak kind onto mock-desk's forced faults for a kit:
// for the websocket kit, refused action frames plus one dropped socket
// whose reconnect meets a refused handshake;
// for the rest kit, refused requests, one that did the work first, and
// webhook duplicates and reorders.
func deskFaults(kit, kind string, n int) map[string]int {
	ws := kit == "websocket"
	switch {
	case kind == FaultDesk5xx && ws:
		return map[string]int{"ws_action_5xx": n, "ws_drop": 1, "ws_5xx": 1}
	case kind == FaultDesk429 && ws:
		return map[string]int{"ws_action_429": n, "ws_drop": 1, "ws_429": 1}
	case kind == FaultDesk5xx:
		return map[string]int{"rest_5xx": n, "rest_5xx_after": max(1, n/4)}
	case kind == FaultDesk429:
		return map[string]int{"rest_429": n}
	case kind == FaultDeskWSDrop:
		return map[string]int{"ws_drop": n}
	case kind == FaultWebhookDup:
		return map[string]int{"webhook_duplicate": n}
	case kind == FaultWebhookReorder:
		return map[string]int{"webhook_reorder": n}
	}
	return nil
}
