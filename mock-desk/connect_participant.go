package mockdesk

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// connectStartChatContactRequest is StartChatContact's body (the members
// the face reads).
type connectStartChatContactRequest struct {
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
	req, ok := decodeConnect[connectStartChatContactRequest](w, r, f.d.opts.MaxBodyBytes)
	if !ok {
		return
	}
	if req.InstanceID == "" || req.ContactFlowID == "" || req.ParticipantDetails == nil || req.ParticipantDetails.DisplayName == "" {
		connectError(w, http.StatusBadRequest, "InvalidParameterException", "InstanceId, ContactFlowId and ParticipantDetails.DisplayName are required.")
		return
	}
	item := servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent, MessageToHumanAgent: req.Attributes[f.opts.SummaryAttribute]}
	res, err := f.d.StartChat(r.Context(), deskproto.StartRequest{Customer: &deskproto.Customer{Name: req.ParticipantDetails.DisplayName}, ConnectItem: &item})
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
