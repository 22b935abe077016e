package flow

import (
	"testing"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

func TestHappyPath(t *testing.T) {
	r := newRig(t, Options{})
	s := r.session("u1")
	sub := s.Subscribe(0)
	st, err := s.CheckAvailability(bgCtx, connectMsg)
	if err != nil || st != servicedesk.Online {
		t.Fatalf("availability = %v, %v", st, err)
	}
	if err := s.StartChat(bgCtx, connectMsg, StartOptions{}); err != nil {
		t.Fatal(err)
	}
	d := r.desk("u1")
	eventually(t, "StartChat", func() bool { return d.Count("StartChat") == 1 })
	d.CB().UpdateAgentAvailability(servicedesk.QueuePosition(2))
	d.CB().AgentJoined(ada)
	collect(t, sub, isState(StateConnected))
	id, err := s.SendText(bgCtx, "hello")
	if err != nil {
		t.Fatal(err)
	}
	evs := collect(t, sub, func(ev Event) bool { return ev.Type == EventMessageStatus && ev.MessageID == id })
	if last := evs[len(evs)-1]; last.Status != MessageSent {
		t.Fatalf("status %v", last.Status)
	}
	d.CB().SendTextToUser("hi **there**", "")
	evs = collect(t, sub, isType(EventAgentMessage))
	m := evs[len(evs)-1].Message
	if m.MessageOptions.ResponseUserProfile.ID != "ada" || m.Output.Generic[0].AgentMessageType != servicedesk.AgentMsgFromAgent {
		t.Fatalf("agent message %+v", m)
	}
	if err := s.EndChat(bgCtx, EndOptions{}); err != nil {
		t.Fatal(err)
	}
	evs = collect(t, sub, isState(StateEnded))
	t.Log(types(evs))
}
