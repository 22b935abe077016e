package gateway

import (
	"encoding/json"
	"slices"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// FromUserLabel heads what the browser says about the hand-off when it
// reaches the agent: the page, not the bot, wrote it, so an agent must not
// take it as the bot's word ("the bot verified this user").
const FromUserLabel = "Sent by the user's browser, not verified by the bot:"

// fromUser marks the hand-off summary, the message to the agent and the
// payload of a connect message from the browser as the user's.
func fromUser(m servicedesk.MessageResponse, payload json.RawMessage) (servicedesk.MessageResponse, json.RawMessage) {
	m.Output.Generic = slices.Clone(m.Output.Generic)
	for i := range m.Output.Generic {
		it := &m.Output.Generic[i]
		if it.ResponseType != servicedesk.ResponseConnectToAgent {
			continue
		}
		if it.MessageToHumanAgent != "" {
			it.MessageToHumanAgent = FromUserLabel + " " + it.MessageToHumanAgent
		}
		if it.TransferInfo != nil && len(it.TransferInfo.SummaryMessageToAgent) > 0 {
			ti := *it.TransferInfo
			ti.SummaryMessageToAgent = append([]servicedesk.GenericItem{servicedesk.TextItem(FromUserLabel)}, ti.SummaryMessageToAgent...)
			it.TransferInfo = &ti
		}
	}
	if len(payload) > 0 && string(payload) != "null" {
		payload, _ = json.Marshal(map[string]json.RawMessage{"from_user": payload})
	}
	return m, payload
}
