package flow

import (
	"maps"
	"slices"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Redactor takes from a text what must not reach the desk (card numbers,
// say): the engine gives it every text of the hand-off. *redact.Redactor
// is one. It must be safe for concurrent use.
type Redactor interface {
	Redact(text string) string
}

// boundHandoff bounds h's transcript by the engine's options.
func (s *Session) boundHandoff(h servicedesk.Handoff) servicedesk.Handoff {
	return h.Bound(s.opts.MaxTranscriptTurns, s.opts.MaxTranscriptTurnBytes, s.opts.MaxTranscriptBytes)
}

// redactHandoff returns a copy of h with its texts redacted; h is not
// changed (the host's and the hook's values stay theirs).
func (s *Session) redactHandoff(h servicedesk.Handoff) servicedesk.Handoff {
	r := s.opts.Redactor
	if r == nil {
		return h
	}
	h.Summary = r.Redact(h.Summary)
	h.Unverified = redactValues(r, h.Unverified)
	h.Attributes = redactValues(r, h.Attributes)
	h.Transcript = slices.Clone(h.Transcript)
	for i := range h.Transcript {
		h.Transcript[i].Text = r.Redact(h.Transcript[i].Text)
	}
	return h
}

func redactValues(r Redactor, m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := maps.Clone(m)
	for k, v := range out {
		out[k] = r.Redact(v)
	}
	return out
}

// redactConnect returns the desk's copy of the connect message with the
// texts of its connect_to_agent items redacted; the session keeps the
// message as the user saw it.
func (s *Session) redactConnect(m servicedesk.MessageResponse) servicedesk.MessageResponse {
	r := s.opts.Redactor
	if r == nil {
		return m
	}
	m.Output.Generic = slices.Clone(m.Output.Generic)
	for i := range m.Output.Generic {
		it := &m.Output.Generic[i]
		if it.ResponseType != servicedesk.ResponseConnectToAgent {
			continue
		}
		it.MessageToHumanAgent = r.Redact(it.MessageToHumanAgent)
		if it.TransferInfo == nil {
			continue
		}
		ti := *it.TransferInfo
		ti.SummaryMessageToAgent = slices.Clone(ti.SummaryMessageToAgent)
		for j := range ti.SummaryMessageToAgent {
			ti.SummaryMessageToAgent[j].Text = r.Redact(ti.SummaryMessageToAgent[j].Text)
		}
		ti.AdditionalData = redactValues(r, ti.AdditionalData)
		it.TransferInfo = &ti
	}
	return m
}
