package mockdesk

import (
	"crypto/subtle"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
)

// The control API drives the agents and the faults of the desk, and the
// console is its page: a web page elsewhere must not reach them (a form
// posting text/plain cross-site, a name pointed at the desk by DNS
// rebinding), and with ControlToken set neither may a program without it.

// controlCookie carries the control token to the console's requests.
const controlCookie = "mockdesk_control"

// controlGuard checks one control request: the Host, the Origin (the
// console's own, or none), the token, and a JSON body.
func (d *Desk) controlGuard(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !d.controlHost(r.Host) {
			writeError(w, fmt.Errorf("host %q: %w", r.Host, errControlForbidden))
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !sameOrigin(o, r) {
			writeError(w, fmt.Errorf("origin %q: %w", o, errControlForbidden))
			return
		}
		if !d.controlAuthorized(r) {
			writeError(w, errControlToken)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.ContentLength != 0 {
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
				writeError(w, errNotJSON)
				return
			}
		}
		h(w, r)
	}
}

// consoleGate serves the console under an allowed host only, and gives
// its browser the control token.
func (d *Desk) consoleGate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !d.controlHost(r.Host) {
			writeError(w, fmt.Errorf("host %q: %w", r.Host, errControlForbidden))
			return
		}
		if tok := d.opts.ControlToken; tok != "" {
			http.SetCookie(w, &http.Cookie{Name: controlCookie, Value: tok, Path: "/control/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		}
		h.ServeHTTP(w, r)
	})
}

func (d *Desk) controlAuthorized(r *http.Request) bool {
	want := d.opts.ControlToken
	if want == "" {
		return true
	}
	got := bearer(r)
	if got == "" {
		if c, err := r.Cookie(controlCookie); err == nil {
			got = c.Value
		}
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// controlHost reports whether the control API answers under hostport:
// an IP address, localhost, or one of ControlHosts.
func (d *Desk) controlHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if _, err := netip.ParseAddr(host); err == nil || host == "localhost" {
		return true
	}
	return slices.ContainsFunc(d.opts.ControlHosts, func(h string) bool { return strings.EqualFold(h, host) })
}

// sameOrigin reports whether origin is the request's own: http(s) on its
// Host, nothing more.
func sameOrigin(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	if err != nil || u.User != nil || u.Path != "" || u.RawQuery != "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return u.Scheme == scheme && strings.EqualFold(u.Host, r.Host)
}
