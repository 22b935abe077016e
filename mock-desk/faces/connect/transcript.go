package connectface

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/mock-desk/faces/internal/facekit"
)

// The desk's events as Connect transcript items, and GetTranscript.

// chatItem is a Connect transcript item (the members the face writes).
type chatItem struct {
	AbsoluteTime    string        `json:"AbsoluteTime"`
	Content         string        `json:"Content,omitempty"`
	ContentType     string        `json:"ContentType"`
	ID              string        `json:"Id"`
	Type            string        `json:"Type"`
	ParticipantID   string        `json:"ParticipantId,omitempty"`
	DisplayName     string        `json:"DisplayName,omitempty"`
	ParticipantRole string        `json:"ParticipantRole,omitempty"`
	ContactID       string        `json:"ContactId,omitempty"`
	InitialContact  string        `json:"InitialContactId,omitempty"`
	MessageMetadata *itemMetadata `json:"MessageMetadata,omitempty"`
}

// itemMetadata is an item's MessageMetadata (receipts).
type itemMetadata struct {
	MessageID string    `json:"MessageId"`
	Receipts  []receipt `json:"Receipts,omitempty"`
}

// receipt is one receipt of MessageMetadata.
type receipt struct {
	DeliveredTimestamp     string `json:"DeliveredTimestamp,omitempty"`
	ReadTimestamp          string `json:"ReadTimestamp,omitempty"`
	RecipientParticipantID string `json:"RecipientParticipantId"`
}

// items maps one desk event of contact onto Connect transcript items;
// inChat is the agent in the chat, for the events that name none. It
// records the agents it sees for Agent.
func (f *Face) items(contact string, e deskproto.Event, inChat *servicedesk.AgentProfile) []chatItem {
	base := chatItem{AbsoluteTime: connectTime(e.Time), ID: e.ID, Type: "EVENT", ContactID: contact, InitialContact: contact}
	agent := func(it chatItem) chatItem {
		if e.Agent != nil {
			it.ParticipantID, it.DisplayName, it.ParticipantRole = e.Agent.ID, e.Agent.Nickname, "AGENT"
		}
		return it
	}
	switch e.Type {
	case deskproto.EventAgentJoined:
		f.agents.Remember(e.Agent)
		it := agent(base)
		it.ContentType = ctParticipantJoined
		return []chatItem{it}
	case deskproto.EventAgentLeft:
		it := agent(base)
		it.ContentType = ctParticipantLeft
		return []chatItem{it}
	case deskproto.EventAgentMessage:
		it := agent(base)
		it.ID, it.Type, it.ContentType = e.MessageID, "MESSAGE", "text/markdown"
		it.Content = markdown(*e.Message)
		return []chatItem{it}
	case deskproto.EventAgentTyping:
		if e.Typing == nil || !*e.Typing || inChat == nil {
			return nil
		}
		it := base
		it.ContentType, it.ParticipantID, it.DisplayName, it.ParticipantRole = ctTyping, inChat.ID, inChat.Nickname, "AGENT"
		return []chatItem{it}
	case deskproto.EventAgentRead:
		it := base
		it.Type, it.ContentType = "MESSAGEMETADATA", "application/vnd.amazonaws.connect.message.metadata"
		reader := ""
		if inChat != nil {
			reader = inChat.ID
		}
		it.MessageMetadata = &itemMetadata{MessageID: e.ReadMessageID, Receipts: []receipt{{ReadTimestamp: it.AbsoluteTime, RecipientParticipantID: reader}}}
		return []chatItem{it}
	case deskproto.EventTransferStarted:
		f.agents.Remember(e.Agent)
		it := base
		it.ContentType, it.ParticipantRole = ctTransferSucceeded, "SYSTEM"
		return []chatItem{it}
	case deskproto.EventChatEnded:
		it := base
		it.ContentType, it.ParticipantRole = ctChatEnded, "SYSTEM"
		return []chatItem{it}
	case deskproto.EventError:
		it := base
		it.Type, it.ContentType, it.ParticipantRole, it.DisplayName, it.Content = "MESSAGE", "text/plain", "SYSTEM", "SYSTEM_MESSAGE", e.Reason
		return []chatItem{it}
	}
	return nil
}

// markdown writes an agent message as Connect text/markdown: one
// paragraph per item; an image is "![alt](source)", a link button
// "[label](url)", a video "[title](source)".
func markdown(m servicedesk.MessageResponse) string {
	var parts []string
	for _, it := range m.Output.Generic {
		switch it.ResponseType {
		case servicedesk.ResponseImage:
			parts = append(parts, "!["+it.AltText+"]("+it.Source+")")
		case servicedesk.ResponseVideo, servicedesk.ResponseAudio:
			title := it.Title
			if title == "" {
				title = it.Source
			}
			parts = append(parts, "["+title+"]("+it.Source+")")
		case servicedesk.ResponseButton:
			parts = append(parts, "["+it.Label+"]("+it.URL+")")
		default:
			if t := servicedesk.NewResponse(it).PlainText(); t != "" {
				parts = append(parts, t)
			}
		}
	}
	return strings.Join(parts, "\n\n")
}

// transcript returns every item of p's chat, oldest first; the events
// that name no agent are rendered with the agent in the chat now.
func (f *Face) transcript(r *http.Request, p *participant) ([]chatItem, error) {
	info, err := p.chat.Info(r.Context())
	if err != nil {
		return nil, err
	}
	events, err := facekit.History(r.Context(), p.chat)
	if err != nil {
		return nil, err
	}
	var out []chatItem
	for _, e := range events {
		out = append(out, f.items(p.chat.ID(), e, info.Agent)...)
	}
	return out, nil
}

// transcriptRequest is GetTranscript's body.
type transcriptRequest struct {
	ContactID     string `json:"ContactId,omitempty"`
	MaxResults    int    `json:"MaxResults,omitempty"`
	NextToken     string `json:"NextToken,omitempty"`
	ScanDirection string `json:"ScanDirection,omitempty"`
	SortOrder     string `json:"SortOrder,omitempty"`
	StartPosition *struct {
		ID           string `json:"Id,omitempty"`
		AbsoluteTime string `json:"AbsoluteTime,omitempty"`
		MostRecent   int    `json:"MostRecent,omitempty"`
	} `json:"StartPosition,omitempty"`
}

func (f *Face) getTranscript(w http.ResponseWriter, r *http.Request, p *participant) {
	req, ok := decode[transcriptRequest](w, r, f.maxBody)
	if !ok {
		return
	}
	if req.MaxResults == 0 {
		req.MaxResults = 15
	}
	if req.MaxResults < 0 || req.MaxResults > 100 {
		connectError(w, http.StatusBadRequest, "ValidationException", "MaxResults must be 1 to 100.")
		return
	}
	all, err := f.transcript(r, p)
	if err != nil {
		errorOf(w, err)
		return
	}
	// The window [lo, hi) of the scan, from the start position.
	lo, hi := 0, len(all)
	forward := req.ScanDirection == "FORWARD" || (req.ScanDirection == "" && req.StartPosition != nil)
	if sp := req.StartPosition; sp != nil {
		start := -1
		switch {
		case sp.ID != "":
			for i, it := range all {
				if it.ID == sp.ID {
					start = i
				}
			}
		case sp.AbsoluteTime != "":
			start = len(all)
			for i, it := range all {
				if it.AbsoluteTime >= sp.AbsoluteTime {
					start = i
					break
				}
			}
		case sp.MostRecent > 0:
			start = max(len(all)-sp.MostRecent, 0)
		}
		if start < 0 {
			connectError(w, http.StatusBadRequest, "ValidationException", "StartPosition does not name an item of this contact.")
			return
		}
		if forward {
			lo = start
		} else {
			hi = min(start+1, len(all))
		}
	}
	window := all[lo:hi]
	// NextToken is the count already returned, in scan order.
	skip := 0
	if req.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(req.NextToken)
		if err == nil {
			skip, err = strconv.Atoi(string(b))
		}
		if err != nil || skip < 0 || skip > len(window) {
			connectError(w, http.StatusBadRequest, "ValidationException", "NextToken is not valid.")
			return
		}
	}
	var page []chatItem
	if forward {
		page = window[skip:min(skip+req.MaxResults, len(window))]
	} else {
		end := len(window) - skip
		page = window[max(end-req.MaxResults, 0):end]
	}
	page = append([]chatItem(nil), page...)
	out := map[string]any{"InitialContactId": p.chat.ID()}
	if skip+len(page) < len(window) {
		out["NextToken"] = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(skip + len(page))))
	}
	if req.SortOrder == "DESCENDING" || (req.SortOrder == "" && !forward) {
		for i, j := 0, len(page)-1; i < j; i, j = i+1, j-1 {
			page[i], page[j] = page[j], page[i]
		}
	}
	out["Transcript"] = page
	facekit.WriteJSON(w, http.StatusOK, out)
}
