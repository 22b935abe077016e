package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// ensureDesk builds the session's desk on first need.
func (s *Session) ensureDesk() error {
	if s.desk != nil {
		return nil
	}
	s.deskMu.Lock()
	state := s.deskState
	s.deskMu.Unlock()
	desk, err := s.e.factory(s.e.ctx, servicedesk.FactoryParams{
		Callback:       s.cb,
		Instance:       instance{s.id},
		PersistedState: state,
		Logger:         s.log,
	})
	if err == nil && desk == nil {
		err = errors.New("factory returned a nil desk")
	}
	if err == nil {
		err = servicedesk.CheckName(desk.Name())
	}
	if err != nil {
		return &servicedesk.Error{Op: "Factory", SessionID: s.id, Err: err}
	}
	s.desk = desk
	s.ctrl = servicedesk.NewController(desk)
	s.deskOpt = s.ctrl.Supports()
	return nil
}

type instance struct{ id string }

func (i instance) SessionID() string { return i.id }

// deskCall runs call off the queue with a timeout and hands its error to done
// on the queue. If the engine is closing, done gets ErrClosed at once.
func (s *Session) deskCall(op, messageID string, timeout time.Duration, call func(ctx context.Context) error, done func(err error)) {
	wrap := func(err error) error {
		if err == nil {
			return nil
		}
		return &servicedesk.Error{Op: op, Desk: s.desk.Name(), SessionID: s.id, MessageID: messageID, Err: err}
	}
	if owners, shared := s.opts.Store.(Owners); shared && !owners.Owns(s.id) {
		// The lease may have expired (this process was paused, or cut off
		// from the store): another instance may be driving the chat.
		err := fmt.Errorf("flow: session %s: %s: %w", s.id, op, ErrNotOwner)
		if done != nil {
			done(err)
		}
		return
	}
	ok := s.e.spawn(func() {
		ctx, cancel := s.e.ctx, context.CancelFunc(func() {})
		if timeout > 0 {
			ctx, cancel = context.WithTimeout(ctx, timeout)
		}
		err := wrap(call(ctx))
		cancel()
		if done != nil {
			s.enqueue(func() { done(err) })
		}
	})
	if !ok && done != nil {
		done(fmt.Errorf("flow: session %s: %s: %w", s.id, op, ErrClosed))
	}
}

// forget logs a desk call's failure; for calls whose outcome changes nothing.
func (s *Session) forget(op string) func(error) {
	return func(err error) {
		if err != nil && !errors.Is(err, errors.ErrUnsupported) {
			s.log.Warn("flow: desk call failed", "op", op, "err", err)
		}
	}
}

// beginChat resets the per-chat fields for a new chat.
func (s *Session) beginChat(connectMsg servicedesk.MessageResponse) {
	s.e.chatBegan(s)
	s.chat++
	s.joined, s.started, s.warned, s.endPending = false, false, false, false
	s.agentTyping, s.userTyping, s.sharing = false, false, false
	s.profile, s.lastAvail = nil, nil
	s.profiles = nil
	s.handoff = nil
	s.lastAgentText = ""
	s.staged = nil
	s.connectMsg = &connectMsg
	s.dirty = true
}

// startDesk moves a Starting chat to Waiting and asks the desk for an agent.
func (s *Session) startDesk(payload json.RawMessage, handoff servicedesk.Handoff) {
	chat := s.chat
	s.setState(StateWaiting)
	if d := s.opts.AgentJoinTimeout; d > 0 {
		s.joinTimer = time.AfterFunc(d, func() {
			s.enqueue(func() {
				if s.chat == chat && s.st == StateWaiting {
					s.emit(Event{Type: EventError, Kind: servicedesk.AgentMsgInlineError, ErrorType: servicedesk.ErrorConnecting, Text: s.opts.Texts.NoAgentsJoined})
					s.beginEnd(false, nil, EndJoinTimeout)
				}
			})
		})
	}
	msg := s.redactConnect(*s.connectMsg)
	desk := s.desk
	if !handoff.IsZero() {
		s.handoff = &handoff
	}
	s.deskCall("StartChat", "", s.opts.StartChatTimeout, func(ctx context.Context) error {
		return desk.StartChat(ctx, msg, servicedesk.StartChatOptions{PreStartChatPayload: payload, Handoff: handoff})
	}, func(err error) {
		if s.chat != chat {
			return // a later chat; this result is stale
		}
		if err == nil {
			if s.st.Active() && s.st != StateEnding {
				s.started = true
				s.dirty = true
				s.pump()
			}
			return
		}
		s.log.Warn("flow: start chat failed", "err", err)
		s.connectingError("", err)
	})
}

// connectingError is Carbon's CONNECTING path, made safe after a join.
func (s *Session) connectingError(text string, cause error) {
	switch {
	case s.st == StateStarting || s.st == StateWaiting || (s.st == StateReconnecting && !s.joined):
		if text == "" {
			text = s.opts.Texts.ConnectingError
		}
		s.emit(Event{Type: EventError, Kind: servicedesk.AgentMsgInlineError, ErrorType: servicedesk.ErrorConnecting, Text: text})
		// The desk treats the request as over; it is not told again.
		s.endLocal(EndConnectingError, false, true, "")
	case s.st.agentSide() || s.st == StateReconnecting:
		// Carbon leaves a stuck chat here (an agent joined, yet the chat
		// stopped). The chat ends properly instead, and the desk is told.
		if text == "" {
			text = s.opts.Texts.ConnectingError
		}
		s.emit(Event{Type: EventError, Kind: servicedesk.AgentMsgInlineError, ErrorType: servicedesk.ErrorConnecting, Text: text})
		s.beginEnd(false, nil, EndConnectingError)
	default:
		s.drop("SetErrorStatus(CONNECTING)", "no chat to fail")
		_ = cause
	}
}

// beginEnd moves to Ending and asks the desk to end the chat; the end is
// completed when the desk answers or EndChatTimeout passes.
func (s *Session) beginEnd(byAgent bool, payload json.RawMessage, reason EndReason) {
	chat := s.chat
	cancelled := !s.joined
	text := ""
	switch {
	case reason == EndByAgent && s.joined:
		text = named(s.opts.Texts.AgentEndedName, s.opts.Texts.AgentEndedNoName, s.profile)
	case reason == EndByUser && s.joined:
		text = s.opts.Texts.UserEndedChat
	case reason == EndReconnectFailed:
		text = s.opts.Texts.ReconnectFailed
	}
	s.stopJoinTimer()
	s.setState(StateEnding)
	if s.desk == nil {
		s.endLocal(reason, byAgent, cancelled, text)
		return
	}
	desk := s.desk
	s.deskCall("EndChat", "", s.opts.EndChatTimeout, func(ctx context.Context) error {
		return desk.EndChat(ctx, servicedesk.EndChatInfo{PreEndChatPayload: payload, EndedByHumanAgent: byAgent})
	}, func(err error) {
		if err != nil {
			s.log.Warn("flow: desk end chat failed; ended locally", "err", err)
		}
		if s.chat == chat && s.st == StateEnding {
			s.endLocal(reason, byAgent, cancelled, text)
		}
	})
}

// deleteFiles removes the ended chat's uploads from Options.Files once the
// batch is saved, off the queue.
func (s *Session) deleteFiles() {
	files := s.opts.Files
	if files == nil {
		return
	}
	s.afterFlush = append(s.afterFlush, func(saveErr error) {
		if saveErr != nil {
			return // not saved: the chat's end is not final here
		}
		s.e.spawn(func() {
			ctx, cancel := context.WithTimeout(s.e.ctx, 10*time.Second)
			defer cancel()
			if err := files.DeleteFiles(ctx, s.id); err != nil {
				s.log.Warn("flow: delete the files of an ended chat", "err", err)
			}
		})
	})
}

// endLocal is the end reducer: everything of the chat is cleared, nothing a
// person would miss is dropped silently.
func (s *Session) endLocal(reason EndReason, byAgent, cancelled bool, text string) {
	s.stopJoinTimer()
	if s.agentTyping {
		s.agentTyping = false
		s.emit(Event{Type: EventAgentTyping, Typing: ptr(false)})
	}
	// Messages the desk never took are reported, not lost in silence. The
	// one in flight is not: the desk may have it, and its send's result
	// reports it when it comes.
	for i, m := range s.outbox {
		if i == 0 && s.sending {
			s.inflight = m.ID
			continue
		}
		s.emit(Event{Type: EventMessageStatus, MessageID: m.ID, Status: MessageFailed, Text: s.opts.Texts.MessageNotDelivered})
	}
	s.outbox = nil
	for id, t := range s.uploading {
		t.Stop()
		s.emit(Event{Type: EventFileStatus, FileID: id, FileStatus: servicedesk.FileComplete, Status: MessageFailed, Text: s.opts.Texts.UploadFailed})
	}
	s.uploading = nil
	s.staged = nil
	if s.share != nil {
		s.resolveShare(servicedesk.ScreenShareCancelled, "")
	}
	if s.sharing {
		s.sharing = false
		s.emit(Event{Type: EventScreenShare, ScreenShare: ScreenShareEnded})
	}
	s.profile, s.profiles, s.lastAvail = nil, nil, nil
	s.suspended, s.endPending = false, false
	s.recentSent, s.recentAgent = idRing{}, idRing{}
	// The desk's persisted state outlives the chat, as Carbon's
	// serviceDeskState does: a desk may keep what spans chats in it, and
	// clears the rest itself (ReplacePersistedState).
	s.emit(Event{Type: EventChatEnded, Reason: reason, EndedByAgent: byAgent, RequestCancelled: cancelled, Text: text, Kind: endKind(reason),
		LastAgentText: s.lastAgentText})
	s.setState(StateEnded)
	s.dirty = true
	s.wakeEndWaiters()
	if !s.sending {
		s.deleteFiles()
	}
	if reason == EndByAgent && s.opts.AssistantReturnDelay >= 0 {
		chat := s.chat
		s.returnTimer = time.AfterFunc(s.opts.AssistantReturnDelay, func() {
			s.enqueue(func() {
				if s.chat == chat && s.st == StateEnded {
					s.emit(Event{Type: EventAssistantReturned, Text: s.opts.Texts.AssistantReturned})
				}
			})
		})
	}
}

// wakeEndWaiters lets StartChat calls that waited for this end go on.
func (s *Session) wakeEndWaiters() {
	for _, w := range s.endWaiters {
		close(w)
	}
	s.endWaiters = nil
}

func endKind(r EndReason) servicedesk.AgentMessageType {
	switch r {
	case EndByAgent:
		return servicedesk.AgentMsgAgentEndedChat
	case EndByUser:
		return servicedesk.AgentMsgUserEndedChat
	}
	return servicedesk.AgentMsgChatWasEnded
}

func (s *Session) stopJoinTimer() {
	if s.joinTimer != nil {
		s.joinTimer.Stop()
		s.joinTimer = nil
	}
}

// pump hands the oldest outbox message to the desk when it can take one.
// Messages go one at a time, so the desk sees them in order.
func (s *Session) pump() {
	if s.sending || len(s.outbox) == 0 || !s.started || s.desk == nil {
		return
	}
	switch s.st {
	case StateWaiting, StateConnected, StateAgentLeft, StateTransferring:
	default:
		return // Disconnected and Reconnecting hold messages until the desk is back
	}
	m := s.outbox[0]
	chat := s.chat
	files := make([]servicedesk.FileUpload, len(m.Files))
	for i, f := range m.Files {
		f.Status = servicedesk.FileUploading
		if f.File.Open == nil && s.opts.OpenFile != nil {
			id, sid := f.ID, s.id
			open := s.opts.OpenFile
			f.File.Open = func(ctx context.Context) (io.ReadCloser, error) { return open(ctx, sid, id) }
		}
		files[i] = f
		s.armUpload(f.ID, chat)
	}
	s.sending = true
	desk := s.desk
	s.deskCall("SendMessageToAgent", m.ID, s.opts.SendTimeout, func(ctx context.Context) error {
		return desk.SendMessageToAgent(ctx, m.Message, m.ID, servicedesk.AdditionalDataToAgent{FilesToUpload: files})
	}, func(err error) {
		s.sending = false
		deskFailed := s.failedInFlight == m.ID
		if deskFailed {
			// The desk reported it failed while its send was running: that
			// word stands, whatever the send answered.
			s.failedInFlight = ""
			if err == nil {
				err = errDeskReportedFailure
			}
		}
		if s.chat != chat || len(s.outbox) == 0 || s.outbox[0].ID != m.ID {
			// The chat ended meanwhile. Its in-flight message is reported
			// now, and a later chat's messages, held while this one was in
			// flight, go on.
			if s.inflight == m.ID {
				s.inflight = ""
				s.dirty = true // not in the outbox nor the recent ids: not a replay's to tell
				s.emit(sendStatus(m.ID, err, s.opts.Texts.MessageNotDelivered))
				if s.st == StateEnded {
					s.deleteFiles() // the last reader of the ended chat's files is done
				}
			}
			s.pump()
			return
		}
		if errors.Is(err, ErrClosed) || errors.Is(err, context.Canceled) && s.e.ctx.Err() != nil {
			return // shutting down: the message stays in the saved outbox
		}
		if err != nil && !deskFailed && (s.st == StateDisconnected || s.st == StateReconnecting) {
			s.log.Info("flow: send failed while the desk is away; kept for later", "message", m.ID, "err", err)
			return
		}
		if err != nil && !deskFailed && servicedesk.IsTemporary(err) && s.retrySend(m.ID, err) {
			return
		}
		s.outbox = s.outbox[1:]
		// Not dirty: the message_status event tells it (see replay).
		s.recentSent.add(m.ID)
		if err != nil {
			s.log.Warn("flow: message not delivered", "message", m.ID, "err", err)
			for _, f := range m.Files {
				s.finishUpload(f.ID, true, s.opts.Texts.UploadFailed)
			}
		}
		s.emit(sendStatus(m.ID, err, s.opts.Texts.MessageNotDelivered))
		s.pump()
	})
}

// sendRetry counts the tries of the outbox's first message after
// temporary failures.
type sendRetry struct {
	id    string
	since time.Time
	tries int
	timer *time.Timer
}

// The backoff between tries of a message the desk turned away for a
// while: doubling from sendRetryMin up to sendRetryMax.
const (
	sendRetryMin = 250 * time.Millisecond
	sendRetryMax = 5 * time.Second
)

// retrySend schedules another try of message id, which the desk turned
// away for a while (err), and reports whether it did: not once the message
// has been tried for Options.SendRetryFor, after which it is reported
// failed. A desk that is down for longer raises DISCONNECTED, which holds
// the outbox instead.
func (s *Session) retrySend(id string, err error) bool {
	now := time.Now()
	r := &s.sendRetry
	if r.id != id {
		*r = sendRetry{id: id, since: now}
	}
	if s.opts.SendRetryFor < 0 || now.Sub(r.since) >= s.opts.SendRetryFor {
		return false
	}
	wait := min(sendRetryMin<<min(r.tries, 8), sendRetryMax)
	r.tries++
	if r.timer != nil {
		r.timer.Stop()
	}
	r.timer = time.AfterFunc(wait, func() { s.enqueue(s.pump) })
	s.log.Info("flow: the desk turned a message away for a while; trying again", "message", id, "try", r.tries, "wait", wait, "err", err)
	return true
}

// errDeskReportedFailure: the desk's SetErrorStatus(USER_MESSAGE) named a
// message while its send was running.
var errDeskReportedFailure = errors.New("the desk reported the message failed")

// sendStatus is the message_status event for a send's result.
func sendStatus(id string, err error, failedText string) Event {
	if err != nil {
		return Event{Type: EventMessageStatus, MessageID: id, Status: MessageFailed, Text: failedText}
	}
	return Event{Type: EventMessageStatus, MessageID: id, Status: MessageSent}
}

// armUpload starts the timer that fails a sent file whose status never comes.
func (s *Session) armUpload(fileID string, chat uint64) {
	if s.uploading == nil {
		s.uploading = make(map[string]*time.Timer)
	}
	if _, ok := s.uploading[fileID]; ok {
		return
	}
	s.uploading[fileID] = time.AfterFunc(s.opts.FileUploadTimeout, func() {
		s.enqueue(func() {
			if s.chat == chat {
				if _, ok := s.uploading[fileID]; ok {
					s.finishUpload(fileID, true, s.opts.Texts.UploadTimedOut)
				}
			}
		})
	})
}

// finishUpload reports a sent file's outcome once.
func (s *Session) finishUpload(fileID string, isError bool, text string) bool {
	t, ok := s.uploading[fileID]
	if !ok {
		return false
	}
	t.Stop()
	delete(s.uploading, fileID)
	if isError {
		s.emit(Event{Type: EventFileStatus, FileID: fileID, FileStatus: servicedesk.FileComplete, Status: MessageFailed, Text: text, Kind: servicedesk.AgentMsgInlineError})
	} else {
		s.emit(Event{Type: EventFileStatus, FileID: fileID, FileStatus: servicedesk.FileSuccess})
	}
	return true
}

// resolveShare answers every waiter of the pending screen share request.
func (s *Session) resolveShare(state servicedesk.ScreenShareState, text string) {
	sh := s.share
	s.share = nil
	if sh.timer != nil {
		sh.timer.Stop()
	}
	for _, w := range sh.waiters {
		w <- shareResult{state: state}
	}
	if state == servicedesk.ScreenShareAccepted {
		s.sharing = true
	}
	s.emit(Event{Type: EventScreenShare, ScreenShare: ScreenSharePhase(state), Text: text, Kind: shareKind(state)})
}

func shareKind(st servicedesk.ScreenShareState) servicedesk.AgentMessageType {
	switch st {
	case servicedesk.ScreenShareAccepted:
		return servicedesk.AgentMsgSharingAccepted
	case servicedesk.ScreenShareDeclined:
		return servicedesk.AgentMsgSharingDeclined
	case servicedesk.ScreenShareEnded:
		return servicedesk.AgentMsgSharingEnded
	}
	return servicedesk.AgentMsgSharingCancelled
}

// resume re-attaches a chat that was running when the process stopped.
func (s *Session) resume() {
	switch s.st {
	case StateStarting:
		// The desk was never asked.
		s.endLocal(EndCancelled, false, true, "")
		return
	case StateEnding, StateIdle, StateEnded:
		if s.st == StateEnding {
			s.finishInterruptedEnd()
		}
		return
	}
	before := s.st
	s.setState(StateReconnecting)
	if err := s.ensureDesk(); err != nil {
		s.log.Error("flow: resume: no desk", "err", err)
		s.endLocal(EndReconnectFailed, false, !s.joined, s.opts.Texts.ReconnectFailed)
		return
	}
	if !s.deskOpt.Reconnect {
		s.beginEnd(false, nil, EndReconnectFailed)
		return
	}
	chat := s.chat
	ctrl := s.ctrl
	var ok bool
	// No timeout around the wait for a reconnect slot: after a restart
	// thousands of chats queue for one, and each gets its full timeout.
	s.deskCall("Reconnect", "", 0, func(ctx context.Context) error {
		release, err := s.e.reconnectSlot(ctx)
		if err != nil {
			return err
		}
		defer release()
		ctx, cancel := context.WithTimeout(ctx, s.opts.ReconnectTimeout)
		defer cancel()
		ok, err = ctrl.Reconnect(ctx)
		return err
	}, func(err error) {
		if s.chat != chat || s.st != StateReconnecting {
			if s.chat == chat && err == nil && ok && s.st.agentSide() {
				s.started = true // an agent joined during the reconnect
				s.pump()
			}
			return
		}
		if err != nil || !ok {
			s.log.Warn("flow: reconnect failed", "ok", ok, "err", err)
			if errors.Is(err, ErrClosed) {
				return
			}
			s.beginEnd(false, nil, EndReconnectFailed)
			return
		}
		s.started = true
		switch {
		case !s.joined:
			s.setState(StateWaiting)
		case before == StateDisconnected || before == StateReconnecting:
			s.setState(StateConnected)
		default:
			s.setState(before)
		}
		s.pump()
	})
}

// finishInterruptedEnd completes an end that a restart cut short.
func (s *Session) finishInterruptedEnd() {
	if err := s.ensureDesk(); err != nil {
		s.endLocal(EndByUser, false, !s.joined, "")
		return
	}
	s.beginEnd(false, nil, EndByUser)
}

func ptr[T any](v T) *T { return &v }
