package connectface

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	mockdesk "github.com/deskbridge/deskbridge/mock-desk"
)

// connectError writes a Connect error: the type in x-amzn-ErrorType, the
// message in the body.
func connectError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Message": msg})
}

// errorOf maps a desk error onto Connect's exceptions.
func errorOf(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, mockdesk.ErrFileTooLarge):
		connectError(w, http.StatusPaymentRequired, "ServiceQuotaExceededException", mockdesk.Reason(err))
	case errors.Is(err, mockdesk.ErrFileTypeNotAllowed), errors.Is(err, mockdesk.ErrUploadsDisabled), errors.Is(err, mockdesk.ErrFileRejected),
		errors.Is(err, mockdesk.ErrMessageRejected), errors.Is(err, mockdesk.ErrBadRequest):
		connectError(w, http.StatusBadRequest, "ValidationException", mockdesk.Reason(err))
	case errors.Is(err, mockdesk.ErrChatEnded), errors.Is(err, mockdesk.ErrUnauthorized), errors.Is(err, mockdesk.ErrChatNotFound):
		connectError(w, http.StatusForbidden, "AccessDeniedException", "You do not have sufficient access to perform this action.")
	case errors.Is(err, mockdesk.ErrIdempotencyReused):
		connectError(w, http.StatusConflict, "ConflictException", "The ClientToken was used with another request.")
	case errors.Is(err, mockdesk.ErrRateLimited):
		connectError(w, http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded")
	case errors.Is(err, mockdesk.ErrUnavailable):
		connectError(w, http.StatusServiceUnavailable, "ServiceUnavailableException", "Service unavailable")
	default:
		connectError(w, http.StatusInternalServerError, "InternalServerException", "Internal service error")
	}
}

// faults injects the desk's REST faults with Connect's error shapes.
func (f *Face) faults(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := f.d.RequestFault(r.Context(), mockdesk.SiteREST)
		var fe *mockdesk.FaultError
		switch {
		case err == nil:
			h(w, r)
		case errors.As(err, &fe) && errors.Is(err, mockdesk.ErrRateLimited):
			w.Header().Set("Retry-After", strconv.Itoa(fe.RetryAfterSeconds()))
			connectError(w, http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded")
		case errors.As(err, &fe):
			connectError(w, http.StatusInternalServerError, "InternalServerException", "Internal service error")
		default:
			errorOf(w, err)
		}
	}
}

func decode[T any](w http.ResponseWriter, r *http.Request, limit int64) (T, bool) {
	var v T
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err == nil {
		err = json.Unmarshal(b, &v)
	}
	if err != nil {
		connectError(w, http.StatusBadRequest, "ValidationException", "The request body is not valid JSON: "+err.Error())
		return v, false
	}
	return v, true
}
