package sdtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Recorder is a servicedesk.Callback that writes each call down as a short
// line ("joined(Ada)", "message(hi,ada)", "error(DISCONNECTED,true,)" …)
// and keeps the persisted state the way the engine would (merge or
// replace). It is safe for concurrent use.
type Recorder struct {
	// ShareAnswer is what ScreenShareRequest answers. Default accepted.
	ShareAnswer servicedesk.ScreenShareState

	mu      sync.Mutex
	calls   []string
	state   map[string]any
	changed chan struct{}
}

var _ servicedesk.Callback = (*Recorder)(nil)

func (r *Recorder) add(format string, args ...any) {
	r.mu.Lock()
	r.calls = append(r.calls, fmt.Sprintf(format, args...))
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
	r.mu.Unlock()
}

// Calls returns the calls so far.
func (r *Recorder) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

// Wait returns the calls once there are at least n, or what there is when
// timeout passes.
func (r *Recorder) Wait(n int, timeout time.Duration) []string {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		if len(r.calls) >= n {
			defer r.mu.Unlock()
			return append([]string(nil), r.calls...)
		}
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			return r.Calls()
		}
	}
}

// State returns a copy of the persisted state.
func (r *Recorder) State() map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]any, len(r.state))
	for k, v := range r.state {
		out[k] = v
	}
	return out
}

// Join is a convenience for comparing call lists.
func Join(calls []string) string { return strings.Join(calls, " | ") }

func (r *Recorder) UpdateCapabilities(u servicedesk.CapabilitiesUpdate) {
	r.add("caps(%v)", u.AllowFileUploads != nil && *u.AllowFileUploads)
}

func (r *Recorder) UpdateAgentAvailability(a servicedesk.AgentAvailability) {
	pos, wait := -1.0, -1.0
	if a.PositionInQueue != nil {
		pos = *a.PositionInQueue
	}
	if a.EstimatedWaitTime != nil {
		wait = *a.EstimatedWaitTime
	}
	r.add("queue(%g,%g)", pos, wait)
}

func (r *Recorder) AgentJoined(p servicedesk.AgentProfile) { r.add("joined(%s)", p.Nickname) }
func (r *Recorder) AgentReadMessages()                     { r.add("read") }
func (r *Recorder) AgentTyping(on bool)                    { r.add("typing(%v)", on) }

func (r *Recorder) SendMessageToUser(m servicedesk.MessageResponse, agentID string) {
	r.add("message(%s,%s)", m.PlainText(), agentID)
}

func (r *Recorder) SendTextToUser(text, agentID string) { r.add("message(%s,%s)", text, agentID) }

func (r *Recorder) BeginTransferToAnotherAgent(p *servicedesk.AgentProfile) {
	name := ""
	if p != nil {
		name = p.Nickname
	}
	r.add("transfer(%s)", name)
}

func (r *Recorder) AgentLeftChat()  { r.add("left") }
func (r *Recorder) AgentEndedChat() { r.add("ended") }

func (r *Recorder) SetErrorStatus(e servicedesk.ErrorInfo) {
	r.add("error(%s,%v,%s)", e.Type, e.IsDisconnected, e.MessageToUser)
}

func (r *Recorder) SetFileUploadStatus(id string, isError bool, text string) {
	r.add("file(%s,%v,%s)", id, isError, text)
}

func (r *Recorder) ScreenShareEnded() { r.add("share_ended") }

func (r *Recorder) ScreenShareRequest(context.Context) (servicedesk.ScreenShareState, error) {
	r.add("share_asked")
	if r.ShareAnswer == "" {
		return servicedesk.ScreenShareAccepted, nil
	}
	return r.ShareAnswer, nil
}

func (r *Recorder) PersistedState() json.RawMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, _ := json.Marshal(r.state)
	return b
}

// UpdatePersistedState merges top-level members into the state.
func (r *Recorder) UpdatePersistedState(v any) error { return r.persist(v, true) }

// ReplacePersistedState replaces the state.
func (r *Recorder) ReplacePersistedState(v any) error { return r.persist(v, false) }

func (r *Recorder) persist(v any, merge bool) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("sdtest: persisted state must be an object: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !merge || r.state == nil {
		r.state = map[string]any{}
	}
	for k, v := range m {
		r.state[k] = v
	}
	return nil
}

// Instance is a servicedesk.Instance with a fixed session id.
type Instance string

// SessionID implements servicedesk.Instance.
func (i Instance) SessionID() string { return string(i) }
