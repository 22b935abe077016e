package salesforce

import (
	"net/http"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/salesforce/internal/wire"
)

// deliver acts on one entry, in order, once.
func (d *desk) deliver(e wire.Entry) {
	if e.TranscriptedTimestamp > 0 {
		d.Merge(func(s *saved) map[string]any {
			if e.TranscriptedTimestamp <= s.LastEntryTime {
				return nil
			}
			s.LastEntryTime = e.TranscriptedTimestamp
			return map[string]any{"last_entry_time": e.TranscriptedTimestamp}
		})
	}
	if d.Ended() {
		return
	}
	switch e.EntryType {
	case wire.EntryMessage:
		d.onMessage(e)
	case wire.EntryParticipant:
		d.onParticipants(e)
	case wire.EntryRouting:
		d.onRouting(e)
	case wire.EntryTypingStarted:
		if e.Sender.Role != wire.RoleEndUser {
			d.AgentTyping.On(5 * time.Second) // the sample app's display timeout
		}
	case wire.EntryTypingStopped:
		if e.Sender.Role != wire.RoleEndUser {
			d.AgentTyping.Off()
		}
	case wire.EntryRead:
		if e.Sender.Role != wire.RoleEndUser {
			d.Callback.AgentReadMessages()
		}
	case wire.EntryDelivered:
		// Carbon shows no "delivered" state of the user's messages.
	case wire.EntryClose:
		d.log.Info("salesforce: conversation closed", "conversation", d.conversation())
		d.over("")
	default:
		d.log.Info("salesforce: ignored an unknown entry type", "entry_type", e.EntryType)
	}
}

func (d *desk) profile(subject, name, role string) servicedesk.AgentProfile {
	p := servicedesk.AgentProfile{ID: subject, Nickname: name, UserType: servicedesk.UserHuman}
	if role == wire.RoleChatbot {
		p.UserType = servicedesk.UserBot
	}
	if p.ID == "" {
		p.ID = p.Nickname
	}
	if p.ID == "" {
		p.ID = strings.ToLower(role)
	}
	if fn := d.k.cfg.AgentProfile; fn != nil {
		p = fn(d.Life.Context(), p)
	}
	return p
}

// join tells the customer of an agent (the first persisted); a transfer
// is over once its new agent is in.
func (d *desk) join(p servicedesk.AgentProfile) {
	d.mu.Lock()
	d.transferring = false
	d.mu.Unlock()
	d.JoinAgent(p, d.log)
}

func (d *desk) onMessage(e wire.Entry) {
	role := e.Sender.Role
	if role == wire.RoleEndUser || e.Payload.AbstractMessage == nil {
		return // the echo of the user's own message
	}
	m := toResponse(*e.Payload.AbstractMessage)
	if role == wire.RoleSystem || role == wire.RoleRouter {
		if !d.Joined() {
			text := m.PlainText()
			d.mu.Lock()
			d.lastText = text
			d.mu.Unlock()
			d.Callback.UpdateAgentAvailability(servicedesk.AgentAvailability{Message: text})
			return
		}
		d.Callback.SendMessageToUser(m, "")
		return
	}
	p := d.profile(e.Sender.Subject, e.SenderDisplayName, role)
	d.AgentTyping.Off()
	if !d.Joined() {
		d.join(p) // an agent or bot that speaks before its join entry
	}
	d.mu.Lock()
	d.lastAgent = e.Identifier
	d.mu.Unlock()
	d.Callback.SendMessageToUser(m, p.ID)
	d.acknowledge(e.Identifier, wire.AckDelivery)
}

func (d *desk) onParticipants(e wire.Entry) {
	for _, c := range e.Payload.Entries {
		role := c.Participant.Role
		if role != wire.RoleAgent && role != wire.RoleChatbot {
			continue // the end user, the router, the system
		}
		switch c.Operation {
		case "add":
			d.join(d.profile(c.Participant.Subject, c.DisplayName, role))
		case "remove":
			d.mu.Lock()
			transferring := d.transferring
			d.mu.Unlock()
			if !transferring && d.Joined() {
				d.AgentTyping.Off()
				d.Callback.AgentLeftChat()
			}
		default:
			d.log.Info("salesforce: ignored a participant operation", "operation", c.Operation)
		}
	}
}

func (d *desk) onRouting(e wire.Entry) {
	p := e.Payload
	ok := p.FailureType == "" || p.FailureType == wire.FailureNone
	switch {
	case p.RoutingType == wire.RoutingTransfer && ok:
		d.mu.Lock()
		d.transferring = true
		d.mu.Unlock()
		d.Callback.BeginTransferToAnotherAgent(nil)
	case p.RoutingType == wire.RoutingTransfer:
		d.log.Info("salesforce: transfer failed", "failure", p.FailureType, "reason", p.FailureReason)
	case ok:
		if w := p.EstimatedWaitTime; w != nil && w.IsEWTRequested && w.EstimatedWaitTimeInSeconds != nil && *w.EstimatedWaitTimeInSeconds >= 0 {
			mins := float64(*w.EstimatedWaitTimeInSeconds) / 60
			d.Callback.UpdateAgentAvailability(servicedesk.AgentAvailability{EstimatedWaitTime: &mins})
		}
	case !d.Joined():
		reason := p.FailureReason
		if reason == "" {
			reason = "The conversation could not be routed to an agent."
		}
		d.over(reason)
	default:
		d.log.Info("salesforce: routing failed", "failure", p.FailureType, "reason", p.FailureReason)
	}
}

// acknowledge sends a delivery or read acknowledgement of an agent entry,
// off the stream's goroutine; a lost one is only logged.
func (d *desk) acknowledge(entryID, kind string) {
	conv := d.conversation()
	if entryID == "" || conv == "" {
		return
	}
	d.Life.Go(func() {
		body := map[string]any{"acks": []map[string]string{{"id": vendorkit.NewUUID(), "entryType": kind, "conversationEntryId": entryID}}}
		if err := d.call(d.Life.Context(), "acknowledge entries", http.MethodPost, "/iamessage/api/v2/conversation/"+conv+"/acknowledge-entries", body, nil); err != nil {
			d.log.Info("salesforce: acknowledgement not sent", "kind", kind, "entry", entryID, "err", err)
		}
	})
}

// toResponse turns a message into a Carbon message: its text, image
// attachments as images and other files as links, choices as a list.
func toResponse(m wire.AbstractMessage) servicedesk.MessageResponse {
	var items []servicedesk.GenericItem
	if c := m.StaticContent; c != nil {
		if strings.TrimSpace(c.Text) != "" {
			items = append(items, servicedesk.TextItem(c.Text))
		}
		for _, a := range c.Attachments {
			if strings.HasPrefix(a.MimeType, "image/") {
				items = append(items, servicedesk.ImageItem(a.URL, a.Name))
			} else {
				items = append(items, servicedesk.LinkButtonItem(a.Name, a.URL))
			}
		}
	}
	if c := m.Choices; c != nil {
		if strings.TrimSpace(c.Text) != "" {
			items = append(items, servicedesk.TextItem(c.Text))
		}
		var titles []string
		for _, o := range c.OptionItems {
			titles = append(titles, o.TitleItem.Title)
		}
		if len(titles) > 0 {
			items = append(items, servicedesk.TextItem("- "+strings.Join(titles, "\n- ")))
		}
	}
	if len(items) == 0 {
		items = append(items, servicedesk.TextItem(""))
	}
	return servicedesk.NewResponse(items...)
}
