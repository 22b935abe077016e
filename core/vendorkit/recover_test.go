package vendorkit_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/vendorkit"
)

// TestRecover: a lost connection while an agent is in is reported once;
// once it is back, what was missed is read back and delivered before the
// live items that came meanwhile, each once, and the outage is cleared.
func TestRecover(t *testing.T) {
	rec := &sdtest.Recorder{}
	c := &vendorkit.Chat{Callback: rec}
	c.Begin(false)
	c.Join()
	defer c.Close()

	var mu sync.Mutex
	var got []string
	fetched := make(chan struct{})
	release := make(chan struct{})
	gap, recovery := vendorkit.Recover(c, vendorkit.Replay[string]{
		ID:      func(s string) string { return s },
		Deliver: func(s string) { mu.Lock(); got = append(got, s); mu.Unlock() },
		Fetch: func(ctx context.Context) ([]string, error) {
			close(fetched)
			<-release
			return []string{"a", "b", "c"}, nil
		},
	}, retry.Backoff{Min: time.Millisecond, Max: time.Millisecond}, nil)

	gap.Live("a")
	onState := recovery.Handle(&c.Life)
	onState(false, errors.New("connection reset"))
	onState(false, errors.New("connection reset again"))
	onState(true, nil)
	<-fetched
	gap.Live("c") // live while the fill runs: held, delivered once after it
	gap.Live("d")
	close(release)
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 4 }, 5*time.Second, time.Millisecond)
	mu.Lock()
	assert.Equal(t, []string{"a", "b", "c", "d"}, got)
	mu.Unlock()
	require.Eventually(t, func() bool { return len(rec.Calls()) == 2 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, []string{"error(DISCONNECTED,true,)", "error(DISCONNECTED,false,)"}, rec.Calls())
}

// TestRecoverGone: a fill that finds the chat over is not tried again;
// Over hears of it. Without an agent in, no outage is reported.
func TestRecoverGone(t *testing.T) {
	rec := &sdtest.Recorder{}
	c := &vendorkit.Chat{Callback: rec}
	c.Begin(false)
	defer c.Close()
	errOver := errors.New("the chat is over")
	tries := 0
	over := make(chan error, 1)
	_, recovery := vendorkit.Recover(c, vendorkit.Replay[string]{
		ID: func(s string) string { return s }, Deliver: func(string) {},
		Fetch: func(context.Context) ([]string, error) { tries++; return nil, errOver },
		Gone:  func(err error) bool { return errors.Is(err, errOver) },
		Over:  func(err error) { over <- err },
	}, retry.Backoff{Min: time.Millisecond, Max: time.Millisecond}, nil)
	onState := recovery.Handle(&c.Life)
	onState(false, errors.New("lost"))
	onState(true, nil)
	select {
	case err := <-over:
		assert.ErrorIs(t, err, errOver)
	case <-time.After(5 * time.Second):
		t.Fatal("Over was not told")
	}
	assert.Equal(t, 1, tries, "a gone chat is not read again")
	assert.Empty(t, rec.Calls(), "no agent was in: nothing to report")
}
