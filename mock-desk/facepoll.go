package mockdesk

import "github.com/deskbridge/deskbridge/core/deskproto"

// What a face whose vendor holds a request open until there are events
// (a long poll of its own) needs of the desk's poll faults, the same ones
// the desk protocol's long poll has.

// SitePoll is a held request of a face's long poll: Faults.Poll's latency,
// 429 and 5xx, for RequestFault.
const SitePoll = sitePoll

// StallPoll decides the stall fault (Faults.Poll.StallRate) of one held
// request: when true, the face holds the request for its whole wait and
// answers no events, even when there are some (the client must ask
// again). It is counted as FaultPollStall.
func (d *Desk) StallPoll() bool {
	return d.faults.hit("poll", FaultPollStall, d.faults.config().Poll.StallRate)
}

// DisorderPoll applies the poll faults that scramble an answer
// (Faults.Poll.DuplicateRate, ReorderRate) to a page of events before the
// face renders it: events repeated, neighbours swapped. The cursor stays
// right.
func (d *Desk) DisorderPoll(p deskproto.Page) deskproto.Page {
	return d.disorder(p, d.faults.config().Poll)
}
