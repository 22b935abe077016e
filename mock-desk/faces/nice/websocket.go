package niceface

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// request is a frame from the customer: a chat window event, or the
// registration (AuthorizeCustomer).
type request struct {
	Action  string `json:"action"`
	EventID string `json:"eventId"`
	Payload struct {
		EventType string `json:"eventType"`
		Brand     struct {
			ID int `json:"id"`
		} `json:"brand"`
		Channel struct {
			ID string `json:"id"`
		} `json:"channel"`
		ConsumerIdentity struct {
			ID        string `json:"idOnExternalPlatform"`
			FirstName string `json:"firstName"`
			LastName  string `json:"lastName"`
		} `json:"consumerIdentity"`
		Data json.RawMessage `json:"data"`
	} `json:"payload"`
}

// eventData is what the chat window events the face knows carry in data.
type eventData struct {
	Thread struct {
		ID string `json:"idOnExternalPlatform"`
	} `json:"thread"`
	Contact struct {
		ID string `json:"id"`
	} `json:"contact"`
	AccessToken struct {
		Token string `json:"token"`
	} `json:"accessToken"`
	Authorization struct {
		Code string `json:"authorizationCode"`
	} `json:"authorization"`
	MessageID      string `json:"idOnExternalPlatform"`
	MessageContent struct {
		Type    string `json:"type"`
		Payload struct {
			Text string `json:"text"`
		} `json:"payload"`
	} `json:"messageContent"`
	Attachments []struct {
		URL          string `json:"url"`
		FriendlyName string `json:"friendlyName"`
	} `json:"attachments"`
	ConsumerContact struct {
		CustomFields []struct {
			Ident string `json:"ident"`
			Value string `json:"value"`
		} `json:"customFields"`
	} `json:"consumerContact"`
}

// conn is one gateway connection: its customer (the URL's guest, or the
// one AuthorizeCustomer or ReconnectConsumer named) and the thread it
// streams.
type conn struct {
	f          *Face
	s          *facekit.Socket
	cust       string
	authorized bool
	streamed   bool
	base       string // the face's URL, for streamed messages' sources
}

func (f *Face) websocket(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !f.channelOK(q.Get("brandId"), q.Get("channelId")) {
		http.Error(w, "brandId and channelId are required", http.StatusBadRequest)
		return
	}
	s, ok := facekit.Accept(f.d, w, r)
	if !ok {
		return
	}
	defer s.Close()
	cn := &conn{f: f, s: s, cust: q.Get("customerId"), base: "http://" + r.Host}
	ctx := r.Context()
	for {
		b, err := s.Read()
		if err != nil {
			return
		}
		var req request
		if err := json.Unmarshal(b, &req); err != nil || req.Action == "" {
			cn.fail("", "InvalidRequest", "The frame does not decode.")
			continue
		}
		if req.Action == "heartbeat" {
			s.Send([]byte(`"pong"`))
			continue
		}
		cn.serve(ctx, req)
	}
}

func (cn *conn) answer(req request, eventType string, data any) {
	cn.s.Send(mustJSON(map[string]any{"eventId": req.EventID, "eventType": eventType, "createdAt": wireTime(time.Now()), "data": data}))
}

func (cn *conn) fail(eventID, code, msg string) {
	cn.s.Send(mustJSON(map[string]any{"eventId": eventID, "createdAt": wireTime(time.Now()),
		"error": map[string]string{"errorCode": code, "errorMessage": msg, "transactionId": facekit.NewID("", 8)}}))
}

// failErr answers with the desk error's code and reason.
func (cn *conn) failErr(req request, err error) {
	switch {
	case errors.Is(err, mockdesk.ErrUnavailable):
		cn.fail(req.EventID, "ServiceUnavailable", "Service unavailable.")
	case errors.Is(err, mockdesk.ErrRateLimited):
		cn.fail(req.EventID, "TooManyRequests", "Too many requests.")
	case errors.Is(err, mockdesk.ErrChatEnded):
		cn.fail(req.EventID, "ContactClosed", "The contact is closed.")
	case errors.Is(err, mockdesk.ErrChatNotFound):
		cn.fail(req.EventID, "NotFound", "Not found.")
	default:
		cn.fail(req.EventID, "MessageRejected", mockdesk.Reason(err))
	}
}

// issue makes an access token for customer id.
func (f *Face) issue(id string) map[string]any {
	tok := facekit.NewID("at_", 16)
	f.mu.Lock()
	f.tokens[tok] = &token{customer: id, expires: time.Now().Add(f.opts.TokenTTL)}
	f.mu.Unlock()
	return map[string]any{"token": tok, "expiresIn": int(f.opts.TokenTTL / time.Second)}
}

// valid returns the customer of a token that has not expired.
func (f *Face) valid(tok string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tokens[tok]
	if t == nil || time.Now().After(t.expires) {
		return "", false
	}
	return t.customer, true
}

func (f *Face) customer(id string) *customer {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.customers[id]
	if c == nil {
		c = &customer{id: id}
		f.customers[id] = c
	}
	return c
}

// serve runs one event, one at a time per customer.
func (cn *conn) serve(ctx context.Context, req request) {
	var d eventData
	if len(req.Payload.Data) > 0 && json.Unmarshal(req.Payload.Data, &d) != nil {
		cn.fail(req.EventID, "InvalidRequest", "data does not decode.")
		return
	}
	switch req.Payload.EventType {
	case "AuthorizeCustomer":
		id, ok := cn.f.opts.AuthorizeCode(d.Authorization.Code)
		if !ok {
			cn.fail(req.EventID, "AuthorizationFailed", "The authorization code was refused.")
			return
		}
		cn.cust, cn.authorized = id, true
		cn.answer(req, "ConsumerAuthorized", map[string]any{"status": "success",
			"consumerIdentity": map[string]string{"idOnExternalPlatform": id}, "accessToken": cn.f.issue(id)})
		return
	case "ReconnectConsumer":
		id, ok := cn.f.valid(d.AccessToken.Token)
		if !ok {
			cn.fail(req.EventID, "AuthorizationFailed", "The access token is invalid or expired.")
			return
		}
		cn.cust, cn.authorized = id, true
		cn.answer(req, "ConsumerReconnected", map[string]any{})
		return
	case "RefreshToken":
		id, ok := cn.f.valid(d.AccessToken.Token)
		if !ok || (cn.authorized && id != cn.cust) {
			cn.fail(req.EventID, "AuthorizationFailed", "The access token is invalid or expired.")
			return
		}
		cn.answer(req, "TokenRefreshed", map[string]any{"accessToken": cn.f.issue(id)})
		return
	}
	if cn.cust == "" {
		cn.fail(req.EventID, "Unauthorized", "The customer is not authorized.")
		return
	}
	if cn.authorized && req.Payload.EventType == "SendMessage" {
		if id, ok := cn.f.valid(d.AccessToken.Token); !ok || id != cn.cust {
			cn.fail(req.EventID, "AuthorizationFailed", "The access token is invalid or expired.")
			return
		}
	}
	c := cn.f.customer(cn.cust)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := cn.f.d.RequestFault(ctx, mockdesk.SiteWSAction); err != nil {
		cn.failErr(req, err)
		return
	}
	if req.Payload.EventType == "SendMessage" {
		cn.sendMessage(ctx, req, c, d)
		return
	}
	th := cn.f.thread(d.Thread.ID, c.id)
	if th == nil {
		cn.fail(req.EventID, "ThreadNotFound", "Thread not found.")
		return
	}
	var err error
	switch req.Payload.EventType {
	case "SenderTypingStarted", "SenderTypingEnded":
		err = th.cc.Typing(ctx, req.Payload.EventType == "SenderTypingStarted")
	case "MessageSeenByConsumer":
		err = th.cc.Read(ctx, "")
	case "EndContact":
		if d.Contact.ID != "" && d.Contact.ID != th.contact {
			cn.fail(req.EventID, "NotFound", "Contact not found.")
			return
		}
		err = th.cc.End(ctx)
	case "RecoverLivechat":
		cn.recover(ctx, req, th)
		return
	default:
		cn.fail(req.EventID, "InvalidRequest", "Unsupported event type "+strconv.Quote(req.Payload.EventType)+".")
		return
	}
	if err != nil {
		cn.failErr(req, err)
		return
	}
	cn.answer(req, req.Payload.EventType, map[string]any{})
}

// thread is the thread id names when customer owns it.
func (f *Face) thread(id, customer string) *thread {
	f.mu.Lock()
	defer f.mu.Unlock()
	th := f.threads[id]
	if th == nil || th.owner != customer {
		return nil
	}
	return th
}

// sendMessage is SendMessage: the first message of a thread (or the next
// after its contact closed) opens a contact, a new desk chat; the others
// go to the desk as the customer's messages with their attachments. The
// answer is the message as MessageCreated, under the request's eventId.
func (cn *conn) sendMessage(ctx context.Context, req request, c *customer, d eventData) {
	text := d.MessageContent.Payload.Text
	if d.Thread.ID == "" || d.MessageID == "" || (text == "" && len(d.Attachments) == 0) {
		cn.fail(req.EventID, "InvalidRequest", "thread, idOnExternalPlatform and content are required.")
		return
	}
	ci := req.Payload.ConsumerIdentity
	if name := ci.FirstName + " " + ci.LastName; ci.FirstName != "" || ci.LastName != "" {
		c.name = name
	}
	f := cn.f
	f.mu.Lock()
	th := f.threads[d.Thread.ID]
	f.mu.Unlock()
	if th != nil && th.owner != c.id {
		cn.fail(req.EventID, "ThreadNotFound", "Thread not found.")
		return
	}
	open := th != nil
	if open {
		// A contact the desk cannot tell about now is not a closed one: a
		// new contact is opened only after the last one closed.
		info, err := th.cc.Info(ctx)
		if err != nil {
			cn.failErr(req, err)
			return
		}
		open = info.State != mockdesk.StateEnded
	}
	if !open {
		attrs := map[string]string{}
		for _, cf := range d.ConsumerContact.CustomFields {
			attrs[cf.Ident] = cf.Value
		}
		name := c.name
		if name == "" {
			name = "Customer"
		}
		cc, err := f.d.StartCustomerChat(ctx, mockdesk.ChatStart{Customer: deskproto.Customer{ID: c.id, Name: name}, Summary: text, Attributes: attrs})
		if err != nil {
			cn.failErr(req, err)
			return
		}
		th = &thread{id: d.Thread.ID, owner: c.id, contact: facekit.NewID("", 6), cc: cc}
		f.mu.Lock()
		f.threads[th.id] = th
		f.mu.Unlock()
		msg := th.customerMessage(d, nil, time.Now())
		cn.answer(req, "MessageCreated", th.messageEvent(msg, "new"))
		cn.follow(ctx, th, 0)
		return
	}
	var fileIDs []string
	var files []*upload
	for _, a := range d.Attachments {
		f.mu.Lock()
		u := f.uploads[a.URL]
		f.mu.Unlock()
		if u == nil {
			cn.fail(req.EventID, "InvalidRequest", "An attachment's url is not a temporary upload's.")
			return
		}
		files, fileIDs = append(files, u), append(fileIDs, u.id)
	}
	if err := cn.attach(ctx, th, d.MessageID, text, files); err != nil {
		cn.failErr(req, err)
		return
	}
	dm := servicedesk.NewTextRequest(text)
	dm.ID = d.MessageID
	res, err := th.cc.Send(ctx, deskproto.Message{Message: dm, FileIDs: fileIDs})
	if err != nil {
		cn.failErr(req, err)
		return
	}
	msg := th.customerMessage(d, files, res.CreatedAt)
	msg["id"] = res.MessageID
	cn.answer(req, "MessageCreated", th.messageEvent(msg, "open"))
	cn.follow(ctx, th, mockdesk.Latest)
}

// attach hands a message's files to the desk: one the chat's limits
// refuse is recorded with the message (as the desk keeps refused files)
// and fails it with the desk's reason; the others are uploaded.
func (cn *conn) attach(ctx context.Context, th *thread, msgID, text string, files []*upload) error {
	info, err := th.cc.Info(ctx)
	if err != nil {
		return err
	}
	var caps servicedesk.Capabilities
	if info.Capabilities != nil {
		caps = *info.Capabilities
	}
	for _, u := range files {
		if ok, _ := caps.Accepts(u.name, u.mime, int64(len(u.data))); ok && !executable(u.name) {
			continue
		}
		dm := servicedesk.NewTextRequest(text)
		dm.ID = msgID
		if _, err := th.cc.Send(ctx, deskproto.Message{Message: dm, FileIDs: []string{u.id}}); err != nil {
			return err
		}
		if _, err := th.cc.Upload(ctx, mockdesk.Upload{FileID: u.id, MessageID: msgID, Name: u.name, Type: u.mime, Content: u.data}); err != nil {
			return err
		}
		return fmt.Errorf("file %s: executable files are rejected: %w", u.name, mockdesk.ErrFileTypeNotAllowed)
	}
	for _, u := range files {
		if _, err := th.cc.Upload(ctx, mockdesk.Upload{FileID: u.id, Name: u.name, Type: u.mime, Content: u.data}); err != nil {
			return err
		}
	}
	return nil
}

// follow pushes the thread's events on this connection: from the start
// when the thread began on it, from now on otherwise (a connection
// replays nothing). One thread per connection.
func (cn *conn) follow(ctx context.Context, th *thread, from uint64) {
	if cn.streamed {
		return
	}
	fl, err := cn.s.Follow(ctx, th.cc, from)
	if err != nil {
		return
	}
	// Who is assigned is asked after the follower starts: an agent who
	// joins in between is in both, never in neither.
	var assignee *servicedesk.AgentProfile
	if from != 0 {
		if info, err := th.cc.Info(ctx); err == nil {
			assignee = info.Agent
		}
	}
	cn.streamed = true
	r := &renderer{f: cn.f, th: th, assignee: assignee}
	if cn.f.opts.Streamed {
		r.streamBase = cn.base
	}
	cn.s.Stream(fl, func(evs []deskproto.Event) [][]byte {
		var out [][]byte
		for _, e := range evs {
			if p := r.push(e); p != nil {
				out = append(out, mustJSON(p))
			}
		}
		return out
	})
}
