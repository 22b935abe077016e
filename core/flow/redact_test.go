package flow

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/deskbridge/deskbridge/core/redact"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// TestHandoffRedacted: with a redactor, the desk gets the hand-off's texts
// and the connect message's without the card number; the user's own chat
// (the session's connect message, its events) keeps them. Without one,
// the desk gets them as they are.
func TestHandoffRedacted(t *testing.T) {
	const card = "4111 1111 1111 1111"
	for _, on := range []bool{true, false} {
		opts := Options{}
		r := redact.New(redact.Rules{Cards: true, Emails: true})
		if on {
			opts.Redactor = r
		}
		bubble(t, opts, func(t *testing.T, rig *rig) {
			var got servicedesk.StartChatOptions
			var gotMsg servicedesk.MessageResponse
			rig.engine.factory = wrapFactory(rig.engine.factory, func(d servicedesk.ServiceDesk) servicedesk.ServiceDesk {
				return msgSpy{startSpy{d, &got}, &gotMsg}
			})
			msg := servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent,
				MessageToHumanAgent: "card " + card,
				TransferInfo: &servicedesk.TransferInfo{SummaryMessageToAgent: []servicedesk.GenericItem{servicedesk.TextItem("declined: " + card)},
					AdditionalData: map[string]string{"mail": "ada@example.com"}}})
			s := rig.session("s")
			must(t, s.StartChat(bgCtx, msg, StartOptions{Handoff: servicedesk.Handoff{
				Unverified: map[string]string{"note": "pay with " + card},
				Transcript: []servicedesk.Turn{{From: servicedesk.TurnUser, Text: "my card is " + card}, {From: servicedesk.TurnBot, Text: "sorry"}},
			}}))
			synctest.Wait()
			h := got.Handoff
			all := h.Summary + h.Unverified["note"] + h.Attributes["mail"] + h.Transcript[0].Text + gotMsg.Output.Generic[0].MessageToHumanAgent + gotMsg.Output.Generic[0].TransferInfo.SummaryMessageToAgent[0].Text
			if leaked := strings.Contains(all, card) || strings.Contains(all, "ada@example.com"); leaked == on {
				t.Errorf("redactor %v: the desk got %q", on, all)
			}
			if on && (h.Transcript[0].Text != "my card is "+redact.CardMark || h.Transcript[1].Text != "sorry") {
				t.Errorf("transcript %+v", h.Transcript)
			}
			// The user's side keeps what they wrote and saw.
			rec, err := rig.store.Load(bgCtx, "s")
			must(t, err)
			if it, _ := rec.ConnectMessage.ConnectToAgent(); it.MessageToHumanAgent != "card "+card {
				t.Errorf("the session's connect message was changed: %q", it.MessageToHumanAgent)
			}
			if on {
				if c := r.Counts(); c[redact.RuleCard] != 5 || c[redact.RuleEmail] != 2 {
					t.Errorf("counts %v", c)
				}
			}
		})
	}
}

func TestTranscriptBounded(t *testing.T) {
	bubble(t, Options{MaxTranscriptTurns: 2, MaxTranscriptTurnBytes: 10}, func(t *testing.T, r *rig) {
		var got servicedesk.StartChatOptions
		r.engine.factory = wrapFactory(r.engine.factory, func(d servicedesk.ServiceDesk) servicedesk.ServiceDesk {
			return startSpy{d, &got}
		})
		turns := []servicedesk.Turn{{From: servicedesk.TurnUser, Text: "a"}, {From: servicedesk.TurnBot, Text: "b"}, {From: servicedesk.TurnUser, Text: strings.Repeat("c", 40)}}
		must(t, r.session("s").StartChat(bgCtx, connectMsg, StartOptions{Handoff: servicedesk.Handoff{Transcript: turns}}))
		synctest.Wait()
		h := got.Handoff
		if len(h.Transcript) != 2 || h.Transcript[0].Text != "b" || len(h.Transcript[1].Text) != 10 || h.TranscriptOmitted != 1 {
			t.Errorf("bounded transcript %+v, omitted %d", h.Transcript, h.TranscriptOmitted)
		}
	})
}

type msgSpy struct {
	startSpy
	msg *servicedesk.MessageResponse
}

func (s msgSpy) StartChat(ctx context.Context, m servicedesk.MessageResponse, o servicedesk.StartChatOptions) error {
	*s.msg = m
	return s.startSpy.StartChat(ctx, m, o)
}
