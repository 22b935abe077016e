package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// StartOptions are the host's options for StartChat.
type StartOptions struct {
	// Payload reaches the desk as StartChatOptions.PreStartChatPayload unless
	// the PreStartChat hook replaces it.
	Payload json.RawMessage
	// Handoff is the host's hand-off context: the verified customer, the
	// bot transcript, routing attributes. The engine completes it from the
	// connect message (its summary, its additional_data) and passes it to
	// the desk as StartChatOptions.Handoff, after the PreStartChat hook,
	// which may change it (to redact, say).
	Handoff servicedesk.Handoff
}

// EndOptions are the host's options for EndChat.
type EndOptions struct {
	// Payload reaches the desk as EndChatInfo.PreEndChatPayload unless the
	// PreEndChat hook replaces it.
	Payload json.RawMessage
	// Committed: the user's side has already ended the chat (Carbon ends
	// it on screen before it calls the desk's endChat). The PreEndChat hook
	// still runs and may set the payload, but it cannot keep the chat
	// going: that would leave a desk chat nobody can see.
	Committed bool
	// EndedByAgent is passed to the desk as EndChatInfo.EndedByHumanAgent
	// (Carbon's endChat after its agentEndedChat).
	EndedByAgent bool
}

// CheckAvailability asks the desk whether any agent is online, as Carbon
// does for each connect_to_agent response: true is Online, false Offline,
// no answer Unknown; an error or no answer within AvailabilityTimeout is
// Offline; a desk without the method is Unknown. The answer is also an
// event. With Options.AutoStart, an Online answer starts the chat.
func (s *Session) CheckAvailability(ctx context.Context, connectMsg servicedesk.MessageResponse) (servicedesk.OnlineStatus, error) {
	return s.checkAvailability(ctx, connectMsg, s.opts.AutoStart)
}

// AreAnyAgentsOnline is CheckAvailability without Options.AutoStart, for
// front ends that start the chat themselves: Carbon auto-starts on its own
// (serviceDesk.skipConnectHumanAgentCard), and a chat the engine started
// behind its back would be one it does not show. A deadline on ctx shorter
// than AvailabilityTimeout bounds the check as well (Carbon's
// availabilityTimeoutSeconds).
func (s *Session) AreAnyAgentsOnline(ctx context.Context, connectMsg servicedesk.MessageResponse) (servicedesk.OnlineStatus, error) {
	return s.checkAvailability(ctx, connectMsg, false)
}

func (s *Session) checkAvailability(ctx context.Context, connectMsg servicedesk.MessageResponse, autoStart bool) (servicedesk.OnlineStatus, error) {
	s.Touch() // the user is there
	var ctrl *servicedesk.Controller
	var opt servicedesk.Optional
	if err := s.call(ctx, func() error {
		if err := s.ensureDesk(); err != nil {
			return err
		}
		ctrl, opt = s.ctrl, s.deskOpt
		return nil
	}); err != nil {
		return servicedesk.OnlineUnknown, err
	}
	status := servicedesk.OnlineUnknown
	if opt.AvailabilityCheck {
		cctx, cancel := context.WithTimeout(ctx, s.opts.AvailabilityTimeout)
		st, err := ctrl.AreAnyAgentsOnline(cctx, connectMsg)
		cancel()
		switch {
		case err != nil:
			s.log.Warn("flow: availability check failed; offline", "err", err)
			status = servicedesk.Offline
		case st == servicedesk.Online || st == servicedesk.Offline:
			status = st
		}
	}
	// Recorded even when the caller's deadline ended the check.
	err := s.call(context.WithoutCancel(ctx), func() error {
		s.emit(Event{Type: EventAvailability, Online: status})
		return nil
	})
	if err == nil && autoStart && status == servicedesk.Online && !s.State().Active() {
		err = s.StartChat(ctx, connectMsg, StartOptions{})
		if errors.Is(err, ErrChatRunning) {
			err = nil
		}
	}
	return status, err
}

// StartChat asks the desk for an agent. It returns once the desk has been
// asked (state Waiting) or the start failed: ErrChatRunning, ErrStartCancelled
// (the pre-start hook cancelled), or the hook's error. The desk's answer, and
// everything after it, arrives as events.
//
// A StartChat while the previous chat is still ending (the desk's EndChat
// runs, up to EndChatTimeout) waits for that end and then starts: the user
// who asks again right after ending has no chat running.
func (s *Session) StartChat(ctx context.Context, connectMsg servicedesk.MessageResponse, opts StartOptions) error {
	var chat uint64
	for {
		var ending chan struct{}
		err := s.call(ctx, func() error {
			if s.st == StateEnding {
				ending = make(chan struct{})
				s.endWaiters = append(s.endWaiters, ending)
				return nil
			}
			h, err := s.withCustomer(opts.Handoff)
			if err != nil {
				return err
			}
			opts.Handoff = h
			return s.beginStart(connectMsg, &chat)
		})
		if err != nil {
			return err
		}
		if ending == nil {
			break
		}
		select {
		case <-ending:
		case <-ctx.Done():
			return fmt.Errorf("flow: session %s: start chat: waiting for the last chat to end: %w", s.id, ctx.Err())
		}
	}
	return s.runPreStart(ctx, connectMsg, opts, chat)
}

// beginStart moves an idle or ended session to Starting, on the queue.
func (s *Session) beginStart(connectMsg servicedesk.MessageResponse, chat *uint64) error {
	if s.st.Active() {
		return fmt.Errorf("flow: session %s: start chat: %w (state %s)", s.id, ErrChatRunning, s.st)
	}
	s.beginChat(connectMsg)
	*chat = s.chat
	s.setState(StateStarting)
	if err := s.ensureDesk(); err != nil {
		s.log.Error("flow: start chat: no desk", "err", err)
		s.connectingError("", err)
		return err
	}
	return nil
}

// runPreStart runs the PreStartChat hook off the queue, then asks the desk.
func (s *Session) runPreStart(ctx context.Context, connectMsg servicedesk.MessageResponse, opts StartOptions, chat uint64) error {
	pre := &PreStartChat{SessionID: s.id, ConnectMessage: connectMsg, Payload: opts.Payload, Handoff: s.boundHandoff(opts.Handoff.WithConnectMessage(connectMsg))}
	var hookErr error
	if hook := s.opts.PreStartChat; hook != nil {
		hookErr = runHook(func() error { return hook(ctx, pre) })
	}
	// Enqueued even if ctx has ended, so the chat never stays Starting.
	return s.call(context.WithoutCancel(ctx), func() error {
		if s.chat != chat || s.st != StateStarting {
			return fmt.Errorf("flow: session %s: start chat: %w: ended while starting", s.id, ErrStartCancelled)
		}
		if hookErr != nil {
			s.connectingError("", hookErr)
			return fmt.Errorf("flow: session %s: pre-start hook: %w", s.id, hookErr)
		}
		if pre.Cancel {
			s.endLocal(EndCancelled, false, true, "")
			return fmt.Errorf("flow: session %s: %w", s.id, ErrStartCancelled)
		}
		s.startDesk(pre.Payload, s.redactHandoff(s.boundHandoff(pre.Handoff)))
		return nil
	})
}

// runHook calls a host hook, turning a panic into an error.
func runHook(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("hook panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return fn()
}

// EndChat ends the chat for the user: a wait is cancelled, a chat with an
// agent ends after the PreEndChat hook (which may keep it going:
// ErrEndCancelled). It returns once the end has begun; the desk is told, and
// chat_ended follows within EndChatTimeout. Ending an ending chat is a no-op.
func (s *Session) EndChat(ctx context.Context, opts EndOptions) error {
	var chat uint64
	var hookNeeded bool
	reason := EndByUser
	if opts.EndedByAgent {
		reason = EndByAgent
	}
	err := s.call(ctx, func() error {
		switch {
		case s.st == StateEnding || s.endPending:
			return nil
		case s.st == StateStarting:
			s.endLocal(EndByUser, false, true, "")
			return nil
		case s.st == StateWaiting || (s.st == StateReconnecting && !s.joined):
			s.beginEnd(opts.EndedByAgent, opts.Payload, reason)
			return nil
		case s.st.agentSide() || s.st == StateReconnecting:
			chat = s.chat
			hookNeeded = s.opts.PreEndChat != nil
			if !hookNeeded {
				s.beginEnd(opts.EndedByAgent, opts.Payload, reason)
				return nil
			}
			s.endPending = true
			return nil
		}
		return fmt.Errorf("flow: session %s: end chat: %w (state %s)", s.id, ErrNoChat, s.st)
	})
	if err != nil || !hookNeeded {
		return err
	}
	pre := &PreEndChat{SessionID: s.id, Payload: opts.Payload, EndedByAgent: opts.EndedByAgent, Committed: opts.Committed}
	hookErr := runHook(func() error { return s.opts.PreEndChat(ctx, pre) })
	return s.call(context.WithoutCancel(ctx), func() error {
		if s.chat != chat || !(s.st.agentSide() || s.st == StateReconnecting) {
			return nil // ended some other way meanwhile
		}
		s.endPending = false
		switch {
		case hookErr != nil:
			s.log.Warn("flow: pre-end hook failed; ending anyway", "err", hookErr)
		case pre.Cancel && opts.Committed:
			s.log.Warn("flow: pre-end hook cancelled an end the user's side had already made; ending anyway")
		case pre.Cancel:
			return fmt.Errorf("flow: session %s: %w", s.id, ErrEndCancelled)
		}
		s.beginEnd(opts.EndedByAgent, pre.Payload, reason)
		return nil
	})
}

// SendMessage accepts a user message for the agent and returns its id: the
// id the desk receives, and the one a USER_MESSAGE error names. The message
// is saved in the outbox before SendMessage returns and goes to the desk in
// order; its fate arrives as a message_status event. A message whose id is
// already in the outbox or was just sent is not sent twice. Files must have
// ids; their File.Open is used to read them.
func (s *Session) SendMessage(ctx context.Context, msg servicedesk.MessageRequest, files []servicedesk.FileUpload) (string, error) {
	s.Touch() // the user is there
	if msg.Input.Text == "" && len(files) == 0 {
		return "", fmt.Errorf("flow: session %s: send message: %w: no text and no files", s.id, ErrInvalid)
	}
	for _, f := range files {
		if f.ID == "" {
			return "", fmt.Errorf("flow: session %s: send message: %w: a file without an id", s.id, ErrInvalid)
		}
	}
	if msg.ID == "" {
		msg.ID = s.opts.NewID()
	}
	msg.Input.AgentMessageType = servicedesk.AgentMsgFromUser
	if msg.Input.MessageType == "" {
		msg.Input.MessageType = servicedesk.InputText
	}
	if msg.History == nil {
		msg.History = &servicedesk.RequestHistory{}
	} else {
		h := *msg.History
		msg.History = &h
	}
	if msg.History.Timestamp == 0 {
		msg.History.Timestamp = s.opts.Now().UnixMilli()
	}
	files = slices.Clone(files)
	for i := range files {
		files[i].Status = servicedesk.FileUploading
	}
	err := s.call(ctx, func() error {
		switch s.st {
		case StateStarting, StateWaiting, StateConnected, StateAgentLeft, StateTransferring, StateDisconnected, StateReconnecting:
		default:
			return fmt.Errorf("flow: session %s: send message: %w (state %s)", s.id, ErrNoChat, s.st)
		}
		if s.recentSent.has(msg.ID) || slices.ContainsFunc(s.outbox, func(p PendingMessage) bool { return p.ID == msg.ID }) {
			return nil // a resend of a message already taken
		}
		for _, f := range files {
			delete(s.staged, f.ID)
		}
		s.outbox = append(s.outbox, PendingMessage{ID: msg.ID, Message: msg, Files: files})
		// Not dirty: the user_message event tells it (see replay).
		shown := msg
		s.emit(Event{Type: EventUserMessage, UserMessage: &shown, MessageID: msg.ID, Files: withoutOpen(files)})
		// The desk sees the message only once the store has it: after a
		// crash, the browser's resend then finds it in the outbox, rather
		// than making it anew (a new timestamp, a different body under the
		// same idempotency key, which the desk refuses).
		s.afterFlush = append(s.afterFlush, func(saveErr error) {
			if saveErr == nil {
				s.enqueue(s.pump)
			}
		})
		return nil
	})
	if err != nil {
		return "", err
	}
	return msg.ID, nil
}

// SendText is SendMessage for plain text.
func (s *Session) SendText(ctx context.Context, text string) (string, error) {
	return s.SendMessage(ctx, servicedesk.NewTextRequest(text), nil)
}

func withoutOpen(files []servicedesk.FileUpload) []servicedesk.FileUpload {
	if len(files) == 0 {
		return nil
	}
	out := slices.Clone(files)
	for i := range out {
		out[i].File.Open = nil
	}
	return out
}

// UserTyping tells the desk the user started or stopped typing. Repeats of
// the same value are not forwarded. It needs an agent in the chat.
func (s *Session) UserTyping(ctx context.Context, isTyping bool) error {
	s.Touch() // the user is there
	return s.call(ctx, func() error {
		if !s.st.agentSide() || s.st == StateDisconnected {
			return fmt.Errorf("flow: session %s: user typing: %w (state %s)", s.id, ErrNoChat, s.st)
		}
		if s.userTyping == isTyping {
			return nil
		}
		s.userTyping = isTyping
		ctrl := s.ctrl
		s.deskCall("UserTyping", "", s.opts.SendTimeout, func(ctx context.Context) error {
			return ctrl.UserTyping(ctx, isTyping)
		}, s.forget("UserTyping"))
		return nil
	})
}

// UserRead tells the desk the user read the agent's messages.
func (s *Session) UserRead(ctx context.Context) error {
	s.Touch() // the user is there
	return s.call(ctx, func() error {
		if !s.st.agentSide() || s.st == StateDisconnected {
			return fmt.Errorf("flow: session %s: user read: %w (state %s)", s.id, ErrNoChat, s.st)
		}
		ctrl := s.ctrl
		s.deskCall("UserReadMessages", "", s.opts.SendTimeout, func(ctx context.Context) error {
			return ctrl.UserReadMessages(ctx)
		}, s.forget("UserReadMessages"))
		return nil
	})
}

// SelectFiles checks files the user picked against the desk's capabilities
// (type, size, count) and hands the ones that pass to the desk's early
// validation. Each rejected file gets a file_status event with the reason.
func (s *Session) SelectFiles(ctx context.Context, files []servicedesk.FileUpload) error {
	s.Touch() // the user is there
	return s.call(ctx, func() error {
		if !s.st.Active() || s.st == StateEnding {
			return fmt.Errorf("flow: session %s: select files: %w (state %s)", s.id, ErrNoChat, s.st)
		}
		var ok []servicedesk.FileUpload
		for _, f := range files {
			if f.ID == "" {
				return fmt.Errorf("flow: session %s: select files: %w: a file without an id", s.id, ErrInvalid)
			}
			reason := s.fileProblem(f)
			if reason != "" {
				s.emit(Event{Type: EventFileStatus, FileID: f.ID, FileStatus: servicedesk.FileComplete, Status: MessageFailed, Text: reason, Kind: servicedesk.AgentMsgInlineError})
				continue
			}
			f.Status = servicedesk.FileEdit
			if s.staged == nil {
				s.staged = make(map[string]servicedesk.FileUpload)
			}
			s.staged[f.ID] = f
			ok = append(ok, f)
		}
		if len(ok) > 0 && s.deskOpt.FileSelection {
			ctrl := s.ctrl
			s.deskCall("FilesSelectedForUpload", "", s.opts.SendTimeout, func(ctx context.Context) error {
				return ctrl.FilesSelectedForUpload(ctx, ok)
			}, s.forget("FilesSelectedForUpload"))
		}
		return nil
	})
}

func (s *Session) fileProblem(f servicedesk.FileUpload) string {
	t := s.opts.Texts
	c := s.caps
	if !c.AllowFileUploads {
		return t.UploadsNotAllowed
	}
	count := len(s.staged) + 1 // staged already holds this batch's accepted files
	if (c.MaxFiles > 0 && count > c.MaxFiles) || (!c.AllowMultipleFileUploads && count > 1) {
		return t.TooManyFiles
	}
	if ok, why := c.Accepts(f.File.Name, f.File.Type, f.File.Size); !ok {
		return why
	}
	return ""
}

// AnswerScreenShare gives the user's answer to the pending screen share
// request.
func (s *Session) AnswerScreenShare(ctx context.Context, accept bool) error {
	s.Touch() // the user is there
	return s.call(ctx, func() error {
		if s.share == nil {
			return fmt.Errorf("flow: session %s: answer screen share: %w", s.id, ErrNoScreenShareRequest)
		}
		if accept {
			s.resolveShare(servicedesk.ScreenShareAccepted, s.opts.Texts.SharingAccepted)
		} else {
			s.resolveShare(servicedesk.ScreenShareDeclined, s.opts.Texts.SharingDeclined)
		}
		return nil
	})
}

// CancelScreenShare withdraws the pending screen share request without an
// answer (Carbon's screenShareRequest resolving "cancelled": the user
// closed the dialog); the desk gets ScreenShareCancelled, not a refusal.
func (s *Session) CancelScreenShare(ctx context.Context) error {
	s.Touch() // the user is there
	return s.call(ctx, func() error {
		if s.share == nil {
			return fmt.Errorf("flow: session %s: cancel screen share: %w", s.id, ErrNoScreenShareRequest)
		}
		s.resolveShare(servicedesk.ScreenShareCancelled, s.opts.Texts.SharingCancelled)
		return nil
	})
}

// StopScreenShare stops sharing the user's screen and tells the desk.
func (s *Session) StopScreenShare(ctx context.Context) error {
	s.Touch() // the user is there
	return s.call(ctx, func() error {
		if !s.sharing {
			return fmt.Errorf("flow: session %s: stop screen share: %w", s.id, ErrNotSharing)
		}
		s.sharing = false
		s.emit(Event{Type: EventScreenShare, ScreenShare: ScreenShareEnded, Text: s.opts.Texts.SharingEnded, Kind: servicedesk.AgentMsgSharingEnded})
		ctrl := s.ctrl
		s.deskCall("ScreenShareStop", "", s.opts.SendTimeout, func(ctx context.Context) error {
			return ctrl.ScreenShareStop(ctx)
		}, s.forget("ScreenShareStop"))
		return nil
	})
}

// SetSuspended parks (true) or resumes (false) the agent chat, Carbon's
// updateIsSuspended. Unlike Carbon, nothing is dropped while parked: events
// keep flowing, and front ends decide what to show.
func (s *Session) SetSuspended(ctx context.Context, suspended bool) error {
	return s.call(ctx, func() error {
		if !s.st.Active() || s.st == StateEnding {
			return fmt.Errorf("flow: session %s: suspend: %w (state %s)", s.id, ErrNoChat, s.st)
		}
		if s.suspended == suspended {
			return nil
		}
		s.suspended = suspended
		s.dirty = true
		s.emit(Event{Type: EventSuspended, Suspended: ptr(suspended)})
		return nil
	})
}

// UpdateState tells the desk about the host side of the chat (updateState,
// a deskbridge extension); ErrUnsupported when the desk does not take it.
func (s *Session) UpdateState(ctx context.Context, state servicedesk.ChatState) error {
	state.SessionID = s.id
	var ctrl *servicedesk.Controller
	if err := s.call(ctx, func() error {
		if err := s.ensureDesk(); err != nil {
			return err
		}
		ctrl = s.ctrl
		return nil
	}); err != nil {
		return err
	}
	if err := ctrl.UpdateState(ctx, state); err != nil {
		return &servicedesk.Error{Op: "UpdateState", Desk: ctrl.Desk().Name(), SessionID: s.id, Err: err}
	}
	return nil
}

// Snapshot is a session's current view, for a front end that (re)attaches.
type Snapshot struct {
	State        State                          `json:"state"`
	Chat         uint64                         `json:"chat"`
	LastSeq      uint64                         `json:"last_seq"`
	Profile      *servicedesk.AgentProfile      `json:"profile,omitempty"`
	Availability *servicedesk.AgentAvailability `json:"availability,omitempty"`
	Capabilities servicedesk.Capabilities       `json:"capabilities"`
	AgentTyping  bool                           `json:"agent_typing,omitempty"`
	Suspended    bool                           `json:"suspended,omitempty"`
	Sharing      bool                           `json:"sharing,omitempty"`
	ShareAsked   bool                           `json:"share_asked,omitempty"`
	Outbox       int                            `json:"outbox,omitempty"`
	Desk         string                         `json:"desk,omitempty"`
	// Owner is who answers the user now.
	Owner ConversationOwner `json:"owner"`
	// Subject is the verified customer's id, "" while anonymous.
	Subject string `json:"subject,omitempty"`
}

// Snapshot returns the session's current view.
func (s *Session) Snapshot(ctx context.Context) (Snapshot, error) {
	var snap Snapshot
	err := s.call(ctx, func() error {
		snap = Snapshot{
			State: s.st, Chat: s.chat, LastSeq: s.lastSeq, Profile: s.profile, Availability: s.lastAvail,
			Capabilities: s.caps, AgentTyping: s.agentTyping, Suspended: s.suspended, Sharing: s.sharing,
			ShareAsked: s.share != nil, Outbox: len(s.outbox),
		}
		if s.desk != nil {
			snap.Desk = s.desk.Name()
		}
		if s.customer != nil {
			snap.Subject = s.customer.ID
		}
		snap.Owner = s.ownerNow()
		return nil
	})
	return snap, err
}
