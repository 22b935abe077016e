package polling_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/servicedesk/sdtest"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/kits/polling"
)

// pollDesk is a desk whose event endpoint the test scripts.
type pollDesk struct {
	inFlight, maxInFlight, polls atomic.Int32
	cancelled                    atomic.Int32
	events                       func(w http.ResponseWriter, r *http.Request)
}

func (d *pollDesk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == "POST" && r.URL.Path == "/v1/chats":
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(201)
		_, _ = io.WriteString(w, `{"chat_id":"ch_1","chat_token":"tok","state":"queued","last_seq":0}`)
	case r.URL.Path == "/v1/chats/ch_1/events":
		n := d.inFlight.Add(1)
		defer d.inFlight.Add(-1)
		for {
			m := d.maxInFlight.Load()
			if n <= m || d.maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		d.polls.Add(1)
		d.events(w, r)
	default:
		http.NotFound(w, r)
	}
}

func startChat(t *testing.T, d *pollDesk, bo retry.Backoff) (servicedesk.ServiceDesk, *sdtest.Recorder) {
	t.Helper()
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	kit, err := polling.New(polling.Config{BaseURL: srv.URL, Wait: 5 * time.Second, Backoff: bo})
	require.NoError(t, err)
	rec := &sdtest.Recorder{}
	desk, err := kit.Factory(context.Background(), servicedesk.FactoryParams{Callback: rec, Instance: sdtest.Instance("s")})
	require.NoError(t, err)
	require.NoError(t, desk.StartChat(context.Background(), servicedesk.MessageResponse{}, servicedesk.StartChatOptions{}))
	return desk, rec
}

func closeDesk(d servicedesk.ServiceDesk) error { return d.(io.Closer).Close() }

func TestExactlyOnePollInFlight(t *testing.T) {
	d := &pollDesk{}
	var seq atomic.Int32
	d.events = func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		n := seq.Add(1)
		if n > 5 {
			time.Sleep(50 * time.Millisecond)
			_, _ = io.WriteString(w, `{"events":[],"cursor":5}`)
			return
		}
		_, _ = io.WriteString(w, `{"events":[{"id":"e`+itoa(n)+`","chat_id":"ch_1","seq":`+itoa(n)+`,"type":"agent_typing","typing":true}],"cursor":`+itoa(n)+`}`)
	}
	desk, rec := startChat(t, d, retry.Backoff{})
	got := rec.Wait(5, 5*time.Second)
	if len(got) != 5 {
		t.Fatalf("calls %v", got)
	}
	time.Sleep(200 * time.Millisecond)
	require.NoError(t, closeDesk(desk))
	if m := d.maxInFlight.Load(); m != 1 {
		t.Fatalf("%d polls were in flight at once, want 1", m)
	}
	if p := d.polls.Load(); p < 6 {
		t.Fatalf("only %d polls", p)
	}
}

func TestCloseStopsAHeldPollAtOnce(t *testing.T) {
	d := &pollDesk{}
	held := make(chan struct{}, 1)
	d.events = func(w http.ResponseWriter, r *http.Request) {
		select {
		case held <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
			d.cancelled.Add(1)
		case <-time.After(10 * time.Second):
			_, _ = io.WriteString(w, `{"events":[],"cursor":0}`)
		}
	}
	desk, _ := startChat(t, d, retry.Backoff{})
	<-held
	start := time.Now()
	require.NoError(t, closeDesk(desk))
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("Close took %s with a poll held by the desk", el)
	}
	deadline := time.Now().Add(2 * time.Second)
	for d.cancelled.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if d.cancelled.Load() == 0 {
		t.Fatal("the held poll's request was not cancelled")
	}
}

func TestFailingPollsBackOffAndReportTheDeskDown(t *testing.T) {
	d := &pollDesk{}
	var mu sync.Mutex
	healthy := false
	d.events = func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ok := healthy
		mu.Unlock()
		if ok {
			_, _ = io.WriteString(w, `{"events":[],"cursor":0}`)
			time.Sleep(20 * time.Millisecond)
			return
		}
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(503)
		_, _ = io.WriteString(w, `{"error":{"code":"unavailable","message":"down"}}`)
	}
	desk, rec := startChat(t, d, retry.Backoff{Min: 40 * time.Millisecond, Max: 80 * time.Millisecond})
	defer closeDesk(desk)
	time.Sleep(400 * time.Millisecond)
	if p := d.polls.Load(); p > 15 {
		t.Fatalf("%d polls in 400ms against a failing desk: no backoff", p)
	}
	mu.Lock()
	healthy = true
	mu.Unlock()
	got := rec.Wait(2, 3*time.Second)
	if sdtest.Join(got) != "error(DISCONNECTED,true,) | error(DISCONNECTED,false,)" {
		t.Fatalf("calls %q, want one DISCONNECTED true, then false", got)
	}
}

func TestWaitOverTheProtocolCap(t *testing.T) {
	_, err := polling.New(polling.Config{BaseURL: "http://desk.test", Wait: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "30s") {
		t.Fatalf("err = %v", err)
	}
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
