// Package httpjson makes a vendor's JSON REST calls, written once for the
// kits whose desks speak REST: one request with a JSON body and a bearer
// token, a 2xx answer decoded, anything else an *Error that says its kind
// (rate limited, unavailable, not found, rejected) and carries the
// server's Retry-After, so that retry.Policy retries what is temporary and
// honours the wait. A Call names one request whatever its body's form
// (JSON, a form, raw bytes, a stream); Client.Retry sends it with a
// retry.Policy, telling a kit's outage count of every try. Multipart lays
// out a multipart/form-data body whose files are read as it is sent.
//
// # Concurrency
//
// A Client is safe for concurrent use once configured.
//
// # Errors
//
// Client.Do fails with an *Error for a non-2xx answer, with an error
// wrapping servicedesk.ErrUnavailable when the server cannot be reached or
// the answer cannot be read, and with the context's error when it ends.
package httpjson
