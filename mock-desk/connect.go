package mockdesk

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// ConnectFace serves a Desk through Amazon Connect's customer-side wire
// formats, built from AWS's documented shapes: StartChatContact (PUT
// /contact/chat, the server-side call; its SigV4 signature is required but
// not verified), the Participant Service REST calls (POST /participant/…,
// X-Amz-Bearer tokens, errors as x-amzn-ErrorType plus {"Message":…}), the
// pre-signed attachment PUT, and the participant WebSocket (topics
// aws/subscribe, aws/heartbeat, aws/chat with a stringified transcript item
// as content). Paths it does not know go to the Desk, so one server holds
// both the face and the desk's control API and console.
//
// The desk's events become Connect transcript items: agent_joined and
// agent_left are participant.joined/left events, agent messages are
// text/markdown MESSAGE items (images and link buttons as markdown
// paragraphs), agent typing is a typing event (Connect has no "stopped"),
// agent reads are MESSAGEMETADATA receipts, a transfer is
// transfer.succeeded, chat_ended is chat.ended, and a refusal is a SYSTEM
// message before chat.ended. Queue updates, capabilities and screen share
// have no Connect form and are dropped. A WebSocket replays nothing: only
// the participant's first connection starts at the chat's beginning;
// GetTranscript serves the rest.
//
// Faults: the desk's REST faults apply to the Participant calls (as
// ThrottlingException 429 and InternalServerException 500), its WS faults
// to the WebSocket (handshake refusals, latency, drops, duplicated aws/chat
// frames; a WebSocket delivers in order, so no reordering), and a
// DropConnections partition to everything of the chat.
type ConnectFace struct {
	d    *Desk
	opts ConnectOptions
	mux  *http.ServeMux

	mu           sync.Mutex
	participants map[string]*connectParticipant // by participant token
	connections  map[string]*connectParticipant // by connection token
	grants       map[string]connectGrant        // websocket auth tokens
	uploads      map[string]*connectUpload      // by attachment id
	agents       agentDirectory
	typingStop   map[string]*time.Timer
}

// ConnectOptions configure a ConnectFace.
type ConnectOptions struct {
	// SummaryAttribute is the contact attribute whose value the agent sees
	// as the chat's summary. Default "summary".
	SummaryAttribute string
	// URLTTL is how long a WebSocket URL may be used to connect (Connect:
	// 100 s), and what CreateParticipantConnection reports as its
	// ConnectionExpiry. Default 100s.
	URLTTL time.Duration
	// TokenTTL is the connection token's lifetime (Connect: one day).
	TokenTTL time.Duration
	// TypingValidity is how long a customer typing event counts (ChatJS: 10 s).
	TypingValidity time.Duration
}

type connectParticipant struct {
	chatID, chatToken  string
	participantID      string
	participantToken   string
	connected          bool // a WebSocket was handed out before
	connectionTokenExp time.Time
}

type connectGrant struct {
	p      *connectParticipant
	expiry time.Time
}

type connectUpload struct {
	p           *connectParticipant
	id          string
	name, ctype string
	size        int64
	clientToken string
	data        []byte
	uploaded    bool
}

// ConnectAttachmentTypes are the file types Amazon Connect chat accepts
// (Connect's feature specifications); ConnectMaxAttachmentBytes its size
// limit.
const (
	ConnectAttachmentTypes    = ".csv,.doc,.docx,.heic,.jpg,.jpeg,.mp4,.pdf,.png,.ppt,.pptx,.rtf,.txt,.wav,.xls,.xlsx"
	ConnectMaxAttachmentBytes = 20 << 20
)

// Connect content types the face speaks.
const (
	connectEvent        = "application/vnd.amazonaws.connect.event."
	ctParticipantJoined = connectEvent + "participant.joined"
	ctParticipantLeft   = connectEvent + "participant.left"
	ctTyping            = connectEvent + "typing"
	ctTransferSucceeded = connectEvent + "transfer.succeeded"
	ctChatEnded         = connectEvent + "chat.ended"
	ctMessageRead       = connectEvent + "message.read"
	ctMessageDelivered  = connectEvent + "message.delivered"
	ctConnectionAck     = connectEvent + "connection.acknowledged"
)

// NewConnectFace puts an Amazon Connect face on d.
func NewConnectFace(d *Desk, opts ConnectOptions) *ConnectFace {
	if opts.SummaryAttribute == "" {
		opts.SummaryAttribute = "summary"
	}
	if opts.URLTTL <= 0 {
		opts.URLTTL = 100 * time.Second
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 24 * time.Hour
	}
	if opts.TypingValidity <= 0 {
		opts.TypingValidity = 10 * time.Second
	}
	f := &ConnectFace{d: d, opts: opts, participants: map[string]*connectParticipant{}, connections: map[string]*connectParticipant{},
		grants: map[string]connectGrant{}, uploads: map[string]*connectUpload{}, typingStop: map[string]*time.Timer{}}
	mux := http.NewServeMux()
	rest := f.faults
	mux.HandleFunc("PUT /contact/chat", f.startChatContact)
	mux.HandleFunc("POST /participant/connection", rest(f.createParticipantConnection))
	mux.HandleFunc("POST /participant/message", rest(f.withConnection(f.sendMessage)))
	mux.HandleFunc("POST /participant/event", rest(f.withConnection(f.sendEvent)))
	mux.HandleFunc("POST /participant/transcript", rest(f.withConnection(f.getTranscript)))
	mux.HandleFunc("POST /participant/disconnect", rest(f.withConnection(f.disconnect)))
	mux.HandleFunc("POST /participant/start-attachment-upload", rest(f.withConnection(f.startAttachmentUpload)))
	mux.HandleFunc("POST /participant/complete-attachment-upload", rest(f.withConnection(f.completeAttachmentUpload)))
	mux.HandleFunc("PUT /connect/s3/{id}", f.putAttachment)
	mux.HandleFunc("GET /connect/ws", f.websocket)
	mux.Handle("/", d)
	f.mux = mux
	return f
}

// ServeHTTP serves the Connect face, and the Desk for every other path.
func (f *ConnectFace) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

// Agent returns the profile of an agent by participant id, as a directory
// outside Connect would (Connect itself tells only the display name).
func (f *ConnectFace) Agent(participantID string) (servicedesk.AgentProfile, bool) {
	return f.agents.lookup(participantID)
}

// connectError writes a Connect error: the type in x-amzn-ErrorType, the
// message in the body.
func connectError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Message": msg})
}

// connectErrorOf maps a desk error onto Connect's exceptions.
func connectErrorOf(w http.ResponseWriter, err error) {
	var fe *fileError
	switch {
	case errors.Is(err, ErrFileTooLarge):
		connectError(w, http.StatusPaymentRequired, "ServiceQuotaExceededException", reasonOf(err))
	case errors.As(err, &fe), errors.Is(err, ErrMessageRejected), errors.Is(err, ErrBadRequest):
		connectError(w, http.StatusBadRequest, "ValidationException", reasonOf(err))
	case errors.Is(err, ErrChatEnded), errors.Is(err, ErrUnauthorized), errors.Is(err, ErrChatNotFound):
		connectError(w, http.StatusForbidden, "AccessDeniedException", "You do not have sufficient access to perform this action.")
	case errors.Is(err, ErrIdempotencyReused):
		connectError(w, http.StatusConflict, "ConflictException", "The ClientToken was used with another request.")
	case errors.Is(err, ErrRateLimited):
		connectError(w, http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded")
	case errors.Is(err, ErrUnavailable):
		connectError(w, http.StatusServiceUnavailable, "ServiceUnavailableException", "Service unavailable")
	default:
		connectError(w, http.StatusInternalServerError, "InternalServerException", "Internal service error")
	}
}

// reasonOf returns the desk's reason inside a wrapped error: the text
// between the last two ": " before the code error.
func reasonOf(err error) string {
	msg := err.Error()
	ce := codeOf(err)
	msg = strings.TrimSuffix(msg, ": "+ce.Message)
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}

func writeConnectJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// faults injects the desk's REST faults with Connect's error shapes.
func (f *ConnectFace) faults(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cfg := f.d.faults.config().REST
		if cfg.Latency > 0 {
			f.d.faults.count(FaultRESTLatency)
			if err := f.d.pause(r.Context(), time.Duration(cfg.Latency)); err != nil {
				connectErrorOf(w, err)
				return
			}
		}
		if f.d.faults.hit("rest", FaultREST429, cfg.Rate429) {
			w.Header().Set("Retry-After", retryAfterHeader(retryAfter(cfg)))
			connectError(w, http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded")
			return
		}
		if f.d.faults.hit("rest", FaultREST5xx, cfg.Rate5xx) {
			connectError(w, http.StatusInternalServerError, "InternalServerException", "Internal service error")
			return
		}
		h(w, r)
	}
}

func decodeConnect[T any](w http.ResponseWriter, r *http.Request, limit int64) (T, bool) {
	var v T
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err == nil {
		err = json.Unmarshal(b, &v)
	}
	if err != nil {
		connectError(w, http.StatusBadRequest, "ValidationException", "The request body is not valid JSON: "+err.Error())
		return v, false
	}
	return v, true
}

// ConnectStartChatContactRequest is StartChatContact's body (the members
// the face reads).
type ConnectStartChatContactRequest struct {
	InstanceID         string            `json:"InstanceId"`
	ContactFlowID      string            `json:"ContactFlowId"`
	Attributes         map[string]string `json:"Attributes,omitempty"`
	ParticipantDetails *struct {
		DisplayName string `json:"DisplayName"`
	} `json:"ParticipantDetails"`
	InitialMessage *struct {
		ContentType string `json:"ContentType"`
		Content     string `json:"Content"`
	} `json:"InitialMessage,omitempty"`
	ClientToken string `json:"ClientToken,omitempty"`
}

func (f *ConnectFace) startChatContact(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		connectError(w, http.StatusForbidden, "AccessDeniedException", "Missing SigV4 authorization.")
		return
	}
	req, ok := decodeConnect[ConnectStartChatContactRequest](w, r, f.d.opts.MaxBodyBytes)
	if !ok {
		return
	}
	if req.InstanceID == "" || req.ContactFlowID == "" || req.ParticipantDetails == nil || req.ParticipantDetails.DisplayName == "" {
		connectError(w, http.StatusBadRequest, "InvalidParameterException", "InstanceId, ContactFlowId and ParticipantDetails.DisplayName are required.")
		return
	}
	item := servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent, MessageToHumanAgent: req.Attributes[f.opts.SummaryAttribute]}
	res, err := f.d.StartChat(r.Context(), StartRequest{Customer: Customer{Name: req.ParticipantDetails.DisplayName}, ConnectItem: &item})
	if err != nil {
		connectErrorOf(w, err)
		return
	}
	p := &connectParticipant{chatID: res.ChatID, chatToken: res.ChatToken, participantID: "cp-" + res.ChatID[3:], participantToken: newID("pt_", 24)}
	f.mu.Lock()
	f.participants[p.participantToken] = p
	f.mu.Unlock()
	writeConnectJSON(w, map[string]string{"ContactId": res.ChatID, "ParticipantId": p.participantID, "ParticipantToken": p.participantToken})
}

func bearerToken(r *http.Request) string { return r.Header.Get("X-Amz-Bearer") }

func (f *ConnectFace) createParticipantConnection(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	p := f.participants[bearerToken(r)]
	f.mu.Unlock()
	if p == nil {
		connectError(w, http.StatusForbidden, "AccessDeniedException", "The participant token is not valid.")
		return
	}
	req, ok := decodeConnect[struct {
		Type               []string
		ConnectParticipant bool
	}](w, r, f.d.opts.MaxBodyBytes)
	if !ok {
		return
	}
	if err := f.reachable(p); err != nil {
		connectErrorOf(w, err)
		return
	}
	if st, err := f.d.ChatState(p.chatID); err != nil || st == StateEnded {
		connectError(w, http.StatusForbidden, "AccessDeniedException", "The contact has ended.")
		return
	}
	out := map[string]any{}
	now := time.Now().UTC()
	for _, t := range req.Type {
		switch t {
		case "WEBSOCKET":
			grant := newID("ws_", 16)
			exp := now.Add(f.opts.URLTTL)
			f.mu.Lock()
			f.grants[grant] = connectGrant{p: p, expiry: exp}
			f.mu.Unlock()
			scheme := "ws"
			if r.TLS != nil {
				scheme = "wss"
			}
			out["Websocket"] = map[string]string{"Url": scheme + "://" + r.Host + "/connect/ws?AuthToken=" + grant, "ConnectionExpiry": connectTime(exp)}
		case "CONNECTION_CREDENTIALS":
			tok := newID("ct_", 24)
			exp := now.Add(f.opts.TokenTTL)
			f.mu.Lock()
			f.connections[tok] = p
			p.connectionTokenExp = exp
			f.mu.Unlock()
			out["ConnectionCredentials"] = map[string]string{"ConnectionToken": tok, "Expiry": connectTime(exp)}
		default:
			connectError(w, http.StatusBadRequest, "ValidationException", "Type "+strconv.Quote(t)+" is not supported.")
			return
		}
	}
	if len(out) == 0 {
		connectError(w, http.StatusBadRequest, "ValidationException", "Type is required.")
		return
	}
	writeConnectJSON(w, out)
}

func connectTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// reachable fails while DropConnections cuts the chat off.
func (f *ConnectFace) reachable(p *connectParticipant) error {
	f.d.mu.Lock()
	defer f.d.mu.Unlock()
	_, err := f.d.lookup(p.chatID, p.chatToken)
	return err
}

// withConnection checks the connection token.
func (f *ConnectFace) withConnection(h func(http.ResponseWriter, *http.Request, *connectParticipant)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		p := f.connections[bearerToken(r)]
		f.mu.Unlock()
		if p == nil {
			connectError(w, http.StatusForbidden, "AccessDeniedException", "The connection token is not valid.")
			return
		}
		if err := f.reachable(p); err != nil {
			connectErrorOf(w, err)
			return
		}
		h(w, r, p)
	}
}

type connectSendRequest struct {
	ContentType string `json:"ContentType"`
	Content     string `json:"Content"`
	ClientToken string `json:"ClientToken,omitempty"`
}

func (f *ConnectFace) sendMessage(w http.ResponseWriter, r *http.Request, p *connectParticipant) {
	req, ok := decodeConnect[connectSendRequest](w, r, f.d.opts.MaxBodyBytes)
	if !ok {
		return
	}
	switch req.ContentType {
	case "text/plain", "text/markdown", "application/json", "application/vnd.amazonaws.connect.message.interactive.response":
	default:
		connectError(w, http.StatusBadRequest, "ValidationException", "ContentType "+strconv.Quote(req.ContentType)+" is not supported.")
		return
	}
	if len(req.Content) == 0 || len(req.Content) > 16384 {
		connectError(w, http.StatusBadRequest, "ValidationException", "Content must be 1 to 16384 characters.")
		return
	}
	msg := servicedesk.NewTextRequest(req.Content)
	msg.ID = req.ClientToken
	res, err := f.d.sendMessage(r.Context(), p.chatID, p.chatToken, req.ClientToken, msg, nil)
	if err != nil {
		connectErrorOf(w, err)
		return
	}
	writeConnectJSON(w, map[string]string{"Id": res.MessageID, "AbsoluteTime": connectTime(res.CreatedAt)})
}

func (f *ConnectFace) sendEvent(w http.ResponseWriter, r *http.Request, p *connectParticipant) {
	req, ok := decodeConnect[connectSendRequest](w, r, f.d.opts.MaxBodyBytes)
	if !ok {
		return
	}
	var err error
	switch req.ContentType {
	case ctTyping:
		err = f.d.customerTyping(r.Context(), p.chatID, p.chatToken, true)
		if err == nil {
			f.mu.Lock()
			if t := f.typingStop[p.chatID]; t != nil {
				t.Stop()
			}
			chatID, token := p.chatID, p.chatToken
			f.typingStop[p.chatID] = time.AfterFunc(f.opts.TypingValidity, func() {
				_ = f.d.customerTyping(context.Background(), chatID, token, false)
			})
			f.mu.Unlock()
		}
	case ctMessageRead:
		var c struct {
			MessageID string `json:"messageId"`
		}
		_ = json.Unmarshal([]byte(req.Content), &c)
		err = f.d.customerRead(r.Context(), p.chatID, p.chatToken, c.MessageID)
	case ctMessageDelivered, ctConnectionAck:
	default:
		connectError(w, http.StatusBadRequest, "ValidationException", "ContentType "+strconv.Quote(req.ContentType)+" is not supported.")
		return
	}
	if err != nil {
		connectErrorOf(w, err)
		return
	}
	writeConnectJSON(w, map[string]string{"Id": newID("ev_", 8), "AbsoluteTime": connectTime(time.Now())})
}

func (f *ConnectFace) disconnect(w http.ResponseWriter, r *http.Request, p *connectParticipant) {
	if err := f.d.customerEnd(r.Context(), p.chatID, p.chatToken); err != nil {
		connectErrorOf(w, err)
		return
	}
	writeConnectJSON(w, struct{}{})
}

// ConnectItem is a Connect transcript item (the members the face writes).
type ConnectItem struct {
	AbsoluteTime    string               `json:"AbsoluteTime"`
	Content         string               `json:"Content,omitempty"`
	ContentType     string               `json:"ContentType"`
	ID              string               `json:"Id"`
	Type            string               `json:"Type"`
	ParticipantID   string               `json:"ParticipantId,omitempty"`
	DisplayName     string               `json:"DisplayName,omitempty"`
	ParticipantRole string               `json:"ParticipantRole,omitempty"`
	ContactID       string               `json:"ContactId,omitempty"`
	InitialContact  string               `json:"InitialContactId,omitempty"`
	MessageMetadata *ConnectItemMetadata `json:"MessageMetadata,omitempty"`
}

// ConnectItemMetadata is an item's MessageMetadata (receipts).
type ConnectItemMetadata struct {
	MessageID string           `json:"MessageId"`
	Receipts  []ConnectReceipt `json:"Receipts,omitempty"`
}

// ConnectReceipt is one receipt of MessageMetadata.
type ConnectReceipt struct {
	DeliveredTimestamp     string `json:"DeliveredTimestamp,omitempty"`
	ReadTimestamp          string `json:"ReadTimestamp,omitempty"`
	RecipientParticipantID string `json:"RecipientParticipantId"`
}

// items maps one desk event onto Connect transcript items. It records the
// agents it sees for Agent.
func (f *ConnectFace) items(c *chat, e Event) []ConnectItem {
	base := ConnectItem{AbsoluteTime: connectTime(e.Time), ID: e.ID, Type: "EVENT", ContactID: c.id, InitialContact: c.id}
	agent := func(it ConnectItem) ConnectItem {
		if e.Agent != nil {
			it.ParticipantID, it.DisplayName, it.ParticipantRole = e.Agent.ID, e.Agent.Nickname, "AGENT"
		}
		return it
	}
	switch e.Type {
	case EventAgentJoined:
		f.remember(e.Agent)
		it := agent(base)
		it.ContentType = ctParticipantJoined
		return []ConnectItem{it}
	case EventAgentLeft:
		it := agent(base)
		it.ContentType = ctParticipantLeft
		return []ConnectItem{it}
	case EventAgentMessage:
		it := agent(base)
		it.ID, it.Type, it.ContentType = e.MessageID, "MESSAGE", "text/markdown"
		it.Content = ConnectMarkdown(*e.Message)
		return []ConnectItem{it}
	case EventAgentTyping:
		if e.Typing == nil || !*e.Typing || c.profile == nil {
			return nil
		}
		it := base
		it.ContentType, it.ParticipantID, it.DisplayName, it.ParticipantRole = ctTyping, c.profile.ID, c.profile.Nickname, "AGENT"
		return []ConnectItem{it}
	case EventAgentRead:
		it := base
		it.Type, it.ContentType = "MESSAGEMETADATA", "application/vnd.amazonaws.connect.message.metadata"
		reader := ""
		if c.profile != nil {
			reader = c.profile.ID
		}
		it.MessageMetadata = &ConnectItemMetadata{MessageID: e.ReadMessageID, Receipts: []ConnectReceipt{{ReadTimestamp: it.AbsoluteTime, RecipientParticipantID: reader}}}
		return []ConnectItem{it}
	case EventTransferStarted:
		f.remember(e.Agent)
		it := base
		it.ContentType, it.ParticipantRole = ctTransferSucceeded, "SYSTEM"
		return []ConnectItem{it}
	case EventChatEnded:
		it := base
		it.ContentType, it.ParticipantRole = ctChatEnded, "SYSTEM"
		return []ConnectItem{it}
	case EventError:
		it := base
		it.Type, it.ContentType, it.ParticipantRole, it.DisplayName, it.Content = "MESSAGE", "text/plain", "SYSTEM", "SYSTEM_MESSAGE", e.Reason
		return []ConnectItem{it}
	}
	return nil
}

func (f *ConnectFace) remember(p *servicedesk.AgentProfile) {
	if p == nil {
		return
	}
	f.agents.remember(p.ID, *p)
}

// ConnectMarkdown writes an agent message as Connect text/markdown: one
// paragraph per item; an image is "![alt](source)", a link button
// "[label](url)", a video "[title](source)".
func ConnectMarkdown(m servicedesk.MessageResponse) string {
	var parts []string
	for _, it := range m.Output.Generic {
		switch it.ResponseType {
		case servicedesk.ResponseImage:
			parts = append(parts, "!["+it.AltText+"]("+it.Source+")")
		case servicedesk.ResponseVideo, servicedesk.ResponseAudio:
			parts = append(parts, "["+strOr(it.Title, it.Source)+"]("+it.Source+")")
		case servicedesk.ResponseButton:
			parts = append(parts, "["+it.Label+"]("+it.URL+")")
		default:
			if t := servicedesk.NewResponse(it).PlainText(); t != "" {
				parts = append(parts, t)
			}
		}
	}
	return strings.Join(parts, "\n\n")
}

// transcript returns every item of the chat, oldest first.
func (f *ConnectFace) transcript(chatID string) ([]ConnectItem, error) {
	f.d.mu.Lock()
	c, ok := f.d.chats[chatID]
	if !ok {
		f.d.mu.Unlock()
		return nil, ErrChatNotFound
	}
	events := append([]Event(nil), c.events...)
	f.d.mu.Unlock()
	var out []ConnectItem
	for _, e := range events {
		f.d.mu.Lock()
		its := f.items(c, e)
		f.d.mu.Unlock()
		out = append(out, its...)
	}
	return out, nil
}

// ConnectTranscriptRequest is GetTranscript's body.
type ConnectTranscriptRequest struct {
	ContactID     string `json:"ContactId,omitempty"`
	MaxResults    int    `json:"MaxResults,omitempty"`
	NextToken     string `json:"NextToken,omitempty"`
	ScanDirection string `json:"ScanDirection,omitempty"`
	SortOrder     string `json:"SortOrder,omitempty"`
	StartPosition *struct {
		ID           string `json:"Id,omitempty"`
		AbsoluteTime string `json:"AbsoluteTime,omitempty"`
		MostRecent   int    `json:"MostRecent,omitempty"`
	} `json:"StartPosition,omitempty"`
}

func (f *ConnectFace) getTranscript(w http.ResponseWriter, r *http.Request, p *connectParticipant) {
	req, ok := decodeConnect[ConnectTranscriptRequest](w, r, f.d.opts.MaxBodyBytes)
	if !ok {
		return
	}
	if req.MaxResults == 0 {
		req.MaxResults = 15
	}
	if req.MaxResults < 0 || req.MaxResults > 100 {
		connectError(w, http.StatusBadRequest, "ValidationException", "MaxResults must be 1 to 100.")
		return
	}
	all, err := f.transcript(p.chatID)
	if err != nil {
		connectErrorOf(w, err)
		return
	}
	// The window [lo, hi) of the scan, from the start position.
	lo, hi := 0, len(all)
	forward := req.ScanDirection == "FORWARD" || (req.ScanDirection == "" && req.StartPosition != nil)
	if sp := req.StartPosition; sp != nil {
		start := -1
		switch {
		case sp.ID != "":
			for i, it := range all {
				if it.ID == sp.ID {
					start = i
				}
			}
		case sp.AbsoluteTime != "":
			start = len(all)
			for i, it := range all {
				if it.AbsoluteTime >= sp.AbsoluteTime {
					start = i
					break
				}
			}
		case sp.MostRecent > 0:
			start = max(len(all)-sp.MostRecent, 0)
		}
		if start < 0 {
			connectError(w, http.StatusBadRequest, "ValidationException", "StartPosition does not name an item of this contact.")
			return
		}
		if forward {
			lo = start
		} else {
			hi = min(start+1, len(all))
		}
	}
	window := all[lo:hi]
	// NextToken is the count already returned, in scan order.
	skip := 0
	if req.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(req.NextToken)
		if err == nil {
			skip, err = strconv.Atoi(string(b))
		}
		if err != nil || skip < 0 || skip > len(window) {
			connectError(w, http.StatusBadRequest, "ValidationException", "NextToken is not valid.")
			return
		}
	}
	var page []ConnectItem
	if forward {
		page = window[skip:min(skip+req.MaxResults, len(window))]
	} else {
		end := len(window) - skip
		page = window[max(end-req.MaxResults, 0):end]
	}
	page = append([]ConnectItem(nil), page...)
	out := map[string]any{"InitialContactId": p.chatID}
	if skip+len(page) < len(window) {
		out["NextToken"] = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(skip + len(page))))
	}
	if req.SortOrder == "DESCENDING" || (req.SortOrder == "" && !forward) {
		for i, j := 0, len(page)-1; i < j; i, j = i+1, j-1 {
			page[i], page[j] = page[j], page[i]
		}
	}
	out["Transcript"] = page
	writeConnectJSON(w, out)
}

func (f *ConnectFace) startAttachmentUpload(w http.ResponseWriter, r *http.Request, p *connectParticipant) {
	req, ok := decodeConnect[struct {
		ContentType           string
		AttachmentSizeInBytes int64
		AttachmentName        string
		ClientToken           string
	}](w, r, f.d.opts.MaxBodyBytes)
	if !ok {
		return
	}
	if req.AttachmentName == "" || req.ContentType == "" || req.ClientToken == "" || req.AttachmentSizeInBytes <= 0 {
		connectError(w, http.StatusBadRequest, "ValidationException", "AttachmentName, ContentType, ClientToken and a positive AttachmentSizeInBytes are required.")
		return
	}
	f.d.mu.Lock()
	c, ok := f.d.chats[p.chatID]
	var caps servicedesk.Capabilities
	if ok {
		caps = c.caps
	}
	f.d.mu.Unlock()
	id := newID("att_", 12)
	if accepted, _ := caps.Accepts(req.AttachmentName, req.ContentType, req.AttachmentSizeInBytes); !accepted {
		// The desk records the refused file (the agent's side sees it),
		// then the caller gets Connect's error with the desk's reason.
		_, err := f.d.sendMessage(r.Context(), p.chatID, p.chatToken, req.ClientToken, servicedesk.MessageRequest{}, []string{id})
		if err == nil {
			_, err = f.d.uploadFile(r.Context(), p.chatID, p.chatToken, id, req.ClientToken, req.AttachmentName, req.ContentType, nil, req.AttachmentSizeInBytes > caps.MaxFileSizeBytes && caps.MaxFileSizeBytes > 0)
		}
		if err == nil {
			err = fmt.Errorf("attachment %s: %w", id, ErrBadRequest)
		}
		connectErrorOf(w, err)
		return
	}
	f.mu.Lock()
	f.uploads[id] = &connectUpload{p: p, id: id, name: req.AttachmentName, ctype: req.ContentType, size: req.AttachmentSizeInBytes, clientToken: req.ClientToken}
	f.mu.Unlock()
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	writeConnectJSON(w, map[string]any{
		"AttachmentId": id,
		"UploadMetadata": map[string]any{
			"Url":              scheme + "://" + r.Host + "/connect/s3/" + id + "?X-Amz-Signature=" + newID("", 16),
			"UrlExpiry":        connectTime(time.Now().Add(5 * time.Minute)),
			"HeadersToInclude": map[string]string{"Content-Type": req.ContentType, "x-amz-server-side-encryption": "AES256"},
		},
	})
}

// putAttachment is the pre-signed S3 PUT.
func (f *ConnectFace) putAttachment(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	u := f.uploads[r.PathValue("id")]
	f.mu.Unlock()
	s3err := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>", code, msg)
	}
	if u == nil || r.URL.Query().Get("X-Amz-Signature") == "" {
		s3err(http.StatusForbidden, "AccessDenied", "Access Denied")
		return
	}
	if r.Header.Get("Content-Type") != u.ctype || r.Header.Get("x-amz-server-side-encryption") != "AES256" {
		s3err(http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		return
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, u.size))
	if err != nil || int64(len(b)) != u.size {
		s3err(http.StatusBadRequest, "IncompleteBody", "The request body does not have the declared size.")
		return
	}
	f.mu.Lock()
	u.data, u.uploaded = b, true
	f.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (f *ConnectFace) completeAttachmentUpload(w http.ResponseWriter, r *http.Request, p *connectParticipant) {
	req, ok := decodeConnect[struct {
		AttachmentIDs []string `json:"AttachmentIds"`
		ClientToken   string
	}](w, r, f.d.opts.MaxBodyBytes)
	if !ok {
		return
	}
	if len(req.AttachmentIDs) == 0 || req.ClientToken == "" {
		connectError(w, http.StatusBadRequest, "ValidationException", "AttachmentIds and ClientToken are required.")
		return
	}
	for _, id := range req.AttachmentIDs {
		f.mu.Lock()
		u := f.uploads[id]
		f.mu.Unlock()
		if u == nil || u.p != p {
			connectError(w, http.StatusBadRequest, "ValidationException", "Attachment "+id+" is not known.")
			return
		}
		if !u.uploaded {
			connectError(w, http.StatusConflict, "ConflictException", "Attachment "+id+" has not been uploaded.")
			return
		}
		if _, err := f.d.sendMessage(r.Context(), p.chatID, p.chatToken, u.clientToken, servicedesk.MessageRequest{}, []string{id}); err != nil {
			connectErrorOf(w, err)
			return
		}
		if _, err := f.d.uploadFile(r.Context(), p.chatID, p.chatToken, id, u.clientToken, u.name, u.ctype, u.data, false); err != nil {
			connectErrorOf(w, err)
			return
		}
	}
	writeConnectJSON(w, struct{}{})
}

// websocket is the participant's WebSocket: subscribe, heartbeats, and the
// chat's items as aws/chat frames.
func (f *ConnectFace) websocket(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	g, ok := f.grants[r.URL.Query().Get("AuthToken")]
	if ok {
		delete(f.grants, r.URL.Query().Get("AuthToken"))
	}
	f.mu.Unlock()
	if !ok || time.Now().After(g.expiry) {
		connectError(w, http.StatusForbidden, "AccessDeniedException", "The WebSocket URL is not valid or has expired.")
		return
	}
	if err := f.reachable(g.p); err != nil {
		connectErrorOf(w, err)
		return
	}
	cfg := f.d.faults.config().WS
	if !f.d.injectHTTP(w, r, "ws", HTTPFaults{Rate5xx: cfg.Rate5xx, Rate429: cfg.Rate429, RetryAfter: cfg.RetryAfter}, FaultWSLatency, FaultWS429, FaultWS5xx) {
		return
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s := &wsConn{d: f.d, conn: conn, out: make(chan outFrame, 64), done: make(chan struct{})}
	d := f.d
	d.mu.Lock()
	c := d.chats[g.p.chatID]
	if d.closed || c == nil {
		d.mu.Unlock()
		_ = conn.Close()
		return
	}
	// Connect replays nothing: a reconnection starts at the present.
	from := c.seq
	f.mu.Lock()
	if !g.p.connected {
		from = 0
		g.p.connected = true
	}
	f.mu.Unlock()
	d.conns[conn] = struct{}{}
	c.conns[s] = struct{}{}
	start := make(chan faceStream, 1)
	d.goLocked(func() { d.streamFace(s, start, f.frames) })
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.conns, conn)
		delete(c.conns, s)
		d.mu.Unlock()
		s.stop()
	}()
	ping := time.Duration(d.opts.PingInterval)
	once := sync.Once{}
	subscribe := func() { start <- faceStream{c, from} }
	for {
		_ = conn.SetReadDeadline(time.Now().Add(2 * ping))
		_, b, err := conn.ReadMessage()
		if err != nil {
			return
		}
		var fr struct {
			Topic   string `json:"topic"`
			Content struct {
				Topics []string `json:"topics"`
			} `json:"content"`
		}
		if json.Unmarshal(b, &fr) != nil {
			continue
		}
		switch fr.Topic {
		case "aws/subscribe":
			s.send(rawFrame([]byte(`{"topic":"aws/subscribe","content":{"status":"success","topics":["aws/chat"]}}`)))
			once.Do(subscribe)
		case "aws/heartbeat":
			s.send(rawFrame([]byte(`{"topic":"aws/heartbeat"}`)))
		}
	}
}

// frames renders one event as aws/chat frames: each item, stringified, as
// the content.
func (f *ConnectFace) frames(c *chat, e Event) [][]byte {
	var out [][]byte
	for _, it := range f.items(c, e) {
		inner, _ := json.Marshal(it)
		fr, _ := json.Marshal(map[string]string{"topic": "aws/chat", "contentType": "application/json", "content": string(inner)})
		out = append(out, fr)
	}
	return out
}
