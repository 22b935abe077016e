package sse_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/deskbridge/deskbridge/core/transport/sse"
)

// Example opens a stream and reads its first event.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, ": heartbeat\n\nid: 42\nevent: CONVERSATION_MESSAGE\ndata: {\"text\":\"hi\"}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	got := make(chan sse.Event, 1)
	s := sse.Open(sse.Config{URL: srv.URL, OnEvent: func(e sse.Event) { got <- e }})
	defer s.Close()
	e := <-got
	fmt.Println(e.ID, e.Type, e.Data)
	// Output: 42 CONVERSATION_MESSAGE {"text":"hi"}
}
