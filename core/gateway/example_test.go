package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/deskbridge/deskbridge/core/conformance/memdesk"
	"github.com/deskbridge/deskbridge/core/gateway"
)

// The gateway is an http.Handler; a kit's Factory supplies the desk (the
// in-memory memdesk stands in for one here).
func ExampleNew() {
	desk := memdesk.New()
	gw, err := gateway.New(gateway.Options{
		Factory:        desk.Factory(),
		AllowedOrigins: []string{"https://shop.example.com"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/deskbridge/", http.StripPrefix("/deskbridge", gw))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	_ = srv // srv.ListenAndServe() in a real program

	// On shutdown: stop the server, then drain the sockets.
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	fmt.Println(gw.Shutdown(ctx))
	// Output: <nil>
}
