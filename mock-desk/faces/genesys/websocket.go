package genesysface

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// websocket is a guest's WebSocket.
func (f *Face) websocket(w http.ResponseWriter, r *http.Request) {
	if dep := r.URL.Query().Get("deploymentId"); dep == "" || (f.opts.DeploymentID != "" && dep != f.opts.DeploymentID) {
		http.Error(w, "unknown deployment", http.StatusForbidden)
		return
	}
	s, ok := facekit.Accept(f.d, w, r)
	if !ok {
		return
	}
	defer s.Close()
	var attached string // the chat s streams
	defer func() { f.detach(attached, s) }()
	var sess *session
	for {
		b, err := s.Read()
		if err != nil {
			return
		}
		var req request
		if err := json.Unmarshal(b, &req); err != nil {
			f.reply(s, errorEnvelope("", 4000, "Request is not valid JSON."))
			continue
		}
		if req.Action == "configureSession" || req.Action == "configureAuthenticatedSession" {
			var env envelope
			sess, env = f.configure(req)
			f.reply(s, env)
			if sess != nil && attached == "" {
				sess.mu.Lock()
				if sess.chat != nil {
					attached = f.attach(r.Context(), s, sess)
				}
				sess.mu.Unlock()
			}
			continue
		}
		if sess == nil || req.Token != sess.token {
			f.reply(s, errorEnvelope(req.TracingID, 4007, "Session not found; configure the session first."))
			continue
		}
		if env := f.serve(r, s, sess, req, &attached); env != nil {
			f.reply(s, *env)
		}
	}
}

// serve runs one request of a configured session. A session's requests
// run one at a time (its lock), whichever connection they come on.
func (f *Face) serve(r *http.Request, s *facekit.Socket, sess *session, req request, attached *string) *envelope {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if err := f.reachable(r.Context(), sess); err != nil {
		env := errorEnvelope(req.TracingID, codeOf(err), err.Error())
		return &env
	}
	if env, faulted := f.actionFault(r.Context(), req); faulted {
		return &env
	}
	env := f.handle(r, sess, req)
	if sess.chat != nil && *attached == "" {
		*attached = f.attach(r.Context(), s, sess)
	}
	return env
}

func (f *Face) reply(s *facekit.Socket, env envelope) { s.Send(mustJSON(env)) }

// attach starts streaming the session's chat on s: from its start the
// first time (the conversation began on this connection), from the
// present on later connections (Genesys replays nothing). It returns the
// chat's id, empty when it could not.
func (f *Face) attach(ctx context.Context, s *facekit.Socket, sess *session) string {
	f.mu.Lock()
	first := !sess.streamed
	sess.streamed = true
	f.mu.Unlock()
	from, inChat := uint64(0), facekit.NewInChat(nil)
	if !first {
		from = mockdesk.Latest
		if info, err := sess.chat.Info(ctx); err == nil {
			inChat = facekit.NewInChat(info.Agent)
		}
	}
	follow, err := s.Follow(ctx, sess.chat, from)
	if err != nil {
		return ""
	}
	id := sess.chat.ID()
	f.mu.Lock()
	if f.sockets[id] == nil {
		f.sockets[id] = map[*facekit.Socket]struct{}{}
	}
	f.sockets[id][s] = struct{}{}
	f.mu.Unlock()
	s.Stream(follow, func(evs []deskproto.Event) [][]byte {
		var out [][]byte
		for _, e := range evs {
			for _, m := range f.messages(e, inChat.Agent()) {
				out = append(out, mustJSON(envelope{Type: "message", Class: "StructuredMessage", Code: 200, Body: m}))
			}
			inChat.See(e)
		}
		return out
	})
	return id
}

// detach forgets s as a socket of chat id.
func (f *Face) detach(id string, s *facekit.Socket) {
	if id == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.sockets[id], s)
	if len(f.sockets[id]) == 0 {
		delete(f.sockets, id)
	}
}

// reachable fails while DropConnections cuts the session's chat off.
func (f *Face) reachable(ctx context.Context, sess *session) error {
	if sess.chat == nil {
		return nil
	}
	if _, err := sess.chat.Info(ctx); errors.Is(err, mockdesk.ErrUnavailable) {
		return err
	}
	return nil
}

// actionFault answers an onMessage or onAttachment with an injected 429
// or 500.
func (f *Face) actionFault(ctx context.Context, req request) (envelope, bool) {
	if req.Action != "onMessage" && req.Action != "onAttachment" {
		return envelope{}, false
	}
	var fe *mockdesk.FaultError
	if !errors.As(f.d.RequestFault(ctx, mockdesk.SiteWSAction), &fe) {
		return envelope{}, false
	}
	if errors.Is(fe, mockdesk.ErrRateLimited) {
		secs := int(max(fe.RetryAfter, time.Second) / time.Second)
		return envelope{Type: "response", Class: "TooManyRequestsErrorMessage", Code: 429, TracingID: req.TracingID,
			Body: map[string]any{"retryAfter": secs, "errorCode": 4029, "errorMessage": "Message rate too high for this session"}}, true
	}
	return errorEnvelope(req.TracingID, 500, "Internal server error"), true
}

// configure answers configureSession: a known token resumes its session
// (read-only once its conversation ended); an unknown one is a new session.
func (f *Face) configure(req request) (*session, envelope) {
	if req.Token == "" || req.DeploymentID == "" {
		return nil, errorEnvelope(req.TracingID, 4020, "token and deploymentId are required.")
	}
	var customer *deskproto.Customer
	if req.Action == "configureAuthenticatedSession" {
		if req.Data == nil || req.Data.Code == "" {
			return nil, errorEnvelope(req.TracingID, 4020, "data.code is required.")
		}
		c, ok := f.authCustomer(req.Data.Code)
		if !ok {
			return nil, errorEnvelope(req.TracingID, 401, "Authentication failed: the JWT is not valid.")
		}
		customer = &c
	}
	f.mu.Lock()
	sess, known := f.sessions[req.Token]
	switch {
	case known && !req.StartNew && (sess.customer == nil) != (customer == nil):
		f.mu.Unlock()
		return nil, errorEnvelope(req.TracingID, 4020, "The session was configured with another kind of authentication.")
	case known && !req.StartNew && customer != nil && sess.customer.ID != customer.ID:
		f.mu.Unlock()
		return nil, errorEnvelope(req.TracingID, 403, "The session belongs to another customer.")
	case !known || req.StartNew:
		sess = &session{token: req.Token, customer: customer}
		f.sessions[req.Token] = sess
	}
	f.mu.Unlock()
	sess.mu.Lock()
	defer sess.mu.Unlock()
	readOnly := false
	caps := *f.d.Options().Capabilities
	if sess.chat != nil {
		caps = mockdesk.DefaultCapabilities
		if v, err := f.d.ChatView(sess.chat.ID()); err == nil {
			readOnly, caps = v.State == mockdesk.StateEnded, v.Capabilities
		}
	}
	body := map[string]any{
		"connected": true, "newSession": !known || req.StartNew, "readOnly": readOnly,
		"allowedMedia":       map[string]any{"inbound": map[string]any{"fileTypes": fileTypes(caps.AllowedFileUploadTypes), "maxFileSizeKB": caps.MaxFileSizeBytes / 1024}},
		"blockedExtensions":  f.opts.BlockedExtensions,
		"maxCustomDataBytes": 2048, "durationSeconds": 259200,
	}
	return sess, envelope{Type: "response", Class: "SessionResponse", Code: 200, Body: body, TracingID: req.TracingID}
}
