package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
	"github.com/gorilla/websocket"
)

// stormChats is how many live chats BenchmarkTakeoverStorm moves.
var stormChats = envInt("DESKBRIDGE_STORM_CHATS", 5000)

// BenchmarkTakeoverStorm: instance a owns every live chat (agents joined,
// one user message each); a is killed with SIGKILL and instance b takes
// them all over. It reports how long after the kill all were owned again,
// and the takeover rate once a's leases had expired (a lease is 2 s here);
// the desk must see no new chat and no message twice. One op is one storm.
//
//	go test -run '^$' -bench TakeoverStorm -benchtime 1x ./cmd/deskbridge/
func BenchmarkTakeoverStorm(b *testing.B) {
	for range b.N {
		stormOnce(b)
	}
}

func stormOnce(b *testing.B) {
	b.StopTimer()
	rds := startRedis(b)
	desk, err := mockdesk.New(mockdesk.Options{Agents: echoAgents(stormChats), PingInterval: mockdesk.Duration(time.Minute), Logger: quietLog()})
	if err != nil {
		b.Fatal(err)
	}
	deskSrv := httptest.NewServer(desk)
	defer func() { deskSrv.Close(); _ = desk.Close() }()
	env := []string{"DESKBRIDGE_TOKEN_SECRET=" + strings.Repeat("t", 40)}
	common := []string{"--kit", "websocket", "--desk-url", deskSrv.URL, "--store", rds.URL(), "--lease-ttl", "2s", "--rate", "-1", "--max-conns-per-addr", "-1", "--new-sessions-per-minute", "-1", "--start-chats-per-minute", "-1", "--desk-ops-per-minute", "-1", "--log-level", "warn"}
	a := startServe(b, freeAddr(b), env, append(common, "--instance-id", "a", "--data-dir", b.TempDir())...)
	bb := startServe(b, freeAddr(b), env, append(common, "--instance-id", "b", "--data-dir", b.TempDir())...)

	// Every chat on a: started, joined, one message echoed; then the
	// browser goes away (the chat goes on).
	url := "ws" + strings.TrimPrefix(a.url, "http") + "/ws"
	sem := make(chan struct{}, 50)
	var wg sync.WaitGroup
	errs := make(chan error, stormChats)
	for i := range stormChats {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := stormChat(url, i); err != nil {
				errs <- fmt.Errorf("chat %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	if n := leasesOf(b, a.url); n != stormChats {
		b.Fatalf("a owns %d chats, want %d", n, stormChats)
	}
	before := len(deskChats(b, desk))

	b.StartTimer()
	killed := time.Now()
	a.kill()
	var firstTaken time.Time
	for {
		n := leasesOf(b, bb.url)
		if n > 0 && firstTaken.IsZero() {
			firstTaken = time.Now()
		}
		if n == stormChats {
			break
		}
		if time.Since(killed) > 3*time.Minute {
			b.Fatalf("b owns %d of %d chats 3 minutes after the kill", n, stormChats)
		}
		time.Sleep(20 * time.Millisecond)
	}
	done := time.Now()
	b.StopTimer()

	// What the desk saw: no new chat; each chat's one message once.
	chats := deskChats(b, desk)
	if len(chats) != before {
		b.Fatalf("the desk has %d chats after the takeover, %d before: StartChat was called", len(chats), before)
	}
	doubled := 0
	for _, id := range chats {
		msgs, err := desk.CustomerMessages(id)
		if err != nil {
			b.Fatal(err)
		}
		if len(msgs) != 1 {
			doubled++
		}
	}
	if doubled > 0 {
		b.Fatalf("%d chats do not have exactly their one message at the desk", doubled)
	}
	b.ReportMetric(done.Sub(killed).Seconds(), "s-kill-to-all-owned")
	b.ReportMetric(float64(stormChats)/done.Sub(firstTaken).Seconds(), "takeovers/s")
	b.ReportMetric(0, "startchats")
}

// stormChat opens one chat on url and leaves it running.
func stormChat(url string, i int) error {
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return err
	}
	defer ws.Close()
	c := &loadClient{ws: ws}
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"op":"hello","id":"h","mode":"desk"}`)); err != nil {
		return err
	}
	if err := c.startChat(); err != nil {
		return err
	}
	return c.echo("storm-" + strconv.Itoa(i))
}

var leasesRE = regexp.MustCompile(`(?m)^deskbridge_leases (\d+)`)

func leasesOf(b *testing.B, url string) int {
	m := leasesRE.FindStringSubmatch(getText(b, url+"/metrics"))
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func deskChats(b *testing.B, desk *mockdesk.Desk) []string {
	st, err := desk.State(context.Background(), 0, 0)
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, len(st.Chats))
	for i, c := range st.Chats {
		ids[i] = c.ChatID
	}
	return ids
}
