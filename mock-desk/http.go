package mockdesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// ServeHTTP serves the customer protocol, the control API and the console.
func (d *Desk) ServeHTTP(w http.ResponseWriter, r *http.Request) { d.mux.ServeHTTP(w, r) }

type route struct {
	method string
	h      http.HandlerFunc
}

func (d *Desk) routes() http.Handler {
	mux := http.NewServeMux()
	// handle registers one path with its methods; other methods get a JSON
	// 405 instead of the mux's plain-text one.
	handle := func(path string, rs ...route) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			for _, rt := range rs {
				if rt.method == r.Method || (rt.method == http.MethodGet && r.Method == http.MethodHead) {
					rt.h(w, r)
					return
				}
			}
			allow := make([]string, len(rs))
			for i, rt := range rs {
				allow[i] = rt.method
			}
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, fmt.Errorf("%s %s: %w", r.Method, r.URL.Path, errMethodNotAllowed))
		})
	}
	get := func(h http.HandlerFunc) route { return route{http.MethodGet, h} }
	post := func(h http.HandlerFunc) route { return route{http.MethodPost, h} }
	put := func(h http.HandlerFunc) route { return route{http.MethodPut, h} }
	rest := d.restFaults

	handle("/v1/availability", get(rest(d.handleAvailability)))
	handle("/v1/chats", post(rest(d.handleStart)))
	handle("/v1/chats/{id}", get(rest(d.handleChatInfo)))
	handle("/v1/chats/{id}/messages", post(rest(d.handleMessage)))
	handle("/v1/chats/{id}/typing", post(rest(d.handleTyping)))
	handle("/v1/chats/{id}/read", post(rest(d.handleRead)))
	handle("/v1/chats/{id}/files", post(rest(d.handleUpload)))
	handle("/v1/chats/{id}/end", post(rest(d.handleEnd)))
	handle("/v1/chats/{id}/screen_share", post(rest(d.handleScreenShare)))
	handle("/v1/chats/{id}/screen_share/stop", post(rest(d.handleScreenShareStop)))
	handle("/v1/chats/{id}/webhook", put(rest(d.handleSetWebhook)))
	handle("/v1/chats/{id}/events", get(d.handlePoll))
	handle("/v1/ws", get(d.handleWS))

	guarded := func(path string, rs ...route) {
		for i := range rs {
			rs[i].h = d.controlGuard(rs[i].h)
		}
		handle(path, rs...)
	}
	d.controlRoutes(guarded, get, post, put)
	mux.Handle("/console/", d.consoleGate(consoleHandler()))
	mux.Handle("/favicon.ico", FaviconHandler())
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/", http.StatusFound)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, fmt.Errorf("%s: %w", r.URL.Path, errNotFound))
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	ce := codeOf(err)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		ce = &CodeError{Code: deskproto.CodeTimeout, Status: http.StatusRequestTimeout}
		err = fmt.Errorf("%w: %w", err, ce)
	}
	writeJSON(w, ce.Status, errorBody(err))
}

// bearer returns the chat token of a request: "Authorization: Bearer …".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// readBody reads a JSON body of at most limit bytes; an empty body is "{}".
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("body over %d bytes: %w", limit, errBodyTooLarge)
		}
		return nil, fmt.Errorf("read body: %w", ErrBadRequest)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return []byte("{}"), nil
	}
	return b, nil
}

// decodeJSON decodes exactly one JSON value into a T.
func decodeJSON[T any](b []byte) (T, error) {
	var v T
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&v); err != nil {
		return v, fmt.Errorf("%v: %w", err, errBadJSON)
	}
	if dec.More() {
		return v, fmt.Errorf("data after the JSON value: %w", errBadJSON)
	}
	if _, err := dec.Token(); err != io.EOF {
		return v, fmt.Errorf("data after the JSON value: %w", errBadJSON)
	}
	return v, nil
}

// The customer protocol's request bodies are deskproto's types. The
// decoders are the only code that reads outside input; each is fuzzed.

func decodeStart(b []byte) (deskproto.StartRequest, error) {
	v, err := decodeJSON[deskproto.StartRequest](b)
	if err != nil {
		return deskproto.StartRequest{}, err
	}
	if it := v.ConnectItem; it != nil && it.ResponseType != servicedesk.ResponseConnectToAgent {
		return deskproto.StartRequest{}, fmt.Errorf("connect_item.response_type %q, want connect_to_agent: %w", it.ResponseType, ErrBadRequest)
	}
	if c := v.Customer; c != nil && (len(c.ID) > 255 || len(c.Name) > 255) {
		return deskproto.StartRequest{}, fmt.Errorf("customer id or name over 255 bytes: %w", ErrBadRequest)
	}
	return v, nil
}

func decodeMessage(b []byte) (deskproto.Message, error) {
	v, err := decodeJSON[deskproto.Message](b)
	if err != nil {
		return v, err
	}
	// deskproto.Message holds the message by value: ask the body whether
	// it has one.
	if m, _ := decodeJSON[map[string]json.RawMessage](b); len(m["message"]) == 0 || string(m["message"]) == "null" {
		return v, fmt.Errorf("missing message: %w", ErrBadRequest)
	}
	for _, id := range v.FileIDs {
		if id == "" || len(id) > 255 {
			return v, fmt.Errorf("file_ids: empty or over 255 bytes: %w", ErrBadRequest)
		}
	}
	return v, nil
}

func decodeTyping(b []byte) (bool, error) {
	v, err := decodeJSON[deskproto.TypingRequest](b)
	if err != nil {
		return false, err
	}
	if v.Typing == nil {
		return false, fmt.Errorf("missing typing: %w", ErrBadRequest)
	}
	return *v.Typing, nil
}

func decodeScreenShare(b []byte) (deskproto.ScreenShareRequest, error) {
	v, err := decodeJSON[deskproto.ScreenShareRequest](b)
	if err != nil {
		return v, err
	}
	if v.State == "" {
		return v, fmt.Errorf("missing state: %w", ErrBadRequest)
	}
	return v, nil
}

// parseCursor reads the cursor of a poll: a sequence number, 0 when absent.
func parseCursor(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cursor %q: %w", s, ErrBadCursor)
	}
	return n, nil
}

// parseWait reads a wait: seconds ("25") or a Go duration ("1.5s"),
// capped at max.
func parseWait(s string, max time.Duration) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	var d time.Duration
	if n, err := strconv.ParseFloat(s, 64); err == nil && n >= 0 && n < 1e6 {
		d = time.Duration(n * float64(time.Second))
	} else if v, err := time.ParseDuration(s); err == nil && v >= 0 {
		d = v
	} else {
		return 0, fmt.Errorf("wait %q: %w", s, ErrBadRequest)
	}
	return min(d, max), nil
}

// restFaults wraps a customer REST handler with the REST faults.
func (d *Desk) restFaults(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cfg := d.faults.config().REST
		if !d.injectHTTP(w, r, SiteREST) {
			return
		}
		if d.faults.hit("rest", FaultREST5xxAfter, 0) {
			// The work is done, the answer is lost: an ambiguous failure.
			h(discardWriter{header: http.Header{}}, r)
			w.Header().Set("Retry-After", retryAfterHeader(retryAfter(cfg)))
			writeError(w, fmt.Errorf("injected after the work was done: %w", ErrUnavailable))
			return
		}
		h(w, r)
	}
}

// injectHTTP applies site's latency, 429 and 5xx faults; it reports false
// when it has answered the request.
func (d *Desk) injectHTTP(w http.ResponseWriter, r *http.Request, site FaultSite) bool {
	err := d.RequestFault(r.Context(), site)
	if err == nil {
		return true
	}
	var fe *FaultError
	if errors.As(err, &fe) {
		w.Header().Set("Retry-After", retryAfterHeader(fe.RetryAfter))
	}
	writeError(w, err)
	return false
}

func retryAfterHeader(d time.Duration) string { return strconv.Itoa(ceilSeconds(d)) }

// ceilSeconds is d in whole seconds, rounded up, at least 1.
func ceilSeconds(d time.Duration) int {
	return int(max((d+time.Second-1)/time.Second, 1))
}

type discardWriter struct{ header http.Header }

func (w discardWriter) Header() http.Header         { return w.header }
func (w discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w discardWriter) WriteHeader(int)             {}

// jsonAction reads a JSON body, runs f, and writes its result or error.
func (d *Desk) jsonAction(w http.ResponseWriter, r *http.Request, f func(body []byte) (int, any, error)) {
	body, err := readBody(w, r, d.opts.MaxBodyBytes)
	if err != nil {
		writeError(w, err)
		return
	}
	status, v, err := f(body)
	if err != nil {
		writeError(w, err)
		return
	}
	if v == nil {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, v)
}

func (d *Desk) handleAvailability(w http.ResponseWriter, r *http.Request) {
	a, err := d.Availability(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (d *Desk) handleStart(w http.ResponseWriter, r *http.Request) {
	d.jsonAction(w, r, func(body []byte) (int, any, error) {
		req, err := decodeStart(body)
		if err != nil {
			return 0, nil, err
		}
		res, err := d.StartChat(r.Context(), req)
		return http.StatusCreated, res, err
	})
}

func (d *Desk) handleChatInfo(w http.ResponseWriter, r *http.Request) {
	info, err := d.chatInfo(r.PathValue("id"), bearer(r))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (d *Desk) handleMessage(w http.ResponseWriter, r *http.Request) {
	d.jsonAction(w, r, func(body []byte) (int, any, error) {
		mb, err := decodeMessage(body)
		if err != nil {
			return 0, nil, err
		}
		res, err := d.sendMessage(r.Context(), r.PathValue("id"), bearer(r), r.Header.Get("Idempotency-Key"), mb.Message, mb.FileIDs)
		if res.Replayed {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		return http.StatusCreated, res, err
	})
}

func (d *Desk) handleTyping(w http.ResponseWriter, r *http.Request) {
	d.jsonAction(w, r, func(body []byte) (int, any, error) {
		on, err := decodeTyping(body)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusNoContent, nil, d.customerTyping(r.Context(), r.PathValue("id"), bearer(r), on)
	})
}

func (d *Desk) handleRead(w http.ResponseWriter, r *http.Request) {
	d.jsonAction(w, r, func(body []byte) (int, any, error) {
		v, err := decodeJSON[deskproto.ReadRequest](body)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusNoContent, nil, d.customerRead(r.Context(), r.PathValue("id"), bearer(r), v.MessageID)
	})
}

func (d *Desk) handleEnd(w http.ResponseWriter, r *http.Request) {
	d.jsonAction(w, r, func(body []byte) (int, any, error) {
		if _, err := decodeJSON[map[string]json.RawMessage](body); err != nil {
			return 0, nil, err
		}
		return http.StatusNoContent, nil, d.customerEnd(r.Context(), r.PathValue("id"), bearer(r))
	})
}

func (d *Desk) handleScreenShare(w http.ResponseWriter, r *http.Request) {
	d.jsonAction(w, r, func(body []byte) (int, any, error) {
		v, err := decodeScreenShare(body)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusNoContent, nil, d.screenShareAnswer(r.Context(), r.PathValue("id"), bearer(r), v.ScreenShareID, v.State)
	})
}

func (d *Desk) handleScreenShareStop(w http.ResponseWriter, r *http.Request) {
	d.jsonAction(w, r, func(body []byte) (int, any, error) {
		if _, err := decodeJSON[map[string]json.RawMessage](body); err != nil {
			return 0, nil, err
		}
		return http.StatusNoContent, nil, d.screenShareStop(r.Context(), r.PathValue("id"), bearer(r))
	})
}

func (d *Desk) handleSetWebhook(w http.ResponseWriter, r *http.Request) {
	d.jsonAction(w, r, func(body []byte) (int, any, error) {
		v, err := decodeJSON[deskproto.WebhookRequest](body)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusNoContent, nil, d.setWebhook(r.Context(), r.PathValue("id"), bearer(r), v.URL)
	})
}

// handlePoll is the long poll: events after cursor, held up to wait.
func (d *Desk) handlePoll(w http.ResponseWriter, r *http.Request) {
	cfg := d.faults.config().Poll
	if !d.injectHTTP(w, r, sitePoll) {
		return
	}
	q := r.URL.Query()
	after, err := parseCursor(q.Get("cursor"))
	if err != nil {
		writeError(w, err)
		return
	}
	wait, err := parseWait(q.Get("wait"), time.Duration(d.opts.MaxPollWait))
	if err != nil {
		writeError(w, err)
		return
	}
	id, token := r.PathValue("id"), bearer(r)
	if d.faults.hit("poll", FaultPollStall, cfg.StallRate) {
		// Check the chat first so a stalled poll of a bad chat still fails.
		if _, err := d.chatInfo(id, token); err != nil {
			writeError(w, err)
			return
		}
		if err := d.pause(r.Context(), wait); err != nil && !errors.Is(err, ErrClosed) {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, deskproto.Page{Events: []deskproto.Event{}, Cursor: after})
		return
	}
	page, err := d.waitEvents(r.Context(), id, token, after, wait)
	if err != nil {
		writeError(w, err)
		return
	}
	writeEventPage(w, d.disorder(page, d.faults.config().Poll)) // the faults now, not when the poll began
}

// disorder injects the poll faults that scramble an answer: events
// repeated, neighbours swapped. The cursor stays right, so a client that
// orders by seq and dedupes by id loses nothing.
func (d *Desk) disorder(p deskproto.Page, cfg PollFaults) deskproto.Page {
	if len(p.Events) == 0 || (cfg.DuplicateRate <= 0 && cfg.ReorderRate <= 0) {
		return p
	}
	out := make([]deskproto.Event, 0, len(p.Events)+1)
	for _, e := range p.Events {
		out = append(out, e)
		if d.faults.hit("poll", FaultPollDuplicate, cfg.DuplicateRate) {
			out = append(out, e)
		}
	}
	for i := 0; i+1 < len(out); i += 2 {
		if d.faults.hit("poll", FaultPollReorder, cfg.ReorderRate) {
			out[i], out[i+1] = out[i+1], out[i]
		}
	}
	p.Events = out
	return p
}

// writeEventPage writes a page with each event's cached JSON.
func writeEventPage(w http.ResponseWriter, p deskproto.Page) {
	var b bytes.Buffer
	b.WriteString(`{"events":[`)
	for i, e := range p.Events {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(eventJSON(e))
	}
	fmt.Fprintf(&b, `],"cursor":%d,"ended":%t}`+"\n", p.Cursor, p.Ended)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b.Bytes())
}

// handleUpload takes one or more files (multipart field "file"; optional
// field "file_id" per file, in the same order).
func (d *Desk) handleUpload(w http.ResponseWriter, r *http.Request) {
	id, token := r.PathValue("id"), bearer(r)
	// Check the token before reading a possibly large body.
	info, err := d.chatInfo(id, token)
	if err != nil {
		writeError(w, err)
		return
	}
	caps := info.Capabilities
	maxFiles := max(caps.MaxFiles, 1)
	if !caps.AllowMultipleFileUploads {
		maxFiles = 1
	}
	limit := caps.MaxFileSizeBytes
	if limit <= 0 {
		limit = 32 << 20
	}
	// Room for every file at its limit plus a little per part for headers;
	// one file over its limit is found part by part below.
	r.Body = http.MaxBytesReader(w, r.Body, int64(maxFiles)*(limit+1)+64<<10)
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, fmt.Errorf("mockdesk: upload to chat %s: want multipart/form-data: %w", id, ErrBadRequest))
		return
	}
	parts, err := readUploadParts(mr, limit, maxFiles)
	if err != nil {
		writeError(w, fmt.Errorf("mockdesk: upload to chat %s: %w", id, err))
		return
	}
	var results []deskproto.FileResult
	var firstErr error
	for _, p := range parts {
		res, err := d.uploadFile(r.Context(), id, token, p.fileID, p.messageID, p.name, p.mimeType, p.content, p.tooLarge)
		if err != nil && res.FileID == "" {
			writeError(w, err)
			return
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		results = append(results, res)
	}
	if firstErr != nil && len(results) == 1 {
		writeError(w, firstErr)
		return
	}
	writeJSON(w, http.StatusCreated, deskproto.UploadResult{Files: results})
}

type uploadPart struct {
	fileID, messageID, name, mimeType string
	content                           []byte
	tooLarge                          bool
}

// readUploadParts reads the parts of an upload: a "file_id" field names the
// "file" part that follows it. A file over limit is read no further and
// marked tooLarge, so that it is rejected with a reason.
func readUploadParts(mr *multipart.Reader, limit int64, maxFiles int) ([]uploadPart, error) {
	var parts []uploadPart
	nextID, messageID := "", ""
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, errBodyTooLarge
			}
			return nil, fmt.Errorf("multipart: %v: %w", err, ErrBadRequest)
		}
		switch p.FormName() {
		case "file_id":
			b, err := io.ReadAll(io.LimitReader(p, 256))
			if err != nil || len(b) == 0 || len(b) > 255 {
				return nil, fmt.Errorf("file_id field: %w", ErrBadRequest)
			}
			nextID = string(b)
		case "message_id":
			b, err := io.ReadAll(io.LimitReader(p, 256))
			if err != nil || len(b) > 255 {
				return nil, fmt.Errorf("message_id field: %w", ErrBadRequest)
			}
			messageID = string(b)
		case "file":
			if len(parts) == maxFiles {
				return nil, fmt.Errorf("more than %d files: %w", maxFiles, errTooManyFiles)
			}
			b, err := io.ReadAll(io.LimitReader(p, limit+1))
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return nil, errBodyTooLarge
				}
				return nil, fmt.Errorf("file part: %v: %w", err, ErrBadRequest)
			}
			up := uploadPart{fileID: nextID, messageID: messageID, name: p.FileName(), mimeType: p.Header.Get("Content-Type")}
			if int64(len(b)) > limit {
				up.tooLarge = true
			} else {
				up.content = b
			}
			parts = append(parts, up)
			nextID = ""
		}
		_ = p.Close()
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("no \"file\" part: %w", ErrBadRequest)
	}
	return parts, nil
}

func jsonStrictDecoder(b []byte) *json.Decoder {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec
}
