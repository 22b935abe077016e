// Command loadgen is the load client of scripts/bench-e2e.sh: browser-like
// WebSocket clients that speak deskbridge's gateway protocol (or plain
// echo, for the baseline), run as a process of their own beside the
// server and the desk, so that what is measured is what an operator runs.
//
//	loadgen echo -listen 127.0.0.1:0               a raw gorilla/websocket echo server (the baseline)
//	loadgen closed -url URL -clients 50 -msgs 20000 each client sends its next message once the last came back
//	loadgen rate -url URL -clients 1000 -every 1s -for 10s   each client sends one message every -every
//	loadgen hold -url URL -chats 5000 -every 1m -for 30s     holds live chats, one message each every -every
//	loadgen idle -url URL -sessions 5000 -for 30s            holds connected sessions without a chat
//	loadgen report FILE                            the markdown table of the JSON lines in FILE
//
// -proto gateway (the default) opens a chat per client (hello in desk
// mode, startChat, the echo agent's join) and times sendMessageToAgent to
// the agent's echo as an agent_message event; -proto raw times a frame to
// its echo. Each run prints one JSON line: round trips, throughput, p50 and
// p99, and what was lost, doubled or out of order (it exits 1 if any was).
// hold prints "held N" once every chat is open (idle "held N sessions"),
// so that the script can read the server's memory then. With -server-pid, a
// run also reports the server's CPU time per round trip (and, for hold and
// idle, its resident memory per chat or session and its share of a core),
// read from /proc.
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/mock-desk/loadtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

type config struct {
	mode      string
	label     string
	serverPID int
	url       string
	proto     string
	clients   int
	msgs      int
	size      int
	every     time.Duration
	runFor    time.Duration
	dialers   int
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: loadgen echo|closed|rate|hold [flags] (see go doc)")
	}
	mode, args := args[0], args[1:]
	fs := flag.NewFlagSet("loadgen "+mode, flag.ContinueOnError)
	c := config{mode: mode}
	listen := fs.String("listen", "127.0.0.1:0", "echo: address to listen on")
	fs.StringVar(&c.url, "url", "", "WebSocket URL of the server (ws://127.0.0.1:8080/ws)")
	fs.StringVar(&c.proto, "proto", "gateway", "gateway or raw")
	fs.IntVar(&c.clients, "clients", 1, "clients (closed, rate)")
	fs.IntVar(&c.clients, "chats", 1, "live chats (hold)")
	fs.IntVar(&c.clients, "sessions", 1, "connected sessions without a chat (idle)")
	fs.IntVar(&c.msgs, "msgs", 10000, "round trips in all (closed)")
	fs.IntVar(&c.size, "size", 64, "bytes of a message's text")
	fs.DurationVar(&c.every, "every", time.Second, "time between a client's messages (rate, hold)")
	fs.DurationVar(&c.runFor, "for", 10*time.Second, "how long to send (rate, hold)")
	fs.IntVar(&c.dialers, "dialers", 64, "clients opening their chats at once")
	fs.StringVar(&c.label, "label", "", "what the run is called in the report")
	fs.IntVar(&c.serverPID, "server-pid", 0, "process whose CPU and memory the run reports (0: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if mode == "echo" {
		return serveEcho(ctx, *listen, out)
	}
	if mode == "report" {
		if fs.NArg() != 1 {
			return errors.New("usage: loadgen report FILE")
		}
		return report(fs.Arg(0), out)
	}
	if c.url == "" {
		return errors.New("-url is required")
	}
	if c.proto != "gateway" && c.proto != "raw" {
		return fmt.Errorf("-proto %q: want gateway or raw", c.proto)
	}
	switch mode {
	case "closed", "rate", "hold", "idle":
	default:
		return fmt.Errorf("unknown mode %q: want echo, closed, rate, hold or idle", mode)
	}
	srv := server{pid: c.serverPID}
	rss0 := srv.rss()
	clients, err := openAll(ctx, c)
	defer func() {
		for _, cl := range clients {
			if cl != nil {
				cl.ws.Close()
			}
		}
	}()
	if err != nil {
		return err
	}
	if mode == "hold" || mode == "idle" {
		for _, cl := range clients {
			cl.readAlways()
		}
		if mode == "idle" {
			fmt.Fprintf(out, "held %d sessions\n", len(clients))
		} else {
			fmt.Fprintf(out, "held %d\n", len(clients))
		}
	}
	time.Sleep(100 * time.Millisecond) // the last opens settle
	rss1, cpu0, t0 := srv.rss(), srv.cpu(), time.Now()
	r0, w0 := srv.syscalls()
	res := drive(ctx, c, clients)
	res.Label = c.label
	if c.serverPID > 0 {
		cpu := srv.cpu() - cpu0
		res.ServerCPUus = float64(cpu.Microseconds()) / float64(max(res.RoundTrips, 1))
		res.ServerCores = cpu.Seconds() / time.Since(t0).Seconds()
		res.ServerKBPerClient = float64(rss1-rss0) / float64(len(clients))
		r1, w1 := srv.syscalls()
		res.ServerReadsPerTrip = float64(r1-r0) / float64(max(res.RoundTrips, 1))
		res.ServerWritesPerTrip = float64(w1-w0) / float64(max(res.RoundTrips, 1))
	}
	enc, _ := json.Marshal(res)
	fmt.Fprintln(out, string(enc))
	if res.Lost+res.Duplicated+res.Reordered > 0 || res.Errors > 0 {
		return fmt.Errorf("%d lost, %d doubled, %d out of order, %d errors (the first: %s)", res.Lost, res.Duplicated, res.Reordered, res.Errors, cmp.Or(res.FirstError, "none"))
	}
	return nil
}

// serveEcho is the baseline: a bare gorilla/websocket echo server.
func serveEcho(ctx context.Context, addr string, out io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: loadtest.EchoHandler(&websocket.Upgrader{}), ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(out, "listening %s\n", ln.Addr())
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// client is one browser-like socket.
type client struct {
	id    int
	ws    *websocket.Conn
	proto string
	sent  []int // message numbers, in the order sent
	// marks of the agent's echoes as they came, to find losses,
	// duplicates and reordering.
	got []int
	buf []byte
	// frames, in hold mode, has what the client's reader read: a held
	// chat's socket is read all the time, as a browser's is, so that the
	// server's pings are answered between its rare messages. Closed when
	// the reader stops, readErr then says why.
	frames  chan []byte
	readErr error
}

// stillOpen reports why the client's socket is no longer read: nil while
// its reader runs.
func (c *client) stillOpen() error {
	for {
		select {
		case _, ok := <-c.frames:
			if !ok {
				return fmt.Errorf("client %d: socket closed: %w", c.id, c.readErr)
			}
		default:
			return nil
		}
	}
}

// readAlways starts the client's reader.
func (c *client) readAlways() {
	c.frames = make(chan []byte, 16)
	go func() {
		defer close(c.frames)
		for {
			_, raw, err := c.ws.ReadMessage()
			if err != nil {
				c.readErr = err
				return
			}
			c.frames <- raw
		}
	}()
}

// read returns the next frame.
func (c *client) read() ([]byte, error) {
	if c.frames == nil {
		_, raw, err := c.ws.ReadMessage()
		return raw, err
	}
	raw, ok := <-c.frames
	if !ok {
		return nil, c.readErr
	}
	return raw, nil
}

func openAll(ctx context.Context, c config) ([]*client, error) {
	clients := make([]*client, c.clients)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, c.dialers)
	for range min(c.dialers, c.clients) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < c.clients; i = int(next.Add(1)) - 1 {
				cl, err := open(ctx, c, i)
				if err != nil {
					errs <- fmt.Errorf("client %d: %w", i, err)
					return
				}
				clients[i] = cl
			}
		}()
	}
	wg.Wait()
	close(errs)
	return clients, <-errs
}

func open(ctx context.Context, c config, id int) (*client, error) {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ws, _, err := d.DialContext(ctx, c.url, nil)
	if err != nil {
		return nil, err
	}
	cl := &client{id: id, ws: ws, proto: c.proto, buf: bytes.Repeat([]byte("x"), c.size)}
	if c.proto == "raw" {
		return cl, nil
	}
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"op":"hello","id":"h","mode":"desk"}`)); err != nil {
		return nil, err
	}
	if _, err := cl.await(func(f gwFrame) bool { return f.Type == "welcome" }); err != nil {
		return nil, fmt.Errorf("hello: %w", err)
	}
	if c.mode == "idle" {
		_ = ws.SetReadDeadline(time.Time{})
		return cl, nil
	}
	start, _ := json.Marshal(map[string]any{"op": "startChat", "id": "s", "args": map[string]any{
		"connectMessage": servicedesk.NewResponse(servicedesk.GenericItem{ResponseType: servicedesk.ResponseConnectToAgent}),
	}})
	if err := ws.WriteMessage(websocket.TextMessage, start); err != nil {
		return nil, err
	}
	if _, err := cl.await(func(f gwFrame) bool { return f.Type == "event" && f.Event.Type == "agent_joined" }); err != nil {
		return nil, fmt.Errorf("waiting for the agent: %w", err)
	}
	_ = ws.SetReadDeadline(time.Time{})
	return cl, nil
}

// gwFrame is what the client reads of a gateway frame.
type gwFrame struct {
	Type  string `json:"type"`
	Re    string `json:"re"`
	Error *struct {
		Code, Message string
	} `json:"error"`
	Event struct {
		Type string `json:"type"`
	} `json:"event"`
}

// await reads frames until one matches; an error frame ends it.
func (c *client) await(match func(gwFrame) bool) ([]byte, error) {
	for {
		raw, err := c.read()
		if err != nil {
			return nil, err
		}
		var f gwFrame
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, fmt.Errorf("bad frame %.80q: %w", raw, err)
		}
		if f.Type == "error" {
			return nil, fmt.Errorf("%s: %s", f.Error.Code, f.Error.Message)
		}
		if match(f) {
			return raw, nil
		}
	}
}

// trip sends message n and waits for its echo.
func (c *client) trip(n int) error {
	c.sent = append(c.sent, n)
	mark := "m" + strconv.Itoa(n) + "." + strconv.Itoa(c.id) + "."
	if c.proto == "raw" {
		if err := c.ws.WriteMessage(websocket.TextMessage, append([]byte(mark), c.buf...)); err != nil {
			return err
		}
		_, raw, err := c.ws.ReadMessage()
		if err != nil {
			return err
		}
		c.note(raw, mark, n)
		return nil
	}
	msg, _ := json.Marshal(map[string]any{"op": "sendMessageToAgent", "id": "r" + strconv.Itoa(n), "args": map[string]any{
		"message": map[string]any{"id": mark, "input": map[string]any{"text": mark + string(c.buf)}},
	}})
	if err := c.ws.WriteMessage(websocket.TextMessage, msg); err != nil {
		return err
	}
	// The agent's own words (a greeting) are passed over; an echo of
	// another of this client's messages is noted (doubled, out of order).
	mine := []byte("." + strconv.Itoa(c.id) + ".")
	for {
		raw, err := c.await(func(f gwFrame) bool { return f.Type == "event" && f.Event.Type == "agent_message" })
		if err != nil {
			return err
		}
		if bytes.Contains(raw, []byte(mark)) {
			c.got = append(c.got, n)
			return nil
		}
		if i := bytes.Index(raw, mine); i > 0 {
			c.got = append(c.got, markBefore(raw[:i]))
		}
	}
}

// markBefore reads the message number of a mark "m<n>" ending b.
func markBefore(b []byte) int {
	i := bytes.LastIndexByte(b, 'm')
	n, err := strconv.Atoi(string(b[i+1:]))
	if i < 0 || err != nil {
		return -1
	}
	return n
}

// note records which message an echo was of.
func (c *client) note(raw []byte, mark string, n int) {
	if bytes.Contains(raw, []byte(mark)) {
		c.got = append(c.got, n)
		return
	}
	c.got = append(c.got, -1) // an echo of something else
}

// result is what a run prints.
type result struct {
	Label      string  `json:"label,omitempty"`
	Mode       string  `json:"mode"`
	Proto      string  `json:"proto"`
	Clients    int     `json:"clients"`
	RoundTrips int     `json:"round_trips"`
	PerSecond  float64 `json:"msgs_per_s"`
	P50us      int64   `json:"p50_us"`
	P99us      int64   `json:"p99_us"`
	Lost       int     `json:"lost"`
	Duplicated int     `json:"duplicated"`
	Reordered  int     `json:"reordered"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	// With -server-pid: the server's CPU per round trip and share of a
	// core while sending, and its resident memory per client opened.
	ServerCPUus       float64 `json:"server_cpu_us_per_trip,omitempty"`
	ServerCores       float64 `json:"server_cores,omitempty"`
	ServerKBPerClient float64 `json:"server_kb_per_client,omitempty"`
	// System calls of the server a round trip (its sockets to the client
	// and to the desk, its store).
	ServerReadsPerTrip  float64 `json:"server_reads_per_trip,omitempty"`
	ServerWritesPerTrip float64 `json:"server_writes_per_trip,omitempty"`
}

func drive(ctx context.Context, c config, clients []*client) result {
	mode := c.mode
	if mode == "idle" {
		// Connected and silent, as a page with the chat closed is: the
		// server's heartbeats are all that happens.
		select {
		case <-time.After(c.runFor):
		case <-ctx.Done():
		}
		res := result{Mode: mode, Proto: c.proto, Clients: len(clients)}
		for _, cl := range clients {
			if err := cl.stillOpen(); err != nil {
				res.Errors++
				res.FirstError = cmp.Or(res.FirstError, err.Error())
			}
		}
		return res
	}
	var next atomic.Int64
	lat := make([][]time.Duration, len(clients))
	errs := make([]error, len(clients))
	deadline := time.Now().Add(c.runFor)
	start := time.Now()
	var wg sync.WaitGroup
	for i, cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var tick *time.Ticker
			if mode != "closed" {
				// Spread the clients over the interval, as visitors are.
				select {
				case <-time.After(time.Duration(int64(c.every) * int64(i) / int64(len(clients)))):
				case <-ctx.Done():
					return
				}
				tick = time.NewTicker(c.every)
				defer tick.Stop()
			}
			for ctx.Err() == nil {
				n := int(next.Add(1))
				if mode == "closed" && n > c.msgs || mode != "closed" && time.Now().After(deadline) {
					return
				}
				t0 := time.Now()
				if err := cl.trip(n); err != nil {
					errs[i] = err
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
				if tick != nil {
					select {
					case <-tick.C:
					case <-ctx.Done():
					}
				}
			}
		}()
	}
	wg.Wait()
	r := loadtest.Summarize(lat, time.Since(start))
	res := result{Mode: mode, Proto: c.proto, Clients: len(clients), RoundTrips: r.RoundTrips, PerSecond: r.PerSecond(),
		P50us: r.P50.Microseconds(), P99us: r.P99.Microseconds()}
	for i, cl := range clients {
		if errs[i] != nil {
			res.Errors++
			if res.FirstError == "" {
				res.FirstError = errs[i].Error()
			}
		}
		lost, dup, reordered := check(cl.got, cl.sent, errs[i] != nil)
		res.Lost += lost
		res.Duplicated += dup
		res.Reordered += reordered
	}
	return res
}

// check compares the echoes a client got with what it sent (in order,
// each once). The last message of a client that an error stopped may have
// had no echo yet: that one is the error's, not lost.
func check(got, sent []int, stopped bool) (lost, dup, reordered int) {
	seen := make(map[int]bool, len(got))
	last := 0
	for _, n := range got {
		switch {
		case n < 0:
			lost++ // an echo of nothing this client sent
		case seen[n]:
			dup++
		default:
			if n < last {
				reordered++
			}
			seen[n], last = true, n
		}
	}
	if stopped && len(sent) > 0 && !seen[sent[len(sent)-1]] {
		sent = sent[:len(sent)-1]
	}
	for _, n := range sent {
		if !seen[n] {
			lost++
		}
	}
	return lost, dup, reordered
}
