package mockdesk

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/deskbridge/deskbridge/core/deskproto"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// harness is a desk on a real loopback server and a client for it.
type harness struct {
	t      *testing.T
	desk   *Desk
	srv    *httptest.Server
	client *http.Client
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	if opts.WebhookRetryMin == 0 {
		opts.WebhookRetryMin = Duration(5 * time.Millisecond)
		opts.WebhookRetryMax = Duration(50 * time.Millisecond)
	}
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d)
	h := &harness{t: t, desk: d, srv: srv, client: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{}}}
	t.Cleanup(func() {
		h.client.CloseIdleConnections()
		_ = d.Close()
		srv.Close()
	})
	return h
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// do sends a request; body may be a []byte, a string or a value to encode.
func (h *harness) do(method, path, token string, body any, hdr ...string) (int, []byte, http.Header) {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		rd = bytes.NewReader(mustJSON(b))
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

// mustDo is do that expects status want and decodes the answer into out.
func (h *harness) mustDo(want int, out any, method, path, token string, body any, hdr ...string) {
	h.t.Helper()
	st, b, _ := h.do(method, path, token, body, hdr...)
	if st != want {
		h.t.Fatalf("%s %s: status %d, want %d: %s", method, path, st, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			h.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// wantError checks a JSON error answer.
func (h *harness) wantError(status int, code string, method, path, token string, body any, hdr ...string) {
	h.t.Helper()
	st, b, _ := h.do(method, path, token, body, hdr...)
	var eb deskproto.ErrorBody
	if err := json.Unmarshal(b, &eb); err != nil || st != status || eb.Error.Code != code || eb.Error.Message == "" {
		h.t.Fatalf("%s %s: got %d %s, want %d with code %q", method, path, st, b, status, code)
	}
}

func connectItem(summary string) *servicedesk.GenericItem {
	return &servicedesk.GenericItem{
		ResponseType:        servicedesk.ResponseConnectToAgent,
		MessageToHumanAgent: "Customer asked for a person.",
		TransferInfo:        &servicedesk.TransferInfo{SummaryMessageToAgent: []servicedesk.GenericItem{servicedesk.TextItem(summary)}},
	}
}

func (h *harness) start(req deskproto.StartRequest) deskproto.ChatInfo {
	h.t.Helper()
	var res deskproto.ChatInfo
	h.mustDo(http.StatusCreated, &res, "POST", "/v1/chats", "", req)
	return res
}

// poll reads events after cursor, waiting up to wait.
func (h *harness) poll(chat deskproto.ChatInfo, cursor uint64, wait string) deskproto.Page {
	h.t.Helper()
	var p deskproto.Page
	h.mustDo(http.StatusOK, &p, "GET", "/v1/chats/"+chat.ChatID+"/events?cursor="+itoa(cursor)+"&wait="+wait, chat.ChatToken, nil)
	return p
}

// pollUntil polls until an event of type typ arrives and returns every
// event read so far, in order.
func (h *harness) pollUntil(chat deskproto.ChatInfo, cursor *uint64, typ deskproto.EventType) []deskproto.Event {
	h.t.Helper()
	var all []deskproto.Event
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		p := h.poll(chat, *cursor, "2")
		all = append(all, p.Events...)
		*cursor = p.Cursor
		for _, e := range p.Events {
			if e.Type == typ {
				return all
			}
		}
	}
	h.t.Fatalf("no %s event in chat %s; got %v", typ, chat.ChatID, types(all))
	return nil
}

func types(evs []deskproto.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = string(e.Type)
	}
	return out
}

func itoa(n uint64) string { return string(mustJSON(n)) }

var ada = servicedesk.AgentProfile{ID: "agent-1", Nickname: "Ada", UserType: servicedesk.UserHuman}
var grace = servicedesk.AgentProfile{ID: "agent-2", Nickname: "Grace", UserType: servicedesk.UserHuman}
