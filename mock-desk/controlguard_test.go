package mockdesk

import (
	"net/http"
	"strings"
	"testing"
)

// TestControlGuard: the control API answers only with its token (a
// bearer, or the cookie the console page gives its browser), only under
// an allowed host, only to its own origin or none, and only JSON bodies.
// Before, it took a cross-origin text/plain POST under any Host.
func TestControlGuard(t *testing.T) {
	h := newHarness(t, Options{ControlToken: "s3cret", ControlHosts: []string{"desk.test"}})
	call := func(method, path, body string, hdr ...string) int {
		req, _ := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
		for i := 0; i+1 < len(hdr); i += 2 {
			if hdr[i] == "Host" {
				req.Host = hdr[i+1]
			} else {
				req.Header.Set(hdr[i], hdr[i+1])
			}
		}
		resp, err := h.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	bearer := []string{"Authorization", "Bearer s3cret"}
	faults := `{"kind":"rest_5xx","n":1}`
	for _, tc := range []struct {
		what   string
		status int
		method string
		body   string
		hdr    []string
	}{
		{"no token", 401, "GET", "", nil},
		{"a wrong token", 401, "GET", "", []string{"Authorization", "Bearer nope"}},
		{"the token", 200, "GET", "", bearer},
		{"the token under an allowed name", 200, "GET", "", append([]string{"Host", "desk.test"}, bearer...)},
		{"the token under another name (rebinding)", 403, "GET", "", append([]string{"Host", "evil.example"}, bearer...)},
		{"a cross-origin form", 403, "POST", faults, append([]string{"Origin", "https://evil.example", "Content-Type", "text/plain"}, bearer...)},
		{"a text/plain body", 415, "POST", faults, append([]string{"Content-Type", "text/plain"}, bearer...)},
		{"JSON from its own origin", 204, "POST", faults, append([]string{"Origin", h.srv.URL, "Content-Type", "application/json"}, bearer...)},
	} {
		path := "/control/agents"
		if tc.method == "POST" {
			path = "/control/faults/inject"
		}
		if got := call(tc.method, path, tc.body, tc.hdr...); got != tc.status {
			t.Errorf("%s: %d, want %d", tc.what, got, tc.status)
		}
	}
	// The console's browser gets the token as a cookie.
	resp, err := h.client.Get(h.srv.URL + "/console/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == controlCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("console cookie %+v", cookie)
	}
	if got := call("GET", "/control/agents", "", "Cookie", controlCookie+"="+cookie.Value); got != 200 {
		t.Fatalf("the console's cookie: %d", got)
	}
}
