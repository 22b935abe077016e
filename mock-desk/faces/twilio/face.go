// Package twilioface is mock-desk's Twilio face: Twilio Conversations v1,
// Flex's Interactions API, the Media Content Service and the
// conversations' webhooks, in the shapes Twilio documents (the
// twilio/twilio-oai specs, the Conversations webhooks guide, the webhook
// security guide), over mock-desk's agents.
//
// A conversation is the face's own until POST /v1/Interactions hands it to
// Flex: then it becomes a mock-desk chat, its customer's messages and files
// go to the desk, and the chat's events come back as the conversation's
// changes (an agent participant, the agent's messages, the read horizon,
// the state closed) and as signed webhooks to the conversation's scoped
// webhooks; a chat that ends before an agent took it is a TaskRouter
// task.canceled to the same URLs. The desk's faults apply: REST faults to
// every call, webhook faults (latency, lost, duplicated, reordered) to
// every delivery, and a dropped connection loses the webhooks of what
// happens meanwhile, as Twilio does not retry them.
package twilioface

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// Options configure the face.
type Options struct {
	// AuthToken is the account's auth token: REST calls authenticate with
	// it (or with an API key, any SK… user) and webhooks are signed with
	// it. Default "mock-auth-token".
	AuthToken string
	// SummaryAttribute is the task attribute the agent reads first.
	// Default "conversationSummary".
	SummaryAttribute string
	// IDAttribute is the message attribute that carries the client's own
	// message id, the desk's idempotency key. Default
	// "deskbridge_message_id".
	IDAttribute string
	// Client posts the webhooks. Default a client with Twilio's 5 s.
	Client *http.Client
}

// Face is an http.Handler speaking Twilio's APIs for a mock-desk.
type Face struct {
	d    *mockdesk.Desk
	opts Options

	mu     sync.Mutex
	n      int
	convs  map[string]*conversation // by sid and by unique name
	media  map[string]*media
	agents map[string]servicedesk.AgentProfile // by identity
	inters map[string]*conversation            // by interaction sid
}

type conversation struct {
	sid, unique, friendly, attrs, state string
	service                             string
	parts                               []*participant
	msgs                                []*message
	hooks                               []hook
	customer                            string // the customer's identity
	chat                                *mockdesk.CustomerChat
	interaction, channel                string
	agentPart                           string // the current agent's participant sid
	joined                              bool
	errors                              []string     // the desk's error reasons
	queue                               []url.Values // webhooks to post, in order
	held                                url.Values   // a webhook held back (reordered)
	sending                             bool         // a sender runs
}

type participant struct {
	sid, identity, attrs string
	read                 *int
}

type message struct {
	sid         string
	index       int
	author      string
	body        string
	attrs       string
	media       []*media
	participant string
	created     time.Time
	deskID      string // an agent message's mock-desk id
}

type media struct {
	sid, service, name, ctype string
	content                   []byte
	link                      string // an agent's image: its own URL
}

type hook struct {
	sid, url string
	filters  []string
}

// New returns the face of d.
func New(d *mockdesk.Desk, opts Options) *Face {
	opts.AuthToken = cmp.Or(opts.AuthToken, "mock-auth-token")
	opts.SummaryAttribute = cmp.Or(opts.SummaryAttribute, "conversationSummary")
	opts.IDAttribute = cmp.Or(opts.IDAttribute, "deskbridge_message_id")
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 5 * time.Second}
	}
	return &Face{d: d, opts: opts, convs: map[string]*conversation{}, media: map[string]*media{},
		agents: map[string]servicedesk.AgentProfile{}, inters: map[string]*conversation{}}
}

// Agent returns the whole profile of the agent with identity: what a
// directory outside Twilio knows (a picture).
func (f *Face) Agent(identity string) (servicedesk.AgentProfile, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.agents[identity]
	return p, ok
}

func (f *Face) sid(prefix string) string {
	f.n++
	return fmt.Sprintf("%s%032x", prefix, f.n)
}

// twilioError writes Twilio's error answer.
func twilioError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg, "more_info": "https://www.twilio.com/docs/errors/" + strconv.Itoa(code), "status": status})
}

// deskError answers a mock-desk error in Twilio's shape.
func deskError(w http.ResponseWriter, err error) {
	var fe *mockdesk.FaultError
	switch {
	case errors.As(err, &fe):
		w.Header().Set("Retry-After", strconv.Itoa(fe.RetryAfterSeconds()))
		if errors.Is(err, mockdesk.ErrRateLimited) {
			twilioError(w, http.StatusTooManyRequests, 20429, "Too Many Requests")
			return
		}
		twilioError(w, http.StatusServiceUnavailable, 20503, "Service Unavailable")
	case errors.Is(err, mockdesk.ErrUnavailable), errors.Is(err, mockdesk.ErrClosed):
		twilioError(w, http.StatusServiceUnavailable, 20503, "Service Unavailable")
	case errors.Is(err, mockdesk.ErrChatNotFound), errors.Is(err, mockdesk.ErrChatEnded):
		twilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
	default:
		twilioError(w, http.StatusBadRequest, 50000, mockdesk.Reason(err))
	}
}

// ServeHTTP serves Twilio's REST APIs; other paths are the desk's own
// (its agent console, its control API).
func (f *Face) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !twilioPath(r.URL.Path) {
		f.d.ServeHTTP(w, r)
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || (pass != f.opts.AuthToken && !strings.HasPrefix(user, "SK")) {
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if err := f.d.RequestFault(r.Context(), mockdesk.SiteREST); err != nil {
		deskError(w, err)
		return
	}
	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(seg) < 2 || seg[0] != "v1" {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	switch {
	case seg[1] == "Conversations":
		f.conversations(w, r, seg[2:])
	case seg[1] == "Users" && len(seg) == 3 && r.Method == http.MethodGet:
		f.user(w, seg[2])
	case seg[1] == "Interactions":
		f.interactions(w, r, seg[2:])
	case seg[1] == "Services" && len(seg) >= 4 && seg[3] == "Media":
		f.mediaService(w, r, seg[2], seg[4:])
	default:
		twilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
	}
}

// twilioPath reports whether p is one of the Twilio APIs the face serves.
func twilioPath(p string) bool {
	for _, api := range []string{"/v1/Conversations", "/v1/Users/", "/v1/Interactions", "/v1/Services/"} {
		if strings.HasPrefix(p, api) {
			return true
		}
	}
	return false
}

func (f *Face) user(w http.ResponseWriter, identity string) {
	p, ok := f.Agent(identity)
	if !ok {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource /Users/"+identity+" was not found")
		return
	}
	facekit.WriteJSON(w, http.StatusOK, map[string]any{"sid": "US" + fmt.Sprintf("%032x", len(identity)), "identity": identity, "friendly_name": p.Nickname, "attributes": "{}"})
}

// sign is Twilio's X-Twilio-Signature of a form POST to u.
func sign(token, u string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(u))
	for _, k := range keys {
		for _, v := range form[k] {
			m.Write([]byte(k + v))
		}
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// emit queues a webhook of c for its scoped webhooks, and starts c's
// sender unless it runs (callers hold f.mu).
func (f *Face) emit(c *conversation, form url.Values) {
	form.Set("AccountSid", "AC00000000000000000000000000000000")
	form.Set("RetryCount", "0")
	form.Set("Source", "SDK")
	c.queue = append(c.queue, form)
	if !c.sending {
		c.sending = f.d.Go(func(ctx context.Context) { f.sender(ctx, c) })
	}
}

// sender posts c's queued webhooks in order, with the desk's webhook
// faults, and ends when the queue is empty.
func (f *Face) sender(ctx context.Context, c *conversation) {
	for {
		f.mu.Lock()
		if len(c.queue) == 0 || ctx.Err() != nil {
			c.sending = false
			f.mu.Unlock()
			return
		}
		form := c.queue[0]
		c.queue = c.queue[1:]
		f.mu.Unlock()
		fault := f.d.WebhookFault()
		if fault.Latency > 0 {
			select {
			case <-time.After(fault.Latency):
			case <-ctx.Done():
				continue
			}
		}
		if fault.Unreachable {
			continue // Twilio does not retry
		}
		f.mu.Lock()
		held := c.held
		c.held = nil
		if fault.Reorder && held == nil && len(c.queue) > 0 {
			c.held = form // after the next one
			f.mu.Unlock()
			continue
		}
		f.mu.Unlock()
		token := "idem-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		f.post(ctx, c, form, token)
		if fault.Duplicate {
			f.post(ctx, c, form, token)
		}
		if held != nil {
			f.post(ctx, c, held, "idem-"+strconv.FormatInt(time.Now().UnixNano(), 36))
		}
	}
}

// post delivers one webhook to each of c's scoped webhooks whose filters
// take it (TaskRouter events go to all).
func (f *Face) post(ctx context.Context, c *conversation, form url.Values, token string) {
	f.mu.Lock()
	hooks := append([]hook(nil), c.hooks...)
	f.mu.Unlock()
	ev := form.Get("EventType")
	for _, h := range hooks {
		if !strings.HasPrefix(ev, "task.") && len(h.filters) > 0 && !contains(h.filters, ev) {
			continue
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, strings.NewReader(form.Encode()))
		if err != nil {
			continue
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sign(f.opts.AuthToken, h.url, form))
		req.Header.Set("I-Twilio-Idempotency-Token", token)
		req.Header.Set("User-Agent", "TwilioProxy/1.1")
		resp, err := f.opts.Client.Do(req)
		if err != nil {
			continue // lost: Twilio logs an error and moves on
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
