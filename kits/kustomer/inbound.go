package kustomer

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/kustomer/internal/wire"
)

// onEvent turns a webhook event into a ring of the desk's worker (a
// vendorkit.Reader). An event is only a bell: the worker reads the
// conversation and then the session's messages after its cursor, so that
// each agent message is shown once and in the session's order, and each
// change of the conversation is applied once, whatever order and how
// many times Kustomer delivers the events, or if one never comes.
func (d *desk) onEvent(ev wire.Event) {
	switch ev.Name {
	case wire.EventMessageCreate:
		if ev.Data.Attributes.Direction == wire.DirectionOut {
			d.reader.Ring()
		}
	case wire.EventConversationUpdate, wire.EventConversationCreate:
		d.reader.Ring()
	}
}

// maxPages bounds how far back a read looks for its cursor (100 messages
// a page).
const maxPages = 20

// fill reads the conversation, then the messages after the cursor: every
// message made before the conversation's state is among them. It shows
// the agents' messages, then applies the conversation's assignment and
// status.
func (d *desk) fill(ctx context.Context) error {
	st := d.State()
	if st.ConversationID == "" || d.Ended() {
		return nil
	}
	var conv wire.Doc[wire.Conversation]
	if err := d.call(ctx, httpjson.Call{Op: "get conversation", Method: http.MethodGet, Path: d.conversationPath(), Out: &conv}); err != nil {
		return err
	}
	fresh, err := vendorkit.ReadBack(ctx, maxPages, d.page, func(m wire.Message) bool { return m.ID == st.Cursor },
		func(m wire.Message) string { return m.ID })
	if err != nil {
		return err
	}
	for _, m := range fresh {
		by := m.Relationships.CreatedBy.ID()
		if m.Attributes.Direction == wire.DirectionOut && by != "" && by != d.k.cfg.From && !d.Ended() {
			p := d.agentIs(ctx, by, m.Attributes.CreatedAt)
			d.Callback.SendMessageToUser(toResponse(m), p.ID)
		}
		d.Merge(func(s *saved) map[string]any { s.Cursor = m.ID; return map[string]any{"cursor": m.ID} })
	}
	d.apply(ctx, conv.Data)
	return nil
}

// page reads one page of the session's messages, newest first
// (sort=-createdAt), and returns them oldest first with the number of the
// page of older ones.
func (d *desk) page(ctx context.Context, before string) ([]wire.Message, string, error) {
	n, _ := strconv.Atoi(cmp.Or(before, "1"))
	q := url.Values{"sort": {"-createdAt"}, "pageSize": {"100"}, "page": {strconv.Itoa(n)}}
	var p wire.MessagePage
	err := d.call(ctx, httpjson.Call{Op: "list messages", Method: http.MethodGet,
		Path: "/v2.1/chat/sessions/" + url.PathEscape(d.State().ConversationID) + "/messages?" + q.Encode(), Out: &p})
	if err != nil {
		return nil, "", err
	}
	slices.Reverse(p.Data)
	older := ""
	if p.Links.Next != nil && *p.Links.Next != "" && len(p.Data) > 0 {
		older = strconv.Itoa(n + 1)
	}
	return p.Data, older, nil
}

// apply applies the conversation's state: done ends the chat; another
// assigned user is an agent who joined or took the chat over, none an
// agent who left. A state older than the agent last heard of changes
// nothing (a message read after it tells more).
func (d *desk) apply(ctx context.Context, c wire.Conversation) {
	a := c.Attributes
	if a.Status == wire.StatusDone {
		d.over("The conversation was closed before an agent joined.")
		return
	}
	st := d.State()
	if before(a.UpdatedAt, st.AgentAt) {
		return
	}
	assigned := ""
	if len(a.AssignedUsers) > 0 {
		assigned = a.AssignedUsers[0]
	}
	switch {
	case assigned == "" && st.Agent != nil:
		d.Update(func(s *saved) { s.Agent, s.AgentAt = nil, a.UpdatedAt })
		d.Callback.AgentLeftChat()
	case assigned != "":
		d.agentIs(ctx, assigned, a.UpdatedAt)
	}
}

// before reports whether time a is before b; an unreadable time is
// before nothing.
func before(a, b string) bool {
	ta, err1 := time.Parse(time.RFC3339Nano, a)
	tb, err2 := time.Parse(time.RFC3339Nano, b)
	return err1 == nil && err2 == nil && ta.Before(tb)
}

// agentIs makes user id the chat's agent as of at, and returns its
// profile: the first joins, another one takes the chat over (a
// transfer), one after an agent left joins.
func (d *desk) agentIs(ctx context.Context, id, at string) servicedesk.AgentProfile {
	st := d.State()
	if cur := st.Agent; cur != nil && cur.ID == id {
		if !before(at, st.AgentAt) {
			d.Merge(func(s *saved) map[string]any { s.AgentAt = at; return map[string]any{"agent_at": at} })
		}
		return *cur
	}
	p := d.profile(ctx, id)
	d.Update(func(s *saved) { s.Agent, s.AgentAt, s.Joined = &p, at, true })
	if st.Agent != nil {
		d.Callback.BeginTransferToAnotherAgent(&p)
		d.Callback.AgentJoined(p)
	} else {
		d.JoinAgent(p, d.log)
	}
	return p
}

// profile is the agent behind user id (GET /v1/users/{id}; when Kustomer
// cannot tell, an agent by that id), completed by Config.AgentProfile.
func (d *desk) profile(ctx context.Context, id string) servicedesk.AgentProfile {
	return d.profiles.Of(ctx, id, servicedesk.AgentProfile{ID: id, Nickname: "Agent", UserType: servicedesk.UserHuman})
}

func (d *desk) readUser(ctx context.Context, id string, p *servicedesk.AgentProfile) error {
	var u wire.Doc[wire.User]
	err := d.call(ctx, httpjson.Call{Op: "get user", Method: http.MethodGet, Path: "/v1/users/" + url.PathEscape(id), Out: &u})
	a := u.Data.Attributes
	p.Nickname, p.ProfilePictureURL = cmp.Or(a.DisplayName, a.Name, p.Nickname), a.AvatarURL
	return err
}

var (
	imageLine = regexp.MustCompile(`^!\[([^\]]*)\]\((\S+)\)$`)
	linkLine  = regexp.MustCompile(`^\[([^\]]+)\]\((\S+)\)$`)
)

// toResponse shows an agent's chat message: each paragraph of its body
// (Kustomer's chat bodies are markdown) as text, a paragraph that is an
// image alone as an image, one that is a link alone as a link button; its
// attachments as link buttons.
func toResponse(m wire.Message) servicedesk.MessageResponse {
	var items []servicedesk.GenericItem
	for _, p := range strings.Split(strings.ReplaceAll(m.Attributes.Body, "\r\n", "\n"), "\n\n") {
		p = strings.TrimSpace(p)
		if g := imageLine.FindStringSubmatch(p); g != nil {
			items = append(items, servicedesk.ImageItem(g[2], g[1]))
		} else if g := linkLine.FindStringSubmatch(p); g != nil {
			items = append(items, servicedesk.LinkButtonItem(g[1], g[2]))
		} else if p != "" {
			items = append(items, servicedesk.TextItem(p))
		}
	}
	for _, f := range m.Attributes.Attachments {
		if f.URL != "" {
			items = append(items, servicedesk.LinkButtonItem(cmp.Or(f.Name, "Download the file"), f.URL))
		}
	}
	if len(items) == 0 {
		items = append(items, servicedesk.TextItem("[a message this chat cannot show]"))
	}
	return servicedesk.NewResponse(items...)
}
