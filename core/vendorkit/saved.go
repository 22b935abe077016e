package vendorkit

import (
	"log/slog"
	"sync"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Saved is a desk's persisted state, of the kit's own type S, under its
// own lock. The desk reads it with State and changes it with Change (in
// memory only), Update (then saves it whole, ReplacePersistedState) or
// Merge (then saves only the fields returned, UpdatePersistedState's deep
// merge: a cursor that moves with every message). A failed save is
// logged, not returned: the chat goes on, and a restart resumes from the
// state saved before. Load it once, before any other use.
type Saved[S any] struct {
	cb  servicedesk.Callback
	log *slog.Logger

	mu sync.Mutex
	s  S
}

// Load decodes the session's persisted state (LoadState; kit names the
// kit in its error) and keeps p's callback, and log for failed saves.
func (v *Saved[S]) Load(kit string, p servicedesk.FactoryParams, log *slog.Logger) error {
	s, err := LoadState[S](kit, p.PersistedState)
	if err != nil {
		return err
	}
	v.mu.Lock()
	v.s, v.cb, v.log = s, p.Callback, log
	v.mu.Unlock()
	return nil
}

// State returns a copy of the state.
func (v *Saved[S]) State() S {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.s
}

// Change applies f to the state, without saving it, and returns the
// result.
func (v *Saved[S]) Change(f func(*S)) S {
	v.mu.Lock()
	defer v.mu.Unlock()
	f(&v.s)
	return v.s
}

// Update applies f to the state and saves the whole of it; it returns the
// result.
func (v *Saved[S]) Update(f func(*S)) S {
	s := v.Change(f)
	if err := v.cb.ReplacePersistedState(s); err != nil {
		v.warn(err)
	}
	return s
}

// Merge applies f to the state and saves the fields f returns (nothing
// when it returns none); it returns the result.
func (v *Saved[S]) Merge(f func(*S) map[string]any) S {
	var fields map[string]any
	s := v.Change(func(s *S) { fields = f(s) })
	if len(fields) > 0 {
		if err := v.cb.UpdatePersistedState(fields); err != nil {
			v.warn(err)
		}
	}
	return s
}

func (v *Saved[S]) warn(err error) {
	if v.log != nil {
		v.log.Warn("persist state", "err", err)
	}
}
