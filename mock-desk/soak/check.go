package soak

import (
	"fmt"
	"sort"
)

// Diff is how one side's list of messages differs from what the other side
// was acknowledged, in order.
type Diff struct {
	// Lost: acknowledged, never received.
	Lost int `json:"lost"`
	// Duplicated: received more than once (each extra copy counts).
	Duplicated int `json:"duplicated"`
	// Reordered: received, but out of the acknowledged order: how many
	// would have to move (the length less the longest run in order).
	Reordered int `json:"reordered"`
	// Unexpected: received, but never sent at all.
	Unexpected int `json:"unexpected"`
	// Examples name the first few ids of each kind.
	Examples []string `json:"examples,omitempty"`
}

// Add sums d and o.
func (d Diff) Add(o Diff) Diff {
	d.Lost += o.Lost
	d.Duplicated += o.Duplicated
	d.Reordered += o.Reordered
	d.Unexpected += o.Unexpected
	if room := 10 - len(d.Examples); room > 0 {
		d.Examples = append(d.Examples, o.Examples[:min(room, len(o.Examples))]...)
	}
	return d
}

// Bad reports anything lost, duplicated, reordered or unexpected.
func (d Diff) Bad() bool { return d.Lost+d.Duplicated+d.Reordered+d.Unexpected > 0 }

// Compare compares want (the ids one side was acknowledged, unique, in
// order) with got (what the other side received, in order). maybe are ids
// that were sent without an acknowledgement: the other side may have them
// once, anywhere; they are not unexpected.
func Compare(label string, want, got []string, maybe map[string]bool) Diff {
	var d Diff
	ex := func(kind, id string) {
		if len(d.Examples) < 10 {
			d.Examples = append(d.Examples, fmt.Sprintf("%s %s %s", label, kind, id))
		}
	}
	pos := make(map[string]int, len(want))
	for i, id := range want {
		pos[id] = i
	}
	seen := make(map[string]int, len(got))
	var order []int // want positions, in the order first received
	for _, id := range got {
		seen[id]++
		if seen[id] > 1 {
			d.Duplicated++
			ex("duplicated", id)
			continue
		}
		if i, ok := pos[id]; ok {
			order = append(order, i)
		} else if !maybe[id] {
			d.Unexpected++
			ex("unexpected", id)
		}
	}
	for _, id := range want {
		if seen[id] == 0 {
			d.Lost++
			ex("lost", id)
		}
	}
	if keep := longestIncreasing(order); keep < len(order) {
		d.Reordered = len(order) - keep
		ex("reordered", fmt.Sprintf("(%d of %d out of order)", d.Reordered, len(order)))
	}
	return d
}

// longestIncreasing is the length of the longest strictly increasing
// subsequence of xs (patience sorting).
func longestIncreasing(xs []int) int {
	var tails []int
	for _, x := range xs {
		i := sort.SearchInts(tails, x)
		if i == len(tails) {
			tails = append(tails, x)
		} else {
			tails[i] = x
		}
	}
	return len(tails)
}

// Transcript is one client's conversation as each side saw it.
type Transcript struct {
	Client string
	// Browser side.
	Sent      []string // every messageID sent, in the order first sent
	Acked     []string // those with a result, in that order
	AgentSeen []string // agent message keys received (after seq dedupe)
	DeskGot   []string // customer messages the desk stored, in order (their messageIDs)
	DeskSent  []string // agent message keys the desk sent, in order
	DeskChats int      // desk chats of this client (1 unless one ended)
}

// Report is the checker's verdict over all transcripts.
type Report struct {
	// User: messages the browser got a result for, against the desk.
	User Diff `json:"user_to_desk"`
	// Agent: messages the desk sent, against the browser.
	Agent Diff `json:"agent_to_browser"`
	// NoDeskChat counts clients the desk has no chat for.
	NoDeskChat int `json:"clients_without_desk_chat"`
}

// Lost, Duplicated and Reordered are both directions together.
func (r Report) Lost() int       { return r.User.Lost + r.Agent.Lost }
func (r Report) Duplicated() int { return r.User.Duplicated + r.Agent.Duplicated }
func (r Report) Reordered() int  { return r.User.Reordered + r.Agent.Reordered }
func (r Report) Unexpected() int { return r.User.Unexpected + r.Agent.Unexpected }

// Check compares every transcript both ways.
func Check(ts []Transcript) Report {
	var r Report
	for _, t := range ts {
		if t.DeskChats == 0 {
			r.NoDeskChat++
		}
		maybe := map[string]bool{}
		for _, id := range t.Sent {
			maybe[id] = true
		}
		for _, id := range t.Acked {
			delete(maybe, id)
		}
		r.User = r.User.Add(Compare(t.Client+" user", t.Acked, t.DeskGot, maybe))
		r.Agent = r.Agent.Add(Compare(t.Client+" agent", t.DeskSent, t.AgentSeen, nil))
	}
	return r
}
