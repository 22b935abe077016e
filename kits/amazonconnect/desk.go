package amazonconnect

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/stream"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/amazonconnect/internal/wire"
)

// saved is what the kit persists through the session's persisted state so
// that a reload or restart finds the chat again.
type saved struct {
	ContactID        string `json:"contact_id,omitempty"`
	ParticipantID    string `json:"participant_id,omitempty"`
	ParticipantToken string `json:"participant_token,omitempty"`
	ConnectionToken  string `json:"connection_token,omitempty"`
	// ConnectionExpiry is the connection token's expiry (RFC 3339).
	ConnectionExpiry string `json:"connection_expiry,omitempty"`
	// StartedAt is when the contact started (RFC 3339); the gap fill after
	// a restart starts here when no item was seen yet.
	StartedAt string `json:"started_at,omitempty"`
	// LastItemID and LastItemTime name the last transcript item delivered:
	// the gap fill after a restart starts after it.
	LastItemID   string `json:"last_item_id,omitempty"`
	LastItemTime string `json:"last_item_time,omitempty"`
	// Joined is set once an agent joined.
	Joined bool `json:"joined,omitempty"`
}

// desk is one chat session's Amazon Connect participant.
type desk struct {
	vendorkit.Chat // lifetime, socket, typing indicator, joined and ended
	k              *Kit
	cb             servicedesk.Callback
	log            *slog.Logger
	sid            string

	gap       *stream.GapFiller[wire.Item]
	recovery  *stream.Recovery[wire.Item]
	typing    retry.Throttle
	delivered retry.Throttle // ChatJS sends receipts at most every 5 s

	mu          sync.Mutex
	st          saved
	down        bool              // DISCONNECTED was reported
	agentIn     bool              // an agent is in the chat now
	systemText  string            // the last SYSTEM message while waiting
	lastAgentID string            // the last agent message, for read receipts
	attachments map[string]string // attachment id → file id
}

var (
	_ servicedesk.ServiceDesk    = (*desk)(nil)
	_ servicedesk.TypingNotifier = (*desk)(nil)
	_ servicedesk.ReadNotifier   = (*desk)(nil)
	_ servicedesk.Reconnector    = (*desk)(nil)
	_ io.Closer                  = (*desk)(nil)
)

func newDesk(k *Kit, p servicedesk.FactoryParams) (*desk, error) {
	st, err := vendorkit.LoadState[saved]("amazonconnect", p.PersistedState)
	if err != nil {
		return nil, err
	}
	d := &desk{k: k, cb: p.Callback, st: st, attachments: map[string]string{}}
	d.Callback = p.Callback
	d.Begin(false)
	if p.Instance != nil {
		d.sid = p.Instance.SessionID()
	}
	log := p.Logger
	if log == nil {
		log = k.log
	}
	d.log = log.With("kit", "amazonconnect", "session", d.sid)
	d.typing.Interval = k.cfg.TypingInterval
	d.delivered.Interval = 5 * time.Second
	d.gap = &stream.GapFiller[wire.Item]{
		ID:      func(it wire.Item) string { return it.ID },
		Deliver: d.deliver,
	}
	// Connect replays nothing: after every connection the gap is filled
	// from GetTranscript, and an outage is reported around it.
	d.recovery = &stream.Recovery[wire.Item]{
		Gap:        d.gap,
		Fetch:      d.fetchTranscript,
		Fatal:      isGone,
		OnFatal:    func(error) { d.contactGone() },
		Reportable: d.AgentIn,
		Report:     d.ReportOutage,
		Backoff:    k.cfg.Backoff,
		Logger:     d.log,
	}
	return d, nil
}

func (d *desk) Name() string { return "amazonconnect" }

func (d *desk) state() saved {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.st
}

func (d *desk) persist(fields map[string]any) {
	if err := d.cb.UpdatePersistedState(fields); err != nil {
		d.log.Warn("amazonconnect: persist state", "err", err)
	}
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func connectTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// StartChat starts a chat contact (StartChatContact, SigV4) and connects
// the customer participant (CreateParticipantConnection, then the
// WebSocket, subscribed to aws/chat).
func (d *desk) StartChat(ctx context.Context, connectMessage servicedesk.MessageResponse, _ servicedesk.StartChatOptions) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	cfg := d.k.cfg
	attrs := map[string]string{}
	for k, v := range cfg.Attributes {
		attrs[k] = v
	}
	summary, data, _ := connectMessage.Handoff()
	maps.Copy(attrs, data)
	if summary != "" {
		attrs[cfg.SummaryAttribute] = summary
	}
	in := &connect.StartChatContactInput{
		InstanceId:                     aws.String(cfg.InstanceID),
		ContactFlowId:                  aws.String(cfg.ContactFlowID),
		ParticipantDetails:             &types.ParticipantDetails{DisplayName: aws.String(cfg.DisplayName)},
		Attributes:                     attrs,
		ClientToken:                    aws.String(randomToken()),
		SupportedMessagingContentTypes: []string{wire.CTTextPlain, wire.CTTextMarkdown, wire.CTInteractive},
	}
	if cfg.ChatDurationInMinutes > 0 {
		in.ChatDurationInMinutes = aws.Int32(cfg.ChatDurationInMinutes)
	}
	startedAt := connectTime(time.Now())
	out, err := d.k.connect.StartChatContact(ctx, in)
	if err != nil {
		return fmt.Errorf("amazonconnect: StartChatContact: %w", err)
	}
	st := saved{ContactID: aws.ToString(out.ContactId), ParticipantID: aws.ToString(out.ParticipantId), ParticipantToken: aws.ToString(out.ParticipantToken), StartedAt: startedAt}
	d.mu.Lock()
	// The engine keeps one desk per session: a new chat after an ended one
	// starts from a clean slate.
	d.st = st
	d.down, d.agentIn = false, false
	d.systemText, d.lastAgentID = "", ""
	d.attachments = map[string]string{}
	d.mu.Unlock()
	d.Begin(false)
	if err := d.cb.ReplacePersistedState(st); err != nil {
		d.log.Warn("amazonconnect: persist state", "err", err)
	}
	d.log.Info("amazonconnect: contact started", "contact", st.ContactID)
	d.cb.UpdateCapabilities(d.k.cfg.Attachments.FullUpdate())
	return d.open()
}

// open starts the participant WebSocket. Every connection that comes up,
// the first too, is followed by a gap fill: Connect replays nothing, so
// what happened before a connection subscribed comes from GetTranscript.
func (d *desk) open() error {
	if d.Life.Closed() {
		return errors.New("amazonconnect: desk closed")
	}
	cfg := d.k.cfg
	d.Socket.Open(func() *stream.Socket {
		return stream.OpenSocket(stream.SocketConfig{
			URLFunc: d.websocketURL,
			Dialer:  cfg.Dialer,
			OnOpen: func(ctx context.Context, _ bool, send func([]byte) error) error {
				return send(wire.SubscribeFrame)
			},
			OnMessage:    d.onFrame,
			OnState:      d.recovery.Handle(&d.Life),
			PingInterval: cfg.HeartbeatInterval,
			Heartbeat:    func() []byte { return wire.HeartbeatFrame },
			MaxLifetime:  cfg.TransportLifetime,
			Lifetime:     d.lifetime,
			Backoff:      cfg.Backoff,
			Logger:       d.log,
		})
	})
	return nil
}

// lifetime recycles the connection a minute before the connection token
// expires, if that comes before the transport lifetime.
func (d *desk) lifetime() time.Duration {
	life := d.k.cfg.TransportLifetime
	if exp, err := time.Parse(time.RFC3339, d.state().ConnectionExpiry); err == nil {
		if left := time.Until(exp) - time.Minute; left > 0 && left < life {
			life = left
		}
	}
	return life
}

// websocketURL asks for a fresh WebSocket URL and connection token before
// every dial: the URL must be used within 100 s, and the token is renewed
// on the way.
func (d *desk) websocketURL(ctx context.Context) (string, http.Header, error) {
	st := d.state()
	var out createConnectionResponse
	err := d.k.participant.call(ctx, "CreateParticipantConnection", "/participant/connection", st.ParticipantToken,
		createConnectionRequest{Type: []string{"WEBSOCKET", "CONNECTION_CREDENTIALS"}, ConnectParticipant: true}, &out)
	if err != nil {
		if isGone(err) {
			d.contactGone()
		}
		return "", nil, fmt.Errorf("contact=%s: %w", st.ContactID, err)
	}
	if out.Websocket == nil || out.Websocket.URL == "" {
		return "", nil, fmt.Errorf("amazonconnect: CreateParticipantConnection contact=%s: no Websocket.Url", st.ContactID)
	}
	d.setCredentials(out)
	return out.Websocket.URL, nil, nil
}

func (d *desk) setCredentials(out createConnectionResponse) {
	if out.ConnectionCredentials == nil || out.ConnectionCredentials.ConnectionToken == "" {
		return
	}
	d.mu.Lock()
	d.st.ConnectionToken = out.ConnectionCredentials.ConnectionToken
	d.st.ConnectionExpiry = out.ConnectionCredentials.Expiry
	d.mu.Unlock()
	d.persist(map[string]any{"connection_token": out.ConnectionCredentials.ConnectionToken, "connection_expiry": out.ConnectionCredentials.Expiry})
}

// contactGone handles a contact that ended while the kit was away.
func (d *desk) contactGone() {
	d.log.Info("amazonconnect: the contact is over")
	d.EndedByDesk("", false)
}

// fetchTranscript reads the transcript after the last item delivered
// (GetTranscript, FORWARD and ASCENDING from it), all pages.
func (d *desk) fetchTranscript(ctx context.Context) ([]wire.Item, error) {
	st := d.state()
	sp := &startPosition{ID: st.LastItemID}
	if sp.ID == "" {
		sp = &startPosition{AbsoluteTime: st.StartedAt}
	}
	req := transcriptRequest{ContactID: st.ContactID, MaxResults: 100, ScanDirection: "FORWARD", SortOrder: "ASCENDING", StartPosition: sp}
	var all []wire.Item
	for page := 0; page < 100; page++ {
		var out transcriptResponse
		if err := d.k.participant.call(ctx, "GetTranscript", "/participant/transcript", st.ConnectionToken, req, &out); err != nil {
			return nil, fmt.Errorf("contact=%s: %w", st.ContactID, err)
		}
		for _, it := range out.Transcript {
			if it.ID != st.LastItemID {
				all = append(all, it)
			}
		}
		if out.NextToken == "" {
			break
		}
		req.NextToken = out.NextToken
	}
	return all, nil
}

// onFrame reads one WebSocket frame. Frames that do not decode, and topics
// the kit does not use, are logged and ignored.
func (d *desk) onFrame(b []byte) {
	topic, it, err := wire.DecodeFrame(b)
	if err != nil {
		d.log.Warn("amazonconnect: ignored a frame that does not decode", "err", err)
		return
	}
	switch topic {
	case wire.TopicChat:
		d.gap.Live(*it)
	case wire.TopicHeartbeat, wire.TopicSubscribe, wire.TopicPing:
	default:
		d.log.Debug("amazonconnect: ignored a frame", "topic", topic)
	}
}

// deliver acts on one new transcript item, in order.
func (d *desk) deliver(it wire.Item) {
	d.mu.Lock()
	d.st.LastItemID, d.st.LastItemTime = it.ID, it.AbsoluteTime
	d.mu.Unlock()
	ended := d.Ended()
	if it.ID != "" {
		d.persist(map[string]any{"last_item_id": it.ID, "last_item_time": it.AbsoluteTime})
	}
	if ended {
		return
	}
	switch it.Type {
	case "MESSAGE":
		d.onMessage(it)
	case "EVENT", "TYPING", "PARTICIPANT_JOINED", "PARTICIPANT_LEFT", "CHAT_ENDED", "TRANSFER_SUCCEEDED", "TRANSFER_FAILED":
		d.onEvent(it)
	case "MESSAGEMETADATA":
		d.onMetadata(it)
	case "ATTACHMENT":
		d.onAttachment(it)
	default:
		d.log.Debug("amazonconnect: ignored an item", "type", it.Type, "content_type", it.ContentType)
	}
}

func (d *desk) profile(it wire.Item) servicedesk.AgentProfile {
	p := servicedesk.AgentProfile{ID: it.ParticipantID, Nickname: it.DisplayName, UserType: servicedesk.UserHuman}
	if it.ParticipantRole == wire.RoleCustomBot {
		p.UserType = servicedesk.UserBot
	}
	if f := d.k.cfg.AgentProfile; f != nil {
		p = f(d.Life.Context(), p)
	}
	return p
}

func isAgentSide(role string) bool {
	return role == wire.RoleAgent || role == wire.RoleSupervisor || role == wire.RoleCustomBot
}

func (d *desk) onMessage(it wire.Item) {
	switch {
	case isAgentSide(it.ParticipantRole):
		d.AgentTyping.Off()
		d.mu.Lock()
		d.lastAgentID = it.ID
		d.mu.Unlock()
		d.cb.SendMessageToUser(decodeContent(it.ContentType, it.Content), it.ParticipantID)
		if d.delivered.Allow() {
			d.Life.Go(func() { d.sendReceipt(wire.CTMessageDelivered, it.ID) })
		}
	case it.ParticipantRole == wire.RoleSystem:
		d.mu.Lock()
		waiting := !d.agentIn
		if waiting {
			d.systemText = it.Content
		}
		d.mu.Unlock()
		if waiting {
			d.cb.UpdateAgentAvailability(servicedesk.AgentAvailability{Message: it.Content})
		} else {
			d.cb.SendMessageToUser(decodeContent(it.ContentType, it.Content), "")
		}
	default: // the customer's own messages, echoed
	}
}

func (d *desk) onEvent(it wire.Item) {
	switch it.ContentType {
	case wire.CTParticipantJoined:
		if !isAgentSide(it.ParticipantRole) {
			return
		}
		first := d.Join()
		d.mu.Lock()
		d.agentIn, d.st.Joined = true, true
		d.mu.Unlock()
		if first {
			d.persist(map[string]any{"joined": true})
		}
		d.cb.AgentJoined(d.profile(it))
	case wire.CTParticipantLeft:
		if !isAgentSide(it.ParticipantRole) {
			return
		}
		d.AgentTyping.Off()
		d.mu.Lock()
		d.agentIn = false
		d.mu.Unlock()
		d.cb.AgentLeftChat()
	case wire.CTTyping:
		if isAgentSide(it.ParticipantRole) {
			d.AgentTyping.On(d.k.cfg.TypingInterval)
		}
	case wire.CTTransferSucceeded:
		d.AgentTyping.Off()
		d.mu.Lock()
		d.agentIn = false
		d.mu.Unlock()
		d.cb.BeginTransferToAnotherAgent(nil)
	case wire.CTTransferFailed:
		d.log.Info("amazonconnect: a transfer failed; the agent stays")
	case wire.CTChatEnded:
		d.mu.Lock()
		text := d.systemText
		d.mu.Unlock()
		d.EndedByDesk(text, false)
	case wire.CTMessageRead:
		if isAgentSide(it.ParticipantRole) {
			d.cb.AgentReadMessages()
		}
	case wire.CTMessageDelivered, wire.CTParticipantIdle, wire.CTParticipantReturned, wire.CTParticipantActive, wire.CTParticipantInactive,
		wire.CTParticipantInvited, wire.CTAutoDisconnection, wire.CTChatRehydrated, wire.CTConnectionAcknowledged:
		d.log.Debug("amazonconnect: event", "content_type", it.ContentType, "role", it.ParticipantRole)
	default:
		d.log.Info("amazonconnect: ignored an unknown event", "content_type", it.ContentType)
	}
}

// onMetadata reads receipts: a read receipt by someone other than the
// customer is the agent reading.
func (d *desk) onMetadata(it wire.Item) {
	if it.MessageMetadata == nil {
		return
	}
	me := d.state().ParticipantID
	for _, r := range it.MessageMetadata.Receipts {
		if r.ReadTimestamp != "" && r.RecipientParticipantID != me {
			d.cb.AgentReadMessages()
			return
		}
	}
}

// onAttachment reports an upload the desk rejected after it was sent (an
// attachment scan).
func (d *desk) onAttachment(it wire.Item) {
	if it.ParticipantRole != wire.RoleCustomer {
		d.log.Info("amazonconnect: an agent attachment was not shown (not covered yet)", "item", it.ID)
		return
	}
	for _, a := range it.Attachments {
		d.mu.Lock()
		fileID, ok := d.attachments[a.AttachmentID]
		if ok && a.Status == "REJECTED" {
			delete(d.attachments, a.AttachmentID)
		}
		d.mu.Unlock()
		if ok && a.Status == "REJECTED" {
			d.cb.SetFileUploadStatus(fileID, true, "The desk rejected the file.")
		}
	}
}

// connection returns the connection token, or ErrNoChat.
func (d *desk) connection(op string) (saved, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.Life.Closed() {
		return d.st, fmt.Errorf("amazonconnect: %s: desk closed: %w", op, servicedesk.ErrNoChat)
	}
	if d.st.ConnectionToken == "" {
		return d.st, fmt.Errorf("amazonconnect: %s: %w", op, servicedesk.ErrNoChat)
	}
	return d.st, nil
}

// SendMessageToAgent uploads the message's files (StartAttachmentUpload,
// the pre-signed PUT, CompleteAttachmentUpload), then sends its text
// (SendMessage with messageID as ClientToken, so a retry never doubles it).
func (d *desk) SendMessageToAgent(ctx context.Context, message servicedesk.MessageRequest, messageID string, data servicedesk.AdditionalDataToAgent) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	st, err := d.awaitConnection(ctx, "SendMessage")
	if err != nil {
		return err
	}
	for _, f := range data.FilesToUpload {
		d.sendFile(ctx, st, messageID, f)
	}
	if message.Input.Text == "" {
		return nil
	}
	var out sendResponse
	err = d.k.participant.call(ctx, "SendMessage", "/participant/message", st.ConnectionToken,
		sendRequest{ContentType: wire.CTTextPlain, Content: message.Input.Text, ClientToken: messageID}, &out)
	if err != nil {
		return fmt.Errorf("contact=%s: %w", st.ContactID, err)
	}
	return nil
}

// awaitConnection returns the state once a connection token exists: right
// after StartChat the first CreateParticipantConnection may still run.
func (d *desk) awaitConnection(ctx context.Context, op string) (saved, error) {
	for {
		st, err := d.connection(op)
		if err == nil || d.state().ParticipantToken == "" || d.Life.Context().Err() != nil {
			return st, err
		}
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return st, fmt.Errorf("amazonconnect: %s contact=%s: no connection yet: %w", op, st.ContactID, ctx.Err())
		}
	}
}

// sendFile uploads one file and reports its outcome.
func (d *desk) sendFile(ctx context.Context, st saved, messageID string, f servicedesk.FileUpload) {
	fail := func(err error) {
		d.log.Warn("amazonconnect: attachment failed", "file", f.ID, "err", err)
		msg := "The file could not be sent."
		var ae *APIError
		if errors.As(err, &ae) && ae.Status/100 == 4 && ae.Status != 429 && ae.Status != 403 {
			msg = ae.Message
		}
		d.cb.SetFileUploadStatus(f.ID, true, msg)
	}
	token := messageID + "-" + f.ID
	var start startUploadResponse
	err := d.k.participant.call(ctx, "StartAttachmentUpload", "/participant/start-attachment-upload", st.ConnectionToken,
		startUploadRequest{ContentType: f.File.Type, AttachmentSizeInBytes: f.File.Size, AttachmentName: f.File.Name, ClientToken: token}, &start)
	if err != nil {
		fail(err)
		return
	}
	content, err := f.File.ReadAll(ctx)
	if err != nil {
		fail(err)
		return
	}
	if err := d.k.participant.upload(ctx, start.UploadMetadata.URL, start.UploadMetadata.HeadersToInclude, content); err != nil {
		fail(err)
		return
	}
	d.mu.Lock()
	d.attachments[start.AttachmentID] = f.ID
	d.mu.Unlock()
	err = d.k.participant.call(ctx, "CompleteAttachmentUpload", "/participant/complete-attachment-upload", st.ConnectionToken,
		completeUploadRequest{AttachmentIDs: []string{start.AttachmentID}, ClientToken: token}, nil)
	if err != nil {
		fail(err)
		return
	}
	d.cb.SetFileUploadStatus(f.ID, false, "")
}

// UserTyping sends a typing event, at most one per TypingInterval (as
// ChatJS). Connect has no "stopped typing" event: false sends nothing.
func (d *desk) UserTyping(ctx context.Context, isTyping bool) error {
	if !isTyping {
		return nil
	}
	ctx, done := d.Life.Bind(ctx)
	defer done()
	st, err := d.connection("SendEvent")
	if err != nil {
		return err
	}
	if !d.typing.Allow() {
		return nil
	}
	err = d.k.participant.call(ctx, "SendEvent", "/participant/event", st.ConnectionToken,
		sendRequest{ContentType: wire.CTTyping, ClientToken: randomToken()}, nil)
	if err != nil {
		d.typing.Reset()
		return fmt.Errorf("contact=%s: %w", st.ContactID, err)
	}
	return nil
}

// UserReadMessages sends a read receipt for the last agent message.
func (d *desk) UserReadMessages(ctx context.Context) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	d.mu.Lock()
	last := d.lastAgentID
	d.mu.Unlock()
	return d.receipt(ctx, wire.CTMessageRead, last)
}

// sendReceipt sends a delivered receipt in the background; a failure is
// only logged (the agent misses a tick, nothing else).
func (d *desk) sendReceipt(contentType, messageID string) {
	if err := d.receipt(d.Life.Context(), contentType, messageID); err != nil {
		d.log.Info("amazonconnect: receipt not sent", "err", err)
	}
}

// receipt is SendEvent with a message.read or message.delivered receipt.
func (d *desk) receipt(ctx context.Context, contentType, messageID string) error {
	st, err := d.connection("SendEvent")
	if err != nil {
		return err
	}
	content, _ := json.Marshal(map[string]string{"messageId": messageID})
	err = d.k.participant.call(ctx, "SendEvent", "/participant/event", st.ConnectionToken,
		sendRequest{ContentType: contentType, Content: string(content), ClientToken: randomToken()}, nil)
	if err != nil {
		return fmt.Errorf("contact=%s: %w", st.ContactID, err)
	}
	return nil
}

// EndChat disconnects the customer (DisconnectParticipant), unless the
// agent or the desk ended the chat, and closes the connection.
func (d *desk) EndChat(ctx context.Context, info servicedesk.EndChatInfo) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	st := d.state()
	already := d.EndingByUs()
	defer d.Finish()
	if already || info.EndedByHumanAgent || st.ConnectionToken == "" {
		return nil
	}
	err := d.k.participant.call(ctx, "DisconnectParticipant", "/participant/disconnect", st.ConnectionToken, disconnectRequest{ClientToken: randomToken()}, nil)
	if err != nil && !isGone(err) {
		return fmt.Errorf("contact=%s: %w", st.ContactID, err)
	}
	return nil
}

// Reconnect finds the chat of the persisted state again: a new connection
// (which also tells whether the contact is still on), then the WebSocket,
// whose first connection fills the gap from the last item delivered.
func (d *desk) Reconnect(ctx context.Context) (bool, error) {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	st := d.state()
	if st.ContactID == "" || st.ParticipantToken == "" {
		return false, nil
	}
	var out createConnectionResponse
	err := d.k.participant.call(ctx, "CreateParticipantConnection", "/participant/connection", st.ParticipantToken,
		createConnectionRequest{Type: []string{"CONNECTION_CREDENTIALS"}, ConnectParticipant: true}, &out)
	if isGone(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("contact=%s: %w", st.ContactID, err)
	}
	d.setCredentials(out)
	d.mu.Lock()
	d.agentIn = st.Joined
	d.mu.Unlock()
	d.Begin(st.Joined)
	if err := d.open(); err != nil {
		return false, err
	}
	d.cb.UpdateCapabilities(d.k.cfg.Attachments.FullUpdate())
	d.log.Info("amazonconnect: reconnected", "contact", st.ContactID, "last_item", st.LastItemID)
	return true, nil
}

// Close stops the connection and every goroutine of the desk. It does not
// end the chat (EndChat does). It is idempotent.
func (d *desk) Close() error {
	if d.Chat.Close() {
		d.k.desks.Forget(d)
	}
	return nil
}

// Contact names the Amazon Connect chat contact behind a session, for a Go
// host that calls Connect's own APIs about it (servicedesk.As,
// flow.Session.As).
type Contact struct {
	ContactID     string
	ParticipantID string
}

// As fills a *Contact once a contact was started or resumed.
func (d *desk) As(target any) bool {
	return vendorkit.As(target, func() (Contact, bool) {
		st := d.state()
		return Contact{ContactID: st.ContactID, ParticipantID: st.ParticipantID}, st.ContactID != ""
	})
}
