package httpjson

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/retry"
)

// TestCall: each of a Call's bodies reaches the server in its form.
func TestCall(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, `{"got":%q,"type":%q,"auth":%q}`, b, r.Header.Get("Content-Type"), r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	c := &Client{Name: "acme", Base: srv.URL, HTTP: srv.Client()}
	type echo struct{ Got, Type, Auth string }
	for _, tc := range []struct {
		call Call
		want echo
	}{
		{Call{Body: map[string]int{"a": 1}, Bearer: "tok"}, echo{`{"a":1}`, "application/json", "Bearer tok"}},
		{Call{Form: url.Values{"Body": {"hi there"}}}, echo{"Body=hi+there", "application/x-www-form-urlencoded", ""}},
		{Call{Raw: []byte("PNG"), ContentType: "image/png"}, echo{"PNG", "image/png", ""}},
		{Call{}, echo{"", "", ""}},
	} {
		var got echo
		tc.call.Op, tc.call.Method, tc.call.Path, tc.call.Out = "op", http.MethodPost, "/x", &got
		if err := c.Call(context.Background(), tc.call); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%+v: the server saw %+v, want %+v", tc.call, got, tc.want)
		}
	}
}

// TestRetry: temporary failures are tried again until an answer, each
// try heard; a refusal is returned at once.
func TestRetry(t *testing.T) {
	var tries atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			http.Error(w, "no", http.StatusBadRequest)
			return
		}
		if tries.Add(1) < 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	}))
	defer srv.Close()
	c := &Client{Name: "acme", Base: srv.URL, HTTP: srv.Client()}
	p := retry.Policy{Backoff: retry.Backoff{Min: time.Millisecond, Max: time.Millisecond}, Retries: 5}
	var heard []error
	var out struct{ OK bool }
	if err := c.Retry(context.Background(), p, Call{Op: "op", Method: http.MethodGet, Path: "/ok", Out: &out}, func(err error) { heard = append(heard, err) }, nil); err != nil || !out.OK {
		t.Fatalf("Retry = %v, %+v", err, out)
	}
	if len(heard) != 3 || !errors.Is(heard[0], servicedesk.ErrUnavailable) || heard[2] != nil {
		t.Fatalf("heard %v", heard)
	}
	heard = nil
	err := c.Retry(context.Background(), p, Call{Op: "op", Method: http.MethodGet, Path: "/bad"}, func(err error) { heard = append(heard, err) }, nil)
	if !errors.Is(err, servicedesk.ErrRejected) || len(heard) != 1 {
		t.Fatalf("a refusal: %v after %d tries", err, len(heard))
	}
}
