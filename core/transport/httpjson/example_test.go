package httpjson_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/deskbridge/deskbridge/core/servicedesk"
	"github.com/deskbridge/deskbridge/core/transport/httpjson"
)

// Example calls an API whose 429 carries a Retry-After.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"message":"slow down"}`)
	}))
	defer srv.Close()
	c := &httpjson.Client{Name: "acme", Base: srv.URL, HTTP: srv.Client()}
	err := c.Do(context.Background(), "send message", http.MethodPost, "/messages", "token", map[string]string{"text": "hi"}, nil)
	var e *httpjson.Error
	fmt.Println(errors.As(err, &e), errors.Is(err, servicedesk.ErrRateLimited), e.RetryDelay())
	fmt.Println(err)
	// Output:
	// true true 2s
	// acme: send message: HTTP 429: slow down
}
