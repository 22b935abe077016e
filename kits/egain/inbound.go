package egain

import (
	"cmp"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/kits/egain/internal/wire"
)

// deliver acts on one Conversation Hub message, once: a message the
// replay sends again (or the relay pushes twice) is dropped by its id.
func (d *desk) deliver(m wire.Message) {
	d.mu.Lock()
	first := d.seen.First(m.ID)
	if first && m.ID != "" {
		d.st.LastMessageID = m.ID
	}
	d.mu.Unlock()
	if !first || d.Ended() {
		return
	}
	if m.ID != "" {
		d.Persist(map[string]any{"last_message_id": m.ID}, d.log)
	}
	switch m.Type {
	case wire.TypeText:
		d.AgentTyping.Off()
		if m.Value == wire.AgentEndText {
			d.over("")
			return
		}
		d.onText(m)
	case wire.TypeTypingStart:
		d.AgentTyping.On(typingFor)
	case wire.TypeTypingEnd:
		d.AgentTyping.Off()
	case wire.TypeAgentJoin:
		d.join(m.Value)
	case wire.TypeAgentTransfer:
		a, _ := wire.DecodeAgent(m.Value)
		d.Callback.BeginTransferToAnotherAgent(&servicedesk.AgentProfile{ID: a.AgentName, Nickname: a.AgentName})
	case wire.TypeQueueTransfer:
		// The agent gave the chat back to the queue: another may join.
		d.AgentTyping.Off()
		d.Callback.AgentLeftChat()
	case wire.TypeAgentUnavailable:
		d.mu.Lock()
		d.refusal = cmp.Or(m.Value, "No agent is available right now.")
		d.mu.Unlock()
		if !d.Joined() {
			d.over("")
		}
	case wire.TypeConversationEnd:
		d.over("")
	case wire.TypeConversationState:
		// No documented member a customer is shown (the starter kit
		// ignores it too).
	default:
		d.log.Info("egain: ignored a message type", "type", m.Type)
	}
}

// typingFor is how long an agent shows typing without a typing.end (the
// starter kit clears it with the next text).
const typingFor = 30 * time.Second

// join tells of the agent of an agent.join.
func (d *desk) join(value string) {
	a, err := wire.DecodeAgent(value)
	if err != nil {
		d.log.Warn("egain: agent.join without an agent", "err", err)
	}
	p := d.profile(a.AgentName)
	d.mu.Lock()
	d.st.Joined, d.st.Agent = true, a.AgentName
	d.mu.Unlock()
	d.Persist(map[string]any{"agent": a.AgentName}, d.log)
	d.JoinAgent(p, d.log)
}

func (d *desk) profile(name string) servicedesk.AgentProfile {
	p := servicedesk.AgentProfile{ID: cmp.Or(name, "agent"), Nickname: name, UserType: servicedesk.UserHuman}
	if fn := d.k.cfg.AgentProfile; fn != nil {
		p = fn(d.Life.Context(), p)
	}
	return p
}

// onText shows an agent's text: its HTML links and images as markdown,
// paragraphs that are only an image or a link as image and link button
// items.
func (d *desk) onText(m wire.Message) {
	md := wire.Markdown(m.Value)
	items := servicedesk.MarkdownItems(md)
	if len(items) == 0 {
		return
	}
	d.Callback.SendMessageToUser(servicedesk.NewResponse(items...), d.agentID())
}

func (d *desk) agentID() string {
	return d.profile(d.state().Agent).ID
}
