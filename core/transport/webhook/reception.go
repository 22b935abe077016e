package webhook

import (
	"log/slog"
	"net/http"
)

// Delivery is one event of a webhook request.
type Delivery[E any] struct {
	// Key names the event for the dedupe (the vendor's event id or
	// idempotency token); "" is always new.
	Key string
	// Chat is the conversation the event belongs to; "" is no chat's
	// event: acknowledged and left.
	Chat  string
	Event E
	// Raw is what another instance is given to Deliver when no desk here
	// follows Chat (Router.Elsewhere).
	Raw []byte
}

// Reception is how a kit's webhook reads a vendor's request: the bound on
// its body, how its sender is authenticated, and how its events are
// decoded.
type Reception[E any] struct {
	// Kit names the kit in logs.
	Kit string
	// MaxBytes bounds the body (413 past it).
	MaxBytes int64
	// Verify authenticates the request (a signature over the body, a key
	// header): an error is answered 401 with its text, and logged.
	Verify func(r *http.Request, body []byte) error
	// Decode reads the request's events: an error is answered 400 with
	// its text.
	Decode func(r *http.Request, body []byte) ([]Delivery[E], error)
	Logger *slog.Logger
}

// Handler is the webhook handler of a kit: a POST of at most MaxBytes,
// verified, decoded, and each of its events Taken, so that it is applied
// once by the desk that follows its chat. It answers at once: 200 taken
// (a duplicate, or no chat's event, too), 400 not the vendor's request,
// 401 not verified, 405 not a POST, 413 too large, 503 an event could not
// be passed on (Unavailable: the vendor delivers it again).
func (in *Intake[E]) Handler(rc Reception[E]) http.Handler {
	log := rc.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ref := ReadPost(w, r, rc.MaxBytes)
		if ref != nil {
			http.Error(w, ref.Message, ref.Status)
			return
		}
		if err := rc.Verify(r, body); err != nil {
			log.Warn(rc.Kit+": webhook refused", "remote", r.RemoteAddr, "err", err)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		events, err := rc.Decode(r, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		failed := false
		for _, d := range events {
			if d.Chat == "" {
				continue
			}
			if err := in.Take(d.Key, d.Chat, d.Event, d.Raw); err != nil {
				log.Warn(rc.Kit+": event for a conversation followed elsewhere could not be passed on", "conversation", d.Chat, "err", err)
				failed = true
			}
		}
		if failed {
			Unavailable(w, "an event could not be handed to the instance that follows its conversation")
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}
