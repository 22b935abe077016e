package httpjson

import "net/http"

// WithHeader returns a copy of c that also sets h on every request (a
// session id header, a Basic Authorization), for vendors that want a
// header of the call's own beside the client's: h's values replace the
// client's for the same key. c is left as it is; the copy shares its
// HTTP client.
func (c *Client) WithHeader(h http.Header) *Client {
	cp := *c
	cp.Header = make(http.Header, len(c.Header)+len(h))
	for k, v := range c.Header {
		cp.Header[k] = v
	}
	for k, v := range h {
		cp.Header[http.CanonicalHeaderKey(k)] = v
	}
	return &cp
}
