package mockdesk

import (
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

// GenesysFace serves a Desk through Genesys Cloud Web Messaging's guest
// API, built from the shapes of Genesys's web-messaging SDKs
// (MyPureCloud/web-messaging-sdk-java, genesys-messenger-transport-mobile-sdk):
// one WebSocket per guest at /v1?deploymentId=… whose requests carry an
// action and the guest's session token (configureSession, onMessage,
// onAttachment, getJwt, echo, closeSession) and whose answers and events
// are envelopes {"type","class","code","body","tracingId"}; the pre-signed
// upload URL; and the history REST call GET /api/v2/webmessaging/messages
// with the JWT.
//
// A guest's conversation starts with an autostart (an onMessage carrying a
// Presence Join event, whose channel.metadata.customAttributes "summary" is
// the agent's summary) or its first text. The desk's events become
// outbound StructuredMessages: agent_joined a Presence Join event, agent
// messages Text messages (images as Attachment content, link buttons as a
// Card's Link actions), agent typing a Typing event, chat_ended a Presence
// Disconnect, a refusal a text before it. Agent leave, transfers, reads,
// queue updates and screen share have no guest-side form and are dropped.
// The WebSocket replays nothing; the history does.
//
// Faults: the desk's WS faults apply (handshake refusals, latency, drops,
// duplicated frames, and action faults answered as code 429 with
// retryAfter or code 500), and a DropConnections partition cuts the
// guest's WebSocket and history calls.
type GenesysFace struct {
	d    *Desk
	opts GenesysOptions
	mux  *http.ServeMux

	mu       sync.Mutex
	sessions map[string]*genesysSession // by session token
	jwts     map[string]*genesysSession
	uploads  map[string]*genesysUpload // by attachment id
	agents   agentDirectory
}

// GenesysOptions configure a GenesysFace.
type GenesysOptions struct {
	// DeploymentID is the only deployment the face accepts. Default: any.
	DeploymentID string
	// BlockedExtensions are refused whatever the desk's capabilities.
	// Default: Genesys's usual executable extensions.
	BlockedExtensions []string
	// SummaryAttribute is the custom attribute holding the agent's summary.
	// Default "summary".
	SummaryAttribute string
}

// genesysSession is a guest session; mu guards the chat fields, and is
// held while one of its requests runs.
type genesysSession struct {
	mu                sync.Mutex
	token             string
	chatID, chatToken string
	jwt               string
	streamed          bool // a connection has streamed its chat
}

type genesysUpload struct {
	s                *genesysSession
	id, name, ctype  string
	size             int64
	data             []byte
	uploaded, failed bool
}

// NewGenesysFace puts a Genesys Web Messaging face on d.
func NewGenesysFace(d *Desk, opts GenesysOptions) *GenesysFace {
	if opts.BlockedExtensions == nil {
		opts.BlockedExtensions = []string{".exe", ".bat", ".cmd", ".com", ".js", ".msi", ".scr", ".vbs"}
	}
	if opts.SummaryAttribute == "" {
		opts.SummaryAttribute = "summary"
	}
	f := &GenesysFace{d: d, opts: opts, sessions: map[string]*genesysSession{}, jwts: map[string]*genesysSession{},
		uploads: map[string]*genesysUpload{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1", f.websocket)
	mux.HandleFunc("GET /api/v2/webmessaging/messages", f.history)
	mux.HandleFunc("PUT /genesys/uploads/{id}", f.putAttachment)
	mux.Handle("/", d)
	f.mux = mux
	return f
}

// ServeHTTP serves the Genesys face, and the Desk for every other path.
func (f *GenesysFace) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

// Agent returns the profile of an agent by nickname, as a directory
// outside Genesys would (guests see only a nickname and an image).
func (f *GenesysFace) Agent(nickname string) (servicedesk.AgentProfile, bool) {
	return f.agents.lookup(nickname)
}

// GenesysEnvelope is every frame the face sends.
type GenesysEnvelope struct {
	Type      string `json:"type"`
	Class     string `json:"class"`
	Code      int    `json:"code"`
	Body      any    `json:"body"`
	TracingID string `json:"tracingId,omitempty"`
}

// GenesysMessage is a StructuredMessage.
type GenesysMessage struct {
	ID                string            `json:"id"`
	Type              string            `json:"type"`
	Text              string            `json:"text,omitempty"`
	Direction         string            `json:"direction"`
	Channel           *GenesysChannel   `json:"channel,omitempty"`
	Content           []map[string]any  `json:"content,omitempty"`
	Events            []map[string]any  `json:"events,omitempty"`
	Metadata          map[string]string `json:"metadata,omitempty"`
	OriginatingEntity string            `json:"originatingEntity,omitempty"`
}

// GenesysChannel is a StructuredMessage's channel.
type GenesysChannel struct {
	Time      string              `json:"time,omitempty"`
	MessageID string              `json:"messageId,omitempty"`
	From      *GenesysParticipant `json:"from,omitempty"`
}

// GenesysParticipant is channel.from.
type GenesysParticipant struct {
	Nickname string `json:"nickname,omitempty"`
	Image    string `json:"image,omitempty"`
}

// genesysRequest is a guest request (the members the face reads).
type genesysRequest struct {
	Action       string `json:"action"`
	Token        string `json:"token"`
	TracingID    string `json:"tracingId"`
	DeploymentID string `json:"deploymentId"`
	StartNew     bool   `json:"startNew"`
	Message      *struct {
		Type     string            `json:"type"`
		Text     string            `json:"text"`
		Metadata map[string]string `json:"metadata"`
		Content  []struct {
			ContentType string `json:"contentType"`
			Attachment  *struct {
				ID string `json:"id"`
			} `json:"attachment"`
		} `json:"content"`
		Events []struct {
			EventType string `json:"eventType"`
			Typing    *struct {
				Type string `json:"type"`
			} `json:"typing"`
			Presence *struct {
				Type string `json:"type"`
			} `json:"presence"`
		} `json:"events"`
		Channel *struct {
			Metadata *struct {
				CustomAttributes map[string]string `json:"customAttributes"`
			} `json:"metadata"`
		} `json:"channel"`
	} `json:"message"`
	AttachmentID string `json:"attachmentId"`
	FileName     string `json:"fileName"`
	FileType     string `json:"fileType"`
	FileSize     int64  `json:"fileSize"`
}

func genesysTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// genesysError is an error answer: a string body with a 4xxx (or 429, 500)
// code.
func genesysError(tracingID string, code int, msg string) GenesysEnvelope {
	return GenesysEnvelope{Type: "response", Class: "string", Code: code, Body: msg, TracingID: tracingID}
}

// genesysCodeOf maps a desk error onto Genesys's error codes.
func genesysCodeOf(err error) int {
	switch {
	case errors.Is(err, ErrFileTooLarge):
		return 4002
	case errors.Is(err, ErrFileTypeNotAllowed), errors.Is(err, ErrUploadsDisabled):
		return 4001
	case errors.Is(err, ErrFileRejected):
		return 4003
	case errors.Is(err, ErrChatEnded), errors.Is(err, ErrChatNotFound), errors.Is(err, ErrUnauthorized):
		return 4007
	case errors.Is(err, ErrRateLimited):
		return 4029
	case errors.Is(err, ErrUnavailable):
		return 503
	case errors.Is(err, ErrMessageRejected), errors.Is(err, ErrBadRequest):
		return 4000
	}
	return 500
}

// websocket is a guest's WebSocket.
func (f *GenesysFace) websocket(w http.ResponseWriter, r *http.Request) {
	if dep := r.URL.Query().Get("deploymentId"); dep == "" || (f.opts.DeploymentID != "" && dep != f.opts.DeploymentID) {
		http.Error(w, "unknown deployment", http.StatusForbidden)
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
	d := f.d
	s := &wsConn{d: d, conn: conn, out: make(chan outFrame, 64), done: make(chan struct{})}
	attach := make(chan faceStream, 1)
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		_ = conn.Close()
		return
	}
	d.conns[conn] = struct{}{}
	d.goLocked(func() { d.streamFace(s, attach, f.frames) })
	d.mu.Unlock()
	var attached *chat
	defer func() {
		d.mu.Lock()
		delete(d.conns, conn)
		if attached != nil {
			delete(attached.conns, s)
		}
		d.mu.Unlock()
		s.stop()
	}()
	var sess *genesysSession
	conn.SetReadLimit(d.opts.MaxBodyBytes)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Duration(d.opts.PingInterval)))
		_, b, err := conn.ReadMessage()
		if err != nil {
			return
		}
		var req genesysRequest
		if err := json.Unmarshal(b, &req); err != nil {
			f.reply(s, genesysError("", 4000, "Request is not valid JSON."))
			continue
		}
		if req.Action == "configureSession" {
			var env GenesysEnvelope
			sess, env = f.configure(req)
			f.reply(s, env)
			if sess != nil && attached == nil {
				sess.mu.Lock()
				if sess.chatID != "" {
					attached = f.attach(s, sess, attach)
				}
				sess.mu.Unlock()
			}
			continue
		}
		if sess == nil || req.Token != sess.token {
			f.reply(s, genesysError(req.TracingID, 4007, "Session not found; configure the session first."))
			continue
		}
		if env := f.serve(r, s, sess, req, &attached, attach); env != nil {
			f.reply(s, *env)
		}
	}
}

// serve runs one request of a configured session. A session's requests
// run one at a time (its lock), whichever connection they come on.
func (f *GenesysFace) serve(r *http.Request, s *wsConn, sess *genesysSession, req genesysRequest, attached **chat, attach chan<- faceStream) *GenesysEnvelope {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if err := f.reachable(sess); err != nil {
		env := genesysError(req.TracingID, genesysCodeOf(err), err.Error())
		return &env
	}
	if env, faulted := f.actionFault(req); faulted {
		return &env
	}
	env := f.handle(r, sess, req)
	if sess.chatID != "" && *attached == nil {
		*attached = f.attach(s, sess, attach)
	}
	return env
}

func (f *GenesysFace) reply(s *wsConn, env GenesysEnvelope) { s.send(rawFrame(mustJSON(env))) }

// attach starts streaming the session's chat on s: from its start the
// first time (the conversation began on this connection), from the
// present on later connections (Genesys replays nothing).
func (f *GenesysFace) attach(s *wsConn, sess *genesysSession, attach chan<- faceStream) *chat {
	f.mu.Lock()
	first := !sess.streamed
	sess.streamed = true
	f.mu.Unlock()
	f.d.mu.Lock()
	c := f.d.chats[sess.chatID]
	var from int64
	if c != nil {
		c.conns[s] = struct{}{}
		if !first {
			from = c.seq
		}
	}
	f.d.mu.Unlock()
	if c != nil {
		attach <- faceStream{c, from}
	}
	return c
}

func (f *GenesysFace) reachable(sess *genesysSession) error {
	if sess.chatID == "" {
		return nil
	}
	f.d.mu.Lock()
	defer f.d.mu.Unlock()
	_, err := f.d.lookup(sess.chatID, sess.chatToken)
	if errors.Is(err, ErrUnavailable) {
		return err
	}
	return nil
}

// actionFault answers an onMessage with an injected 429 or 500.
func (f *GenesysFace) actionFault(req genesysRequest) (GenesysEnvelope, bool) {
	if req.Action != "onMessage" && req.Action != "onAttachment" {
		return GenesysEnvelope{}, false
	}
	cfg := f.d.faults.config().WS
	switch {
	case f.d.faults.hit("ws", FaultWSAction429, cfg.ActionRate429):
		secs := int(max(time.Duration(cfg.RetryAfter), time.Second) / time.Second)
		return GenesysEnvelope{Type: "response", Class: "TooManyRequestsErrorMessage", Code: 429, TracingID: req.TracingID,
			Body: map[string]any{"retryAfter": secs, "errorCode": 4029, "errorMessage": "Message rate too high for this session"}}, true
	case f.d.faults.hit("ws", FaultWSAction5xx, cfg.ActionRate5xx):
		return genesysError(req.TracingID, 500, "Internal server error"), true
	}
	return GenesysEnvelope{}, false
}

// configure answers configureSession: a known token resumes its session
// (read-only once its conversation ended); an unknown one is a new session.
func (f *GenesysFace) configure(req genesysRequest) (*genesysSession, GenesysEnvelope) {
	if req.Token == "" || req.DeploymentID == "" {
		return nil, genesysError(req.TracingID, 4020, "token and deploymentId are required.")
	}
	f.mu.Lock()
	sess, known := f.sessions[req.Token]
	if !known || req.StartNew {
		sess = &genesysSession{token: req.Token}
		f.sessions[req.Token] = sess
	}
	f.mu.Unlock()
	sess.mu.Lock()
	defer sess.mu.Unlock()
	readOnly := false
	if sess.chatID != "" {
		st, _ := f.d.ChatState(sess.chatID)
		readOnly = st == StateEnded
	}
	caps := DefaultCapabilities
	f.d.mu.Lock()
	if sess.chatID != "" {
		if c := f.d.chats[sess.chatID]; c != nil {
			caps = c.caps
		}
	} else {
		caps = *f.d.opts.Capabilities
	}
	f.d.mu.Unlock()
	body := map[string]any{
		"connected": true, "newSession": !known || req.StartNew, "readOnly": readOnly,
		"allowedMedia":       map[string]any{"inbound": map[string]any{"fileTypes": genesysFileTypes(caps.AllowedFileUploadTypes), "maxFileSizeKB": caps.MaxFileSizeBytes / 1024}},
		"blockedExtensions":  f.opts.BlockedExtensions,
		"maxCustomDataBytes": 2048, "durationSeconds": 259200,
	}
	return sess, GenesysEnvelope{Type: "response", Class: "SessionResponse", Code: 200, Body: body, TracingID: req.TracingID}
}

// genesysFileTypes writes an accept list as Genesys's fileTypes: MIME
// types (wildcards kept), extensions turned into their usual MIME type.
func genesysFileTypes(accept string) []map[string]string {
	ext := map[string]string{".pdf": "application/pdf", ".txt": "text/plain", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}
	var out []map[string]string
	for _, a := range strings.Split(accept, ",") {
		a = strings.TrimSpace(a)
		if m, ok := ext[a]; ok {
			a = m
		}
		if a != "" && !strings.HasPrefix(a, ".") {
			out = append(out, map[string]string{"type": a})
		}
	}
	return out
}

// handle runs one action of a configured session.
func (f *GenesysFace) handle(r *http.Request, sess *genesysSession, req genesysRequest) *GenesysEnvelope {
	ctx := f.d.ctx
	ok := func(class string, body any) *GenesysEnvelope {
		return &GenesysEnvelope{Type: "response", Class: class, Code: 200, Body: body, TracingID: req.TracingID}
	}
	fail := func(err error) *GenesysEnvelope {
		env := genesysError(req.TracingID, genesysCodeOf(err), reasonOf(err))
		return &env
	}
	switch req.Action {
	case "echo":
		return ok("StructuredMessage", GenesysMessage{ID: newID("", 16), Type: "Text", Text: "ping", Direction: "Inbound", Metadata: map[string]string{"customMessageId": "SGVhbHRoQ2hlY2tNZXNzYWdlSWQ="}})
	case "getJwt":
		f.mu.Lock()
		if sess.jwt == "" {
			sess.jwt = "eyJhbGciOiJIUzI1NiJ9." + newID("", 24)
			f.jwts[sess.jwt] = sess
		}
		jwt := sess.jwt
		f.mu.Unlock()
		return ok("JwtResponse", map[string]any{"jwt": jwt, "exp": time.Now().Add(time.Hour).Unix()})
	case "closeSession":
		if sess.chatID != "" {
			if err := f.d.customerEnd(ctx, sess.chatID, sess.chatToken); err != nil && !errors.Is(err, ErrChatEnded) {
				return fail(err)
			}
		}
		return ok("SessionResponse", map[string]any{"connected": false, "readOnly": true})
	case "onAttachment":
		return f.onAttachment(r, sess, req)
	case "onMessage":
		if req.Message == nil {
			return fail(fmt.Errorf("message: %w", ErrBadRequest))
		}
		return f.onMessage(sess, req)
	}
	env := genesysError(req.TracingID, 4000, "Unknown action "+strconv.Quote(req.Action)+".")
	return &env
}

// start opens the session's chat with the desk.
func (f *GenesysFace) start(sess *genesysSession, attrs map[string]string) error {
	if sess.chatID != "" {
		return nil
	}
	item := servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent, MessageToHumanAgent: attrs[f.opts.SummaryAttribute]}
	res, err := f.d.StartChat(f.d.ctx, StartRequest{Customer: Customer{Name: "Guest"}, ConnectItem: &item})
	if err != nil {
		return err
	}
	sess.chatID, sess.chatToken = res.ChatID, res.ChatToken
	return nil
}

func (f *GenesysFace) onMessage(sess *genesysSession, req genesysRequest) *GenesysEnvelope {
	ctx := f.d.ctx
	m := req.Message
	fail := func(err error) *GenesysEnvelope {
		env := genesysError(req.TracingID, genesysCodeOf(err), reasonOf(err))
		return &env
	}
	var attrs map[string]string
	if m.Channel != nil && m.Channel.Metadata != nil {
		attrs = m.Channel.Metadata.CustomAttributes
	}
	switch m.Type {
	case "Event":
		for _, e := range m.Events {
			switch {
			case e.EventType == "Presence" && e.Presence != nil && e.Presence.Type == "Join":
				if err := f.start(sess, attrs); err != nil {
					return fail(err)
				}
			case e.EventType == "Typing" && e.Typing != nil && e.Typing.Type == "On":
				if sess.chatID == "" {
					continue
				}
				if err := f.d.customerTyping(ctx, sess.chatID, sess.chatToken, true); err != nil {
					return fail(err)
				}
				// Genesys typing has a duration; the desk sees it end.
				_ = f.d.customerTyping(ctx, sess.chatID, sess.chatToken, false)
			}
		}
		return nil
	case "Text", "Structured":
	default:
		return fail(fmt.Errorf("message type %q: %w", m.Type, ErrBadRequest))
	}
	if len(m.Text) > 4096 {
		env := genesysError(req.TracingID, 4011, "Message exceeded max message length.")
		return &env
	}
	if err := f.start(sess, attrs); err != nil {
		return fail(err)
	}
	var fileIDs []string
	for _, c := range m.Content {
		if c.ContentType == "Attachment" && c.Attachment != nil {
			f.mu.Lock()
			u := f.uploads[c.Attachment.ID]
			f.mu.Unlock()
			if u == nil || !u.uploaded {
				env := genesysError(req.TracingID, 4010, "Attachment "+c.Attachment.ID+" was not successfully uploaded.")
				return &env
			}
			fileIDs = append(fileIDs, c.Attachment.ID)
		}
	}
	key := m.Metadata["customMessageId"]
	msg := servicedesk.NewTextRequest(m.Text)
	msg.ID = key
	res, err := f.d.sendMessage(ctx, sess.chatID, sess.chatToken, key, msg, fileIDs)
	if err != nil {
		return fail(err)
	}
	// The guest's own message comes back, inbound, as its receipt.
	echo := GenesysMessage{ID: res.MessageID, Type: "Text", Text: m.Text, Direction: "Inbound", Metadata: m.Metadata,
		Channel: &GenesysChannel{Time: genesysTime(res.CreatedAt), MessageID: res.MessageID}}
	return &GenesysEnvelope{Type: "message", Class: "StructuredMessage", Code: 200, Body: echo, TracingID: req.TracingID}
}

func (f *GenesysFace) onAttachment(r *http.Request, sess *genesysSession, req genesysRequest) *GenesysEnvelope {
	if req.AttachmentID == "" || req.FileName == "" || req.FileType == "" {
		env := genesysError(req.TracingID, 4020, "attachmentId, fileName and fileType are required.")
		return &env
	}
	if err := f.start(sess, nil); err != nil {
		env := genesysError(req.TracingID, genesysCodeOf(err), reasonOf(err))
		return &env
	}
	f.d.mu.Lock()
	var caps servicedesk.Capabilities
	if c := f.d.chats[sess.chatID]; c != nil {
		caps = c.caps
	}
	f.d.mu.Unlock()
	blocked := false
	for _, ext := range f.opts.BlockedExtensions {
		if strings.HasSuffix(strings.ToLower(req.FileName), ext) {
			blocked = true
		}
	}
	if accepted, _ := caps.Accepts(req.FileName, req.FileType, req.FileSize); blocked || !accepted {
		// The desk records the refused file, then the guest gets the error.
		ctx := f.d.ctx
		_, err := f.d.sendMessage(ctx, sess.chatID, sess.chatToken, req.AttachmentID, servicedesk.MessageRequest{}, []string{req.AttachmentID})
		if err == nil {
			_, err = f.d.uploadFile(ctx, sess.chatID, sess.chatToken, req.AttachmentID, req.AttachmentID, req.FileName, req.FileType, nil, caps.MaxFileSizeBytes > 0 && req.FileSize > caps.MaxFileSizeBytes)
		}
		if err == nil {
			err = fmt.Errorf("file %s: %w", req.FileName, ErrFileTypeNotAllowed)
		}
		env := genesysError(req.TracingID, genesysCodeOf(err), reasonOf(err))
		return &env
	}
	f.mu.Lock()
	f.uploads[req.AttachmentID] = &genesysUpload{s: sess, id: req.AttachmentID, name: req.FileName, ctype: req.FileType, size: req.FileSize}
	f.mu.Unlock()
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return &GenesysEnvelope{Type: "response", Class: "PresignedUrlResponse", Code: 200, TracingID: req.TracingID, Body: map[string]any{
		"attachmentId": req.AttachmentID, "url": scheme + "://" + r.Host + "/genesys/uploads/" + req.AttachmentID + "?X-Amz-Signature=" + newID("", 16),
		"headers": map[string]string{"x-amz-tagging": "abc", "Content-Type": req.FileType}, "fileName": req.FileName, "fileSize": req.FileSize, "fileType": req.FileType,
	}}
}

// putAttachment takes the upload; the desk checks the file, and the
// outcome goes to the guest's WebSocket as UploadSuccessEvent or
// UploadFailureEvent.
func (f *GenesysFace) putAttachment(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	u := f.uploads[r.PathValue("id")]
	f.mu.Unlock()
	if u == nil || r.URL.Query().Get("X-Amz-Signature") == "" || r.Header.Get("Content-Type") != u.ctype || r.Header.Get("x-amz-tagging") == "" {
		http.Error(w, "<Error><Code>AccessDenied</Code></Error>", http.StatusForbidden)
		return
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, u.size))
	if err != nil || int64(len(b)) != u.size {
		http.Error(w, "<Error><Code>IncompleteBody</Code></Error>", http.StatusBadRequest)
		return
	}
	sess := u.s
	sess.mu.Lock()
	chatID, chatToken := sess.chatID, sess.chatToken
	sess.mu.Unlock()
	_, ferr := f.d.uploadFile(f.d.ctx, chatID, chatToken, u.id, "", u.name, u.ctype, b, false)
	f.mu.Lock()
	u.data, u.uploaded, u.failed = b, ferr == nil, ferr != nil
	f.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	var env GenesysEnvelope
	now := genesysTime(time.Now())
	if ferr != nil {
		env = GenesysEnvelope{Type: "message", Class: "UploadFailureEvent", Code: genesysCodeOf(ferr), Body: map[string]any{"attachmentId": u.id, "errorCode": genesysCodeOf(ferr), "errorMessage": reasonOf(ferr), "timestamp": now}}
	} else {
		env = GenesysEnvelope{Type: "message", Class: "UploadSuccessEvent", Code: 200, Body: map[string]any{"attachmentId": u.id, "downloadUrl": "https://api.example.invalid/downloads/" + u.id, "timestamp": now}}
	}
	f.d.mu.Lock()
	var conns []*wsConn
	if c := f.d.chats[chatID]; c != nil {
		for s := range c.conns {
			conns = append(conns, s)
		}
	}
	f.d.mu.Unlock()
	for _, s := range conns {
		f.reply(s, env)
	}
}

// messages maps one desk event onto outbound StructuredMessages.
func (f *GenesysFace) messages(c *chat, e Event) []GenesysMessage {
	from := func(p *servicedesk.AgentProfile) *GenesysChannel {
		ch := &GenesysChannel{Time: genesysTime(e.Time), MessageID: e.ID}
		if p != nil {
			ch.From = &GenesysParticipant{Nickname: p.Nickname, Image: p.ProfilePictureURL}
		}
		return ch
	}
	event := func(ev map[string]any, p *servicedesk.AgentProfile) []GenesysMessage {
		return []GenesysMessage{{ID: e.ID, Type: "Event", Direction: "Outbound", Channel: from(p), Events: []map[string]any{ev}, OriginatingEntity: "Human"}}
	}
	switch e.Type {
	case EventAgentJoined:
		f.rememberAgent(e.Agent)
		return event(map[string]any{"eventType": "Presence", "presence": map[string]string{"type": "Join"}}, e.Agent)
	case EventAgentTyping:
		if e.Typing == nil || !*e.Typing {
			return nil
		}
		return event(map[string]any{"eventType": "Typing", "typing": map[string]any{"type": "On", "duration": 5000}}, c.profile)
	case EventChatEnded:
		return event(map[string]any{"eventType": "Presence", "presence": map[string]string{"type": "Disconnect"}}, nil)
	case EventError:
		return []GenesysMessage{{ID: e.ID, Type: "Text", Text: e.Reason, Direction: "Outbound", Channel: from(nil), OriginatingEntity: "Bot"}}
	case EventAgentMessage:
		m := GenesysMessage{ID: e.MessageID, Type: "Text", Direction: "Outbound", Channel: from(e.Agent), OriginatingEntity: "Human"}
		var texts []string
		for _, it := range e.Message.Output.Generic {
			switch it.ResponseType {
			case servicedesk.ResponseImage:
				m.Content = append(m.Content, map[string]any{"contentType": "Attachment", "attachment": map[string]any{
					"id": newID("", 8), "url": it.Source, "filename": strOr(it.AltText, "image"), "mediaType": "Image"}})
			case servicedesk.ResponseButton:
				m.Type = "Structured"
				m.Content = append(m.Content, map[string]any{"contentType": "Card", "card": map[string]any{
					"title": it.Label, "actions": []map[string]string{{"type": "Link", "text": it.Label, "url": it.URL}}}})
			default:
				if t := servicedesk.NewResponse(it).PlainText(); t != "" {
					texts = append(texts, t)
				}
			}
		}
		m.Text = strings.Join(texts, "\n\n")
		return []GenesysMessage{m}
	}
	return nil
}

func (f *GenesysFace) rememberAgent(p *servicedesk.AgentProfile) {
	if p == nil {
		return
	}
	f.agents.remember(p.Nickname, *p)
}

// frames renders one event as StructuredMessage frames.
func (f *GenesysFace) frames(c *chat, e Event) [][]byte {
	var out [][]byte
	for _, m := range f.messages(c, e) {
		out = append(out, mustJSON(GenesysEnvelope{Type: "message", Class: "StructuredMessage", Code: 200, Body: m}))
	}
	return out
}

// history is GET /api/v2/webmessaging/messages: the conversation's
// messages, newest first, in pages (pageSize, pageNumber), for the JWT's
// session.
func (f *GenesysFace) history(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	sess := f.jwts[tok]
	f.mu.Unlock()
	writeErr := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"message": msg, "code": code, "status": status})
	}
	if sess == nil {
		writeErr(http.StatusUnauthorized, "authentication.required", "No authentication bearer token specified in authorization header.")
		return
	}
	sess.mu.Lock()
	err := f.reachable(sess)
	chatID := sess.chatID
	sess.mu.Unlock()
	if err != nil {
		writeErr(http.StatusServiceUnavailable, "service.unavailable", "Service unavailable")
		return
	}
	cfg := f.d.faults.config().REST
	if !f.d.injectHTTP(w, r, "rest", cfg, FaultRESTLatency, FaultREST429, FaultREST5xx) {
		return
	}
	size, num := 25, 1
	if v, err := strconv.Atoi(r.URL.Query().Get("pageSize")); err == nil && v > 0 && v <= 200 {
		size = v
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("pageNumber")); err == nil && v > 0 {
		num = v
	}
	var all []GenesysMessage
	f.d.mu.Lock()
	if c := f.d.chats[chatID]; c != nil {
		for _, e := range c.events {
			for _, m := range f.messages(c, e) {
				if len(m.Events) > 0 && m.Events[0]["eventType"] == "Typing" {
					continue
				}
				all = append(all, m)
			}
		}
	}
	f.d.mu.Unlock()
	// Newest first.
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	lo := min((num-1)*size, len(all))
	page := all[lo:min(lo+size, len(all))]
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"entities": page, "pageSize": size, "pageNumber": num, "total": len(all), "pageCount": (len(all) + size - 1) / size})
}
