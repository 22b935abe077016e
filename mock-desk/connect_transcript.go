package mockdesk

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// connectChatItem is a Connect transcript item (the members the face writes).
type connectChatItem struct {
	AbsoluteTime    string               `json:"AbsoluteTime"`
	Content         string               `json:"Content,omitempty"`
	ContentType     string               `json:"ContentType"`
	ID              string               `json:"Id"`
	Type            string               `json:"Type"`
	ParticipantID   string               `json:"ParticipantId,omitempty"`
	DisplayName     string               `json:"DisplayName,omitempty"`
	ParticipantRole string               `json:"ParticipantRole,omitempty"`
	ContactID       string               `json:"ContactId,omitempty"`
	InitialContact  string               `json:"InitialContactId,omitempty"`
	MessageMetadata *connectItemMetadata `json:"MessageMetadata,omitempty"`
}

// connectItemMetadata is an item's MessageMetadata (receipts).
type connectItemMetadata struct {
	MessageID string           `json:"MessageId"`
	Receipts  []connectReceipt `json:"Receipts,omitempty"`
}

// connectReceipt is one receipt of MessageMetadata.
type connectReceipt struct {
	DeliveredTimestamp     string `json:"DeliveredTimestamp,omitempty"`
	ReadTimestamp          string `json:"ReadTimestamp,omitempty"`
	RecipientParticipantID string `json:"RecipientParticipantId"`
}

// items maps one desk event onto Connect transcript items. It records the
// agents it sees for Agent.
func (f *ConnectFace) items(c *chat, e deskproto.Event) []connectChatItem {
	base := connectChatItem{AbsoluteTime: connectTime(e.Time), ID: e.ID, Type: "EVENT", ContactID: c.id, InitialContact: c.id}
	agent := func(it connectChatItem) connectChatItem {
		if e.Agent != nil {
			it.ParticipantID, it.DisplayName, it.ParticipantRole = e.Agent.ID, e.Agent.Nickname, "AGENT"
		}
		return it
	}
	switch e.Type {
	case deskproto.EventAgentJoined:
		f.remember(e.Agent)
		it := agent(base)
		it.ContentType = ctParticipantJoined
		return []connectChatItem{it}
	case deskproto.EventAgentLeft:
		it := agent(base)
		it.ContentType = ctParticipantLeft
		return []connectChatItem{it}
	case deskproto.EventAgentMessage:
		it := agent(base)
		it.ID, it.Type, it.ContentType = e.MessageID, "MESSAGE", "text/markdown"
		it.Content = connectMarkdown(*e.Message)
		return []connectChatItem{it}
	case deskproto.EventAgentTyping:
		if e.Typing == nil || !*e.Typing || c.profile == nil {
			return nil
		}
		it := base
		it.ContentType, it.ParticipantID, it.DisplayName, it.ParticipantRole = ctTyping, c.profile.ID, c.profile.Nickname, "AGENT"
		return []connectChatItem{it}
	case deskproto.EventAgentRead:
		it := base
		it.Type, it.ContentType = "MESSAGEMETADATA", "application/vnd.amazonaws.connect.message.metadata"
		reader := ""
		if c.profile != nil {
			reader = c.profile.ID
		}
		it.MessageMetadata = &connectItemMetadata{MessageID: e.ReadMessageID, Receipts: []connectReceipt{{ReadTimestamp: it.AbsoluteTime, RecipientParticipantID: reader}}}
		return []connectChatItem{it}
	case deskproto.EventTransferStarted:
		f.remember(e.Agent)
		it := base
		it.ContentType, it.ParticipantRole = ctTransferSucceeded, "SYSTEM"
		return []connectChatItem{it}
	case deskproto.EventChatEnded:
		it := base
		it.ContentType, it.ParticipantRole = ctChatEnded, "SYSTEM"
		return []connectChatItem{it}
	case deskproto.EventError:
		it := base
		it.Type, it.ContentType, it.ParticipantRole, it.DisplayName, it.Content = "MESSAGE", "text/plain", "SYSTEM", "SYSTEM_MESSAGE", e.Reason
		return []connectChatItem{it}
	}
	return nil
}

// connectMarkdown writes an agent message as Connect text/markdown: one
// paragraph per item; an image is "![alt](source)", a link button
// "[label](url)", a video "[title](source)".
func connectMarkdown(m servicedesk.MessageResponse) string {
	var parts []string
	for _, it := range m.Output.Generic {
		switch it.ResponseType {
		case servicedesk.ResponseImage:
			parts = append(parts, "!["+it.AltText+"]("+it.Source+")")
		case servicedesk.ResponseVideo, servicedesk.ResponseAudio:
			parts = append(parts, "["+strOr(it.Title, it.Source)+"]("+it.Source+")")
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

// transcript returns every item of the chat, oldest first.
func (f *ConnectFace) transcript(chatID string) ([]connectChatItem, error) {
	f.d.mu.Lock()
	c, ok := f.d.chats[chatID]
	if !ok {
		f.d.mu.Unlock()
		return nil, ErrChatNotFound
	}
	events := append([]deskproto.Event(nil), c.events...)
	f.d.mu.Unlock()
	var out []connectChatItem
	for _, e := range events {
		f.d.mu.Lock()
		its := f.items(c, e)
		f.d.mu.Unlock()
		out = append(out, its...)
	}
	return out, nil
}

// connectTranscriptRequest is GetTranscript's body.
type connectTranscriptRequest struct {
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

func (f *ConnectFace) getTranscript(w http.ResponseWriter, r *http.Request, p *connectParticipant) {
	req, ok := decodeConnect[connectTranscriptRequest](w, r, f.d.opts.MaxBodyBytes)
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
	all, err := f.transcript(p.chatID)
	if err != nil {
		connectErrorOf(w, err)
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
	var page []connectChatItem
	if forward {
		page = window[skip:min(skip+req.MaxResults, len(window))]
	} else {
		end := len(window) - skip
		page = window[max(end-req.MaxResults, 0):end]
	}
	page = append([]connectChatItem(nil), page...)
	out := map[string]any{"InitialContactId": p.chatID}
	if skip+len(page) < len(window) {
		out["NextToken"] = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(skip + len(page))))
	}
	if req.SortOrder == "DESCENDING" || (req.SortOrder == "" && !forward) {
		for i, j := 0, len(page)-1; i < j; i, j = i+1, j-1 {
			page[i], page[j] = page[j], page[i]
		}
	}
	out["Transcript"] = page
	writeConnectJSON(w, out)
}
