package gateway

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// fromUserLabel heads what the browser says about the hand-off when it
// reaches the agent: the page, not the bot, wrote it, so an agent must not
// take it as the bot's word ("the bot verified this user").
const fromUserLabel = "Sent by the user's browser, not verified by the bot:"

// Bounds of what the browser's unverified context may hold.
const (
	maxUnverifiedKeys       = 32
	maxUnverifiedKeyBytes   = 64
	maxUnverifiedValueBytes = 1024
)

// fromUser marks the hand-off summary, the message to the agent and the
// payload of a connect message from the browser as the user's. The
// connect message's additional_data and the payload's members are the
// user's claims, not routing attributes: they come back as unverified
// context (Handoff.Unverified), and leave the connect message, so that no
// kit routes on them.
func fromUser(m servicedesk.MessageResponse, payload json.RawMessage) (servicedesk.MessageResponse, json.RawMessage, map[string]string) {
	unverified := map[string]string{}
	m.Output.Generic = slices.Clone(m.Output.Generic)
	for i := range m.Output.Generic {
		it := &m.Output.Generic[i]
		if it.ResponseType != servicedesk.ResponseConnectToAgent {
			continue
		}
		if it.MessageToHumanAgent != "" {
			it.MessageToHumanAgent = fromUserLabel + " " + it.MessageToHumanAgent
		}
		if it.TransferInfo == nil {
			continue
		}
		ti := *it.TransferInfo
		if len(ti.SummaryMessageToAgent) > 0 {
			ti.SummaryMessageToAgent = append([]servicedesk.GenericItem{servicedesk.TextItem(fromUserLabel)}, ti.SummaryMessageToAgent...)
		}
		for _, k := range slices.Sorted(maps.Keys(ti.AdditionalData)) {
			addUnverified(unverified, k, ti.AdditionalData[k])
		}
		ti.AdditionalData = nil
		it.TransferInfo = &ti
	}
	if len(payload) > 0 && string(payload) != "null" {
		var members map[string]json.RawMessage
		if json.Unmarshal(payload, &members) == nil {
			for _, k := range slices.Sorted(maps.Keys(members)) {
				addUnverified(unverified, k, jsonText(members[k]))
			}
		} else {
			addUnverified(unverified, "payload", string(payload))
		}
		payload, _ = json.Marshal(map[string]json.RawMessage{"from_user": payload})
	}
	if len(unverified) == 0 {
		unverified = nil
	}
	return m, payload, unverified
}

// maxBrowserTurns bounds the turns a startChat may bring; the engine
// bounds them again (flow.Options.MaxTranscriptTurns).
const maxBrowserTurns = 200

// browserTurns keeps the turns of a page's transcript that are a user's
// or the bot's and have text, the newest maxBrowserTurns of them.
func browserTurns(in []servicedesk.Turn) []servicedesk.Turn {
	var out []servicedesk.Turn
	for _, t := range in {
		if (t.From == servicedesk.TurnUser || t.From == servicedesk.TurnBot) && t.Text != "" {
			out = append(out, t)
		}
	}
	if len(out) > maxBrowserTurns {
		out = out[len(out)-maxBrowserTurns:]
	}
	return out
}

// addUnverified adds one claim of the browser, within the bounds; the
// first of a clash wins.
func addUnverified(into map[string]string, k, v string) {
	if k == "" || len(k) > maxUnverifiedKeyBytes || len(into) >= maxUnverifiedKeys {
		return
	}
	if _, ok := into[k]; !ok {
		into[k] = servicedesk.Truncate(v, maxUnverifiedValueBytes)
	}
}

// jsonText is a JSON value as text: a string as itself, anything else as
// its JSON.
func jsonText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
