package httpjson

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

func TestDo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/ok":
			fmt.Fprintf(w, `{"echo":%s,"auth":%q,"org":%q,"type":%q}`, b, r.Header.Get("Authorization"), r.Header.Get("X-Org-Id"), r.Header.Get("Content-Type"))
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/slow":
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"message":"Too Many Requests"}`)
		default:
			http.Error(w, r.URL.Path, map[string]int{"/down": 503, "/gone": 404, "/bad": 400, "/auth": 401}[r.URL.Path])
		}
	}))
	defer srv.Close()
	c := &Client{Name: "acme", Base: srv.URL, HTTP: srv.Client(), Header: http.Header{"X-Org-Id": {"o-1"}}, Kinds: map[int]servicedesk.ErrorCode{401: servicedesk.CodeNotFound}}
	ctx := context.Background()
	var out struct {
		Echo            map[string]int
		Auth, Org, Type string
	}
	if err := c.Do(ctx, "ok", "POST", "/ok", "tok", map[string]int{"a": 1}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Echo["a"] != 1 || out.Auth != "Bearer tok" || out.Org != "o-1" || out.Type != "application/json" {
		t.Fatalf("request as the server saw it: %+v", out)
	}
	if err := c.Do(ctx, "empty", "DELETE", "/empty", "", nil, &out); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	if err := c.Do(ctx, "raw", "GET", "/ok", "", nil, &raw); err != nil || len(raw) == 0 {
		t.Fatalf("raw %q %v", raw, err)
	}
	for path, want := range map[string]error{"/slow": servicedesk.ErrRateLimited, "/down": servicedesk.ErrUnavailable, "/gone": servicedesk.ErrChatNotFound, "/bad": servicedesk.ErrRejected, "/auth": servicedesk.ErrChatNotFound} {
		err := c.Do(ctx, "op", "GET", path, "", nil, nil)
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", path, err, want)
		}
		if path == "/slow" && (e.RetryDelay() != 3*time.Second || e.Message != "Too Many Requests" || e.Error() != "acme: op: HTTP 429: Too Many Requests") {
			t.Errorf("429: %v %v", e, e.RetryDelay())
		}
	}
	// Unreachable is temporary, so retry.Policy tries again.
	srv.Close()
	err := c.Do(ctx, "op", "GET", "/ok", "", nil, nil)
	if !errors.Is(err, servicedesk.ErrUnavailable) {
		t.Fatalf("closed server: %v", err)
	}
}

func TestMessage(t *testing.T) {
	for body, want := range map[string]string{
		`{"message":"Jwt is expired","errorCode":"UNAUTHORIZED"}`:          "UNAUTHORIZED Jwt is expired",
		`{"error":"invalid_grant","error_description":"expired"}`:          "expired",
		`{"status":401,"error":"Unauthorized","message":"Jwt is expired"}`: "Jwt is expired",
		`{"errorCode":"LIMIT"}`: "LIMIT",
		`not json`:              "not json",
		`{"other":1}`:           `{"other":1}`,
	} {
		if got := Message([]byte(body)); got != want {
			t.Errorf("%s: %q, want %q", body, got, want)
		}
	}
}

func FuzzMessage(f *testing.F) {
	f.Add([]byte(`{"message":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) { _ = Message(b) })
}

func TestSendRawBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || string(b) != "A=1&B=2" || r.Header.Get("Authorization") != "Basic x" {
			http.Error(w, `{"message":"bad form"}`, http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	c := &Client{Name: "kit", Base: srv.URL, HTTP: srv.Client(), Header: http.Header{"Authorization": {"Basic x"}}}
	var out struct{ OK bool }
	if err := c.Send(context.Background(), "post form", http.MethodPost, "/f", "application/x-www-form-urlencoded", []byte("A=1&B=2"), &out); err != nil || !out.OK {
		t.Fatalf("send: %v %+v", err, out)
	}
	err := c.Send(context.Background(), "post form", http.MethodPost, "/f", "text/plain", []byte("x"), nil)
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Message != "bad form" {
		t.Fatalf("error %v", err)
	}
}

// TestErrorBody: a vendor's own error body is read by the hook, and an
// answer without a message gets the status text.
func TestErrorBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bare" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusLocked)
		_, _ = w.Write([]byte(`{"errors":[{"code":"locked","title":"Too many messages"}]}`))
	}))
	defer srv.Close()
	c := &Client{Name: "kit", Base: srv.URL, HTTP: srv.Client(), ErrorBody: func(b []byte) (string, string) {
		var v struct {
			Errors []struct{ Code, Title string }
		}
		if json.Unmarshal(b, &v) != nil || len(v.Errors) == 0 {
			return "", ""
		}
		return v.Errors[0].Code, v.Errors[0].Title
	}}
	var e *Error
	err := c.Do(context.Background(), "post", http.MethodPost, "/m", "", map[string]int{"a": 1}, nil)
	if !errors.As(err, &e) || e.Status != http.StatusLocked || e.Code != "locked" || e.Message != "Too many messages" {
		t.Fatalf("error %#v", err)
	}
	err = c.Do(context.Background(), "get", http.MethodGet, "/bare", "", nil, nil)
	if !errors.As(err, &e) || e.Code != "" || e.Message != "Service Unavailable" {
		t.Fatalf("error %#v", err)
	}
}

// StatusOf and Refusal read an answer's *Error wherever it is wrapped;
// only a refusal with a message is a reason to show.
func TestStatusOfAndRefusal(t *testing.T) {
	wrap := func(e *Error) error { return fmt.Errorf("upload f-1: %w", e) }
	refused := wrap(&Error{Status: http.StatusUnprocessableEntity, Message: "file type not allowed"})
	assert.Equal(t, http.StatusUnprocessableEntity, StatusOf(refused))
	assert.Equal(t, "file type not allowed", Refusal(refused))
	for _, err := range []error{
		wrap(&Error{Status: http.StatusServiceUnavailable, Message: "maintenance"}),
		wrap(&Error{Status: http.StatusTooManyRequests, Message: "slow down"}),
		wrap(&Error{Status: http.StatusNotFound, Message: "no such conversation"}),
		errors.New("connection reset"),
		nil,
	} {
		assert.Empty(t, Refusal(err), "%v is no refusal", err)
	}
	assert.Zero(t, StatusOf(errors.New("connection reset")))
	assert.Zero(t, StatusOf(nil))
}
