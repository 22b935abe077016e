package sse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func readAll(t *testing.T, r io.Reader) []Event {
	t.Helper()
	rd := NewReader(r)
	var out []Event
	for {
		ev, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
}

func TestReaderFormat(t *testing.T) {
	body := "\xEF\xBB\xBF: hello\r\n" +
		"event: CONVERSATION_MESSAGE\r\nid: 1\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\n" +
		"data:no space\n\n" + // no type: "message"; the id persists
		"id: 3\rdata: cr\r\r" + // lone CRs
		"retry: 2500\nevent: x\n\n" + // no data: nothing dispatched, type reset
		"id\ndata: after empty id\n\n" +
		"data: unterminated"
	want := []Event{
		{ID: "1", Type: "CONVERSATION_MESSAGE", Data: "{\"a\":\n1}"},
		{ID: "1", Type: "message", Data: "no space"},
		{ID: "3", Type: "message", Data: "cr"},
		{ID: "", Type: "message", Data: "after empty id"},
	}
	// Byte by byte too: a CRLF split across reads is one line end.
	for _, r := range []io.Reader{strings.NewReader(body), iotest.OneByteReader(strings.NewReader(body))} {
		got := readAll(t, r)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("events\n got %q\nwant %q", got, want)
		}
	}
	rd := NewReader(strings.NewReader("retry: 2500\n\n"))
	_, _ = rd.Next()
	if rd.Retry() != 2500*time.Millisecond {
		t.Fatalf("retry %v", rd.Retry())
	}
}

func TestReaderLineTooLong(t *testing.T) {
	rd := NewReader(strings.NewReader("data: " + strings.Repeat("x", MaxLine+10) + "\n\n"))
	if _, err := rd.Next(); !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("err %v", err)
	}
}

func FuzzReader(f *testing.F) {
	f.Add("event: a\nid: 1\ndata: x\n\n")
	f.Add(": ping\r\n\r\ndata: y\r\rdata:\n\n")
	f.Add("id: \x00\nretry: -1\nretry: x\ndata\n\n")
	f.Fuzz(func(t *testing.T, s string) {
		rd := NewReader(strings.NewReader(s))
		for range 10000 {
			ev, err := rd.Next()
			if err != nil {
				return
			}
			if ev.Type == "" {
				t.Fatal("an event without a type")
			}
		}
	})
}

// server is an SSE endpoint whose handler the test swaps.
type server struct {
	*httptest.Server
	mu      sync.Mutex
	handle  func(w http.ResponseWriter, r *http.Request, n int)
	n       int
	lastIDs []string
}

func newServer(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int)) *server {
	s := &server{handle: h}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.n++
		n := s.n
		s.lastIDs = append(s.lastIDs, r.Header.Get("Last-Event-Id"))
		h := s.handle
		s.mu.Unlock()
		h(w, r, n)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lastIDs...)
}

func open(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
}

func send(w http.ResponseWriter, s string) {
	_, _ = io.WriteString(w, s)
	w.(http.Flusher).Flush()
}

type recorder struct {
	mu     sync.Mutex
	events []string
	states []string
	stop   chan error
}

func newRecorder() *recorder { return &recorder{stop: make(chan error, 1)} }

func (r *recorder) cfg(url string) Config {
	return Config{
		URL: url,
		OnEvent: func(e Event) {
			r.mu.Lock()
			r.events = append(r.events, e.ID+":"+e.Data)
			r.mu.Unlock()
		},
		OnState: func(up bool, err error) {
			r.mu.Lock()
			r.states = append(r.states, fmt.Sprint(up))
			r.mu.Unlock()
		},
		OnStop: func(err error) { r.stop <- err },
		Delay:  func(int) time.Duration { return 10 * time.Millisecond },
	}
}

func (r *recorder) waitEvents(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		got := append([]string(nil), r.events...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("fewer than %d events", n)
	return nil
}

// TestReconnectSendsLastEventID: after a dropped connection the stream
// comes back with the id of the last event it read, and the headers are
// asked for again (a renewed token).
func TestReconnectSendsLastEventID(t *testing.T) {
	var headers atomic.Int32
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.Header.Get("Authorization") != fmt.Sprintf("Bearer t%d", n) || r.Header.Get("Accept") != "text/event-stream" {
			http.Error(w, "bad headers", http.StatusBadRequest)
			return
		}
		open(w)
		switch n {
		case 1:
			send(w, "id: e1\nevent: m\ndata: one\n\nid: e2\ndata: two\n\n") // then the connection ends
		default:
			send(w, "id: e3\ndata: three\n\n")
			<-r.Context().Done()
		}
	})
	rec := newRecorder()
	cfg := rec.cfg(srv.URL)
	cfg.LastEventID = "e0"
	cfg.Header = func(context.Context) (http.Header, error) {
		n := headers.Add(1)
		return http.Header{"Authorization": {fmt.Sprintf("Bearer t%d", n)}}, nil
	}
	s := Open(cfg)
	got := rec.waitEvents(t, 3)
	if strings.Join(got, ",") != "e1:one,e2:two,e3:three" {
		t.Fatalf("events %v", got)
	}
	if ids := srv.seen(); ids[0] != "e0" || ids[1] != "e2" {
		t.Fatalf("Last-Event-Id sent %v", ids)
	}
	if s.LastEventID() != "e3" || !s.Connected() {
		t.Fatalf("last id %q connected %v", s.LastEventID(), s.Connected())
	}
	_ = s.Close()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if strings.Join(rec.states, ",") != "true,false,true,false" {
		t.Fatalf("states %v", rec.states)
	}
}

// TestHeartbeatTimeout: a connection that goes silent (no event, no
// comment) is dropped and reopened; comments keep one alive.
func TestHeartbeatTimeout(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		open(w)
		if n == 1 {
			for range 4 { // comments only: 4 × 40 ms, longer than the timeout
				send(w, ": ping\n\n")
				time.Sleep(40 * time.Millisecond)
			}
			send(w, "id: a\ndata: kept alive\n\n")
		} else {
			send(w, "id: b\ndata: after silence\n\n")
		}
		<-r.Context().Done() // silent from here
	})
	rec := newRecorder()
	cfg := rec.cfg(srv.URL)
	var downs []error
	var mu sync.Mutex
	cfg.OnState = func(up bool, err error) {
		if !up && err != nil {
			mu.Lock()
			downs = append(downs, err)
			mu.Unlock()
		}
	}
	cfg.HeartbeatTimeout = 100 * time.Millisecond
	s := Open(cfg)
	defer s.Close()
	got := rec.waitEvents(t, 2)
	if strings.Join(got, ",") != "a:kept alive,b:after silence" {
		t.Fatalf("events %v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(downs) == 0 || !errors.Is(downs[0], ErrHeartbeat) {
		t.Fatalf("downs %v", downs)
	}
}

// TestGivesUp: a Fatal error stops at once; otherwise MaxAttempts failed
// attempts in a row do; a 429's Retry-After is waited for.
func TestGivesUp(t *testing.T) {
	t.Run("fatal", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			http.Error(w, `{"message":"Jwt is expired"}`, http.StatusUnauthorized)
		})
		rec := newRecorder()
		cfg := rec.cfg(srv.URL)
		cfg.Fatal = func(err error) bool {
			var se *StatusError
			return errors.As(err, &se) && se.Code == http.StatusUnauthorized
		}
		s := Open(cfg)
		defer s.Close()
		err := <-rec.stop
		var se *StatusError
		if !errors.As(err, &se) || se.Code != 401 || !strings.Contains(se.Body, "expired") {
			t.Fatalf("stop %v", err)
		}
		<-s.Done()
		if n := len(srv.seen()); n != 1 {
			t.Fatalf("%d attempts after a fatal answer", n)
		}
	})
	t.Run("attempts", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				http.Error(w, "slow down", http.StatusTooManyRequests)
				return
			}
			w.Header().Set("Content-Type", "text/plain") // not a stream
			_, _ = io.WriteString(w, "maintenance")
		})
		rec := newRecorder()
		cfg := rec.cfg(srv.URL)
		cfg.MaxAttempts = 3
		start := time.Now()
		s := Open(cfg)
		defer s.Close()
		err := <-rec.stop
		if !strings.Contains(err.Error(), "gave up after 3 attempts") || !strings.Contains(err.Error(), "not an event stream") {
			t.Fatalf("stop %v", err)
		}
		if time.Since(start) < time.Second {
			t.Fatal("Retry-After was not waited for")
		}
		if n := len(srv.seen()); n != 3 {
			t.Fatalf("%d attempts", n)
		}
	})
}

// TestCloseWhileConnecting returns promptly and reports nothing after.
func TestCloseWhileConnecting(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	rec := newRecorder()
	s := Open(rec.cfg(srv.URL))
	time.Sleep(20 * time.Millisecond)
	done := make(chan struct{})
	go func() { _ = s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close blocked")
	}
	_ = s.Close() // idempotent
	select {
	case err := <-rec.stop:
		t.Fatalf("OnStop after Close: %v", err)
	default:
	}
}

func TestBackoffSchedule(t *testing.T) {
	var b Backoff
	for attempt, want := range []time.Duration{time.Second, 1500 * time.Millisecond, 2250 * time.Millisecond, 30 * time.Second} {
		if attempt == 3 {
			attempt = 40
		}
		for range 50 {
			d := b.Delay(attempt)
			if d < want/2 || d > want {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}
