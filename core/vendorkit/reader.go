package vendorkit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/deskbridge/deskbridge/core/transport/lifetime"
	"github.com/deskbridge/deskbridge/core/transport/retry"
)

// Reader is the one reader of a chat for a vendor whose webhooks are a
// doorbell (Twilio Conversations, Sunshine Conversations): a webhook says
// that something happened, and the reader reads the conversation after
// the kit's cursor, in the vendor's order, so that each message is shown
// once and in order however many times, late or never the webhooks come.
//
// Run is the desk's worker: it does the chat's work one item at a time.
// Rings pushed together are one read. A read that fails is tried again,
// after Backoff, before any later work: what follows a message (an end,
// an agent who left) waits for it. A read whose error Gone says there is
// nothing left to read calls Over instead. Every Interval a ring comes by
// itself, in case a webhook never does. Set Read before Run; Ring and Do
// are safe from any goroutine and never block.
type Reader struct {
	// Read reads what is new of the chat: the messages after the cursor
	// (ReadBack), and whatever else the kit compares.
	Read func(ctx context.Context) error
	// Gone tells a read error after which there is nothing to read (the
	// conversation is gone); nil: none is.
	Gone func(error) bool
	// Over is told of that error; the kit ends the chat.
	Over func(error)
	// Interval spaces the rings that come by themselves; 0 or less: none.
	Interval time.Duration
	// Backoff spaces the tries of a read that fails.
	Backoff retry.Backoff
	// Logger hears of failed reads; nil discards.
	Logger *slog.Logger

	queue lifetime.Queue[readerJob]

	// heard is the outage Heard counts calls in: a read that gets through
	// ends it too, for a chat whose customer calls are held while it is
	// disconnected (none would come to end it).
	heardMu sync.Mutex
	heard   *Outage
	chat    *Chat
}

// readerJob is one item of the worker's work: a ring (with the outage
// whose end it reads, if any) or a kit's function.
type readerJob struct {
	ring   bool
	outage *Outage
	chat   *Chat
	do     func(context.Context)
}

// Ring asks for a read.
func (r *Reader) Ring() { r.queue.Push(readerJob{ring: true}) }

// RingAfterOutage asks for the read that follows an outage (o.Answered
// reported its end): once it succeeds, o.Over clears DISCONNECTED on c.
func (r *Reader) RingAfterOutage(o *Outage, c *Chat) {
	r.queue.Push(readerJob{ring: true, outage: o, chat: c})
}

// Heard counts the outcome of one of the desk's calls in o: a failure
// toward an outage (DISCONNECTED on c once an agent is in, see Outage),
// the answer that ends one a ring whose read clears it.
func (r *Reader) Heard(o *Outage, c *Chat, failed bool) {
	r.heardMu.Lock()
	r.heard, r.chat = o, c
	r.heardMu.Unlock()
	if failed {
		o.Failed(c)
	} else if o.Answered() {
		r.RingAfterOutage(o, c)
	}
}

// Do queues f, to run on the worker after the work queued before it.
func (r *Reader) Do(f func(ctx context.Context)) { r.queue.Push(readerJob{do: f}) }

// Clear drops the work queued, for a desk that starts a new chat.
func (r *Reader) Clear() { r.queue.Clear() }

// Run does the queued work until ctx ends.
func (r *Reader) Run(ctx context.Context) {
	var tick <-chan time.Time
	if r.Interval > 0 {
		t := time.NewTicker(r.Interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.queue.Ready():
		case <-tick:
			r.Ring()
		}
		var jobs []readerJob
		for j, ok := r.queue.Pop(); ok; j, ok = r.queue.Pop() {
			// Rings next to each other are one read; it ends every outage
			// among them.
			if n := len(jobs); j.ring && n > 0 && jobs[n-1].ring {
				if j.outage != nil {
					jobs = append(jobs[:n-1], j)
				}
				continue
			}
			jobs = append(jobs, j)
		}
		for _, j := range jobs {
			if ctx.Err() != nil {
				return
			}
			switch {
			case j.do != nil:
				j.do(ctx)
			case r.Retry(ctx, r.Read):
				r.readGotThrough(j)
			}
		}
	}
}

// readGotThrough ends the outage a ring followed, and the outage Heard
// counts in when this read was the desk's first answer since it began:
// with DISCONNECTED up the engine holds the customer's messages, so the
// worker's own reads (a ring every Interval) are what find the desk back.
func (r *Reader) readGotThrough(j readerJob) {
	if j.outage != nil {
		j.outage.Over(j.chat)
		return
	}
	r.heardMu.Lock()
	o, c := r.heard, r.chat
	r.heardMu.Unlock()
	if o != nil && o.Answered() {
		o.Over(c)
	}
}

// Retry runs read until it succeeds (true), its error is Gone (Over is
// told; false), or ctx ends (false), with Backoff between the tries. The
// worker uses it for every ring; a kit's Do function for a read of its
// own.
func (r *Reader) Retry(ctx context.Context, read func(context.Context) error) bool {
	for attempt := 0; ; attempt++ {
		err := read(ctx)
		switch {
		case err == nil:
			return true
		case ctx.Err() != nil:
			return false
		case r.Gone != nil && r.Gone(err):
			if r.Over != nil {
				r.Over(err)
			}
			return false
		}
		if r.Logger != nil {
			r.Logger.Info("reading the conversation failed", "err", err, "attempt", attempt)
		}
		if !retry.Sleep(ctx, r.Backoff.Delay(attempt)) {
			return false
		}
	}
}

// ReadBack reads a conversation's messages from the latest back to the
// kit's cursor. page reads one page, its messages oldest first, and names
// the page before it ("" when there is none); before is "" for the
// latest. ReadBack stops at the first page that holds a message the kit
// has dealt with (seen), or after maxPages, and returns the messages after
// the last seen one, oldest first, each id once (a page read while
// messages arrive may repeat the previous one's).
func ReadBack[M any](ctx context.Context, maxPages int, page func(ctx context.Context, before string) (msgs []M, older string, err error),
	seen func(M) bool, id func(M) string) ([]M, error) {
	var pages [][]M
	before := ""
	for range max(maxPages, 1) {
		msgs, older, err := page(ctx, before)
		if err != nil {
			return nil, err
		}
		reached := false
		for i := len(msgs) - 1; i >= 0; i-- {
			if seen(msgs[i]) {
				msgs, reached = msgs[i+1:], true
				break
			}
		}
		pages = append(pages, msgs)
		if reached || older == "" {
			break
		}
		before = older
	}
	var out []M
	ids := map[string]bool{}
	for i := len(pages) - 1; i >= 0; i-- {
		for _, m := range pages[i] {
			if k := id(m); !ids[k] {
				ids[k] = true
				out = append(out, m)
			}
		}
	}
	return out, nil
}
