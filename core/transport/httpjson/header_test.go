package httpjson

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWithHeader(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	base := &Client{Name: "t", Base: srv.URL, HTTP: srv.Client(), Header: http.Header{"X-Org": {"o"}, "X-Both": {"client"}}}
	c := base.WithHeader(http.Header{"sessionid": {"s1"}, "X-Both": {"call"}})
	if err := c.Do(context.Background(), "op", http.MethodPost, "/", "tok", map[string]int{"a": 1}, nil); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"Sessionid": "s1", "X-Org": "o", "X-Both": "call", "Authorization": "Bearer tok"} {
		if g := got.Get(k); g != want {
			t.Errorf("%s = %q, want %q", k, g, want)
		}
	}
	if len(base.Header) != 2 || base.Header.Get("X-Both") != "client" || base.Header.Get("Sessionid") != "" {
		t.Errorf("the original client changed: %v", base.Header)
	}
	if err := base.Do(context.Background(), "op", http.MethodGet, "/", "", nil, nil); err != nil {
		t.Fatal(err)
	}
	if got.Get("Sessionid") != "" {
		t.Errorf("the original client sent the copy's header: %v", got)
	}
}
