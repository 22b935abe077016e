package amazonconnect

import (
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/amazonconnect/internal/wire"
)

// deliver acts on one new transcript item, in order.
func (d *desk) deliver(it wire.Item) {
	ended := d.Ended()
	d.Merge(func(s *saved) map[string]any {
		s.LastItemID, s.LastItemTime = it.ID, it.AbsoluteTime
		if it.ID == "" {
			return nil
		}
		return map[string]any{"last_item_id": it.ID, "last_item_time": it.AbsoluteTime}
	})
	if ended {
		return
	}
	switch it.Type {
	case "MESSAGE":
		d.onMessage(it)
	case "EVENT", "TYPING", "PARTICIPANT_JOINED", "PARTICIPANT_LEFT", "CHAT_ENDED", "TRANSFER_SUCCEEDED", "TRANSFER_FAILED":
		d.onEvent(it)
	case "MESSAGEMETADATA":
		d.onMetadata(it)
	case "ATTACHMENT":
		d.onAttachment(it)
	default:
		d.log.Debug("amazonconnect: ignored an item", "type", it.Type, "content_type", it.ContentType)
	}
}

func (d *desk) profile(it wire.Item) servicedesk.AgentProfile {
	p := servicedesk.AgentProfile{ID: it.ParticipantID, Nickname: it.DisplayName, UserType: servicedesk.UserHuman}
	if it.ParticipantRole == wire.RoleCustomBot {
		p.UserType = servicedesk.UserBot
	}
	if f := d.k.cfg.AgentProfile; f != nil {
		p = f(d.Life.Context(), p)
	}
	return p
}

func isAgentSide(role string) bool {
	return role == wire.RoleAgent || role == wire.RoleSupervisor || role == wire.RoleCustomBot
}

func (d *desk) onMessage(it wire.Item) {
	switch {
	case isAgentSide(it.ParticipantRole):
		d.AgentTyping.Off()
		d.mu.Lock()
		d.lastAgentID = it.ID
		d.mu.Unlock()
		d.Callback.SendMessageToUser(decodeContent(it.ContentType, it.Content), it.ParticipantID)
		if d.delivered.Allow() {
			d.Life.Go(func() { d.sendReceipt(wire.CTMessageDelivered, it.ID) })
		}
	case it.ParticipantRole == wire.RoleSystem:
		d.mu.Lock()
		waiting := !d.agentIn
		if waiting {
			d.systemText = it.Content
		}
		d.mu.Unlock()
		if waiting {
			d.Callback.UpdateAgentAvailability(servicedesk.AgentAvailability{Message: it.Content})
		} else {
			d.Callback.SendMessageToUser(decodeContent(it.ContentType, it.Content), "")
		}
	default: // the customer's own messages, echoed
	}
}

func (d *desk) onEvent(it wire.Item) {
	switch it.ContentType {
	case wire.CTParticipantJoined:
		if !isAgentSide(it.ParticipantRole) {
			return
		}
		d.mu.Lock()
		d.agentIn = true
		d.mu.Unlock()
		d.JoinAgent(d.profile(it), d.log)
	case wire.CTParticipantLeft:
		if !isAgentSide(it.ParticipantRole) {
			return
		}
		d.AgentTyping.Off()
		d.mu.Lock()
		d.agentIn = false
		d.mu.Unlock()
		d.Callback.AgentLeftChat()
	case wire.CTTyping:
		if isAgentSide(it.ParticipantRole) {
			d.AgentTyping.On(d.k.cfg.TypingInterval)
		}
	case wire.CTTransferSucceeded:
		d.AgentTyping.Off()
		d.mu.Lock()
		d.agentIn = false
		d.mu.Unlock()
		d.Callback.BeginTransferToAnotherAgent(nil)
	case wire.CTTransferFailed:
		d.log.Info("amazonconnect: a transfer failed; the agent stays")
	case wire.CTChatEnded:
		d.mu.Lock()
		text := d.systemText
		d.mu.Unlock()
		d.EndedByDesk(text, false)
	case wire.CTMessageRead:
		if isAgentSide(it.ParticipantRole) {
			d.Callback.AgentReadMessages()
		}
	case wire.CTMessageDelivered, wire.CTParticipantIdle, wire.CTParticipantReturned, wire.CTParticipantActive, wire.CTParticipantInactive,
		wire.CTParticipantInvited, wire.CTAutoDisconnection, wire.CTChatRehydrated, wire.CTConnectionAcknowledged:
		d.log.Debug("amazonconnect: event", "content_type", it.ContentType, "role", it.ParticipantRole)
	default:
		d.log.Info("amazonconnect: ignored an unknown event", "content_type", it.ContentType)
	}
}

// onMetadata reads receipts: a read receipt by someone other than the
// customer is the agent reading.
func (d *desk) onMetadata(it wire.Item) {
	if it.MessageMetadata == nil {
		return
	}
	me := d.State().ParticipantID
	for _, r := range it.MessageMetadata.Receipts {
		if r.ReadTimestamp != "" && r.RecipientParticipantID != me {
			d.Callback.AgentReadMessages()
			return
		}
	}
}

// onAttachment reports an upload the desk rejected after it was sent (an
// attachment scan).
func (d *desk) onAttachment(it wire.Item) {
	if it.ParticipantRole != wire.RoleCustomer {
		d.log.Info("amazonconnect: an agent attachment was not shown (not covered yet)", "item", it.ID)
		return
	}
	for _, a := range it.Attachments {
		d.mu.Lock()
		fileID, ok := d.attachments[a.AttachmentID]
		if ok && a.Status == "REJECTED" {
			delete(d.attachments, a.AttachmentID)
		}
		d.mu.Unlock()
		if ok && a.Status == "REJECTED" {
			d.Callback.SetFileUploadStatus(fileID, true, "The desk rejected the file.")
		}
	}
}
