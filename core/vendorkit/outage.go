package vendorkit

import "sync"

// Outage turns the outcomes of a desk's calls into Carbon's DISCONNECTED
// status, the same way for every desk that learns of an outage only from
// its own calls: After failed calls in a row make an outage, raised on the
// chat (once) when an agent is in at that moment; the first call that gets
// through after it ends the outage, and the kit then reads what it missed
// and calls Over, which clears DISCONNECTED if it was raised. The zero
// value (After 1) is ready; it is safe for concurrent use.
type Outage struct {
	// After is how many failed calls in a row make an outage; 0 is 1.
	After int

	mu       sync.Mutex
	fails    int
	down     bool // an outage is on
	reported bool // DISCONNECTED was raised and not cleared yet
}

// Failed counts a call that found the desk unreachable.
func (o *Outage) Failed(c *Chat) {
	o.mu.Lock()
	o.fails++
	raise := false
	if o.fails >= max(o.After, 1) && !o.down {
		o.down = true
		if c.AgentIn() && !o.reported {
			o.reported, raise = true, true
		}
	}
	o.mu.Unlock()
	if raise {
		c.ReportOutage(true)
	}
}

// Answered counts a call that got an answer; it reports whether that ended
// an outage, in which case the kit reads what it missed, then calls Over.
func (o *Outage) Answered() (ended bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.fails = 0
	ended, o.down = o.down, false
	return ended
}

// Over clears DISCONNECTED once the read that follows an outage is done,
// if the outage raised it.
func (o *Outage) Over(c *Chat) {
	o.mu.Lock()
	lower := o.reported
	o.reported = false
	o.mu.Unlock()
	if lower {
		c.ReportOutage(false)
	}
}

// Reset forgets any outage, for a desk that starts a new chat.
func (o *Outage) Reset() {
	o.mu.Lock()
	o.fails, o.down, o.reported = 0, false, false
	o.mu.Unlock()
}
