package flow

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"sync"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Record is what a session keeps in its Store: enough to resume the chat
// after a restart of the process.
type Record struct {
	ID    string `json:"id"`
	State State  `json:"state"`
	// Chat numbers the session's agent chats (see Event.Chat).
	Chat uint64 `json:"chat"`
	// Joined: an agent joined during this chat.
	Joined bool `json:"joined,omitempty"`
	// Started: the desk accepted StartChat for this chat.
	Started        bool                                `json:"started,omitempty"`
	ConnectMessage *servicedesk.MessageResponse        `json:"connect_message,omitempty"`
	Profile        *servicedesk.AgentProfile           `json:"profile,omitempty"`
	Profiles       map[string]servicedesk.AgentProfile `json:"profiles,omitempty"`
	// DeskState is what the desk stored with UpdatePersistedState.
	DeskState    json.RawMessage          `json:"desk_state,omitempty"`
	Capabilities servicedesk.Capabilities `json:"capabilities"`
	// Outbox holds user messages accepted but not yet acknowledged by the desk.
	Outbox    []PendingMessage `json:"outbox,omitempty"`
	Suspended bool             `json:"suspended,omitempty"`
	// LastSeq is the Seq of the newest event written with this record.
	LastSeq uint64 `json:"last_seq"`
}

// PendingMessage is a user message in the outbox.
type PendingMessage struct {
	ID      string                     `json:"id"`
	Message servicedesk.MessageRequest `json:"message"`
	Files   []servicedesk.FileUpload   `json:"files,omitempty"`
}

// Store keeps sessions across restarts. Implementations must be safe for
// concurrent use; calls for one session id never overlap (the engine calls
// them from the session's queue).
type Store interface {
	// Load returns the record of session id, or an error matching
	// ErrNotFound.
	Load(ctx context.Context, id string) (Record, error)
	// Save writes rec (when not nil) and appends events, as one unit where the
	// store can. Events arrive in Seq order without gaps. Both are immutable:
	// a store may keep the pointers, and must not modify them.
	Save(ctx context.Context, id string, rec *Record, events []*Event) error
	// Events returns up to limit events after seq (limit 0: all kept). It
	// fails with ErrEventsTrimmed when events after seq are no longer kept.
	Events(ctx context.Context, id string, afterSeq uint64, limit int) ([]Event, error)
	// List returns the ids of all stored sessions.
	List(ctx context.Context) ([]string, error)
	// Delete forgets a session.
	Delete(ctx context.Context, id string) error
}

// MemoryStore is the in-process Store: it survives an Engine restart within
// one process (tests, single-node servers that restart the engine), not a
// process restart. Records are kept as JSON, so what works here serialises;
// events are shared with the sessions, being immutable once published. Sessions are
// spread over shards so that many sessions save without one lock.
type MemoryStore struct {
	shards [memShards]memShard
	tail   int
}

const memShards = 64

type memShard struct {
	mu       sync.Mutex
	sessions map[string]*memEntry
}

type memEntry struct {
	record *Record
	events eventLog
}

// NewMemoryStore returns a MemoryStore that keeps the newest tail events of
// each session (256 when tail <= 0).
func NewMemoryStore(tail int) *MemoryStore {
	if tail <= 0 {
		tail = 256
	}
	m := &MemoryStore{tail: tail}
	for i := range m.shards {
		m.shards[i].sessions = make(map[string]*memEntry)
	}
	return m
}

func (m *MemoryStore) shard(id string) *memShard {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return &m.shards[h.Sum32()%memShards]
}

// Load implements Store.
func (m *MemoryStore) Load(_ context.Context, id string) (Record, error) {
	sh := m.shard(id)
	sh.mu.Lock()
	var rec *Record
	if e, ok := sh.sessions[id]; ok {
		rec = e.record
	}
	sh.mu.Unlock()
	if rec == nil {
		return Record{}, fmt.Errorf("memory store: load %s: %w", id, ErrNotFound)
	}
	return rec.clone(), nil
}

// clone copies r's maps and slices, so that neither the store nor its
// caller sees the other's later changes. (The pointed-to connect message
// and profile are never modified in place.)
func (r *Record) clone() Record {
	c := *r
	c.Profiles = maps.Clone(r.Profiles)
	c.Outbox = slices.Clone(r.Outbox)
	c.DeskState = slices.Clone(r.DeskState)
	return c
}

// Save implements Store.
func (m *MemoryStore) Save(_ context.Context, id string, rec *Record, events []*Event) error {
	// The record itself, not JSON: this store lives in the process, and
	// keeping it saves what JSON cannot (a pending file's Open) at a
	// fraction of the cost. The engine never changes a record it saved.
	saved := rec
	sh := m.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.sessions[id]
	if !ok {
		e = &memEntry{events: eventLog{max: m.tail}}
		sh.sessions[id] = e
	}
	if saved != nil {
		e.record = saved
	}
	for _, ev := range events {
		if e.events.last != 0 && ev.Seq != e.events.last+1 {
			return fmt.Errorf("memory store: save %s: event seq %d after %d: %w", id, ev.Seq, e.events.last, ErrSeqGap)
		}
		e.events.append(ev)
	}
	return nil
}

// Events implements Store.
func (m *MemoryStore) Events(_ context.Context, id string, afterSeq uint64, limit int) ([]Event, error) {
	sh := m.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.sessions[id]
	if !ok {
		return nil, fmt.Errorf("memory store: events %s: %w", id, ErrNotFound)
	}
	evs, ok := e.events.since(afterSeq, limit)
	if !ok {
		return nil, fmt.Errorf("memory store: events %s after %d (oldest kept %d): %w", id, afterSeq, e.events.oldest(), ErrEventsTrimmed)
	}
	return evs, nil
}

// List implements Store.
func (m *MemoryStore) List(context.Context) ([]string, error) {
	var ids []string
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for id, e := range sh.sessions {
			if e.record != nil {
				ids = append(ids, id)
			}
		}
		sh.mu.Unlock()
	}
	slices.Sort(ids)
	return ids, nil
}

// Delete implements Store.
func (m *MemoryStore) Delete(_ context.Context, id string) error {
	sh := m.shard(id)
	sh.mu.Lock()
	delete(sh.sessions, id)
	sh.mu.Unlock()
	return nil
}
