package mockdesk

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// ChatView is a chat as the agent side sees it: the control API's and the
// console's snapshot.
type ChatView struct {
	ChatID   string             `json:"chat_id"`
	State    string             `json:"state"`
	EndedBy  string             `json:"ended_by,omitempty"`
	Created  time.Time          `json:"created"`
	Customer deskproto.Customer `json:"customer"`
	Summary  string             `json:"summary,omitempty"`
	// Attributes are the contact's custom attributes a vendor face passed
	// on at the start (StartCustomerChat).
	Attributes map[string]string `json:"attributes,omitempty"`
	// Handoff is the desk protocol's hand-off context of the start.
	Handoff        *servicedesk.Handoff      `json:"handoff,omitempty"`
	Agent          *servicedesk.AgentProfile `json:"agent,omitempty"`
	TransferTo     *servicedesk.AgentProfile `json:"transfer_to,omitempty"`
	Position       int                       `json:"position,omitempty"`
	WaitMinutes    int                       `json:"wait_minutes,omitempty"`
	CustomerTyping bool                      `json:"customer_typing"`
	// LastRead is the last agent message the customer has read.
	LastRead     string                   `json:"last_read,omitempty"`
	ScreenShare  string                   `json:"screen_share,omitempty"`
	LastSeq      uint64                   `json:"last_seq"`
	Transcript   []TranscriptEntry        `json:"transcript"`
	Capabilities servicedesk.Capabilities `json:"capabilities"`
}

func (c *chat) viewLocked() ChatView {
	v := ChatView{
		ChatID: c.id, State: c.state, EndedBy: c.endedBy, Created: c.created, Customer: c.customer,
		Summary: c.summary, Attributes: maps.Clone(c.attributes), Handoff: c.handoff, Agent: c.profile, TransferTo: c.transferTo, Position: c.queuePos,
		WaitMinutes: c.queueWait, CustomerTyping: c.typing, LastRead: c.lastRead,
		ScreenShare: c.shareState, LastSeq: c.seq, Capabilities: c.caps,
		Transcript: append([]TranscriptEntry{}, c.transcript...),
	}
	return v
}

// ChatView returns a snapshot of one chat.
func (d *Desk) ChatView(chatID string) (ChatView, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.chats[chatID]
	if !ok {
		return ChatView{}, fmt.Errorf("mockdesk: chat view: chat %q: %w", chatID, ErrChatNotFound)
	}
	return c.viewLocked(), nil
}

// DeskState is the whole desk at one version: what the console draws.
type DeskState struct {
	Version int64         `json:"version"`
	Agents  []AgentStatus `json:"agents"`
	// Queue lists the waiting chat ids, next first.
	Queue []string   `json:"queue"`
	Chats []ChatView `json:"chats"`
}

// State returns the desk's state once its version passes since, waiting
// up to wait for that (a long poll for the console).
func (d *Desk) State(ctx context.Context, since int64, wait time.Duration) (DeskState, error) {
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		d.mu.Lock()
		if d.version > since || wait <= 0 {
			st := DeskState{Version: d.version, Queue: []string{}, Chats: make([]ChatView, 0, len(d.order))}
			for _, q := range d.queue {
				st.Queue = append(st.Queue, q.id)
			}
			for _, c := range d.order {
				st.Chats = append(st.Chats, c.viewLocked())
			}
			d.mu.Unlock()
			st.Agents = d.Agents()
			return st, nil
		}
		ch := d.changed
		d.mu.Unlock()
		select {
		case <-ch:
		case <-t.C:
			wait = 0
		case <-ctx.Done():
			return DeskState{}, fmt.Errorf("mockdesk: state: %w", ctx.Err())
		case <-d.ctx.Done():
			wait = 0
		}
	}
}

// Control API request bodies.
type controlAgentBody struct {
	Agent   *servicedesk.AgentProfile `json:"agent"`
	AgentID string                    `json:"agent_id"`
}

type controlSayBody struct {
	Message *servicedesk.MessageResponse `json:"message"`
	Text    string                       `json:"text"`
}

type controlFaultBody struct {
	Kind string `json:"kind"`
	N    int    `json:"n"`
}

type controlOnlineBody struct {
	Online *bool `json:"online"`
}

// profileOf resolves {"agent":{…}} or {"agent_id":"…"} against the roster.
func (d *Desk) profileOf(b controlAgentBody) (servicedesk.AgentProfile, error) {
	if b.Agent != nil {
		return *b.Agent, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if a := d.agentByID(b.AgentID); a != nil {
		return a.cfg.Profile, nil
	}
	return servicedesk.AgentProfile{}, fmt.Errorf("agent %q: %w", b.AgentID, ErrUnknownAgent)
}

// ObservationView is what GET /control/chats/{id}/await/{kind} answers.
type ObservationView struct {
	Kind    string                       `json:"kind"`
	Message *servicedesk.MessageRequest  `json:"message,omitempty"`
	Typing  *bool                        `json:"typing,omitempty"`
	ReadID  string                       `json:"read_message_id,omitempty"`
	File    *servicedesk.FileUpload      `json:"file,omitempty"`
	State   servicedesk.ScreenShareState `json:"screen_share_state,omitempty"`
	EndedBy string                       `json:"ended_by,omitempty"`
}

func (d *Desk) controlRoutes(handle func(string, ...route), get, post, put func(http.HandlerFunc) route) {
	waitCtx := func(r *http.Request) (context.Context, context.CancelFunc, error) {
		wait, err := parseWait(r.URL.Query().Get("wait"), 60*time.Second)
		if err != nil {
			return nil, nil, err
		}
		if wait == 0 {
			wait = 10 * time.Second
		}
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		return ctx, cancel, nil
	}
	// act decodes a body of type T and runs f with the chat id.
	chatAct := func(f func(ctx context.Context, id string, body []byte) (any, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			d.jsonAction(w, r, func(body []byte) (int, any, error) {
				v, err := f(r.Context(), r.PathValue("id"), body)
				if v == nil {
					return http.StatusNoContent, nil, err
				}
				return http.StatusOK, v, err
			})
		}
	}
	noBody := func(f func(ctx context.Context, id string) error) http.HandlerFunc {
		return chatAct(func(ctx context.Context, id string, _ []byte) (any, error) { return nil, f(ctx, id) })
	}

	handle("/control/state", get(func(w http.ResponseWriter, r *http.Request) {
		since, err := parseCursor(r.URL.Query().Get("since"))
		if err != nil {
			writeError(w, err)
			return
		}
		wait, err := parseWait(r.URL.Query().Get("wait"), 30*time.Second)
		if err != nil {
			writeError(w, err)
			return
		}
		st, err := d.State(r.Context(), int64(since), wait)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, st)
	}))
	handle("/control/chats/await", post(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel, err := waitCtx(r)
		if err != nil {
			writeError(w, err)
			return
		}
		defer cancel()
		id, err := d.AwaitChatID(ctx)
		if err != nil {
			writeError(w, err)
			return
		}
		v, err := d.ChatView(id)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	}))
	handle("/control/chats/{id}", get(func(w http.ResponseWriter, r *http.Request) {
		v, err := d.ChatView(r.PathValue("id"))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	}))
	handle("/control/chats/{id}/events", get(func(w http.ResponseWriter, r *http.Request) {
		evs, err := d.Events(r.PathValue("id"))
		if err != nil {
			writeError(w, err)
			return
		}
		writeEventPage(w, deskproto.Page{Events: evs, Cursor: uint64(len(evs))})
	}))
	agentAction := func(f func(ctx context.Context, id string, p servicedesk.AgentProfile) error) http.HandlerFunc {
		return chatAct(func(ctx context.Context, id string, body []byte) (any, error) {
			b, err := decodeJSON[controlAgentBody](body)
			if err != nil {
				return nil, err
			}
			p, err := d.profileOf(b)
			if err != nil {
				return nil, err
			}
			return nil, f(ctx, id, p)
		})
	}
	handle("/control/chats/{id}/join", post(agentAction(d.AgentJoin)))
	handle("/control/chats/{id}/transfer", post(agentAction(d.agentTransfer)))
	handle("/control/chats/{id}/say", post(chatAct(func(ctx context.Context, id string, body []byte) (any, error) {
		b, err := decodeJSON[controlSayBody](body)
		if err != nil {
			return nil, err
		}
		msg := servicedesk.TextResponse(b.Text)
		if b.Message != nil {
			msg = *b.Message
		} else if b.Text == "" {
			return nil, fmt.Errorf("say needs text or message: %w", ErrBadRequest)
		}
		mid, err := d.AgentSay(ctx, id, msg)
		return map[string]string{"message_id": mid}, err
	})))
	handle("/control/chats/{id}/typing", post(chatAct(func(ctx context.Context, id string, body []byte) (any, error) {
		on, err := decodeTyping(body)
		if err != nil {
			return nil, err
		}
		return nil, d.AgentTyping(ctx, id, on)
	})))
	handle("/control/chats/{id}/read", post(noBody(d.AgentRead)))
	handle("/control/chats/{id}/leave", post(noBody(d.agentLeave)))
	handle("/control/chats/{id}/end", post(noBody(d.agentEnd)))
	handle("/control/chats/{id}/screen_share", post(chatAct(func(ctx context.Context, id string, _ []byte) (any, error) {
		sid, err := d.AgentRequestScreenShareAsync(ctx, id)
		return map[string]string{"screen_share_id": sid}, err
	})))
	handle("/control/chats/{id}/screen_share/end", post(noBody(d.agentEndScreenShare)))
	handle("/control/chats/{id}/request_files", post(chatAct(func(ctx context.Context, id string, body []byte) (any, error) {
		b, err := decodeJSON[controlSayBody](body)
		if err != nil {
			return nil, err
		}
		return nil, d.agentRequestFiles(ctx, id, b.Text)
	})))
	handle("/control/chats/{id}/capabilities", put(chatAct(func(ctx context.Context, id string, body []byte) (any, error) {
		caps, err := decodeJSON[servicedesk.Capabilities](body)
		if err != nil {
			return nil, err
		}
		return nil, d.SetChatCapabilities(ctx, id, caps)
	})))
	handle("/control/chats/{id}/await/{kind}", get(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel, err := waitCtx(r)
		if err != nil {
			writeError(w, err)
			return
		}
		defer cancel()
		kind := r.PathValue("kind")
		switch kind {
		case obsMessage, obsTyping, obsRead, obsFile, obsShare, obsEnded:
		default:
			writeError(w, fmt.Errorf("await kind %q: %w", kind, errNotFound))
			return
		}
		o, err := d.await(ctx, r.PathValue("id"), kind, nil)
		if err != nil {
			writeError(w, err)
			return
		}
		v := ObservationView{Kind: o.kind, ReadID: o.readID, State: o.share, EndedBy: o.endedBy}
		switch o.kind {
		case obsMessage:
			v.Message = &o.message.Request
		case obsTyping:
			v.Typing = &o.typing
		case obsFile:
			v.File = &o.file
		}
		writeJSON(w, http.StatusOK, v)
	}))
	handle("/control/chats/{id}/files/{file}", get(func(w http.ResponseWriter, r *http.Request) {
		files, err := d.Files(r.PathValue("id"))
		if err != nil {
			writeError(w, err)
			return
		}
		for _, f := range files {
			if f.ID == r.PathValue("file") {
				// Served as an attachment, never rendered inline.
				w.Header().Set("Content-Type", "application/octet-stream")
				w.Header().Set("X-Content-Type-Options", "nosniff")
				w.Header().Set("Content-Disposition", attachmentDisposition(f.Name))
				_, _ = w.Write(f.content)
				return
			}
		}
		writeError(w, fmt.Errorf("file %q: %w", r.PathValue("file"), errNotFound))
	}))
	handle("/control/agents", get(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, d.Agents())
	}))
	handle("/control/agents/{agent}", put(func(w http.ResponseWriter, r *http.Request) {
		d.jsonAction(w, r, func(body []byte) (int, any, error) {
			b, err := decodeJSON[controlOnlineBody](body)
			if err != nil {
				return 0, nil, err
			}
			if b.Online == nil {
				return 0, nil, fmt.Errorf("missing online: %w", ErrBadRequest)
			}
			return http.StatusNoContent, nil, d.SetAgentOnline(r.Context(), r.PathValue("agent"), *b.Online)
		})
	}))
	handle("/control/faults",
		get(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"config": d.currentFaults(), "counts": d.FaultCounts()})
		}),
		put(func(w http.ResponseWriter, r *http.Request) {
			d.jsonAction(w, r, func(body []byte) (int, any, error) {
				f, err := decodeJSON[Faults](body)
				if err != nil {
					return 0, nil, err
				}
				d.SetFaults(f)
				return http.StatusNoContent, nil, nil
			})
		}))
	handle("/control/faults/inject", post(func(w http.ResponseWriter, r *http.Request) {
		d.jsonAction(w, r, func(body []byte) (int, any, error) {
			b, err := decodeJSON[controlFaultBody](body)
			if err != nil {
				return 0, nil, err
			}
			if b.N == 0 {
				b.N = 1
			}
			return http.StatusNoContent, nil, d.InjectFault(b.Kind, b.N)
		})
	}))
	handle("/control/webhook", put(func(w http.ResponseWriter, r *http.Request) {
		d.jsonAction(w, r, func(body []byte) (int, any, error) {
			b, err := decodeJSON[deskproto.WebhookRequest](body)
			if err != nil {
				return 0, nil, err
			}
			return http.StatusNoContent, nil, d.setDefaultWebhook(b.URL)
		})
	}))
}

// attachmentDisposition is the Content-Disposition of a download named name (RFC
// 6266): an ASCII fallback in filename, with every character that could
// end the value or the header replaced, and the name itself in filename*
// (RFC 8187 percent-encoding).
func attachmentDisposition(name string) string {
	var ascii, ext strings.Builder
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' {
			ascii.WriteByte('_')
		} else {
			ascii.WriteRune(r)
		}
	}
	for _, b := range []byte(name) {
		if isAttrChar(b) {
			ext.WriteByte(b)
		} else {
			fmt.Fprintf(&ext, "%%%02X", b)
		}
	}
	return `attachment; filename="` + ascii.String() + `"; filename*=UTF-8''` + ext.String()
}

// isAttrChar reports an RFC 8187 attr-char.
func isAttrChar(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte("!#$&+-.^_`|~", b) >= 0
}
