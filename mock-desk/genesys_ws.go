package mockdesk

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// websocket is a guest's WebSocket.
func (f *GenesysFace) websocket(w http.ResponseWriter, r *http.Request) {
	if dep := r.URL.Query().Get("deploymentId"); dep == "" || (f.opts.DeploymentID != "" && dep != f.opts.DeploymentID) {
		http.Error(w, "unknown deployment", http.StatusForbidden)
		return
	}
	if !f.d.injectHTTP(w, r, SiteWSHandshake) {
		return
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	d := f.d
	s := &wsConn{d: d, conn: conn, out: make(chan outFrame, 64), done: make(chan struct{}), faults: d.FrameFaults()}
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
			var env genesysEnvelope
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
func (f *GenesysFace) serve(r *http.Request, s *wsConn, sess *genesysSession, req genesysRequest, attached **chat, attach chan<- faceStream) *genesysEnvelope {
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

func (f *GenesysFace) reply(s *wsConn, env genesysEnvelope) { s.send(rawFrame(mustJSON(env))) }

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
	var from uint64
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
func (f *GenesysFace) actionFault(req genesysRequest) (genesysEnvelope, bool) {
	if req.Action != "onMessage" && req.Action != "onAttachment" {
		return genesysEnvelope{}, false
	}
	cfg := f.d.faults.config().WS
	switch {
	case f.d.faults.hit("ws", FaultWSAction429, cfg.ActionRate429):
		secs := int(max(time.Duration(cfg.RetryAfter), time.Second) / time.Second)
		return genesysEnvelope{Type: "response", Class: "TooManyRequestsErrorMessage", Code: 429, TracingID: req.TracingID,
			Body: map[string]any{"retryAfter": secs, "errorCode": 4029, "errorMessage": "Message rate too high for this session"}}, true
	case f.d.faults.hit("ws", FaultWSAction5xx, cfg.ActionRate5xx):
		return genesysError(req.TracingID, 500, "Internal server error"), true
	}
	return genesysEnvelope{}, false
}

// configure answers configureSession: a known token resumes its session
// (read-only once its conversation ended); an unknown one is a new session.
func (f *GenesysFace) configure(req genesysRequest) (*genesysSession, genesysEnvelope) {
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
	return sess, genesysEnvelope{Type: "response", Class: "SessionResponse", Code: 200, Body: body, TracingID: req.TracingID}
}

// handle runs one action of a configured session.
func (f *GenesysFace) handle(r *http.Request, sess *genesysSession, req genesysRequest) *genesysEnvelope {
	ctx := f.d.ctx
	ok := func(class string, body any) *genesysEnvelope {
		return &genesysEnvelope{Type: "response", Class: class, Code: 200, Body: body, TracingID: req.TracingID}
	}
	fail := func(err error) *genesysEnvelope {
		env := genesysError(req.TracingID, genesysCodeOf(err), Reason(err))
		return &env
	}
	switch req.Action {
	case "echo":
		return ok("StructuredMessage", genesysMessage{ID: newID("", 16), Type: "Text", Text: "ping", Direction: "Inbound", Metadata: map[string]string{"customMessageId": "SGVhbHRoQ2hlY2tNZXNzYWdlSWQ="}})
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
