package salesforce

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/salesforce/internal/wire"
)

// The optional methods the kit has: what it declares, no more.
var (
	_ servicedesk.ServiceDesk    = (*desk)(nil)
	_ servicedesk.TypingNotifier = (*desk)(nil)
	_ servicedesk.ReadNotifier   = (*desk)(nil)
	_ servicedesk.Reconnector    = (*desk)(nil)
	_ io.Closer                  = (*desk)(nil)
)

// SendMessageToAgent posts a text message; its id is the engine's message
// id (as a UUID, see entryID), so a resend after a lost answer is the same
// entry. Files are not sent: the kit declares no uploads.
func (d *desk) SendMessageToAgent(ctx context.Context, message servicedesk.MessageRequest, messageID string, data servicedesk.AdditionalDataToAgent) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	for _, f := range data.FilesToUpload {
		d.Callback.SetFileUploadStatus(f.ID, true, "Files can't be sent to this desk.")
	}
	conv := d.conversation()
	if conv == "" || d.Ended() {
		return fmt.Errorf("salesforce: send message: %w", servicedesk.ErrNoChat)
	}
	if strings.TrimSpace(message.Input.Text) == "" {
		return nil
	}
	body := map[string]any{
		"message": map[string]any{
			"id":            vendorkit.NameUUID(messageID),
			"messageType":   "StaticContentMessage",
			"staticContent": map[string]string{"formatType": "Text", "text": message.Input.Text},
		},
		"esDeveloperName":       d.k.cfg.DeveloperName,
		"isNewMessagingSession": false,
	}
	err := d.call(ctx, "send message", http.MethodPost, "/iamessage/api/v2/conversation/"+conv+"/message", body, nil)
	if httpjson.StatusOf(err) == http.StatusConflict {
		return nil // an entry with this id is there already: a resend of a message that arrived
	}
	return err
}

// UserTyping posts a typing-started entry (at most one per
// TypingInterval) or a typing-stopped one.
func (d *desk) UserTyping(ctx context.Context, isTyping bool) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	conv := d.conversation()
	if conv == "" {
		return fmt.Errorf("salesforce: typing: %w", servicedesk.ErrNoChat)
	}
	kind := wire.EntryTypingStopped
	if isTyping {
		if !d.typing.Allow() {
			return nil
		}
		kind = wire.EntryTypingStarted
	} else {
		d.typing.Reset()
	}
	err := d.call(ctx, "typing", http.MethodPost, "/iamessage/api/v2/conversation/"+conv+"/entry", map[string]string{"entryType": kind, "id": vendorkit.NewUUID()}, nil)
	if err != nil && isTyping {
		d.typing.Reset()
	}
	return err
}

// UserReadMessages acknowledges the last agent entry as read.
func (d *desk) UserReadMessages(ctx context.Context) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	conv := d.conversation()
	d.mu.Lock()
	last := d.lastAgent
	d.mu.Unlock()
	if conv == "" {
		return fmt.Errorf("salesforce: read: %w", servicedesk.ErrNoChat)
	}
	if last == "" {
		return nil
	}
	body := map[string]any{"acks": []map[string]string{{"id": vendorkit.NewUUID(), "entryType": wire.AckRead, "conversationEntryId": last}}}
	return d.call(ctx, "acknowledge entries", http.MethodPost, "/iamessage/api/v2/conversation/"+conv+"/acknowledge-entries", body, nil)
}

// routingAttributes carries the hand-off to the agent as routing
// attributes (the deployment's hidden pre-chat fields): the host's
// attributes, the summary, the bot transcript, and the browser's own
// claims under "Unverified_", each value cut to MaxAttributeBytes. A
// verified customer travels in the identity token instead (Config.
// IdentityToken); without one, its name and email are attributes too.
func (d *desk) routingAttributes(h servicedesk.Handoff) map[string]string {
	cfg := d.k.cfg
	attrs := map[string]string{}
	for k, v := range h.Unverified {
		attrs["Unverified_"+k] = v
	}
	maps.Copy(attrs, h.Attributes)
	if c := h.Customer; c != nil && cfg.IdentityToken == nil {
		for k, v := range map[string]string{"CustomerId": c.ID, "CustomerName": c.Name, "CustomerEmail": c.Email} {
			if v != "" {
				attrs[k] = v
			}
		}
	}
	if h.Summary != "" && cfg.SummaryField != "-" {
		attrs[cfg.SummaryField] = h.Summary
	}
	if len(h.Transcript) > 0 && cfg.TranscriptField != "-" {
		attrs[cfg.TranscriptField] = servicedesk.TranscriptText(h.Transcript, cfg.MaxAttributeBytes) // the newest turns kept
	}
	for k, v := range attrs {
		attrs[k] = servicedesk.Truncate(v, cfg.MaxAttributeBytes)
	}
	return attrs
}
