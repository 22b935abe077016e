package webhook

import (
	"errors"
	"io"
	"net/http"
)

// Refusal is why a webhook request was not taken: the HTTP status to
// answer with, a short machine code and a message for the sender.
type Refusal struct {
	Status  int
	Code    string
	Message string
}

func (r *Refusal) Error() string { return r.Message }

// CheckPost refuses anything but a POST with 405 (and its Allow header
// set on w); nil for a POST.
func CheckPost(w http.ResponseWriter, r *http.Request) *Refusal {
	if r.Method == http.MethodPost {
		return nil
	}
	w.Header().Set("Allow", http.MethodPost)
	return &Refusal{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "webhooks are POSTed"}
}

// ReadBody reads a webhook's body of at most max bytes: a larger one is
// refused with 413 (the connection is not read further), one that breaks
// off with 400.
func ReadBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, *Refusal) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &Refusal{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "the webhook body is over the limit"}
		}
		return nil, &Refusal{Status: http.StatusBadRequest, Code: "bad_request", Message: "could not read the body"}
	}
	return body, nil
}

// ReadPost is CheckPost then ReadBody: the body of a webhook POST, or why
// the request is refused.
func ReadPost(w http.ResponseWriter, r *http.Request, max int64) ([]byte, *Refusal) {
	if ref := CheckPost(w, r); ref != nil {
		return nil, ref
	}
	return ReadBody(w, r, max)
}
