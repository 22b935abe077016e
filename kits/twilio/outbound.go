package twilio

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/vendorkit"
	"github.com/deskbridge/deskbridge/kits/twilio/internal/wire"
)

// IDAttribute is the message attribute that carries the engine's message
// id: a resend finds a message that was created after all, so no retry
// doubles it.
const IDAttribute = "deskbridge_message_id"

// SendMessageToAgent uploads the files to the media service, then posts
// the text (in parts of at most 1,600 characters) and the files, one
// media per message, as the customer's identity. A file refused is
// reported with Twilio's words when it gave a reason.
func (d *desk) SendMessageToAgent(ctx context.Context, message servicedesk.MessageRequest, messageID string, data servicedesk.AdditionalDataToAgent) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	st := d.State()
	if st.Conversation == "" || d.Ended() {
		return fmt.Errorf("twilio: SendMessageToAgent: %w", servicedesk.ErrNoChat)
	}
	return vendorkit.SendWithFiles(ctx, d.Callback, d.log, data.FilesToUpload, d.upload, vendorkit.FileRefusal, func(ctx context.Context, media []string) error {
		parts := servicedesk.SplitText(message.Input.Text, maxBody)
		for len(parts) < len(media) {
			parts = append(parts, "")
		}
		for i, body := range parts {
			form := url.Values{"Author": {st.Identity}}
			if body != "" {
				form.Set("Body", body)
			}
			if i < len(media) {
				form.Set("MediaSid", media[i])
			}
			if _, err := d.post(ctx, form, messageID, i); err != nil {
				return err // Twilio refused the message, for its media too
			}
		}
		return nil
	})
}

// post creates one message as the customer. With an id, a try after an
// answer that did not come (5xx, a lost connection) first looks for the
// message among the latest, by its IDAttribute (vendorkit.PartID).
func (d *desk) post(ctx context.Context, form url.Values, id string, part int) (wire.Message, error) {
	st := d.State()
	if id != "" {
		form.Set("Attributes", jsonString(map[string]any{IDAttribute: vendorkit.PartID(id, part)}))
	}
	var m wire.Message
	c := httpjson.Call{Op: "post message", Method: http.MethodPost, Path: d.k.cfg.ConversationsURL + "/v1/Conversations/" + st.Conversation + "/Messages", Form: form, Out: &m}
	var sent func(context.Context) (bool, error)
	if id != "" {
		sent = func(ctx context.Context) (bool, error) {
			found, ok, err := d.findOwn(ctx, st.Conversation, id, part)
			if err != nil {
				d.health(err)
			} else if ok {
				m = found
			}
			return ok, err
		}
	}
	unknown := func(err error) bool { return servicedesk.CodeOf(err) == servicedesk.CodeUnavailable }
	err := vendorkit.Resend(ctx, retry.Policy{Backoff: d.k.cfg.Backoff, Retries: d.k.cfg.Retries}, unknown, sent, func(ctx context.Context) error {
		err := d.k.api.Call(ctx, c)
		d.health(err)
		return err
	})
	if err != nil {
		return m, err
	}
	d.onEvent(wire.Event{Type: evOwnMessage, ConversationSID: st.Conversation, MessageSID: m.SID, Index: m.Index, Author: m.Author})
	return m, nil
}

// findOwn looks for the message with id and part among the latest of the
// conversation.
func (d *desk) findOwn(ctx context.Context, conv, id string, part int) (wire.Message, bool, error) {
	var page wire.MessagePage
	err := d.k.api.Call(ctx, httpjson.Call{Op: "list messages", Method: http.MethodGet, Path: d.k.cfg.ConversationsURL + "/v1/Conversations/" + conv + "/Messages?Order=desc&PageSize=50", Out: &page})
	if err != nil {
		return wire.Message{}, false, err
	}
	for _, m := range page.Messages {
		var a map[string]any
		if json.Unmarshal([]byte(m.Attributes), &a) == nil && a[IDAttribute] == vendorkit.PartID(id, part) {
			return m, true, nil
		}
	}
	return wire.Message{}, false, nil
}

// upload sends one file to the media service of the conversation's chat
// service and returns its media sid.
func (d *desk) upload(ctx context.Context, f servicedesk.FileUpload) (string, error) {
	content, err := f.File.ReadAll(ctx)
	if err != nil {
		return "", fmt.Errorf("twilio: upload %s: %w", f.ID, err)
	}
	service := d.mediaService()
	ctype := cmp.Or(f.File.Type, "application/octet-stream")
	var m wire.MediaResource
	err = d.k.send(ctx, httpjson.Call{Op: "upload media", Method: http.MethodPost,
		Path: d.k.cfg.MediaURL + "/v1/Services/" + service + "/Media?" + url.Values{"Filename": {f.File.Name}}.Encode(),
		Raw:  content, ContentType: ctype, Out: &m}, d.health)
	if err == nil && m.SID == "" {
		err = errors.New("twilio: upload media: no media sid in the answer")
	}
	return m.SID, err
}

func (d *desk) mediaService() string {
	if s := d.k.cfg.ChatServiceSID; s != "" {
		return s
	}
	return d.State().Service
}

// FilesSelectedForUpload warns early about files outside the offered
// types and size.
func (d *desk) FilesSelectedForUpload(_ context.Context, uploads []servicedesk.FileUpload) error {
	vendorkit.RefuseFiles(d.Callback, d.capabilities(), uploads)
	return nil
}

// UserReadMessages moves the customer's read horizon to the last message
// of the conversation the desk handled.
func (d *desk) UserReadMessages(ctx context.Context) error {
	ctx, done := d.Life.Bind(ctx)
	defer done()
	st := d.State()
	if st.Conversation == "" || st.Participant == "" {
		return fmt.Errorf("twilio: UserReadMessages: %w", servicedesk.ErrNoChat)
	}
	if st.Next == 0 {
		return nil
	}
	form := url.Values{"LastReadMessageIndex": {strconv.Itoa(st.Next - 1)}, "LastReadTimestamp": {time.Now().UTC().Format(time.RFC3339)}}
	return d.k.send(ctx, httpjson.Call{Op: "read horizon", Method: http.MethodPost,
		Path: d.k.cfg.ConversationsURL + "/v1/Conversations/" + st.Conversation + "/Participants/" + st.Participant, Form: form}, d.health)
}

// health hears of every customer call's outcome: calls that find Twilio
// unreachable while an agent is in raise DISCONNECTED once; the first
// that gets through again fills what the webhooks missed meanwhile, then
// clears it.
func (d *desk) health(err error) {
	// Failures count only while an agent is in: an outage that began
	// before is raised at the first failure after the agent came.
	code := servicedesk.CodeOf(err)
	if code == servicedesk.CodeOK || (code == servicedesk.CodeUnavailable && d.AgentIn()) {
		d.reader.Heard(&d.outage, &d.Chat, err != nil)
	}
}
