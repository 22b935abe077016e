package connectface

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// The contact's start and the Participant Service's calls.

// startChatContactRequest is StartChatContact's body (the members the
// face reads).
type startChatContactRequest struct {
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

func (f *Face) startChatContact(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		connectError(w, http.StatusForbidden, "AccessDeniedException", "Missing SigV4 authorization.")
		return
	}
	req, ok := decode[startChatContactRequest](w, r, f.maxBody)
	if !ok {
		return
	}
	if req.InstanceID == "" || req.ContactFlowID == "" || req.ParticipantDetails == nil || req.ParticipantDetails.DisplayName == "" {
		connectError(w, http.StatusBadRequest, "InvalidParameterException", "InstanceId, ContactFlowId and ParticipantDetails.DisplayName are required.")
		return
	}
	if msg := attributesProblem(req.Attributes, req.ParticipantDetails.DisplayName); msg != "" {
		connectError(w, http.StatusBadRequest, "InvalidParameterException", msg)
		return
	}
	cc, err := f.d.StartCustomerChat(r.Context(), mockdesk.ChatStart{
		Customer:   deskproto.Customer{Name: req.ParticipantDetails.DisplayName},
		Summary:    req.Attributes[f.opts.SummaryAttribute],
		Attributes: req.Attributes,
	})
	if err != nil {
		errorOf(w, err)
		return
	}
	p := &participant{chat: cc, participantID: "cp-" + strings.TrimPrefix(cc.ID(), "ch_"), participantToken: facekit.NewID("pt_", 24)}
	f.mu.Lock()
	f.participants[p.participantToken] = p
	f.mu.Unlock()
	facekit.WriteJSON(w, http.StatusOK, map[string]string{"ContactId": cc.ID(), "ParticipantId": p.participantID, "ParticipantToken": p.participantToken})
}

func (f *Face) createParticipantConnection(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	p := f.participants[bearerToken(r)]
	f.mu.Unlock()
	if p == nil {
		connectError(w, http.StatusForbidden, "AccessDeniedException", "The participant token is not valid.")
		return
	}
	req, ok := decode[struct {
		Type               []string
		ConnectParticipant bool
	}](w, r, f.maxBody)
	if !ok {
		return
	}
	info, err := p.chat.Info(r.Context())
	if err != nil {
		errorOf(w, err)
		return
	}
	if info.State == mockdesk.StateEnded {
		connectError(w, http.StatusForbidden, "AccessDeniedException", "The contact has ended.")
		return
	}
	out := map[string]any{}
	now := time.Now().UTC()
	for _, t := range req.Type {
		switch t {
		case "WEBSOCKET":
			g := facekit.NewID("ws_", 16)
			exp := now.Add(f.opts.URLTTL)
			f.mu.Lock()
			f.grants[g] = grant{p: p, expiry: exp}
			f.mu.Unlock()
			scheme := "ws"
			if r.TLS != nil {
				scheme = "wss"
			}
			out["Websocket"] = map[string]string{"Url": scheme + "://" + r.Host + "/connect/ws?AuthToken=" + g, "ConnectionExpiry": connectTime(exp)}
		case "CONNECTION_CREDENTIALS":
			tok := facekit.NewID("ct_", 24)
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
	facekit.WriteJSON(w, http.StatusOK, out)
}

type sendRequest struct {
	ContentType string `json:"ContentType"`
	Content     string `json:"Content"`
	ClientToken string `json:"ClientToken,omitempty"`
}

func (f *Face) sendMessage(w http.ResponseWriter, r *http.Request, p *participant) {
	req, ok := decode[sendRequest](w, r, f.maxBody)
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
	res, err := p.chat.Send(r.Context(), deskproto.Message{IdempotencyKey: req.ClientToken, Message: msg})
	if err != nil {
		errorOf(w, err)
		return
	}
	facekit.WriteJSON(w, http.StatusOK, map[string]string{"Id": res.MessageID, "AbsoluteTime": connectTime(res.CreatedAt)})
}

func (f *Face) sendEvent(w http.ResponseWriter, r *http.Request, p *participant) {
	req, ok := decode[sendRequest](w, r, f.maxBody)
	if !ok {
		return
	}
	var err error
	switch req.ContentType {
	case ctTyping:
		err = p.chat.Typing(r.Context(), true)
		if err == nil {
			f.typingFor(p.chat)
		}
	case ctMessageRead:
		var c struct {
			MessageID string `json:"messageId"`
		}
		_ = json.Unmarshal([]byte(req.Content), &c)
		err = p.chat.Read(r.Context(), c.MessageID)
	case ctMessageDelivered, ctConnectionAck:
	default:
		connectError(w, http.StatusBadRequest, "ValidationException", "ContentType "+strconv.Quote(req.ContentType)+" is not supported.")
		return
	}
	if err != nil {
		errorOf(w, err)
		return
	}
	facekit.WriteJSON(w, http.StatusOK, map[string]string{"Id": facekit.NewID("ev_", 8), "AbsoluteTime": connectTime(time.Now())})
}

// typingFor ends the customer's typing once the event's validity is over
// (Connect has no "stopped typing").
func (f *Face) typingFor(cc *mockdesk.CustomerChat) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.typingStop[cc.ID()]; t != nil {
		t.Stop()
	}
	f.typingStop[cc.ID()] = time.AfterFunc(f.opts.TypingValidity, func() {
		_ = cc.Typing(context.Background(), false)
	})
}

func (f *Face) disconnect(w http.ResponseWriter, r *http.Request, p *participant) {
	if err := p.chat.End(r.Context()); err != nil {
		errorOf(w, err)
		return
	}
	facekit.WriteJSON(w, http.StatusOK, struct{}{})
}

// attributesProblem checks StartChatContact's documented limits: up to
// 32,768 UTF-8 bytes across all attribute keys and values, keys of
// alphanumerics, dashes and underscores; a display name of at most 256
// characters.
func attributesProblem(attrs map[string]string, displayName string) string {
	if utf8.RuneCountInString(displayName) > 256 {
		return "ParticipantDetails.DisplayName is longer than 256 characters."
	}
	n := 0
	for k, v := range attrs {
		n += len(k) + len(v)
		if k == "" || strings.TrimFunc(k, func(r rune) bool {
			return r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		}) != "" {
			return fmt.Sprintf("Attribute key %q: only alphanumeric, dash and underscore characters.", k)
		}
	}
	if n > 32768 {
		return fmt.Sprintf("Attributes are %d bytes; at most 32768.", n)
	}
	return ""
}
