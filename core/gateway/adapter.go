package gateway

import (
	_ "embed"
	"net/http"
	"strconv"
)

// adapterJS is the browser adapter, the ES module served at
// /deskbridge.js.
//
//go:embed assets/deskbridge.js
var adapterJS []byte

// serveAdapter serves the adapter module to any origin: it is public code
// without credentials, and a page on another origin imports it as a
// cross-origin module script, which needs CORS.
func serveAdapter(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeHTTPError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use GET")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Length", strconv.Itoa(len(adapterJS)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(adapterJS)
}
