package websocket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	gws "github.com/gorilla/websocket"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
	"github.com/deskbridge/deskbridge/core/transport/stream"
)

// Name is the desk name the kit reports (Carbon's getName).
const Name = "deskbridge-websocket"

// Config configures the kit.
type Config struct {
	// BaseURL is the desk's root URL, e.g. "https://desk.example.com"; the
	// socket goes to its /v1/ws (wss for https).
	BaseURL string
	// HTTPClient carries the REST calls (start, availability, uploads).
	HTTPClient *http.Client
	// Dialer opens sockets. Default: a 10s handshake timeout.
	Dialer *gws.Dialer
	// PingInterval is the heartbeat; a peer silent for twice as long is
	// dropped. Default 20s.
	PingInterval time.Duration
	// ReadLimit bounds a frame from the desk. Default 256 KiB.
	ReadLimit int64
	// Backoff spaces reconnects and resends; Retry-After and retry_after
	// are honoured up to Backoff.Max. Default 100ms to 5s, full jitter.
	Backoff retry.Backoff
	// Customer names the end user to the desk. Default: the session id.
	Customer func(servicedesk.Instance) *deskproto.Customer
	// Logger receives the kit's logs. Default: discard.
	Logger *slog.Logger
}

// Kit is the WebSocket kit: one per process, shared by all sessions; each
// chat has its own socket.
type Kit struct {
	cfg    Config
	wsURL  string
	client *deskproto.Client
}

// New returns a kit for the desk at cfg.BaseURL. It does no network work.
func New(cfg Config) (*Kit, error) {
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 20 * time.Second
	}
	if cfg.ReadLimit <= 0 {
		cfg.ReadLimit = 256 << 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	client, err := deskproto.NewClient(deskproto.ClientConfig{BaseURL: cfg.BaseURL, HTTPClient: cfg.HTTPClient, Backoff: cfg.Backoff, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("websocket: %w", err)
	}
	u, _ := url.Parse(client.BaseURL())
	u.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
	u.Path += "/v1/ws"
	return &Kit{cfg: cfg, wsURL: u.String(), client: client}, nil
}

// Factory builds the desk of one session; it has the servicedesk.Factory
// signature.
func (k *Kit) Factory(_ context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
	return deskproto.NewDesk(deskproto.DeskConfig{Name: Name, Client: k.client, Params: p, Customer: k.cfg.Customer},
		func(in deskproto.Inbox) deskproto.Link {
			return &link{kit: k, in: in, log: p.Logger, pending: map[string]*request{}, welcomed: make(chan struct{}), done: make(chan struct{})}
		})
}

// Close releases idle HTTP connections. Sessions' sockets close with their
// desks.
func (k *Kit) Close() error {
	if k.cfg.HTTPClient != nil {
		k.cfg.HTTPClient.CloseIdleConnections()
	}
	return nil
}

// request is an action frame waiting for its answer. It is resent after a
// reconnect until answered.
type request struct {
	n     uint64
	gen   uint64 // the connection open when it was sent (or later)
	frame []byte
	reply chan deskproto.ServerFrame
}

// link follows one chat over one socket.
type link struct {
	kit *Kit
	in  deskproto.Inbox
	log *slog.Logger

	mu       sync.Mutex
	ref      deskproto.ChatRef
	sock     *stream.Socket
	next     uint64
	gen      uint64 // counts connections
	pending  map[string]*request
	welcomed chan struct{} // closed while a welcome holds on the current connection
	closed   bool
	done     chan struct{} // closed by Close: waiting actions give up
}

func (l *link) Start(ctx context.Context, req deskproto.StartRequest) (deskproto.ChatInfo, error) {
	info, err := l.kit.client.Start(ctx, req)
	if err != nil {
		return info, err
	}
	return info, l.open(deskproto.ChatRef{ID: info.ChatID, Token: info.ChatToken})
}

func (l *link) Attach(ctx context.Context, ref deskproto.ChatRef, _ uint64) (deskproto.ChatInfo, error) {
	info, err := l.kit.client.Chat(ctx, ref)
	if err != nil {
		return info, err
	}
	return info, l.open(ref)
}

// open starts the chat's socket; every connection begins with a hello from
// the last event applied.
func (l *link) open(ref deskproto.ChatRef) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return deskproto.ErrClosed
	}
	if old := l.sock; old != nil {
		// Closed without l.mu held: Close waits for the old socket's
		// goroutines, whose callbacks take l.mu (a deadlock when a new chat
		// starts while the previous chat's socket is going down).
		l.sock = nil
		l.mu.Unlock()
		_ = old.Close()
		l.mu.Lock()
		if l.closed {
			return deskproto.ErrClosed
		}
	}
	l.ref = ref
	cfg := l.kit.cfg
	l.sock = stream.OpenSocket(stream.SocketConfig{
		URL:          l.kit.wsURL,
		Dialer:       cfg.Dialer,
		PingInterval: cfg.PingInterval,
		ReadLimit:    cfg.ReadLimit,
		Backoff:      cfg.Backoff,
		Logger:       l.log,
		Heartbeat:    func() []byte { return []byte(`{"type":"ping"}`) },
		OnOpen: func(_ context.Context, _ bool, send func([]byte) error) error {
			l.mu.Lock()
			l.gen++
			l.mu.Unlock()
			return send(l.hello())
		},
		OnMessage: l.receive,
		OnState: func(up bool, _ error) {
			if !up {
				l.mu.Lock()
				l.welcomed = make(chan struct{})
				l.mu.Unlock()
				l.in.Connected(false)
			}
		},
	})
	return nil
}

func (l *link) hello() []byte {
	l.mu.Lock()
	ref := l.ref
	l.mu.Unlock()
	b, _ := json.Marshal(deskproto.ClientFrame{Type: "hello", RequestID: "hello", ChatID: ref.ID, ChatToken: ref.Token, LastSeq: l.in.Last()})
	return b
}

// receive handles one frame from the desk, on the socket's read goroutine.
func (l *link) receive(data []byte) {
	var f deskproto.ServerFrame
	if err := json.Unmarshal(data, &f); err != nil {
		l.log.Warn("websocket: bad frame from the desk ignored", "err", err)
		return
	}
	switch f.Type {
	case "event":
		if f.Event == nil || f.Event.Check() != nil {
			l.log.Warn("websocket: bad event ignored", "frame", string(data[:min(len(data), 200)]))
			return
		}
		l.in.Deliver(*f.Event)
	case "welcome":
		l.welcome()
	case "error":
		if f.RequestID == "hello" {
			l.helloFailed(f.Error)
			return
		}
		l.answer(f)
	case "ack", "pong", "availability":
		l.answer(f)
	}
}

func (l *link) answer(f deskproto.ServerFrame) {
	l.mu.Lock()
	r, ok := l.pending[f.RequestID]
	if ok {
		delete(l.pending, f.RequestID)
	}
	l.mu.Unlock()
	if ok {
		r.reply <- f
	}
}

// welcome marks the connection attached and resends, in order, the
// actions a dropped connection left unanswered.
func (l *link) welcome() {
	l.mu.Lock()
	select {
	case <-l.welcomed:
	default:
		close(l.welcomed)
	}
	// Frames sent on this connection need no resend; earlier ones may have
	// died with their connection.
	resend := make([]*request, 0, len(l.pending))
	for _, r := range l.pending {
		if r.gen < l.gen {
			resend = append(resend, r)
			r.gen = l.gen
		}
	}
	sock := l.sock
	l.mu.Unlock()
	l.in.Connected(true)
	if len(resend) == 0 || sock == nil {
		return
	}
	slices.SortFunc(resend, func(a, b *request) int { return int(a.n) - int(b.n) })
	go func() {
		for _, r := range resend {
			if err := sock.Send(context.Background(), r.frame); err != nil {
				return // the next welcome resends it
			}
		}
	}()
}

// helloFailed retries a refused hello on the same connection, unless the
// chat is gone.
func (l *link) helloFailed(e *deskproto.ErrorDetail) {
	if e == nil {
		return
	}
	err := e.AsError(0)
	if !servicedesk.IsTemporary(err) {
		l.log.Warn("websocket: the desk refused to resume the chat", "err", err)
		return
	}
	delay := max(err.RetryAfter, l.kit.cfg.Backoff.Delay(1))
	l.mu.Lock()
	sock := l.sock
	l.mu.Unlock()
	if sock == nil {
		return
	}
	time.AfterFunc(delay, func() { _ = sock.Send(context.Background(), l.hello()) })
}

// call sends an action and waits for its answer, resending while the desk
// says "not now" (rate_limited, unavailable) or the frame beat the hello.
func (l *link) call(ctx context.Context, f deskproto.ClientFrame) (deskproto.ServerFrame, error) {
	// An action belongs to the chat (socket) it was made in: once that chat
	// is left, a retry must not land in the next one.
	l.mu.Lock()
	chatSock := l.sock
	l.mu.Unlock()
	var reply deskproto.ServerFrame
	err := retry.Policy{Backoff: l.kit.cfg.Backoff, Retryable: notNow}.Do(ctx, func(int) error {
		var err error
		reply, err = l.try(ctx, chatSock, f)
		return err
	})
	return reply, err
}

// notNow tells the desk's answers worth sending again: a temporary refusal,
// or a frame that beat the hello (try waited for the welcome).
func notNow(err error) bool {
	var e *deskproto.Error
	return errors.As(err, &e) && (servicedesk.IsTemporary(e) || e.Code == deskproto.CodeUnauthorized)
}

// try sends the action once on chatSock and waits for its answer. A
// refusal is the desk's *deskproto.Error, with the reply.
func (l *link) try(ctx context.Context, chatSock *stream.Socket, f deskproto.ClientFrame) (deskproto.ServerFrame, error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return deskproto.ServerFrame{}, deskproto.ErrClosed
	}
	if l.sock != chatSock {
		l.mu.Unlock()
		return deskproto.ServerFrame{}, fmt.Errorf("%w: the chat was left", servicedesk.ErrNoChat)
	}
	l.next++
	r := &request{n: l.next, gen: l.gen, reply: make(chan deskproto.ServerFrame, 1)}
	f.RequestID = "r" + strconv.FormatUint(l.next, 10)
	r.frame, _ = json.Marshal(f)
	l.pending[f.RequestID] = r
	sock, welcomed := l.sock, l.welcomed
	if sock == nil {
		delete(l.pending, f.RequestID)
		l.mu.Unlock()
		return deskproto.ServerFrame{}, servicedesk.ErrNoChat
	}
	l.mu.Unlock()
	if err := sock.Send(ctx, r.frame); err != nil {
		l.forget(f.RequestID)
		if errors.Is(err, stream.ErrSocketClosed) {
			return deskproto.ServerFrame{}, deskproto.ErrClosed
		}
		return deskproto.ServerFrame{}, fmt.Errorf("%w: %w", servicedesk.ErrUnavailable, err)
	}
	var reply deskproto.ServerFrame
	select {
	case reply = <-r.reply:
	case <-ctx.Done():
		l.forget(f.RequestID)
		return deskproto.ServerFrame{}, ctx.Err()
	case <-l.done:
		return deskproto.ServerFrame{}, deskproto.ErrClosed
	}
	if reply.Type != "error" || reply.Error == nil {
		return reply, nil
	}
	err := reply.Error.AsError(0)
	if err.Code == deskproto.CodeUnauthorized && !servicedesk.IsTemporary(err) {
		// Sent before the hello was accepted: once it is, send it again.
		select {
		case <-welcomed:
		case <-ctx.Done():
			return deskproto.ServerFrame{}, ctx.Err()
		}
	}
	return reply, err
}

func (l *link) forget(id string) {
	l.mu.Lock()
	delete(l.pending, id)
	l.mu.Unlock()
}

func (l *link) act(ctx context.Context, f deskproto.ClientFrame) error {
	_, err := l.call(ctx, f)
	if err != nil {
		l.mu.Lock()
		id := l.ref.ID
		l.mu.Unlock()
		return fmt.Errorf("websocket: %s chat %s: %w", f.Type, id, err)
	}
	return nil
}

func (l *link) Send(ctx context.Context, m deskproto.Message) (deskproto.SendResult, error) {
	msg := m.Message
	reply, err := l.call(ctx, deskproto.ClientFrame{Type: "message", Message: &msg, IdempotencyKey: m.IdempotencyKey, FileIDs: m.FileIDs})
	if err != nil {
		l.mu.Lock()
		id := l.ref.ID
		l.mu.Unlock()
		return deskproto.SendResult{}, fmt.Errorf("websocket: send message %s chat %s: %w", m.IdempotencyKey, id, err)
	}
	if reply.Result == nil {
		return deskproto.SendResult{}, nil
	}
	return *reply.Result, nil
}

func (l *link) Typing(ctx context.Context, on bool) error {
	return l.act(ctx, deskproto.ClientFrame{Type: "typing", Typing: &on})
}

func (l *link) Read(ctx context.Context, messageID string) error {
	return l.act(ctx, deskproto.ClientFrame{Type: "read", MessageID: messageID})
}

func (l *link) ScreenShare(ctx context.Context, id string, state servicedesk.ScreenShareState) error {
	return l.act(ctx, deskproto.ClientFrame{Type: "screen_share", ScreenShareID: id, State: state})
}

func (l *link) StopScreenShare(ctx context.Context) error {
	return l.act(ctx, deskproto.ClientFrame{Type: "screen_share_stop"})
}

// End ends the chat; a chat that already ended is no error.
func (l *link) End(ctx context.Context) error {
	err := l.act(ctx, deskproto.ClientFrame{Type: "end"})
	var e *deskproto.Error
	if errors.As(err, &e) && (e.Code == deskproto.CodeChatEnded || e.Code == deskproto.CodeChatNotFound) {
		return nil
	}
	return err
}

// Leave closes the chat's socket with a close handshake; another chat may
// follow.
func (l *link) Leave() error {
	l.mu.Lock()
	sock := l.sock
	l.sock = nil
	// Actions still waiting belong to the chat left: they must not be
	// resent to the next one.
	for id, r := range l.pending {
		delete(l.pending, id)
		r.reply <- deskproto.ServerFrame{Type: "error", Error: &deskproto.ErrorDetail{Code: deskproto.CodeChatEnded, Message: "the chat was left"}}
	}
	l.mu.Unlock()
	if sock != nil {
		return sock.Close()
	}
	return nil
}

// Close closes the socket with a close handshake; waiting actions fail.
func (l *link) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.done)
	sock := l.sock
	l.mu.Unlock()
	if sock != nil {
		return sock.Close()
	}
	return nil
}
