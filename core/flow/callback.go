package flow

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// callback is the session's servicedesk.Callback. Every notification is put
// on the session's queue and applied there, in call order.
type callback struct{ s *Session }

var _ servicedesk.Callback = (*callback)(nil)

// on queues fn, recording the call as dropped if the session is closed.
func (c *callback) on(call string, fn func()) {
	if !c.s.enqueue(fn) {
		c.s.drop(call, "session closed")
	}
}

func (c *callback) UpdateCapabilities(u servicedesk.CapabilitiesUpdate) {
	c.on("UpdateCapabilities", func() {
		s := c.s
		next := s.caps.Apply(u)
		if next == s.caps {
			s.drop("UpdateCapabilities", "unchanged")
			return
		}
		s.caps = next
		s.dirty = true
		if !next.AllowFileUploads {
			s.staged = nil
		}
		s.emit(Event{Type: EventCapabilities, Capabilities: &next})
	})
}

func (c *callback) UpdateAgentAvailability(a servicedesk.AgentAvailability) {
	c.on("UpdateAgentAvailability", func() {
		s := c.s
		if !(s.st == StateWaiting || (s.st == StateReconnecting && !s.joined)) {
			s.drop("UpdateAgentAvailability", "not waiting")
			return
		}
		if s.lastAvail != nil && sameAvailability(*s.lastAvail, a) {
			s.drop("UpdateAgentAvailability", "unchanged")
			return
		}
		s.lastAvail = &a
		s.emit(Event{Type: EventQueueUpdate, Availability: &a, Text: s.opts.Texts.availabilityLine(a)})
	})
}

func sameAvailability(a, b servicedesk.AgentAvailability) bool {
	eq := func(x, y *float64) bool { return (x == nil && y == nil) || (x != nil && y != nil && *x == *y) }
	return eq(a.PositionInQueue, b.PositionInQueue) && eq(a.EstimatedWaitTime, b.EstimatedWaitTime) && a.Message == b.Message
}

func (c *callback) AgentJoined(p servicedesk.AgentProfile) {
	c.on("AgentJoined", func() {
		s := c.s
		switch s.st {
		case StateWaiting, StateTransferring, StateAgentLeft, StateReconnecting, StateConnected, StateDisconnected:
		default:
			s.drop("AgentJoined", "no chat")
			return
		}
		if (s.st == StateConnected || s.st == StateDisconnected) && s.profile != nil && s.profile.ID == p.ID {
			s.drop("AgentJoined", "already joined")
			return
		}
		s.stopJoinTimer()
		first := !s.joined
		s.joined = true
		s.lastAvail = nil
		s.setProfile(&p)
		s.emit(Event{Type: EventAgentJoined, Profile: &p, Kind: servicedesk.AgentMsgAgentJoined,
			Text: named(s.opts.Texts.AgentJoinedName, s.opts.Texts.AgentJoinedNoName, &p)})
		if first && !s.deskOpt.Reconnect && !s.warned {
			s.warned = true
			s.emit(Event{Type: EventReloadWarning, Kind: servicedesk.AgentMsgReloadWarning, Text: s.opts.Texts.ReloadWarning})
		}
		if s.st == StateDisconnected {
			s.beforeDisconnect = StateConnected
			return
		}
		if s.st == StateReconnecting {
			s.started = true
		}
		s.setState(StateConnected)
		s.pump()
	})
}

// setProfile makes p the current agent and remembers it by id.
func (s *Session) setProfile(p *servicedesk.AgentProfile) {
	s.profile = p
	s.dirty = true
	// Copy on write: saved records share the map, so it is never changed
	// in place (a profile is set once per agent joining, rarely).
	if cur, ok := s.profiles[p.ID]; ok && cur == *p {
		return
	}
	next := make(map[string]servicedesk.AgentProfile, len(s.profiles)+1)
	maps.Copy(next, s.profiles)
	next[p.ID] = *p
	s.profiles = next
}

func (c *callback) AgentReadMessages() {
	c.on("AgentReadMessages", func() {
		s := c.s
		if !s.st.agentSide() {
			s.drop("AgentReadMessages", "no agent")
			return
		}
		s.emit(Event{Type: EventAgentRead})
	})
}

func (c *callback) AgentTyping(isTyping bool) {
	c.on("AgentTyping", func() {
		s := c.s
		if !(s.st == StateConnected || s.st == StateTransferring || s.st == StateDisconnected) {
			s.drop("AgentTyping", "no agent")
			return
		}
		if s.agentTyping == isTyping {
			s.drop("AgentTyping", "unchanged")
			return
		}
		s.agentTyping = isTyping
		s.emit(Event{Type: EventAgentTyping, Typing: ptr(isTyping)})
	})
}

func (c *callback) SendTextToUser(text, agentID string) {
	c.SendMessageToUser(servicedesk.TextResponse(text), agentID)
}

func (c *callback) SendMessageToUser(m servicedesk.MessageResponse, agentID string) {
	// Copied here, so a desk that reuses its value after the call is safe.
	m.Output.Generic = slices.Clone(m.Output.Generic)
	c.on("SendMessageToUser", func() {
		s := c.s
		switch s.st {
		case StateWaiting, StateConnected, StateAgentLeft, StateTransferring, StateDisconnected, StateReconnecting, StateEnding:
		default:
			s.drop("SendMessageToUser", "no chat")
			return
		}
		if len(m.Output.Generic) == 0 {
			s.drop("SendMessageToUser", "message without output.generic items")
			return
		}
		if s.recentAgent.has(m.ID) {
			s.drop("SendMessageToUser", "duplicate message id")
			return
		}
		if m.ID == "" {
			m.ID = s.opts.NewID()
		}
		s.recentAgent.add(m.ID)
		if m.History == nil {
			m.History = &servicedesk.ResponseHistory{Timestamp: s.opts.Now().UnixMilli()}
		}
		for i := range m.Output.Generic {
			if m.Output.Generic[i].AgentMessageType == "" {
				m.Output.Generic[i].AgentMessageType = servicedesk.AgentMsgFromAgent
			}
		}
		profile := s.profile
		if agentID != "" {
			if p, ok := s.profiles[agentID]; ok {
				profile = &p
			} else {
				s.log.Warn("flow: agent message names an unknown agent; using the current one", "agent", agentID)
			}
		}
		opts := servicedesk.ResponseOptions{}
		if m.MessageOptions != nil {
			opts = *m.MessageOptions
		}
		opts.ResponseUserProfile = profile
		m.MessageOptions = &opts
		if s.agentTyping {
			// Carbon leaves the indicator on; a person would not.
			s.agentTyping = false
			s.emit(Event{Type: EventAgentTyping, Typing: ptr(false)})
		}
		s.noteAgentText(s.chat, &m)
		s.emit(Event{Type: EventAgentMessage, Message: &m, MessageID: m.ID, Profile: profile})
	})
}

func (c *callback) BeginTransferToAnotherAgent(p *servicedesk.AgentProfile) {
	if p != nil {
		cp := *p
		p = &cp
	}
	c.on("BeginTransferToAnotherAgent", func() {
		s := c.s
		switch s.st {
		case StateConnected, StateAgentLeft, StateWaiting, StateDisconnected, StateTransferring:
		default:
			s.drop("BeginTransferToAnotherAgent", "no chat")
			return
		}
		if s.st == StateTransferring && (p == nil || (s.profile != nil && s.profile.ID == p.ID)) {
			s.drop("BeginTransferToAnotherAgent", "already transferring")
			return
		}
		if p != nil {
			s.setProfile(p)
			s.joined = true
			s.stopJoinTimer() // Carbon forgets this and later ends a connected chat
		}
		// Profile is the one the desk gave, nil for none: Carbon's
		// beginTransferToAnotherAgent(profile?) is passed on as it came.
		s.emit(Event{Type: EventTransfer, Profile: p, Kind: servicedesk.AgentMsgTransferToAgent, Text: s.opts.Texts.Transferring})
		switch {
		case s.st == StateDisconnected:
			s.beforeDisconnect = StateTransferring
		case s.st == StateWaiting && p == nil:
			// Still waiting for a first agent.
		default:
			s.setState(StateTransferring)
			s.pump()
		}
	})
}

func (c *callback) AgentLeftChat() {
	c.on("AgentLeftChat", func() {
		s := c.s
		switch s.st {
		case StateConnected, StateTransferring, StateDisconnected:
		default:
			s.drop("AgentLeftChat", "no agent in the chat")
			return
		}
		if s.st == StateDisconnected && s.beforeDisconnect == StateAgentLeft {
			s.drop("AgentLeftChat", "already left")
			return
		}
		if s.agentTyping {
			s.agentTyping = false
			s.emit(Event{Type: EventAgentTyping, Typing: ptr(false)})
		}
		s.emit(Event{Type: EventAgentLeft, Profile: s.profile, Kind: servicedesk.AgentMsgAgentLeftChat,
			Text: named(s.opts.Texts.AgentLeftName, s.opts.Texts.AgentLeftNoName, s.profile)})
		s.profile = nil
		s.dirty = true
		if s.st == StateDisconnected {
			s.beforeDisconnect = StateAgentLeft
			return
		}
		s.setState(StateAgentLeft)
	})
}

func (c *callback) AgentEndedChat() {
	c.on("AgentEndedChat", func() {
		s := c.s
		switch {
		case s.endPending || s.st == StateEnding:
			s.drop("AgentEndedChat", "already ending")
		case s.st == StateWaiting || (s.st == StateReconnecting && !s.joined):
			// No agent was there to end anything: no pre-end hook (Carbon
			// fires it here, against its own docs).
			s.beginEnd(true, nil, EndByAgent)
		case s.st.agentSide() || s.st == StateReconnecting:
			if s.opts.PreEndChat == nil {
				s.beginEnd(true, nil, EndByAgent)
				return
			}
			s.endPending = true
			chat := s.chat
			hook := s.opts.PreEndChat
			pre := &PreEndChat{SessionID: s.id, EndedByAgent: true}
			if !s.e.spawn(func() {
				err := runHook(func() error { return hook(s.e.ctx, pre) })
				s.enqueue(func() { s.afterAgentEndHook(chat, pre, err) })
			}) {
				s.endPending = false
			}
		default:
			s.drop("AgentEndedChat", "no chat")
		}
	})
}

func (s *Session) afterAgentEndHook(chat uint64, pre *PreEndChat, err error) {
	if s.chat != chat || !(s.st.agentSide() || s.st == StateReconnecting) {
		return
	}
	s.endPending = false
	if err != nil {
		s.log.Warn("flow: pre-end hook failed; ending anyway", "err", err)
	} else if pre.Cancel {
		s.log.Info("flow: pre-end hook kept the chat going after the agent ended it")
		return
	}
	s.beginEnd(true, pre.Payload, EndByAgent)
}

func (c *callback) SetErrorStatus(info servicedesk.ErrorInfo) {
	c.on("SetErrorStatus", func() {
		s := c.s
		if len(info.LogInfo) > 0 {
			s.log.Warn("flow: desk error status", "type", info.Type.String(), "log_info", string(info.LogInfo))
		}
		switch info.Type {
		case servicedesk.ErrorConnecting:
			s.connectingError(info.MessageToUser, nil)
		case servicedesk.ErrorDisconnected:
			s.setDisconnected(info.IsDisconnected)
		case servicedesk.ErrorUserMessage:
			s.userMessageFailed(info.MessageID)
		default:
			s.drop("SetErrorStatus", fmt.Sprintf("unknown type %d", int(info.Type)))
		}
	})
}

func (s *Session) setDisconnected(lost bool) {
	switch {
	case lost && (s.st == StateWaiting || (s.st == StateReconnecting && !s.joined)):
		// Before an agent joined this is a CONNECTING error (Carbon's rule).
		s.connectingError("", nil)
	case lost && (s.st == StateConnected || s.st == StateAgentLeft || s.st == StateTransferring):
		s.beforeDisconnect = s.st
		s.emit(Event{Type: EventDisconnected, Kind: servicedesk.AgentMsgDisconnected, Text: s.opts.Texts.Disconnected})
		s.setState(StateDisconnected)
	case lost:
		s.drop("SetErrorStatus(DISCONNECTED true)", "not connected or already disconnected")
	case s.st == StateDisconnected:
		s.emit(Event{Type: EventReconnected, Kind: servicedesk.AgentMsgReconnected, Text: s.opts.Texts.Reconnected})
		s.setState(s.beforeDisconnect)
		s.pump()
	default:
		s.drop("SetErrorStatus(DISCONNECTED false)", "not disconnected")
	}
}

func (s *Session) userMessageFailed(id string) {
	if !s.st.Active() {
		s.drop("SetErrorStatus(USER_MESSAGE)", "no chat")
		return
	}
	if i := slices.IndexFunc(s.outbox, func(p PendingMessage) bool { return p.ID == id }); i >= 0 {
		if i == 0 && s.sending {
			// In flight: reported once, as failed, when its send answers.
			s.failedInFlight = id
			return
		}
		s.outbox = slices.Delete(s.outbox, i, i+1)
		s.dirty = true
	} else if !s.recentSent.has(id) {
		s.drop("SetErrorStatus(USER_MESSAGE)", "unknown message id")
		return
	}
	s.emit(Event{Type: EventMessageStatus, MessageID: id, Status: MessageFailed, Text: s.opts.Texts.MessageNotDelivered})
}

func (c *callback) SetFileUploadStatus(fileID string, isError bool, errorMessage string) {
	c.on("SetFileUploadStatus", func() {
		s := c.s
		if _, ok := s.uploading[fileID]; ok {
			s.finishUpload(fileID, isError, errorMessage)
			return
		}
		if f, ok := s.staged[fileID]; ok {
			if !isError {
				s.drop("SetFileUploadStatus", "staged file fine; nothing to show")
				return
			}
			f.IsError, f.ErrorMessage, f.Status = true, errorMessage, servicedesk.FileComplete
			s.staged[fileID] = f
			s.emit(Event{Type: EventFileStatus, FileID: fileID, FileStatus: servicedesk.FileComplete, Status: MessageFailed, Text: errorMessage, Kind: servicedesk.AgentMsgInlineError})
			return
		}
		s.drop("SetFileUploadStatus", "unknown file id")
	})
}

func (c *callback) ScreenShareRequest(ctx context.Context) (servicedesk.ScreenShareState, error) {
	reply := make(chan shareResult, 1)
	if !c.s.enqueue(func() {
		s := c.s
		if !s.st.agentSide() {
			reply <- shareResult{err: fmt.Errorf("flow: session %s: screen share request: %w (state %s)", s.id, servicedesk.ErrNoChat, s.st)}
			return
		}
		if s.share != nil {
			s.share.waiters = append(s.share.waiters, reply)
			return
		}
		chat := s.chat
		sh := &shareRequest{waiters: []chan shareResult{reply}}
		sh.timer = time.AfterFunc(s.opts.ScreenShareTimeout, func() {
			s.enqueue(func() {
				if s.share == sh && s.chat == chat {
					s.resolveShare(servicedesk.ScreenShareCancelled, s.opts.Texts.SharingCancelled)
				}
			})
		})
		s.share = sh
		s.emit(Event{Type: EventScreenShare, ScreenShare: ScreenShareRequested, Kind: servicedesk.AgentMsgSharingRequested, Text: s.opts.Texts.SharingRequested})
	}) {
		return "", fmt.Errorf("flow: session %s: screen share request: %w", c.s.id, ErrClosed)
	}
	select {
	case r := <-reply:
		return r.state, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (c *callback) ScreenShareEnded() {
	c.on("ScreenShareEnded", func() {
		s := c.s
		switch {
		case s.share != nil:
			s.resolveShare(servicedesk.ScreenShareCancelled, s.opts.Texts.SharingCancelled)
		case s.sharing:
			s.sharing = false
			s.emit(Event{Type: EventScreenShare, ScreenShare: ScreenShareEnded, Kind: servicedesk.AgentMsgSharingEnded, Text: s.opts.Texts.SharingEnded})
		default:
			s.drop("ScreenShareEnded", "nothing shared or asked")
		}
	})
}

func (c *callback) PersistedState() json.RawMessage {
	c.s.deskMu.Lock()
	defer c.s.deskMu.Unlock()
	return slices.Clone(c.s.deskState)
}

func (c *callback) UpdatePersistedState(state any) error { return c.persist(state, true) }

func (c *callback) ReplacePersistedState(state any) error { return c.persist(state, false) }

func (c *callback) persist(state any, merge bool) error {
	s := c.s
	s.deskMu.Lock()
	next, err := mergeDeskState(s.deskState, state, merge, s.opts.MaxDeskStateBytes)
	if err == nil {
		s.deskState = next
	}
	s.deskMu.Unlock()
	if err != nil {
		return fmt.Errorf("flow: session %s: update persisted state: %w", s.id, err)
	}
	// Saved through the queue like everything else.
	c.on("UpdatePersistedState", func() { s.dirty = true })
	return nil
}

// noteAgentText keeps an agent message of the current chat as the agent's
// last words, which the chat's end gives the host.
func (s *Session) noteAgentText(chat uint64, m *servicedesk.MessageResponse) {
	if chat != s.chat || m == nil {
		return
	}
	if t := m.PlainText(); t != "" {
		s.lastAgentText = servicedesk.Truncate(t, 4<<10)
	}
}
