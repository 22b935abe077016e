package genesys

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/lifetime"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/stream"
)

// State is what the kit persists so that a reload or restart resumes the
// guest's session: the session token (re-sent in configureSession) and the
// last message delivered (where the history fill starts).
type State struct {
	Token         string `json:"token,omitempty"`
	LastMessageID string `json:"last_message_id,omitempty"`
	Joined        bool   `json:"joined,omitempty"`
}

// errEnded is returned by calls after the session is over.
var errEnded = errors.New("genesys: the session is over")

type desk struct {
	k   *Kit
	cb  servicedesk.Callback
	log *slog.Logger

	life        lifetime.Lifecycle
	socket      stream.SocketSlot
	gap         *stream.GapFiller[Message]
	recovery    *stream.Recovery[Message]
	pacer       retry.Pacer
	typing      retry.Throttle
	agentTyping lifetime.Indicator

	mu         sync.Mutex
	st         State
	ready      chan struct{} // closed when the current connection's session is configured
	session    SessionResponse
	configured bool                     // a SessionResponse came on some connection
	resuming   bool                     // Reconnect waits for its first SessionResponse
	pending    map[string]chan Envelope // answers by tracingId
	uploads    map[string]chan Envelope // upload outcomes by attachment id
	joined     bool
	ended      bool
	endedByUs  bool
	lastText   string // the last bot text while waiting
}

var (
	_ servicedesk.ServiceDesk            = (*desk)(nil)
	_ servicedesk.TypingNotifier         = (*desk)(nil)
	_ servicedesk.FileSelectionValidator = (*desk)(nil)
	_ servicedesk.Reconnector            = (*desk)(nil)
	_ io.Closer                          = (*desk)(nil)
)

func newDesk(k *Kit, p servicedesk.FactoryParams) *desk {
	d := &desk{k: k, cb: p.Callback, pending: map[string]chan Envelope{}, uploads: map[string]chan Envelope{}, ready: make(chan struct{})}
	log := p.Logger
	if log == nil {
		log = k.log
	}
	d.log = log.With("kit", "genesys")
	d.pacer.Interval = k.cfg.SendInterval
	d.typing.Interval = k.cfg.TypingInterval
	if len(p.PersistedState) > 0 {
		_ = json.Unmarshal(p.PersistedState, &d.st)
	}
	d.gap = &stream.GapFiller[Message]{ID: func(m Message) string { return m.ID }, Deliver: d.deliver}
	d.agentTyping.Set = d.cb.AgentTyping
	// Genesys replays nothing on a new connection: once the session is
	// configured on it, the gap is filled from the history, and an outage
	// is reported around it.
	d.recovery = &stream.Recovery[Message]{
		Gap:        d.gap,
		Fetch:      d.fetchHistory,
		Ready:      d.awaitReady,
		Fatal:      func(err error) bool { return errors.Is(err, errEnded) },
		Reportable: d.agentIn,
		Report:     d.reportOutage,
		Backoff:    k.cfg.Backoff,
		Logger:     d.log,
	}
	return d
}

// agentIn tells whether an outage is worth a DISCONNECTED status: an agent
// is in a chat that goes on.
func (d *desk) agentIn() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.joined && !d.ended
}

func (d *desk) reportOutage(down bool) {
	d.cb.SetErrorStatus(servicedesk.DisconnectedError(down))
}

func (d *desk) Name() string { return "genesys" }

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (d *desk) token() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.st.Token
}

// StartChat configures a new guest session (a fresh token) and starts the
// conversation with a Presence Join event carrying the summary as a custom
// attribute, as the SDKs' autostart does.
func (d *desk) StartChat(ctx context.Context, connectMessage servicedesk.MessageResponse, _ servicedesk.StartChatOptions) error {
	ctx, done := d.life.Bind(ctx)
	defer done()
	summary, data, _ := connectMessage.Handoff()
	attrs := maps.Clone(data)
	if summary != "" {
		if attrs == nil {
			attrs = map[string]string{}
		}
		attrs[d.k.cfg.SummaryAttribute] = summary
	}
	d.mu.Lock()
	// The engine keeps one desk per session: a new chat after an ended one
	// starts from a clean slate, with a new session token.
	d.st = State{Token: newUUID()}
	d.ready, d.session, d.configured, d.resuming = make(chan struct{}), SessionResponse{}, false, false
	d.joined, d.ended, d.endedByUs, d.lastText = false, false, false, ""
	st := d.st
	d.mu.Unlock()
	if err := d.cb.ReplacePersistedState(st); err != nil {
		d.log.Warn("genesys: persist state", "err", err)
	}
	if err := d.open(); err != nil {
		return err
	}
	if err := d.awaitReady(ctx); err != nil {
		return fmt.Errorf("genesys: configureSession: %w", err)
	}
	join := map[string]any{"type": "Event", "events": []any{map[string]any{"eventType": eventTypePresence, "presence": map[string]string{"type": presenceJoin}}}}
	if len(attrs) > 0 {
		join["channel"] = map[string]any{"metadata": map[string]any{"customAttributes": attrs}}
	}
	if _, err := d.request(ctx, "autostart", map[string]any{"action": "onMessage", "message": join}, false); err != nil {
		return err
	}
	return nil
}

// open starts the guest WebSocket. Every connection sends configureSession
// with the session token (a resume after the first), and every connection
// after the first fills the gap from the history.
func (d *desk) open() error {
	if d.life.Closed() {
		return errors.New("genesys: desk closed")
	}
	cfg := d.k.cfg
	var header http.Header
	if cfg.Origin != "" {
		header = http.Header{"Origin": {cfg.Origin}}
	}
	d.socket.Open(func() *stream.Socket { return d.dial(header) })
	return nil
}

// dial opens the guest WebSocket.
func (d *desk) dial(header http.Header) *stream.Socket {
	cfg := d.k.cfg
	return stream.OpenSocket(stream.SocketConfig{
		URL:    d.k.wsURL,
		Header: header,
		Dialer: cfg.Dialer,
		OnOpen: func(_ context.Context, _ bool, send func([]byte) error) error {
			b, _ := json.Marshal(map[string]any{"action": "configureSession", "token": d.token(), "deploymentId": cfg.DeploymentID, "startNew": false, "tracingId": "configure-" + newUUID()})
			return send(b)
		},
		OnMessage:    d.onFrame,
		OnState:      d.onState(d.recovery.Handle(&d.life)),
		PingInterval: cfg.EchoInterval,
		Heartbeat: func() []byte {
			b, _ := json.Marshal(map[string]any{"action": "echo", "token": d.token(), "tracingId": newUUID(),
				"message": map[string]any{"type": "Text", "text": "ping", "metadata": map[string]string{"customMessageId": healthCheckID}}})
			return b
		},
		Backoff: cfg.Backoff,
		Logger:  d.log,
	})
}

func (d *desk) awaitReady(ctx context.Context) error {
	for {
		d.mu.Lock()
		ready, ended := d.ready, d.ended
		d.mu.Unlock()
		if ended {
			return errEnded
		}
		select {
		case <-ready:
			d.mu.Lock()
			same, ended := ready == d.ready, d.ended
			d.mu.Unlock()
			if ended {
				return errEnded
			}
			if same {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// onState forgets the session's configuration when a connection is lost
// (the next one configures it again), then hands over to next.
func (d *desk) onState(next func(bool, error)) func(bool, error) {
	return func(up bool, err error) {
		if !up {
			d.mu.Lock()
			select {
			case <-d.ready:
				d.ready = make(chan struct{})
			default:
			}
			d.mu.Unlock()
		}
		next(up, err)
	}
}

// fetchHistory asks for a JWT (getJwt) and reads the history newest first
// until the last message delivered, and returns what came after it, oldest
// first.
func (d *desk) fetchHistory(ctx context.Context) ([]Message, error) {
	env, err := d.request(ctx, "getJwt", map[string]any{"action": "getJwt"}, true)
	if err != nil {
		return nil, err
	}
	var jwt struct {
		JWT string `json:"jwt"`
	}
	if err := json.Unmarshal(env.Body, &jwt); err != nil || jwt.JWT == "" {
		return nil, fmt.Errorf("genesys: getJwt: no jwt in %s", env.Body)
	}
	d.mu.Lock()
	last := d.st.LastMessageID
	d.mu.Unlock()
	var newer []Message
	for page := 1; page <= 50; page++ {
		list, err := d.historyPage(ctx, jwt.JWT, page)
		if err != nil {
			return nil, err
		}
		for _, m := range list.Entities {
			if last != "" && m.ID == last {
				slices.Reverse(newer)
				return newer, nil
			}
			newer = append(newer, m)
		}
		if page >= list.PageCount || len(list.Entities) == 0 {
			break
		}
	}
	slices.Reverse(newer)
	return newer, nil
}

func (d *desk) historyPage(ctx context.Context, jwt string, page int) (MessageEntityList, error) {
	const op = "history"
	var out MessageEntityList
	err := retry.Policy{Backoff: d.k.cfg.Backoff, Retries: d.k.cfg.Retries}.Do(ctx, func(int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.k.api+"/api/v2/webmessaging/messages?pageSize=25&pageNumber="+strconv.Itoa(page), nil)
		if err != nil {
			return fmt.Errorf("genesys: %s: %w", op, err)
		}
		req.Header.Set("Authorization", "Bearer "+jwt)
		resp, err := d.k.cfg.HTTPClient.Do(req)
		if err != nil {
			return fmt.Errorf("genesys: %s: %w: %w", op, servicedesk.ErrUnavailable, err)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("genesys: %s: %w: %w", op, servicedesk.ErrUnavailable, err)
		}
		if resp.StatusCode != http.StatusOK {
			e := &Error{Op: op, Code: resp.StatusCode, Message: strings.TrimSpace(string(b))}
			if wait, ok := retry.RetryAfter(resp, time.Now()); ok {
				e.RetryAfter = int(wait / time.Second)
			}
			return e
		}
		if err := json.Unmarshal(b, &out); err != nil {
			return fmt.Errorf("genesys: %s: decode: %w", op, err)
		}
		return nil
	})
	return out, err
}

// request sends one request with the session token and a fresh tracingId,
// paced when it is an onMessage. With wait it returns the answer; an error
// answer is an *Error. Rate limits (4029, retryAfter honoured), server
// errors and lost connections are retried; onMessage carries the message
// id as metadata.customMessageId, so a retry never doubles a message.
func (d *desk) request(ctx context.Context, op string, req map[string]any, wait bool) (Envelope, error) {
	// A request belongs to the chat (session token) it was made in: once
	// that chat is over, a retry must not land in the next one.
	session := d.token()
	var env Envelope
	err := retry.Policy{Backoff: d.k.cfg.Backoff, Retries: d.k.cfg.Retries}.Do(ctx, func(attempt int) error {
		if err := d.awaitReady(ctx); err != nil {
			return fmt.Errorf("genesys: %s: %w", op, err)
		}
		if d.token() != session {
			return fmt.Errorf("genesys: %s: %w", op, errEnded)
		}
		if req["action"] == "onMessage" {
			if err := d.pacer.Wait(ctx); err != nil {
				return fmt.Errorf("genesys: %s: %w", op, err)
			}
		}
		var err error
		env, err = d.send(ctx, op, session, req, wait)
		if err != nil {
			var ge *Error
			if errors.As(err, &ge) && errors.Is(ge, servicedesk.ErrRateLimited) {
				// Other requests of the guest wait too.
				d.pacer.Defer(time.Duration(max(ge.RetryAfter, 1)) * time.Second)
			}
			d.log.Info("genesys: request failed", "op", op, "err", err, "attempt", attempt)
		}
		return err
	})
	return env, err
}

// send writes one request and, with wait, waits for its answer.
func (d *desk) send(ctx context.Context, op, token string, req map[string]any, wait bool) (Envelope, error) {
	tracing := newUUID()
	msg := map[string]any{"token": token, "tracingId": tracing}
	for k, v := range req {
		msg[k] = v
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return Envelope{}, fmt.Errorf("genesys: %s: encode: %w", op, err)
	}
	ch := make(chan Envelope, 1)
	s := d.socket.Get()
	d.mu.Lock()
	d.pending[tracing] = ch
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.pending, tracing)
		d.mu.Unlock()
	}()
	if s == nil {
		return Envelope{}, errEnded
	}
	if err := s.Send(ctx, b); err != nil {
		return Envelope{}, fmt.Errorf("genesys: %s: %w: %w", op, servicedesk.ErrUnavailable, err)
	}
	t := time.NewTimer(d.k.cfg.RequestTimeout)
	if !wait {
		// Errors come back with the tracingId; give them a moment.
		t.Reset(min(d.k.cfg.RequestTimeout, 50*time.Millisecond))
	}
	defer t.Stop()
	select {
	case env := <-ch:
		if env.Code != 200 {
			return Envelope{}, errorOf(op, env)
		}
		return env, nil
	case <-t.C:
		if !wait {
			return Envelope{}, nil
		}
		return Envelope{}, fmt.Errorf("genesys: %s: no answer in %v: %w", op, d.k.cfg.RequestTimeout, servicedesk.ErrUnavailable)
	case <-ctx.Done():
		return Envelope{}, fmt.Errorf("genesys: %s: %w", op, ctx.Err())
	}
}

// onFrame routes one frame: answers to their request, upload outcomes to
// their upload, outbound messages through the gap filler, session events
// to the callbacks. Unknown classes are logged and ignored.
func (d *desk) onFrame(b []byte) {
	env, err := DecodeFrame(b)
	if err != nil {
		d.log.Warn("genesys: ignored a frame that does not decode", "err", err)
		return
	}
	if env.TracingID != "" {
		d.mu.Lock()
		ch := d.pending[env.TracingID]
		d.mu.Unlock()
		if ch != nil {
			select {
			case ch <- env:
			default:
			}
			if env.Class != ClassStructuredMessage {
				return
			}
		}
	}
	switch env.Class {
	case ClassSessionResponse:
		d.onSession(env)
	case ClassStructuredMessage:
		var m Message
		if err := json.Unmarshal(env.Body, &m); err != nil {
			d.log.Warn("genesys: ignored a message that does not decode", "err", err)
			return
		}
		if m.Direction == directionOutbound {
			d.gap.Live(m)
		}
	case ClassUploadSuccess, ClassUploadFailure:
		var r UploadResult
		_ = json.Unmarshal(env.Body, &r)
		d.mu.Lock()
		ch := d.uploads[r.AttachmentID]
		d.mu.Unlock()
		if ch != nil {
			select {
			case ch <- env:
			default:
			}
		}
	case ClassSessionExpired, ClassSessionCleared, ClassLogout:
		d.log.Info("genesys: session over", "class", env.Class)
		d.over("")
	case ClassConnectionClosed:
		// Another connection took the session over: this one is done.
		d.log.Info("genesys: connection closed by Genesys", "body", string(env.Body))
		d.over("")
	case ClassJwtResponse, ClassPresignedURL, ClassString, ClassTooManyRequests, ClassGenerateURLError, ClassAttachmentDeleted:
		// Answers whose request gave up waiting.
	default:
		d.log.Info("genesys: ignored an unknown frame", "class", env.Class, "type", env.Type)
	}
}

// onSession handles configureSession's answer.
func (d *desk) onSession(env Envelope) {
	var s SessionResponse
	if env.Code != 200 || json.Unmarshal(env.Body, &s) != nil {
		d.log.Warn("genesys: configureSession refused", "code", env.Code, "body", string(env.Body))
		if env.Code == 4006 || env.Code == 4007 {
			d.over("")
		}
		return
	}
	d.mu.Lock()
	resumed := d.st.Joined || d.st.LastMessageID != ""
	first := !d.configured
	d.session, d.configured = s, true
	d.mu.Unlock()
	if s.ReadOnly || (s.NewSession && resumed) {
		// The conversation is over, or Genesys forgot the session.
		d.over("")
		return
	}
	if first {
		d.cb.UpdateCapabilities(capabilities(s).FullUpdate())
	}
	d.mu.Lock()
	select {
	case <-d.ready:
	default:
		close(d.ready)
	}
	d.mu.Unlock()
}

// over ends the chat from the desk's side: the agent ended it, or (before
// any agent) the request failed.
func (d *desk) over(text string) {
	d.agentTyping.Off()
	d.mu.Lock()
	already := d.ended
	d.ended = true
	byUs, joined := d.endedByUs || d.resuming, d.joined
	if text == "" {
		text = d.lastText
	}
	select {
	case <-d.ready:
	default:
		close(d.ready) // wakes waiters, who see the end
	}
	d.mu.Unlock()
	if already {
		return
	}
	switch {
	case byUs:
	case joined:
		d.cb.AgentEndedChat()
	default:
		d.cb.SetErrorStatus(servicedesk.ConnectingError(text))
	}
	d.socket.Stop(&d.life)
}

// deliver acts on one outbound message, in order.
func (d *desk) deliver(m Message) {
	d.mu.Lock()
	d.st.LastMessageID = m.ID
	ended := d.ended
	d.mu.Unlock()
	if err := d.cb.UpdatePersistedState(map[string]any{"last_message_id": m.ID}); err != nil {
		d.log.Warn("genesys: persist state", "err", err)
	}
	if ended {
		return
	}
	switch m.Type {
	case "Text", "Structured":
		d.onText(m)
	case "Event":
		for _, e := range m.Events {
			d.onEvent(m, e)
		}
	default:
		d.log.Info("genesys: ignored a message type", "type", m.Type)
	}
}

func (d *desk) profile(m Message) servicedesk.AgentProfile {
	p := servicedesk.AgentProfile{UserType: servicedesk.UserHuman}
	if m.OriginatingEntity == "Bot" {
		p.UserType = servicedesk.UserBot
	}
	if m.Channel != nil && m.Channel.From != nil {
		f := m.Channel.From
		p.Nickname = f.Nickname
		if p.Nickname == "" {
			p.Nickname = strings.TrimSpace(f.FirstName + " " + f.LastName)
		}
		p.ProfilePictureURL = f.Image
	}
	p.ID = p.Nickname
	if p.ID == "" {
		p.ID = "agent"
	}
	if fn := d.k.cfg.AgentProfile; fn != nil {
		p = fn(d.life.Context(), p)
	}
	return p
}

func (d *desk) join(m Message) servicedesk.AgentProfile {
	p := d.profile(m)
	d.mu.Lock()
	first := !d.st.Joined
	d.joined, d.st.Joined = true, true
	d.mu.Unlock()
	if first {
		_ = d.cb.UpdatePersistedState(map[string]any{"joined": true})
	}
	d.cb.AgentJoined(p)
	return p
}

func (d *desk) onText(m Message) {
	d.mu.Lock()
	joined := d.joined
	d.mu.Unlock()
	human := m.OriginatingEntity != "Bot" && m.Channel != nil && m.Channel.From != nil
	if !joined && !human {
		d.mu.Lock()
		d.lastText = m.Text
		d.mu.Unlock()
		d.cb.UpdateAgentAvailability(servicedesk.AgentAvailability{Message: m.Text})
		return
	}
	d.agentTyping.Off()
	var p servicedesk.AgentProfile
	if !joined {
		// A human answered without a Join event first: that is the join.
		p = d.join(m)
	} else {
		p = d.profile(m)
	}
	d.cb.SendMessageToUser(toResponse(m), p.ID)
}

func (d *desk) onEvent(m Message, e Event) {
	switch {
	case e.EventType == eventTypeTyping && e.Typing != nil && e.Typing.Type == "On":
		dur := time.Duration(e.Typing.Duration) * time.Millisecond
		if dur <= 0 {
			dur = 5 * time.Second
		}
		d.agentTyping.On(dur)
	case e.EventType == eventTypePresence && e.Presence != nil && e.Presence.Type == presenceJoin:
		if m.Channel != nil && m.Channel.From != nil {
			d.join(m)
		}
	case e.EventType == eventTypePresence && e.Presence != nil && e.Presence.Type == presenceDisconnect:
		d.over("")
	default:
		d.log.Info("genesys: ignored an unknown event", "event_type", e.EventType)
	}
}

// SendMessageToAgent uploads the files (onAttachment, the pre-signed PUT,
// the upload event), then sends one onMessage with the text and the
// uploaded attachments, the engine's message id as customMessageId.
func (d *desk) SendMessageToAgent(ctx context.Context, message servicedesk.MessageRequest, messageID string, data servicedesk.AdditionalDataToAgent) error {
	ctx, done := d.life.Bind(ctx)
	defer done()
	if d.token() == "" {
		return fmt.Errorf("genesys: SendMessageToAgent: %w", servicedesk.ErrNoChat)
	}
	var content []any
	var sent []string
	for _, f := range data.FilesToUpload {
		id, err := d.upload(ctx, f)
		if err != nil {
			d.log.Warn("genesys: attachment failed", "file", f.ID, "err", err)
			msg := "The file could not be sent."
			var ge *Error
			if errors.As(err, &ge) && errors.Is(ge, servicedesk.ErrRejected) && ge.Message != "" {
				msg = ge.Message
			}
			d.cb.SetFileUploadStatus(f.ID, true, msg)
			continue
		}
		content = append(content, map[string]any{"contentType": contentTypeAttachment, "attachment": map[string]string{"id": id}})
		sent = append(sent, f.ID)
	}
	if message.Input.Text == "" && len(content) == 0 {
		return nil
	}
	msg := map[string]any{"type": "Text", "text": message.Input.Text, "metadata": map[string]string{"customMessageId": messageID}}
	if len(content) > 0 {
		msg["content"] = content
	}
	if _, err := d.request(ctx, "onMessage", map[string]any{"action": "onMessage", "message": msg}, true); err != nil {
		for _, id := range sent {
			d.cb.SetFileUploadStatus(id, true, "The file could not be sent.")
		}
		return err
	}
	for _, id := range sent {
		d.cb.SetFileUploadStatus(id, false, "")
	}
	return nil
}

// upload sends one file and returns its attachment id once Genesys has it.
func (d *desk) upload(ctx context.Context, f servicedesk.FileUpload) (string, error) {
	id := newUUID()
	ch := make(chan Envelope, 1)
	d.mu.Lock()
	d.uploads[id] = ch
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.uploads, id)
		d.mu.Unlock()
	}()
	env, err := d.request(ctx, "onAttachment", map[string]any{"action": "onAttachment", "attachmentId": id, "fileName": f.File.Name,
		"fileType": f.File.Type, "fileSize": f.File.Size, "errorsAsJson": true}, true)
	if err != nil {
		return "", err
	}
	var pre PresignedURL
	if err := json.Unmarshal(env.Body, &pre); err != nil || pre.URL == "" {
		return "", fmt.Errorf("genesys: onAttachment: no url in %s", env.Body)
	}
	content, err := f.File.ReadAll(ctx)
	if err != nil {
		return "", fmt.Errorf("genesys: upload: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, pre.URL, bytes.NewReader(content))
	if err != nil {
		return "", fmt.Errorf("genesys: upload: %w", err)
	}
	for k, v := range pre.Headers {
		req.Header.Set(k, v)
	}
	resp, err := d.k.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("genesys: upload: %w: %w", servicedesk.ErrUnavailable, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return "", &Error{Op: "upload", Code: resp.StatusCode, Message: resp.Status}
	}
	t := time.NewTimer(d.k.cfg.RequestTimeout)
	defer t.Stop()
	select {
	case env := <-ch:
		if env.Class == ClassUploadFailure {
			var r UploadResult
			_ = json.Unmarshal(env.Body, &r)
			return "", &Error{Op: "upload", Code: r.ErrorCode, Message: r.ErrorMessage}
		}
		return id, nil
	case <-t.C:
		return "", fmt.Errorf("genesys: upload: no upload event: %w", servicedesk.ErrUnavailable)
	case <-ctx.Done():
		return "", fmt.Errorf("genesys: upload: %w", ctx.Err())
	}
}

// FilesSelectedForUpload warns early about files Genesys will refuse: a
// blocked extension, or a type or size outside allowedMedia.
func (d *desk) FilesSelectedForUpload(_ context.Context, uploads []servicedesk.FileUpload) error {
	d.mu.Lock()
	s := d.session
	d.mu.Unlock()
	caps := capabilities(s)
	for _, u := range uploads {
		ext := strings.ToLower(path.Ext(u.File.Name))
		if slices.Contains(s.BlockedExtensions, ext) {
			d.cb.SetFileUploadStatus(u.ID, true, "Files of this type can't be sent.")
			continue
		}
		if caps.AllowFileUploads {
			if ok, why := caps.Accepts(u.File.Name, u.File.Type, u.File.Size); !ok {
				d.cb.SetFileUploadStatus(u.ID, true, why)
			}
		}
	}
	return nil
}

// UserTyping sends a Typing On event, at most one per TypingInterval.
// Genesys has no "stopped typing": false sends nothing.
func (d *desk) UserTyping(ctx context.Context, isTyping bool) error {
	if !isTyping {
		return nil
	}
	ctx, done := d.life.Bind(ctx)
	defer done()
	if d.token() == "" {
		return fmt.Errorf("genesys: UserTyping: %w", servicedesk.ErrNoChat)
	}
	if !d.typing.Allow() {
		return nil
	}
	msg := map[string]any{"type": "Event", "events": []any{map[string]any{"eventType": eventTypeTyping, "typing": map[string]string{"type": "On"}}}}
	if _, err := d.request(ctx, "typing", map[string]any{"action": "onMessage", "message": msg}, false); err != nil {
		d.typing.Reset()
		return err
	}
	return nil
}

// EndChat closes the session (closeSession), unless the desk ended it.
func (d *desk) EndChat(ctx context.Context, info servicedesk.EndChatInfo) error {
	ctx, done := d.life.Bind(ctx)
	defer done()
	d.mu.Lock()
	already := d.ended
	d.endedByUs = !already
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.ended = true
		d.mu.Unlock()
		d.socket.Stop(&d.life)
	}()
	if already || info.EndedByHumanAgent || d.token() == "" {
		return nil
	}
	_, err := d.request(ctx, "closeSession", map[string]any{"action": "closeSession"}, true)
	if err != nil && !errors.Is(err, servicedesk.ErrChatNotFound) {
		return err
	}
	return nil
}

// Reconnect resumes the guest session of the persisted token: the
// configureSession answer tells whether it is still on (not a new session,
// not read-only); the connection's history fill brings what was missed.
func (d *desk) Reconnect(ctx context.Context) (bool, error) {
	ctx, done := d.life.Bind(ctx)
	defer done()
	d.mu.Lock()
	st := d.st
	d.joined, d.resuming = st.Joined, true
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.resuming = false
		d.mu.Unlock()
	}()
	if st.Token == "" {
		return false, nil
	}
	if err := d.open(); err != nil {
		return false, err
	}
	if err := d.awaitReady(ctx); err != nil {
		if errors.Is(err, errEnded) {
			return false, nil
		}
		return false, fmt.Errorf("genesys: Reconnect: %w", err)
	}
	return true, nil
}

// Close stops the connection and every goroutine of the desk; it does not
// end the chat. It is idempotent.
func (d *desk) Close() error {
	d.socket.Close()
	d.agentTyping.Stop()
	if d.life.Close() {
		d.k.desks.Remove(d)
	}
	return nil
}

// Guest names the Web Messaging guest session behind a session, for a Go
// host that calls Genesys's guest APIs itself (servicedesk.As,
// flow.Session.As). The guest API tells a guest no conversation id: the
// session token is what identifies the conversation to Genesys.
type Guest struct {
	DeploymentID string
	SessionToken string
}

// As fills a *Guest once a session was configured or resumed.
func (d *desk) As(target any) bool {
	g, ok := target.(*Guest)
	if !ok {
		return false
	}
	tok := d.token()
	if tok == "" {
		return false
	}
	*g = Guest{DeploymentID: d.k.cfg.DeploymentID, SessionToken: tok}
	return true
}
