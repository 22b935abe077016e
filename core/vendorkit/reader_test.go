package vendorkit_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/vendorkit"
)

// conversation is a fake vendor's message list: pages of size, newest
// page first, each oldest first, named by the index of their first
// message.
type conversation struct {
	msgs  []int
	size  int
	reads int
}

func (c *conversation) page(_ context.Context, before string) ([]int, string, error) {
	c.reads++
	end := len(c.msgs)
	if before != "" {
		end, _ = strconv.Atoi(before)
	}
	start := max(end-c.size, 0)
	older := ""
	if start > 0 {
		older = strconv.Itoa(start)
	}
	return c.msgs[start:end], older, nil
}

func id(m int) string { return strconv.Itoa(m) }

// TestReadBack: the messages after the cursor come oldest first, read
// back only as far as the page that holds the cursor; with no cursor
// found, maxPages bounds the reading; a repeated message comes once.
func TestReadBack(t *testing.T) {
	c := &conversation{size: 3}
	for i := range 10 {
		c.msgs = append(c.msgs, i)
	}
	got, err := vendorkit.ReadBack(context.Background(), 20, c.page, func(m int) bool { return m <= 4 }, id)
	require.NoError(t, err)
	assert.Equal(t, []int{5, 6, 7, 8, 9}, got)
	assert.Equal(t, 2, c.reads, "the page that holds the cursor is the last read")

	c.reads = 0
	got, err = vendorkit.ReadBack(context.Background(), 2, c.page, func(int) bool { return false }, id)
	require.NoError(t, err)
	assert.Equal(t, []int{4, 5, 6, 7, 8, 9}, got)
	assert.Equal(t, 2, c.reads, "maxPages")

	got, err = vendorkit.ReadBack(context.Background(), 20, c.page, func(m int) bool { return m == 9 }, id)
	require.NoError(t, err)
	assert.Empty(t, got, "nothing after the cursor")

	// A message that arrives during the read shifts an offset-paged list:
	// the older page repeats the newer one's oldest.
	shifting := func(_ context.Context, before string) ([]int, string, error) {
		if before == "" {
			return []int{7, 8, 9}, "older", nil
		}
		return []int{5, 6, 7}, "", nil
	}
	got, err = vendorkit.ReadBack(context.Background(), 20, shifting, func(m int) bool { return m <= 5 }, id)
	require.NoError(t, err)
	assert.Equal(t, []int{6, 7, 8, 9}, got)

	failing := func(context.Context, string) ([]int, string, error) { return nil, "", errors.New("down") }
	_, err = vendorkit.ReadBack(context.Background(), 20, failing, func(int) bool { return false }, id)
	assert.Error(t, err)
}

// trace records what the reader's functions did, in order.
type trace struct {
	mu    sync.Mutex
	steps []string
}

func (l *trace) add(s string) {
	l.mu.Lock()
	l.steps = append(l.steps, s)
	l.mu.Unlock()
}

func (l *trace) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.steps...)
}

func run(t *testing.T, r *vendorkit.Reader) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

var fast = retry.Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond}

// TestReaderOrder: rings queued together are one read; work queued after
// a ring waits for it, a failed read tried again first.
func TestReaderOrder(t *testing.T) {
	var l trace
	fails := 2
	r := &vendorkit.Reader{Backoff: fast, Read: func(context.Context) error {
		if fails > 0 {
			fails--
			l.add("failed")
			return errors.New("503")
		}
		l.add("read")
		return nil
	}}
	r.Ring()
	r.Ring()
	r.Ring()
	r.Do(func(context.Context) { l.add("end") })
	r.Ring()
	run(t, r)
	assert.Eventually(t, func() bool { return len(l.get()) == 5 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, []string{"failed", "failed", "read", "end", "read"}, l.get())
}

// TestReaderGone: a read whose error means the conversation is gone is
// not tried again; Over hears of it and the work after it goes on.
func TestReaderGone(t *testing.T) {
	var l trace
	gone := errors.New("404")
	r := &vendorkit.Reader{Backoff: fast,
		Read: func(context.Context) error { l.add("read"); return gone },
		Gone: func(err error) bool { return errors.Is(err, gone) },
		Over: func(error) { l.add("over") },
	}
	r.Ring()
	r.Do(func(ctx context.Context) {
		ok := r.Retry(ctx, func(context.Context) error { return nil })
		l.add("own read " + strconv.FormatBool(ok))
	})
	run(t, r)
	assert.Eventually(t, func() bool { return len(l.get()) == 3 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, []string{"read", "over", "own read true"}, l.get())
}

// TestReaderInterval: with no webhook at all, the reader reads every
// Interval.
func TestReaderInterval(t *testing.T) {
	var l trace
	r := &vendorkit.Reader{Interval: 5 * time.Millisecond, Read: func(context.Context) error { l.add("read"); return nil }}
	run(t, r)
	assert.Eventually(t, func() bool { return len(l.get()) >= 3 }, 5*time.Second, time.Millisecond)
}

// TestReaderAfterOutage: DISCONNECTED raised during an outage is cleared
// once the read after it succeeded, not before; a ring next to it does
// not lose it.
func TestReaderAfterOutage(t *testing.T) {
	rec := &sdtest.Recorder{}
	c := &vendorkit.Chat{Callback: rec}
	c.Begin(true)
	o := &vendorkit.Outage{}
	r := &vendorkit.Reader{Backoff: fast}
	r.Heard(o, c, true)
	require.Len(t, rec.Calls(), 1, "raised")

	var l trace
	fails := 1
	r.Read = func(context.Context) error {
		l.add("read, " + strconv.Itoa(len(rec.Calls())) + " calls")
		if fails > 0 {
			fails--
			return errors.New("503")
		}
		return nil
	}
	r.Heard(o, c, false) // the answer after the outage rings
	r.Heard(o, c, false) // and the next does not
	r.Ring()
	run(t, r)
	assert.Eventually(t, func() bool { return len(rec.Calls()) == 2 }, 5*time.Second, time.Millisecond, "cleared")
	assert.Equal(t, []string{"read, 1 calls", "read, 1 calls"}, l.get(), "one read, tried twice, before the clearing")
}

// TestReaderReadEndsAnOutage: with DISCONNECTED up the engine holds the
// customer's messages, so no customer call comes to end the outage; the
// worker's own read that gets through (a ring every Interval) ends it.
func TestReaderReadEndsAnOutage(t *testing.T) {
	rec := &sdtest.Recorder{}
	c := &vendorkit.Chat{Callback: rec}
	c.Begin(true) // an agent is in
	o := &vendorkit.Outage{}
	r := &vendorkit.Reader{Backoff: fast, Read: func(context.Context) error { return nil }}
	r.Heard(o, c, true)
	require.Len(t, rec.Calls(), 1, "raised")
	run(t, r)
	r.Ring() // a ring with no outage of its own, as the Interval's
	assert.Eventually(t, func() bool { return len(rec.Calls()) == 2 }, 5*time.Second, time.Millisecond, "cleared by the read")
	assert.False(t, o.Answered(), "the outage is over")
}
