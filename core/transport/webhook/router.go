package webhook

import (
	"sync"
	"time"
)

// Router hands the events that reach one webhook URL to the desk that
// follows their chat, for vendors that post every chat's webhooks to one
// URL. An event of a chat nobody here follows goes Elsewhere (another
// instance behind the same URL may follow it) and is parked a while: the
// chat's start may still be waiting for its answers, and Follow delivers
// what was parked. The zero value is ready.
type Router[E any] struct {
	// Elsewhere, when set, is given the raw delivery of an event of a chat
	// nobody here follows; its error is Route's.
	Elsewhere func(delivery []byte) error
	// ParkFor, ParkPerChat and ParkChats bound what is parked. Defaults 30
	// s, 64 events, 4096 chats.
	ParkFor     time.Duration
	ParkPerChat int
	ParkChats   int

	mu     sync.Mutex
	routes map[string]*route[E]
	parked map[string][]parkedEvent[E]
}

type route[E any] struct{ deliver func(E) }

type parkedEvent[E any] struct {
	at time.Time
	ev E
}

func (r *Router[E]) init() {
	if r.routes == nil {
		r.routes, r.parked = map[string]*route[E]{}, map[string][]parkedEvent[E]{}
	}
}

// Follow routes chat's events to deliver, first those parked for it, and
// returns the function that stops it (and only it: a later Follow of the
// same chat stays).
func (r *Router[E]) Follow(chat string, deliver func(E)) (unfollow func()) {
	rt := &route[E]{deliver: deliver}
	r.mu.Lock()
	r.init()
	r.routes[chat] = rt
	waiting := r.parked[chat]
	delete(r.parked, chat)
	r.mu.Unlock()
	for _, p := range waiting {
		if time.Since(p.at) < r.parkFor() {
			deliver(p.ev)
		}
	}
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.routes[chat] == rt {
			delete(r.routes, chat)
		}
	}
}

func (r *Router[E]) parkFor() time.Duration {
	if r.ParkFor > 0 {
		return r.ParkFor
	}
	return 30 * time.Second
}

// Here delivers ev to the desk here that follows chat; false when none
// does.
func (r *Router[E]) Here(chat string, ev E) bool {
	r.mu.Lock()
	rt := r.routes[chat]
	r.mu.Unlock()
	if rt != nil {
		rt.deliver(ev)
	}
	return rt != nil
}

// Follows reports whether a desk here follows chat.
func (r *Router[E]) Follows(chat string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.routes[chat] != nil
}

// Route delivers ev to the desk that follows chat, or passes delivery
// Elsewhere and parks ev.
func (r *Router[E]) Route(chat string, ev E, delivery []byte) error {
	if r.Here(chat, ev) {
		return nil
	}
	var err error
	if r.Elsewhere != nil {
		err = r.Elsewhere(delivery)
	}
	r.mu.Lock()
	r.init()
	if rt := r.routes[chat]; rt != nil { // followed meanwhile
		r.mu.Unlock()
		rt.deliver(ev)
		return nil
	}
	defer r.mu.Unlock()
	perChat, chats := r.ParkPerChat, r.ParkChats
	if perChat <= 0 {
		perChat = 64
	}
	if chats <= 0 {
		chats = 4096
	}
	if len(r.parked) >= chats {
		for id, ps := range r.parked {
			if time.Since(ps[len(ps)-1].at) > r.parkFor() {
				delete(r.parked, id)
			}
		}
	}
	if q := r.parked[chat]; len(q) < perChat && (q != nil || len(r.parked) < chats) {
		r.parked[chat] = append(q, parkedEvent[E]{at: time.Now(), ev: ev})
	}
	return err
}
