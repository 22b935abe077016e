package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The headers of a desk protocol webhook delivery.
const (
	// SignatureHeader carries the delivery's signature (Sign).
	SignatureHeader = "Deskbridge-Signature"
	// EventIDHeader repeats the event id, for dedupe before parsing.
	EventIDHeader = "Deskbridge-Event-Id"
	// AttemptHeader counts delivery attempts of this event, from 1.
	AttemptHeader = "Deskbridge-Delivery-Attempt"
)

// Errors from Verify.
var (
	ErrBadSignature   = errors.New("webhook signature does not match")
	ErrStaleSignature = errors.New("webhook timestamp outside the allowed window")
)

// Sign returns the signature header value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<unix seconds>.<body>">".
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verifier checks webhook signatures made by Sign.
type Verifier struct {
	// Secrets are tried in order; give two while rotating.
	Secrets [][]byte
	// Tolerance is how far the signed timestamp may be from now, either
	// way. Default 5 minutes.
	Tolerance time.Duration
	// Now defaults to time.Now.
	Now func() time.Time
}

// Verify checks header against the raw body: a well-formed header, a
// timestamp within the window, and a v1 signature that matches one secret
// (compared in constant time).
func (v Verifier) Verify(header string, body []byte) error {
	ts, sigs, err := v.check(header)
	if err != nil {
		return err
	}
	// Every secret and signature is compared, so timing tells nothing.
	match := false
	for _, secret := range v.Secrets {
		want := mac(secret, ts, body)
		for _, s := range sigs {
			if hmac.Equal(want, s) {
				match = true
			}
		}
	}
	if !match {
		return ErrBadSignature
	}
	return nil
}

// CheckTime checks what can be checked of header without the secret: its
// form and its timestamp's window. A receiver that learns the secret later
// (a chat's own, once the chat is known) checks this at receipt.
func (v Verifier) CheckTime(header string) error {
	_, _, err := v.check(header)
	return err
}

func (v Verifier) check(header string) (string, [][]byte, error) {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = val
		case "v1":
			if b, err := hex.DecodeString(val); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	if ts == "" || len(sigs) == 0 {
		return "", nil, fmt.Errorf("%w: malformed header", ErrBadSignature)
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", nil, fmt.Errorf("%w: bad timestamp", ErrBadSignature)
	}
	tol := v.Tolerance
	if tol <= 0 {
		tol = 5 * time.Minute
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	if d := now().Sub(time.Unix(unix, 0)); d > tol || d < -tol {
		return "", nil, fmt.Errorf("%w: %v off", ErrStaleSignature, d.Round(time.Second))
	}
	return ts, sigs, nil
}
