package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHandler: what a kit's webhook answers to each kind of request, and
// that each event reaches the desk that follows its chat once.
func TestHandler(t *testing.T) {
	var in Intake[string]
	var got []string
	in.Follow("c1", func(e string) { got = append(got, e) })
	h := in.Handler(Reception[string]{Kit: "test", MaxBytes: 64,
		Verify: func(r *http.Request, _ []byte) error {
			if r.Header.Get("X-Key") != "secret" {
				return errors.New("wrong X-Key")
			}
			return nil
		},
		Decode: func(_ *http.Request, body []byte) ([]Delivery[string], error) {
			var out []Delivery[string]
			for f := range strings.FieldsSeq(string(body)) {
				chat, ev, ok := strings.Cut(f, ":")
				if !ok {
					return nil, errors.New("not an event: " + f)
				}
				out = append(out, Delivery[string]{Key: f, Chat: chat, Event: ev, Raw: []byte(f)})
			}
			return out, nil
		}})
	post := func(method, key, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/hook", strings.NewReader(body))
		r.Header.Set("X-Key", key)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for _, c := range []struct {
		method, key, body string
		want              int
	}{
		{http.MethodPost, "secret", "c1:a c1:b :none", http.StatusOK},
		{http.MethodPost, "secret", "c1:a", http.StatusOK}, // a redelivery
		{http.MethodGet, "secret", "", http.StatusMethodNotAllowed},
		{http.MethodPost, "wrong", "c1:c", http.StatusUnauthorized},
		{http.MethodPost, "secret", "garbage", http.StatusBadRequest},
		{http.MethodPost, "secret", strings.Repeat("c1:x ", 20), http.StatusRequestEntityTooLarge},
	} {
		if w := post(c.method, c.key, c.body); w.Code != c.want {
			t.Errorf("%s %q with key %q: %d %s, want %d", c.method, c.body, c.key, w.Code, w.Body, c.want)
		}
	}
	if strings.Join(got, ",") != "a,b" {
		t.Fatalf("delivered %q, want a,b once each", got)
	}
	// An event of a chat followed elsewhere that cannot be passed on is
	// 503, and taken when it comes again.
	in.Elsewhere = func([]byte) error { return errors.New("no instance answers") }
	if w := post(http.MethodPost, "secret", "c2:d"); w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("not passed on: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	var relayed []byte
	in.Elsewhere = func(b []byte) error { relayed = b; return nil }
	if w := post(http.MethodPost, "secret", "c2:d"); w.Code != http.StatusOK || string(relayed) != "c2:d" {
		t.Fatalf("the next try: %d, relayed %q", w.Code, relayed)
	}
}

// A kit's webhook: the vendor signs the body with a shared token and sends
// one event a request, for a conversation; the desk that follows that
// conversation gets each event once.
func ExampleIntake_Handler() {
	var in Intake[string]
	in.Follow("conv-1", func(ev string) { fmt.Println("desk got", ev) })
	token := []byte("the webhook's token")
	h := in.Handler(Reception[string]{Kit: "acme", MaxBytes: 1 << 20,
		Verify: func(r *http.Request, body []byte) error {
			if !ValidBodyHMAC([][]byte{token}, body, r.Header.Get("X-Acme-Signature")) {
				return errors.New("bad X-Acme-Signature")
			}
			return nil
		},
		Decode: func(_ *http.Request, body []byte) ([]Delivery[string], error) {
			id, conv, _ := strings.Cut(string(body), "@")
			return []Delivery[string]{{Key: id, Chat: conv, Event: id, Raw: body}}, nil
		}})
	for _, sig := range []string{BodyHMAC(token, []byte("e1@conv-1")), "forged", BodyHMAC(token, []byte("e1@conv-1"))} {
		r := httptest.NewRequest(http.MethodPost, "/acme", strings.NewReader("e1@conv-1"))
		r.Header.Set("X-Acme-Signature", sig)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// desk got e1
	// 200
	// 401
	// 200
}
