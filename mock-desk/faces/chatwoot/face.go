package chatwootface

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// Options configures a Face.
type Options struct {
	// InboxIdentifier is the inbox the public paths must name.
	InboxIdentifier string
	// HMACToken checks a contact's identifier_hash; HMACMandatory refuses
	// contacts without one.
	HMACToken     string
	HMACMandatory bool
	// Bot: the inbox has an agent bot, so conversations start pending
	// until the bot (BotToken, in account AccountID) opens them.
	Bot       bool
	BotToken  string
	AccountID string
	// SummaryAttribute is the conversation's custom attribute whose value
	// the agent reads first (default "bot_summary").
	SummaryAttribute string
	// MaxAttachmentBytes is the largest attachment the face takes
	// (Chatwoot's MAXIMUM_FILE_UPLOAD_SIZE); the desk's own limits apply
	// to what it passes on. Default 40 MB, Chatwoot's default.
	MaxAttachmentBytes int64
}

// Face serves Chatwoot's public client API over a mock desk.
type Face struct {
	d    *mockdesk.Desk
	opts Options
	mux  *http.ServeMux

	mu       sync.Mutex
	contacts map[string]*contact // source_id
	byToken  map[string]*contact // pubsub_token
	convs    map[int64]*conversation
	nextID   int64
	users    map[string]int64 // agent profile id → user id
	profiles map[int64]servicedesk.AgentProfile
}

type contact struct {
	id                                  int64
	sourceID, token, name, email, ident string
	convs                               []*conversation
	cables                              map[*cable]struct{}
}

type conversation struct {
	id      int64
	contact *contact
	chat    *mockdesk.CustomerChat // nil while pending
	status  string
	attrs   map[string]string
	mine    []map[string]any    // the contact's messages, as rendered
	held    []deskproto.Message // posted while pending
	notes   []string            // the bot's private notes while pending
	counter int64
	echoes  map[string]int // echo_id → messages stored with it
}

// msgID is the id of a message after event seq: the contact's nth, or
// (n 0) the agent's of that event. Ids grow across conversations too, as
// Chatwoot's one table's do.
func (c *conversation) msgID(seq uint64, n int64) int64 {
	return c.id*1_000_000_000 + int64(seq)*1000 + n%1000
}

// New returns a Face for d.
func New(d *mockdesk.Desk, opts Options) *Face {
	if opts.SummaryAttribute == "" {
		opts.SummaryAttribute = "bot_summary"
	}
	opts.MaxAttachmentBytes = cmp.Or(opts.MaxAttachmentBytes, 40<<20)
	f := &Face{d: d, opts: opts, mux: http.NewServeMux(), contacts: map[string]*contact{}, byToken: map[string]*contact{},
		convs: map[int64]*conversation{}, users: map[string]int64{}, profiles: map[int64]servicedesk.AgentProfile{}}
	p := "/public/api/v1/inboxes/{inbox}/contacts"
	f.mux.HandleFunc("POST "+p, f.public(f.createContact))
	f.mux.HandleFunc("POST "+p+"/{source}/conversations", f.public(f.withContact(f.createConversation)))
	f.mux.HandleFunc("GET "+p+"/{source}/conversations", f.public(f.withContact(f.listConversations)))
	c := p + "/{source}/conversations/{id}"
	f.mux.HandleFunc("GET "+c, f.public(f.withConv(f.show)))
	f.mux.HandleFunc("GET "+c+"/messages", f.public(f.withConv(f.messages)))
	f.mux.HandleFunc("POST "+c+"/messages", f.public(f.withConv(f.post)))
	f.mux.HandleFunc("POST "+c+"/toggle_typing", f.public(f.withConv(f.typing)))
	f.mux.HandleFunc("POST "+c+"/update_last_seen", f.public(f.withConv(f.lastSeen)))
	f.mux.HandleFunc("POST "+c+"/toggle_status", f.public(f.withConv(f.resolve)))
	f.mux.HandleFunc("POST /api/v1/accounts/{account}/conversations/{id}/toggle_status", f.botToggle)
	f.mux.HandleFunc("POST /api/v1/accounts/{account}/conversations/{id}/messages", f.botNote)
	f.mux.HandleFunc("GET /cable", f.cable)
	f.mux.Handle("/", d)
	return f
}

func (f *Face) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

// Agent returns the whole profile of the agent Chatwoot shows as user id.
func (f *Face) Agent(userID string) (servicedesk.AgentProfile, bool) {
	n, _ := strconv.ParseInt(userID, 10, 64)
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.profiles[n]
	return p, ok
}

// user is the user id of an agent, made on first sight.
func (f *Face) user(p servicedesk.AgentProfile) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.users[p.ID]
	if !ok {
		f.nextID++
		id = f.nextID
		f.users[p.ID] = id
	}
	f.profiles[id] = p
	return id
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// fail answers as Rails does: {"error": message}.
func fail(w http.ResponseWriter, status int, msg string) {
	reply(w, status, map[string]string{"error": msg})
}

// public applies the REST faults and checks the inbox.
func (f *Face) public(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := f.d.RequestFault(r.Context(), mockdesk.SiteREST); err != nil {
			var fe *mockdesk.FaultError
			if errors.As(err, &fe) {
				w.Header().Set("Retry-After", strconv.Itoa(fe.RetryAfterSeconds()))
				if errors.Is(err, mockdesk.ErrRateLimited) {
					// Rack::Attack's throttled answer.
					w.Header().Set("Content-Type", "text/plain")
					w.WriteHeader(http.StatusTooManyRequests)
					_, _ = io.WriteString(w, "Retry later\n")
					return
				}
			}
			fail(w, http.StatusServiceUnavailable, "Service Unavailable")
			return
		}
		if r.PathValue("inbox") != f.opts.InboxIdentifier {
			fail(w, http.StatusNotFound, "Resource could not be found")
			return
		}
		h(w, r)
	}
}

func (f *Face) withContact(h func(w http.ResponseWriter, r *http.Request, c *contact)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		c := f.contacts[r.PathValue("source")]
		f.mu.Unlock()
		if c == nil {
			fail(w, http.StatusNotFound, "Resource could not be found")
			return
		}
		h(w, r, c)
	}
}

func (f *Face) withConv(h func(w http.ResponseWriter, r *http.Request, c *conversation)) http.HandlerFunc {
	return f.withContact(func(w http.ResponseWriter, r *http.Request, ct *contact) {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		f.mu.Lock()
		c := f.convs[id]
		f.mu.Unlock()
		if c == nil || c.contact != ct {
			fail(w, http.StatusNotFound, "Resource could not be found")
			return
		}
		h(w, r, c)
	})
}

func decode(r *http.Request, v any) error {
	return json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(v)
}

func (f *Face) createContact(w http.ResponseWriter, r *http.Request) {
	var req struct {
		SourceID       string `json:"source_id"`
		Identifier     string `json:"identifier"`
		IdentifierHash string `json:"identifier_hash"`
		Name           string `json:"name"`
		Email          string `json:"email"`
	}
	if r.ContentLength != 0 && decode(r, &req) != nil {
		fail(w, http.StatusBadRequest, "invalid JSON")
		return
	}
	if req.IdentifierHash != "" || f.opts.HMACMandatory {
		mac := hmac.New(sha256.New, []byte(f.opts.HMACToken))
		mac.Write([]byte(req.Identifier))
		if !hmac.Equal([]byte(req.IdentifierHash), []byte(hex.EncodeToString(mac.Sum(nil)))) {
			fail(w, http.StatusUnauthorized, "HMAC failed: Invalid Identifier Hash Provided")
			return
		}
	}
	c := &contact{sourceID: req.SourceID, token: facekit.NewID("", 12), name: req.Name, email: req.Email, ident: req.Identifier, cables: map[*cable]struct{}{}}
	if c.sourceID == "" {
		c.sourceID = uuid()
	}
	if c.name == "" {
		c.name = "visitor-" + c.token[:6]
	}
	f.mu.Lock()
	f.nextID++
	c.id = f.nextID
	f.contacts[c.sourceID] = c
	f.byToken[c.token] = c
	f.mu.Unlock()
	reply(w, http.StatusOK, map[string]any{"id": c.id, "source_id": c.sourceID, "pubsub_token": c.token, "name": c.name, "email": c.email})
}

func uuid() string {
	h := facekit.NewID("", 16)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

func (f *Face) createConversation(w http.ResponseWriter, r *http.Request, ct *contact) {
	var req struct {
		CustomAttributes map[string]string `json:"custom_attributes"`
	}
	if r.ContentLength != 0 && decode(r, &req) != nil {
		fail(w, http.StatusBadRequest, "invalid JSON")
		return
	}
	c := &conversation{contact: ct, status: "open", attrs: req.CustomAttributes}
	if f.opts.Bot {
		c.status = "pending"
	}
	f.mu.Lock()
	f.nextID++
	c.id = f.nextID
	f.convs[c.id] = c
	ct.convs = append(ct.convs, c)
	f.mu.Unlock()
	if !f.opts.Bot {
		if err := f.start(r.Context(), c); err != nil {
			fail(w, http.StatusServiceUnavailable, err.Error())
			return
		}
	}
	reply(w, http.StatusOK, f.render(r.Context(), c))
}

// start begins the chat at the desk (when the conversation opens), sends
// what the contact posted meanwhile, and has the contact's subscriptions
// follow it.
func (f *Face) start(ctx context.Context, c *conversation) error {
	ct := c.contact
	id := ct.ident
	if id == "" {
		id = ct.sourceID
	}
	f.mu.Lock()
	summary := strings.Join(append([]string{c.attrs[f.opts.SummaryAttribute]}, c.notes...), "\n\n")
	f.mu.Unlock()
	chat, err := f.d.StartCustomerChat(ctx, mockdesk.ChatStart{Customer: deskproto.Customer{ID: id, Name: ct.name}, Summary: strings.TrimSpace(summary), Attributes: c.attrs})
	if err != nil {
		return err
	}
	f.mu.Lock()
	c.chat, c.status = chat, "open"
	held := c.held
	c.held = nil
	cables := make([]*cable, 0, len(ct.cables))
	for cb := range ct.cables {
		cables = append(cables, cb)
	}
	f.mu.Unlock()
	for _, m := range held {
		if _, err := chat.Send(ctx, m); err != nil {
			return err
		}
	}
	for _, cb := range cables {
		cb.follow(c, 0)
	}
	return nil
}

func (f *Face) listConversations(w http.ResponseWriter, r *http.Request, ct *contact) {
	f.mu.Lock()
	convs := append([]*conversation(nil), ct.convs...)
	f.mu.Unlock()
	out := []any{}
	for _, c := range convs {
		out = append(out, f.render(r.Context(), c))
	}
	reply(w, http.StatusOK, out)
}

func (f *Face) show(w http.ResponseWriter, r *http.Request, c *conversation) {
	reply(w, http.StatusOK, f.render(r.Context(), c))
}

// statusOf is the conversation's status: resolved once the chat ended.
func (f *Face) statusOf(ctx context.Context, c *conversation) string {
	f.mu.Lock()
	chat, st := c.chat, c.status
	f.mu.Unlock()
	if chat == nil {
		return st
	}
	if info, err := chat.Info(ctx); err == nil && info.State == deskproto.StateEnded {
		return "resolved"
	}
	return st
}

// render is a conversation as the public API's builder renders it.
func (f *Face) render(ctx context.Context, c *conversation) map[string]any {
	return map[string]any{"id": c.id, "uuid": uuid(), "inbox_id": 1, "contact_last_seen_at": 0, "agent_last_seen_at": 0,
		"status": f.statusOf(ctx, c), "messages": []any{}, "contact": map[string]any{"id": c.contact.id, "name": c.contact.name, "email": c.contact.email}}
}

// messages lists the conversation's messages, oldest first, the 20 newest
// before the before id (all when none), like Chatwoot's MessageFinder.
func (f *Face) messages(w http.ResponseWriter, r *http.Request, c *conversation) {
	all, err := f.history(r.Context(), c)
	if err != nil {
		fail(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	if b, err := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64); err == nil && b > 0 {
		kept := all[:0]
		for _, m := range all {
			if m["id"].(int64) < b {
				kept = append(kept, m)
			}
		}
		all = kept
	}
	if len(all) > 20 {
		all = all[len(all)-20:]
	}
	reply(w, http.StatusOK, all)
}

// history is every message of the conversation in id order: the
// contact's, and the agents' from the chat's events.
func (f *Face) history(ctx context.Context, c *conversation) ([]map[string]any, error) {
	f.mu.Lock()
	chat := c.chat
	all := append([]map[string]any(nil), c.mine...)
	f.mu.Unlock()
	if chat != nil {
		evs, err := facekit.History(ctx, chat)
		if err != nil {
			return nil, err
		}
		r := newRenderer(f, c, nil)
		for _, e := range evs {
			if m := r.message(e); m != nil {
				all = append(all, m)
			}
			r.in.See(e)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i]["id"].(int64) < all[j]["id"].(int64) })
	return all, nil
}

// deskAnswers are the desk's errors as the API answers them (the first
// that matches); anything else is a 500.
var deskAnswers = []struct {
	err    error
	status int
}{
	{mockdesk.ErrChatEnded, http.StatusUnprocessableEntity},
	{mockdesk.ErrMessageRejected, http.StatusUnprocessableEntity},
	{mockdesk.ErrBadRequest, http.StatusUnprocessableEntity},
	{mockdesk.ErrUnavailable, http.StatusServiceUnavailable},
}

func deskError(w http.ResponseWriter, err error) {
	for _, a := range deskAnswers {
		if errors.Is(err, a.err) {
			fail(w, a.status, mockdesk.Reason(err))
			return
		}
	}
	fail(w, http.StatusInternalServerError, err.Error())
}

// onChat runs act on the conversation's chat, when it has one (not
// pending), and answers 200; a chat that ended meanwhile is no error.
func (f *Face) onChat(w http.ResponseWriter, r *http.Request, c *conversation, act func(ctx context.Context, chat *mockdesk.CustomerChat) error) {
	f.mu.Lock()
	chat := c.chat
	f.mu.Unlock()
	if chat != nil {
		if err := act(r.Context(), chat); err != nil && !errors.Is(err, mockdesk.ErrChatEnded) {
			deskError(w, err)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// post creates a contact's message: JSON or multipart (content, echo_id,
// attachments[]). Chatwoot stores every POST: echo_id is only shown back.
// Each attachment goes to the desk, which checks it against the chat's
// limits; one refused (or past MaxAttachmentBytes) refuses the message,
// 422 with the reason, as Rails answers a record that does not validate.
func (f *Face) post(w http.ResponseWriter, r *http.Request, c *conversation) {
	var content, echo string
	var files []*multipart.FileHeader
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		r.Body = http.MaxBytesReader(w, r.Body, maxAttachments*f.opts.MaxAttachmentBytes+1<<20)
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				fail(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
				return
			}
			fail(w, http.StatusBadRequest, "invalid multipart body")
			return
		}
		defer r.MultipartForm.RemoveAll()
		content, echo, files = r.FormValue("content"), r.FormValue("echo_id"), r.MultipartForm.File["attachments[]"]
	} else {
		var req struct {
			Content string `json:"content"`
			EchoID  string `json:"echo_id"`
		}
		if decode(r, &req) != nil {
			fail(w, http.StatusBadRequest, "invalid JSON")
			return
		}
		content, echo = req.Content, req.EchoID
	}
	// Chatwoot stores every POST: the desk files the first message of an
	// echo_id under it, and a later one with the same echo_id as another
	// message (echo_id#2, …), so a resend the kit should not have made
	// shows at the desk, as it would to Chatwoot's agents.
	f.mu.Lock()
	key := echo
	if n := c.echoes[echo]; n > 0 {
		key = fmt.Sprintf("%s#%d", echo, n+1)
	}
	if key == "" {
		key = facekit.NewID("post-", 8)
	}
	chat := c.chat
	f.mu.Unlock()
	switch {
	case len(files) > maxAttachments:
		invalid(w, "Attachments exceeded maximum allowed")
		return
	case len(files) > 0 && chat == nil:
		invalid(w, "attachments of a pending conversation are not modelled")
		return
	}
	m := deskproto.Message{IdempotencyKey: key, Message: servicedesk.MessageRequest{Input: servicedesk.MessageInput{Text: content}}}
	var seq uint64
	var atts []map[string]any
	if chat != nil {
		info, err := chat.Info(r.Context())
		if err != nil {
			deskError(w, err)
			return
		}
		if info.State == deskproto.StateEnded {
			deskError(w, mockdesk.ErrChatEnded)
			return
		}
		seq = info.LastSeq
		var refused string
		atts, m.FileIDs, refused, err = f.attach(r, chat, key, files)
		if err != nil {
			deskError(w, err)
			return
		}
		if refused != "" {
			// Chatwoot stores nothing of it; the agent side sees the file refused.
			_, _ = chat.Send(r.Context(), deskproto.Message{IdempotencyKey: facekit.NewID("refused-", 8), FileIDs: m.FileIDs})
			invalid(w, refused)
			return
		}
		if _, err := chat.Send(r.Context(), m); err != nil {
			deskError(w, err)
			return
		}
	}
	f.mu.Lock()
	if chat == nil {
		c.held = append(c.held, m)
	}
	if echo != "" {
		if c.echoes == nil {
			c.echoes = map[string]int{}
		}
		c.echoes[echo]++
	}
	c.counter++
	msg := map[string]any{"id": c.msgID(seq, c.counter), "content": content, "message_type": 0, "content_type": "text",
		"content_attributes": map[string]any{}, "created_at": time.Now().Unix(), "conversation_id": c.id,
		"sender": map[string]any{"id": c.contact.id, "name": c.contact.name, "type": "contact"}}
	if len(atts) > 0 {
		for _, a := range atts {
			a["message_id"] = msg["id"]
		}
		msg["attachments"] = atts
	}
	c.mine = append(c.mine, msg)
	cables := make([]*cable, 0, len(c.contact.cables))
	for cb := range c.contact.cables {
		cables = append(cables, cb)
	}
	f.mu.Unlock()
	// The echo on the contact's cable carries echo_id (push_event_data).
	pushed := map[string]any{}
	for k, v := range msg {
		pushed[k] = v
	}
	if echo != "" {
		pushed["echo_id"] = echo
	}
	for _, cb := range cables {
		cb.event("message.created", pushed)
	}
	reply(w, http.StatusOK, msg)
}

// maxAttachments is Message's NUMBER_OF_PERMITTED_ATTACHMENTS.
const maxAttachments = 15

// invalid answers a message that does not validate, as Rails'
// render_record_invalid does: 422 {"message", "attributes"}.
func invalid(w http.ResponseWriter, msg string) {
	reply(w, http.StatusUnprocessableEntity, map[string]any{"message": msg, "attributes": []string{"attachments"}})
}

// attach hands a message's files to the desk and renders them as the
// message's attachments (push_event_data of each). refused is the first
// refusal's reason; err is the desk's being away.
func (f *Face) attach(r *http.Request, chat *mockdesk.CustomerChat, key string, files []*multipart.FileHeader) (atts []map[string]any, ids []string, refused string, err error) {
	for _, fh := range files {
		f.mu.Lock()
		f.nextID++
		id := f.nextID
		f.mu.Unlock()
		fileID := strconv.FormatInt(id, 10)
		ctype := fh.Header.Get("Content-Type")
		if fh.Size > f.opts.MaxAttachmentBytes {
			refused = cmp.Or(refused, "File size is too big") // the file's 'size is too big'
			continue
		}
		var content []byte
		if rd, err := fh.Open(); err == nil {
			content, _ = io.ReadAll(rd)
			rd.Close()
		}
		_, err := chat.Upload(r.Context(), mockdesk.Upload{FileID: fileID, MessageID: key, Name: fh.Filename, Type: ctype, Content: content})
		if errors.Is(err, mockdesk.ErrUnavailable) {
			return nil, nil, "", err
		}
		if err != nil {
			refused = cmp.Or(refused, mockdesk.Reason(err))
		}
		ids = append(ids, fileID)
		atts = append(atts, map[string]any{"id": id, "file_type": fileType(ctype), "account_id": 1, "extension": strings.TrimPrefix(path.Ext(fh.Filename), "."),
			"data_url": "http://" + r.Host + "/control/chats/" + chat.ID() + "/files/" + fileID, "thumb_url": "", "file_size": len(content)})
	}
	return atts, ids, refused, nil
}

// fileType is an attachment's file_type from its content type, as
// Chatwoot's FileTypeHelper decides it.
func fileType(ctype string) string {
	for _, t := range []string{"image", "video", "audio"} {
		if strings.HasPrefix(ctype, t+"/") {
			return t
		}
	}
	return "file"
}

func (f *Face) typing(w http.ResponseWriter, r *http.Request, c *conversation) {
	var req struct {
		TypingStatus string `json:"typing_status"`
	}
	_ = decode(r, &req)
	f.onChat(w, r, c, func(ctx context.Context, chat *mockdesk.CustomerChat) error {
		if req.TypingStatus != "on" && req.TypingStatus != "off" {
			return nil // Chatwoot ignores other values
		}
		return chat.Typing(ctx, req.TypingStatus == "on")
	})
}

func (f *Face) lastSeen(w http.ResponseWriter, r *http.Request, c *conversation) {
	f.onChat(w, r, c, func(ctx context.Context, chat *mockdesk.CustomerChat) error { return chat.Read(ctx, "") })
}

// resolve is the contact's toggle_status: it resolves the conversation,
// and does nothing to a resolved one.
func (f *Face) resolve(w http.ResponseWriter, r *http.Request, c *conversation) {
	f.mu.Lock()
	chat := c.chat
	if chat == nil {
		c.status = "resolved"
	}
	f.mu.Unlock()
	if chat != nil {
		if err := chat.End(r.Context()); err != nil && !errors.Is(err, mockdesk.ErrChatEnded) {
			deskError(w, err)
			return
		}
	}
	reply(w, http.StatusOK, f.render(r.Context(), c))
}

// botToggle is the application API's toggle_status with the agent bot's
// token: status open starts a pending conversation at the desk.
func (f *Face) botToggle(w http.ResponseWriter, r *http.Request) {
	c := f.botConv(w, r)
	if c == nil {
		return
	}
	var req struct {
		Status string `json:"status"`
	}
	_ = decode(r, &req)
	f.mu.Lock()
	pending := c.chat == nil && c.status == "pending"
	f.mu.Unlock()
	if req.Status == "open" && pending {
		if err := f.start(r.Context(), c); err != nil {
			fail(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		// conversation.status_changed to the contact's cable.
		f.mu.Lock()
		cables := make([]*cable, 0, len(c.contact.cables))
		for cb := range c.contact.cables {
			cables = append(cables, cb)
		}
		f.mu.Unlock()
		for _, cb := range cables {
			cb.event("conversation.status_changed", map[string]any{"id": c.id, "status": "open", "meta": map[string]any{"assignee": nil}})
		}
	}
	reply(w, http.StatusOK, map[string]any{"meta": map[string]any{}, "payload": map[string]any{"success": true, "conversation_id": c.id, "current_status": f.statusOf(r.Context(), c)}})
}

// botConv checks the agent bot's token and finds the conversation.
func (f *Face) botConv(w http.ResponseWriter, r *http.Request) *conversation {
	if err := f.d.RequestFault(r.Context(), mockdesk.SiteREST); err != nil {
		fail(w, http.StatusServiceUnavailable, "Service Unavailable")
		return nil
	}
	if !f.opts.Bot || r.Header.Get("api_access_token") != f.opts.BotToken || r.PathValue("account") != f.opts.AccountID {
		fail(w, http.StatusUnauthorized, "You need to sign in or sign up before continuing.")
		return nil
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	f.mu.Lock()
	c := f.convs[id]
	f.mu.Unlock()
	if c == nil {
		fail(w, http.StatusNotFound, "Resource could not be found")
	}
	return c
}

// botNote is the application API's message create with the bot's token:
// a private note, which only agents read; one made while the bot holds the
// conversation is part of what the agent reads first.
func (f *Face) botNote(w http.ResponseWriter, r *http.Request) {
	c := f.botConv(w, r)
	if c == nil {
		return
	}
	var req struct {
		Content string `json:"content"`
		Private bool   `json:"private"`
	}
	if decode(r, &req) != nil || !req.Private {
		fail(w, http.StatusUnprocessableEntity, "only private notes are modelled")
		return
	}
	f.mu.Lock()
	if c.chat == nil {
		c.notes = append(c.notes, req.Content)
	}
	f.nextID++
	id := f.nextID
	f.mu.Unlock()
	reply(w, http.StatusOK, map[string]any{"id": id, "content": req.Content, "private": true, "message_type": 1, "conversation_id": c.id})
}
