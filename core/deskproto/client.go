package deskproto

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
)

// ChatRef names a chat and carries its token, and the secret its webhook
// deliveries are signed with when the desk issued one.
type ChatRef struct {
	ID            string `json:"chat_id"`
	Token         string `json:"chat_token"`
	WebhookSecret string `json:"webhook_secret,omitempty"`
}

// ClientConfig configures a Client.
type ClientConfig struct {
	// BaseURL is the desk's root, e.g. "https://desk.example.com"; the
	// protocol's paths (/v1/...) are appended.
	BaseURL string
	// HTTPClient sends the requests. Default: a pooled client with a 30s
	// timeout per attempt (long polls add their wait).
	HTTPClient *http.Client
	// Backoff spaces retries; a Retry-After is honoured up to Backoff.Max.
	// Default 100ms doubling up to 5s, with full jitter.
	Backoff retry.Backoff
	// MaxRetries bounds the retries of one call. Default 8.
	MaxRetries int
	// FailuresBeforeDown is how many failed attempts in a row of one call
	// make it report the desk unreachable (see WithHealth). Default 3.
	FailuresBeforeDown int
	Logger             *slog.Logger
}

// Client speaks the REST part of the desk protocol, retrying through
// github.com/hashicorp/go-retryablehttp with a policy that only resends what
// is safe to resend: requests the desk did not process (a 429, a refused
// connection), and, after a 5xx or a lost answer, only requests that carry
// an idempotency key (reads and PUTs aside). A message's key is its id;
// every other action but the start gets a key of its own per call.
type Client struct {
	base string
	rc   *retryablehttp.Client
	cfg  ClientConfig
}

// NewClient returns a Client for cfg.
func NewClient(cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("deskproto: base URL %q: want http(s)://host[:port]", cfg.BaseURL)
	}
	if cfg.HTTPClient == nil {
		// One desk host, many chats: a long poll per chat holds a
		// connection, and actions need more. Keep them all for reuse
		// rather than dial a new one per request; but not for long: after
		// a burst of starts, thousands of idle connections (two goroutines
		// and 8 KiB of buffers each) would outstay it by the default 90 s.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns = 0
		tr.MaxIdleConnsPerHost = 4096
		tr.IdleConnTimeout = 10 * time.Second
		cfg.HTTPClient = &http.Client{Transport: tr, Timeout: 60 * time.Second}
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = 8
	}
	if cfg.FailuresBeforeDown <= 0 {
		cfg.FailuresBeforeDown = 3
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{base: strings.TrimRight(u.String(), "/"), cfg: cfg}
	c.rc = &retryablehttp.Client{
		HTTPClient: cfg.HTTPClient,
		RetryMax:   cfg.MaxRetries,
		CheckRetry: c.checkRetry,
		Backoff: func(_, _ time.Duration, attempt int, resp *http.Response) time.Duration {
			return cfg.Backoff.After(attempt, resp, time.Now())
		},
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		RequestLogHook: func(_ retryablehttp.Logger, req *http.Request, attempt int) {
			if st, ok := req.Context().Value(callKey{}).(*call); ok {
				st.attempt.Store(int32(attempt))
			}
		},
	}
	return c, nil
}

// BaseURL returns the desk's root URL.
func (c *Client) BaseURL() string { return c.base }

type callKey struct{}

// call is what the retry policy knows of one logical call.
type call struct {
	op      string
	safe    bool // idempotent: may be resent after an ambiguous failure
	attempt atomic.Int32
	health  func(up bool)
	down    atomic.Bool
}

type healthKey struct{}

// WithHealth returns a context whose calls report the desk's reachability
// to fn: false after FailuresBeforeDown failed attempts in a row, true when
// a call gets an answer again. Kits whose only link to the desk is REST use
// it to raise and clear Carbon's DISCONNECTED status.
func WithHealth(ctx context.Context, fn func(up bool)) context.Context {
	return context.WithValue(ctx, healthKey{}, fn)
}

type noRetryKey struct{}

// WithoutRetry returns a context whose calls are tried once: for callers
// with a retry loop of their own, such as a long poll.
func WithoutRetry(ctx context.Context) context.Context {
	return context.WithValue(ctx, noRetryKey{}, true)
}

func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if ctx.Value(noRetryKey{}) != nil {
		return false, nil
	}
	st, _ := ctx.Value(callKey{}).(*call)
	again := false
	switch {
	case err != nil:
		again = st == nil || st.safe || retry.NotSent(err)
	case resp.StatusCode == http.StatusTooManyRequests:
		again = true // the desk did not process it
	case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		again = st == nil || st.safe
	}
	if st != nil && st.health != nil {
		failed := err != nil || resp.StatusCode >= 500
		switch {
		case failed && int(st.attempt.Load())+1 >= c.cfg.FailuresBeforeDown && !st.down.Swap(true):
			st.health(false)
		case !failed:
			st.health(true)
		}
	}
	if again {
		c.cfg.Logger.Debug("deskproto: retrying", "op", st.opName(), "attempt", st.attemptN()+1, "err", err, "status", status(resp))
	}
	return again, nil
}

func (st *call) opName() string {
	if st == nil {
		return ""
	}
	return st.op
}

func (st *call) attemptN() int {
	if st == nil {
		return 0
	}
	return int(st.attempt.Load())
}

func status(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// request is one protocol call.
type request struct {
	op     string
	method string
	path   string
	chat   *ChatRef
	body   any    // JSON body, or nil
	raw    []byte // a prepared body (multipart), with ctype
	ctype  string
	key    string // Idempotency-Key
	// keyed: an action whose repetition changes nothing; it gets an
	// Idempotency-Key of its own (one per call, the same on every attempt)
	// so that it, like a message, may be resent.
	keyed bool
	query url.Values
	out   any
}

func (c *Client) do(ctx context.Context, r request) error {
	if r.keyed && r.key == "" {
		r.key = newKey()
	}
	// The retry policy: a request is resent after an ambiguous failure
	// only when it carries an idempotency key (or is a read or a PUT).
	st := &call{op: r.op, safe: r.method == http.MethodGet || r.method == http.MethodPut || r.key != ""}
	if fn, ok := ctx.Value(healthKey{}).(func(bool)); ok {
		st.health = fn
	}
	ctx = context.WithValue(ctx, callKey{}, st)
	body, ctype := r.raw, r.ctype
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("deskproto: %s: encode: %w", r.op, err)
		}
		body, ctype = b, "application/json"
	}
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var rb any
	if body != nil {
		rb = body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, r.method, u, rb)
	if err != nil {
		return fmt.Errorf("deskproto: %s: %w", r.op, err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	if r.chat != nil {
		req.Header.Set("Authorization", "Bearer "+r.chat.Token)
	}
	if r.key != "" {
		req.Header.Set("Idempotency-Key", r.key)
	}
	resp, err := c.rc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return c.wrap(r, fmt.Errorf("%w: %w", servicedesk.ErrUnavailable, err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return c.wrap(r, fmt.Errorf("%w: read answer: %w", servicedesk.ErrUnavailable, err))
	}
	if resp.StatusCode >= 300 {
		e := decodeError(resp.StatusCode, data)
		if d, ok := retry.RetryAfter(resp, time.Now()); ok {
			e.RetryAfter = d
		}
		return c.wrap(r, e)
	}
	if r.out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, r.out); err != nil {
			return c.wrap(r, fmt.Errorf("decode answer: %w", err))
		}
	}
	return nil
}

func (c *Client) wrap(r request, err error) error {
	if r.chat != nil {
		return fmt.Errorf("deskproto: %s chat %s: %w", r.op, r.chat.ID, err)
	}
	return fmt.Errorf("deskproto: %s: %w", r.op, err)
}

// newKey returns a fresh idempotency key for an action.
func newKey() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "k_" + hex.EncodeToString(b[:])
}

func chatPath(ref ChatRef, rest string) string {
	return "/v1/chats/" + url.PathEscape(ref.ID) + rest
}

// Availability asks whether any agent is online.
func (c *Client) Availability(ctx context.Context) (Availability, error) {
	var a Availability
	err := c.do(ctx, request{op: "availability", method: http.MethodGet, path: "/v1/availability", out: &a})
	return a, err
}

// Start opens a chat. A start is resent only when the desk surely did not
// process it (429, connection refused): the protocol has no key for it.
func (c *Client) Start(ctx context.Context, req StartRequest) (ChatInfo, error) {
	var info ChatInfo
	err := c.do(ctx, request{op: "start chat", method: http.MethodPost, path: "/v1/chats", body: req, out: &info})
	return info, err
}

// Chat reads a chat's state.
func (c *Client) Chat(ctx context.Context, ref ChatRef) (ChatInfo, error) {
	var info ChatInfo
	err := c.do(ctx, request{op: "get chat", method: http.MethodGet, path: chatPath(ref, ""), chat: &ref, out: &info})
	return info, err
}

// Send sends a customer message; m.IdempotencyKey makes resends safe.
func (c *Client) Send(ctx context.Context, ref ChatRef, m Message) (SendResult, error) {
	var res SendResult
	err := c.do(ctx, request{op: "send message " + m.IdempotencyKey, method: http.MethodPost, path: chatPath(ref, "/messages"), chat: &ref, body: m, key: m.IdempotencyKey, out: &res})
	return res, err
}

// Typing reports the customer typing or not.
func (c *Client) Typing(ctx context.Context, ref ChatRef, on bool) error {
	return c.do(ctx, request{op: "typing", method: http.MethodPost, path: chatPath(ref, "/typing"), chat: &ref, body: TypingRequest{Typing: &on}, keyed: true})
}

// Read reports agent messages read, up to messageID ("" for all).
func (c *Client) Read(ctx context.Context, ref ChatRef, messageID string) error {
	return c.do(ctx, request{op: "read", method: http.MethodPost, path: chatPath(ref, "/read"), chat: &ref, body: ReadRequest{MessageID: messageID}, keyed: true})
}

// ScreenShare answers a screen share request.
func (c *Client) ScreenShare(ctx context.Context, ref ChatRef, id string, state servicedesk.ScreenShareState) error {
	return c.do(ctx, request{op: "screen share " + id, method: http.MethodPost, path: chatPath(ref, "/screen_share"), chat: &ref,
		body: ScreenShareRequest{ScreenShareID: id, State: state}, keyed: true})
}

// StopScreenShare ends an accepted screen share.
func (c *Client) StopScreenShare(ctx context.Context, ref ChatRef) error {
	return c.do(ctx, request{op: "stop screen share", method: http.MethodPost, path: chatPath(ref, "/screen_share/stop"), chat: &ref, body: struct{}{}, keyed: true})
}

// End ends the chat; ending an ended chat succeeds.
func (c *Client) End(ctx context.Context, ref ChatRef) error {
	err := c.do(ctx, request{op: "end chat", method: http.MethodPost, path: chatPath(ref, "/end"), chat: &ref, body: struct{}{}, keyed: true})
	var e *Error
	if errors.As(err, &e) && (e.Code == CodeChatEnded || e.Code == CodeChatNotFound) {
		return nil
	}
	return err
}

// SetWebhook points the chat's events at url.
func (c *Client) SetWebhook(ctx context.Context, ref ChatRef, url string) error {
	return c.do(ctx, request{op: "set webhook", method: http.MethodPut, path: chatPath(ref, "/webhook"), chat: &ref, body: WebhookRequest{URL: url}})
}

// Events reads the events after cursor, holding up to wait for new ones.
func (c *Client) Events(ctx context.Context, ref ChatRef, cursor uint64, wait time.Duration) (Page, error) {
	q := url.Values{"cursor": {strconv.FormatUint(cursor, 10)}}
	if wait > 0 {
		q.Set("wait", wait.String())
	}
	var p Page
	err := c.do(ctx, request{op: "poll events", method: http.MethodGet, path: chatPath(ref, "/events"), chat: &ref, query: q, out: &p})
	if err == nil {
		for _, ev := range p.Events {
			if cerr := ev.Check(); cerr != nil {
				return Page{}, fmt.Errorf("deskproto: poll events chat %s: %w", ref.ID, cerr)
			}
		}
	}
	return p, err
}

// Upload sends files as one multipart request, tied to messageID. Each
// file is read whole first (sizes are bounded by the chat's capabilities),
// so a retry resends the same bytes; re-uploading a file_id stores it once.
func (c *Client) Upload(ctx context.Context, ref ChatRef, messageID string, files []servicedesk.FileUpload) ([]FileResult, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if messageID != "" {
		_ = mw.WriteField("message_id", messageID)
	}
	for _, f := range files {
		if f.File.Open == nil {
			return nil, fmt.Errorf("deskproto: upload file %s chat %s: no content", f.ID, ref.ID)
		}
		rc, err := f.File.Open(ctx)
		if err != nil {
			return nil, fmt.Errorf("deskproto: upload file %s chat %s: open: %w", f.ID, ref.ID, err)
		}
		_ = mw.WriteField("file_id", f.ID)
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, f.File.Name))
		ctype := f.File.Type
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		h.Set("Content-Type", ctype)
		w, _ := mw.CreatePart(h)
		_, err = io.Copy(w, rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("deskproto: upload file %s chat %s: read: %w", f.ID, ref.ID, err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("deskproto: upload chat %s: %w", ref.ID, err)
	}
	var out UploadResult
	err := c.do(ctx, request{op: "upload files", method: http.MethodPost, path: chatPath(ref, "/files"), chat: &ref, raw: buf.Bytes(), ctype: mw.FormDataContentType(), keyed: true, out: &out})
	return out.Files, err
}
