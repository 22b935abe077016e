package webhook

import (
	"net/http"
	"sync"

	"github.com/deskbridge/deskbridge/core/transport/stream"
)

// Intake is a Router that takes each event of a vendor's webhook once: a
// redelivery (the same key) is acknowledged and not applied twice, and an
// event that could not be passed on is forgotten, so that the vendor's
// next try of it is taken. The zero value is ready; it remembers the last
// 65,536 keys.
type Intake[E any] struct {
	Router[E]

	once sync.Once
	seen *stream.Deduper
}

func (in *Intake[E]) first(key string) bool {
	in.once.Do(func() { in.seen = stream.NewDeduper(1 << 16) })
	return in.seen.First(key)
}

func (in *Intake[E]) forget(key string) { in.seen.Forget(key) }

// Take routes the event ev of chat, named key, unless it was taken before;
// delivery is what Elsewhere gets when no desk here follows chat. Route's
// error is Take's: the kit answers 503 (Unavailable), the vendor delivers
// the event again and it is taken then. An empty key is always new.
func (in *Intake[E]) Take(key, chat string, ev E, delivery []byte) error {
	if !in.first(key) {
		return nil
	}
	if err := in.Route(chat, ev, delivery); err != nil {
		in.forget(key)
		return err
	}
	return nil
}

// Relayed takes an event another instance received, verified and passed
// on (its Elsewhere), unless it was taken before: it reports whether a
// desk here follows chat.
func (in *Intake[E]) Relayed(key, chat string, ev E) bool {
	if !in.first(key) {
		return in.Follows(chat)
	}
	if !in.Here(chat, ev) {
		in.forget(key)
		return false
	}
	return true
}

// Unavailable answers a delivery that could not be passed on: 503 with a
// Retry-After of a second and message, so that the vendor delivers it
// again soon.
func Unavailable(w http.ResponseWriter, message string) {
	w.Header().Set("Retry-After", "1")
	http.Error(w, message, http.StatusServiceUnavailable)
}

// Following is a desk's hold on the chat whose events a Router gives it:
// Set keeps the stop function of a new Router.Follow and stops the one
// before, Stop stops it. The zero value follows nothing; it is safe for
// concurrent use.
type Following struct {
	mu   sync.Mutex
	stop func()
}

// Set follows with unfollow (Router.Follow's answer) in place of the chat
// followed before.
func (f *Following) Set(unfollow func()) {
	f.mu.Lock()
	old := f.stop
	f.stop = unfollow
	f.mu.Unlock()
	if old != nil {
		old()
	}
}

// Stop stops following; it is idempotent.
func (f *Following) Stop() { f.Set(nil) }
