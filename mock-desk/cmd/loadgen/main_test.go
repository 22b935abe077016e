package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/gateway"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// echoDesk joins at once and echoes every message.
type echoDesk struct{ cb servicedesk.Callback }

func (e *echoDesk) Name() string { return "echo" }
func (e *echoDesk) StartChat(context.Context, servicedesk.MessageResponse, servicedesk.StartChatOptions) error {
	e.cb.AgentJoined(servicedesk.AgentProfile{ID: "echo", Nickname: "Echo", UserType: servicedesk.UserHuman})
	e.cb.SendTextToUser("Hi, I repeat what you say.", "") // a greeting the client passes over
	return nil
}
func (e *echoDesk) EndChat(context.Context, servicedesk.EndChatInfo) error { return nil }
func (e *echoDesk) SendMessageToAgent(_ context.Context, m servicedesk.MessageRequest, _ string, _ servicedesk.AdditionalDataToAgent) error {
	e.cb.SendTextToUser(m.Input.Text, "")
	return nil
}

// Every mode runs against a real gateway on loopback (and the raw echo),
// finds nothing lost, and the report reads what the runs wrote.
func TestModesAgainstAGateway(t *testing.T) {
	gw, err := gateway.New(gateway.Options{RatePerSecond: -1, MaxConnsPerAddr: -1, NewSessionsPerMinute: -1, StartChatsPerMinute: -1, DeskOpsPerMinute: -1, Factory: func(_ context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
		return &echoDesk{cb: p.Callback}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = gw.Shutdown(ctx)
		srv.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	echoCtx, stopEcho := context.WithCancel(ctx)
	var echoOut syncBuffer
	echoDone := make(chan error, 1)
	go func() { echoDone <- serveEcho(echoCtx, "127.0.0.1:0", &echoOut) }()
	var echoAddr string
	for deadline := time.Now().Add(5 * time.Second); echoAddr == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		echoAddr, _ = strings.CutPrefix(strings.TrimSpace(echoOut.String()), "listening ")
	}
	gwURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	var all bytes.Buffer
	for _, args := range [][]string{
		{"closed", "-url", gwURL, "-clients", "4", "-msgs", "200", "-label", "closed", "-server-pid", "0"},
		{"closed", "-proto", "raw", "-url", "ws://" + echoAddr + "/", "-clients", "4", "-msgs", "200", "-label", "closed"},
		{"rate", "-url", gwURL, "-clients", "20", "-every", "100ms", "-for", "500ms", "-label", "rate"},
		{"hold", "-url", gwURL, "-chats", "30", "-every", "200ms", "-for", "400ms", "-label", "hold", "-server-pid", "1"},
		{"idle", "-url", gwURL, "-sessions", "30", "-for", "200ms", "-label", "idle", "-server-pid", "1"},
	} {
		var out bytes.Buffer
		if err := run(ctx, args, &out); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out.String())
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		var r result
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
			t.Fatalf("%v: %v in %q", args, err, out.String())
		}
		if (r.RoundTrips == 0) != (r.Mode == "idle") || r.Clients == 0 || r.Lost+r.Duplicated+r.Reordered+r.Errors != 0 {
			t.Fatalf("%v: %+v", args, r)
		}
		all.Write(out.Bytes())
	}
	stopEcho()
	if err := <-echoDone; err != nil {
		t.Fatalf("echo server: %v", err)
	}
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	if err := os.WriteFile(path, all.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	if err := report(path, &table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| closed | p50", "× throughput", "| rate |", "| hold | — |", "KB RSS a chat", "| idle | — | — | — |", "KB RSS a session"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, table.String())
		}
	}
}

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		got, sent            []int
		stopped              bool
		lost, dup, reordered int
	}{
		{[]int{1, 5, 9}, []int{1, 5, 9}, false, 0, 0, 0},
		{[]int{1, 9}, []int{1, 5, 9}, false, 1, 0, 0},
		{[]int{1, 1, 5}, []int{1, 5}, false, 0, 1, 0},
		{[]int{5, 1}, []int{1, 5}, false, 0, 0, 1},
		{[]int{1, -1}, []int{1}, false, 1, 0, 0},
		{[]int{1}, []int{1, 5}, true, 0, 0, 0},  // 5 was in flight when an error stopped the client
		{[]int{1}, []int{1, 5}, false, 1, 0, 0}, // not stopped: 5 is lost
	} {
		lost, dup, reordered := check(c.got, c.sent, c.stopped)
		if lost != c.lost || dup != c.dup || reordered != c.reordered {
			t.Errorf("check(%v, %v, %v) = %d, %d, %d; want %d, %d, %d", c.got, c.sent, c.stopped, lost, dup, reordered, c.lost, c.dup, c.reordered)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
