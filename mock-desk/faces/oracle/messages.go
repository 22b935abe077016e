package oracleface

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// The system message names of the consumer getMessages page.
const (
	msgActivity     = "RNEngagementActivityChangedMessage"
	msgConcluded    = "RNEngagementConcludedMessage"
	msgPosted       = "RNEngagementMessagePostedMessage"
	msgAdded        = "RNEngagementParticipantAddedMessage"
	msgLeft         = "RNEngagementParticipantLeftMessage"
	msgWaitInfo     = "RNEngagementWaitInformationChangedMessage"
	reasonAgent     = "AGENT_CONCLUDED"
	reasonEndUser   = "END_USER_CONCLUDED"
	reasonNoAgents  = "NO_AGENTS_AVAILABLE"  // inferred: the pages name AGENT_CONCLUDED, END_USER_CONCLUDED and QUEUE_TIMEOUT
	leftTransferred = "TRANSFERRED_TO_AGENT" // inferred, beside the sample's TRANSFERRED_TO_QUEUE
	leftParticipant = "PARTICIPANT_LEFT"
)

// view is where an engagement's system messages are: the last sequence
// number given, the agent in the chat (its clientId), whether the
// conclusion was told. A getMessages answer is rendered from a copy and
// kept only once it is written.
type view struct {
	seq       int64
	agent     int64
	concluded bool
}

// getMessages is the held request: the system messages after the last
// answer, waiting up to Hold for the first. The desk's poll faults apply:
// 429 and 503 answers, a stall (held, then answered empty), duplicated and
// swapped messages; DropConnections drops the request without an answer.
func (f *Face) getMessages(w http.ResponseWriter, r *http.Request, _ token, s *session) {
	// Read the body first: net/http notices a client that gave up (and
	// ends r's context) only once the body is read, and a request given
	// up on must not move the session's place.
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	s.inFlight++
	s.peak = max(s.peak, s.inFlight)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	if f.faulted(w, r, mockdesk.SitePoll) {
		return
	}
	s.serve.Lock()
	defer s.serve.Unlock()
	if f.d.StallPoll() {
		t := time.NewTimer(f.opts.Hold)
		defer t.Stop()
		select {
		case <-t.C:
			facekit.WriteJSON(w, http.StatusOK, map[string]any{"systemMessages": []any{}})
		case <-r.Context().Done():
		}
		return
	}
	s.mu.Lock()
	cursor, v := s.cursor, view{seq: s.seq, agent: s.agent, concluded: s.concluded}
	s.mu.Unlock()
	if v.concluded {
		// Told already: nothing more will come.
		fail(w, http.StatusConflict, "CONFLICT", "The engagement has been concluded.")
		return
	}
	page, err := s.chat.Events(r.Context(), cursor, f.opts.Hold)
	switch {
	case errors.Is(err, mockdesk.ErrUnavailable):
		drop(w) // the connection goes as a network failure would take it
		return
	case r.Context().Err() != nil:
		return
	case err != nil:
		deskError(w, err)
		return
	}
	byEvent := map[string][]map[string]any{}
	for _, e := range page.Events {
		byEvent[e.ID] = f.render(s, &v, e)
	}
	out := []map[string]any{}
	for _, e := range f.d.DisorderPoll(page).Events {
		out = append(out, byEvent[e.ID]...)
	}
	b, _ := json.Marshal(map[string]any{"systemMessages": out})
	w.Header().Set("Content-Type", "application/json")
	if _, err := w.Write(append(b, '\n')); err != nil {
		return
	}
	s.mu.Lock()
	s.cursor, s.seq, s.agent, s.concluded = max(s.cursor, page.Cursor), v.seq, v.agent, v.concluded
	s.mu.Unlock()
}

// drop closes a request's connection without an answer.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// clientID is the number the face shows for an agent, filed with its
// profile.
func (f *Face) clientID(e deskproto.Event) int64 {
	if e.Agent == nil {
		return 0
	}
	f.cmu.Lock()
	id, ok := f.clients[e.Agent.ID]
	if !ok {
		f.mu.Lock()
		f.nextID++
		id = f.nextID
		f.mu.Unlock()
		f.clients[e.Agent.ID] = id
	}
	f.cmu.Unlock()
	f.agents.Remember(e.Agent)
	return id
}

// render turns one desk event into the engagement's system messages,
// numbered after v.seq. Events the consumer API has no message for (the
// agent's reads, capabilities, files, screen shares) make none.
func (f *Face) render(s *session, v *view, e deskproto.Event) []map[string]any {
	msg := func(name string, fields map[string]any) []map[string]any {
		v.seq++
		fields["messageName"] = name
		fields["sequenceNumber"] = v.seq
		fields["sequenceNumberString"] = strconv.FormatInt(v.seq, 10)
		fields["engagementId"] = s.engagementID
		fields["engagementIdString"] = strconv.FormatInt(s.engagementID, 10)
		fields["createdTime"] = e.Time.UTC().Format(time.RFC3339Nano)
		return []map[string]any{fields}
	}
	client := func(id int64) map[string]any {
		return map[string]any{"clientId": id, "clientIdString": strconv.FormatInt(id, 10)}
	}
	if v.concluded {
		return nil
	}
	switch e.Type {
	case deskproto.EventQueueUpdate:
		m := map[string]any{}
		if e.Position != nil {
			m["position"] = *e.Position
		}
		if e.WaitMinutes != nil {
			m["expectedWaitTimeSeconds"] = *e.WaitMinutes * 60
		}
		return msg(msgWaitInfo, m)
	case deskproto.EventAgentJoined:
		v.agent = f.clientID(e)
		m := client(v.agent)
		m["name"], m["role"], m["greeting"] = e.Agent.Nickname, "LEAD", ""
		return msg(msgAdded, m)
	case deskproto.EventAgentMessage:
		if e.Message == nil {
			return nil
		}
		m := client(v.agent)
		m["body"], m["richText"], m["messageId"] = facekit.Markdown(*e.Message), false, e.MessageID
		return msg(msgPosted, m)
	case deskproto.EventAgentTyping:
		m := client(v.agent)
		m["mode"] = "LISTENING"
		if e.Typing != nil && *e.Typing {
			m["mode"] = "RESPONDING"
		}
		return msg(msgActivity, m)
	case deskproto.EventTransferStarted, deskproto.EventAgentLeft:
		if v.agent == 0 {
			return nil
		}
		m := client(v.agent)
		m["role"], m["disconnectReason"] = "LEAD", leftParticipant
		if e.Type == deskproto.EventTransferStarted {
			m["disconnectReason"] = leftTransferred
		}
		v.agent = 0
		return msg(msgLeft, m)
	case deskproto.EventAgentEnded:
		v.concluded = true
		return msg(msgConcluded, map[string]any{"reason": reasonAgent, "role": "LEAD"})
	case deskproto.EventChatEnded:
		v.concluded = true
		reason := reasonNoAgents
		switch e.EndedBy {
		case mockdesk.EndedByCustomer:
			reason = reasonEndUser
		case mockdesk.EndedByAgent:
			reason = reasonAgent
		}
		return msg(msgConcluded, map[string]any{"reason": reason, "role": "END_USER"})
	}
	return nil
}
