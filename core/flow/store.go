package flow

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

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
	// Customer is the session's verified user (Session.Identify), nil
	// while it is anonymous.
	Customer *servicedesk.Customer `json:"customer,omitempty"`
	// Handoff is what the desk was given with StartChat for this chat.
	Handoff *servicedesk.Handoff `json:"handoff,omitempty"`
	// DeskState is what the desk stored with UpdatePersistedState.
	DeskState    json.RawMessage          `json:"desk_state,omitempty"`
	Capabilities servicedesk.Capabilities `json:"capabilities"`
	// Outbox holds user messages accepted but not yet acknowledged by the desk.
	Outbox []PendingMessage `json:"outbox,omitempty"`
	// RecentSent are the ids of the newest user messages the desk took (or
	// refused), so that a browser's resend of one after a restart or a
	// takeover is known as a resend, not sent again.
	RecentSent []string `json:"recent_sent,omitempty"`
	Suspended  bool     `json:"suspended,omitempty"`
	// LastAgentText is the agent's last message of this chat as plain
	// text, for the chat_ended event (the agent messages after AsOf are
	// applied to it on load).
	LastAgentText string `json:"last_agent_text,omitempty"`
	// LastSeq is the Seq of the newest event the store holds for the
	// session. Load sets it from the store's own event log, whatever the
	// record said when it was saved: Save is the authority on it.
	LastSeq uint64 `json:"last_seq"`
	// AsOf is the Seq of the newest event when the engine wrote the record.
	// The engine does not write the record for what its events tell (a
	// user message into the outbox, its send status out of it): loading
	// it, the engine applies those events after AsOf to Outbox and
	// RecentSent. Nil in a record written before AsOf existed, which has
	// everything.
	AsOf *uint64 `json:"as_of,omitempty"`

	enc *recordCache // the session's, for RecordJSON
}

// PendingMessage is a user message in the outbox.
type PendingMessage struct {
	ID      string                     `json:"id"`
	Message servicedesk.MessageRequest `json:"message"`
	Files   []servicedesk.FileUpload   `json:"files,omitempty"`
}

// Store keeps sessions across restarts. Implementations must be safe for
// concurrent use; calls for one session id never overlap (the engine calls
// them from the session's queue). storetest.Run is the suite every Store
// passes.
//
// Errors: a session that is not there matches ErrNotFound; a store that
// cannot be reached (a network store down, a closed store) matches
// ErrStoreUnavailable; one that is out of room matches ErrStoreFull. A
// failed Save wrote nothing: the engine saves the same batch again.
type Store interface {
	// Load returns the record of session id, or an error matching
	// ErrNotFound. The record's LastSeq is the Seq of the newest event the
	// store holds for id. The caller may modify what Load returns.
	Load(ctx context.Context, id string) (Record, error)
	// Save writes rec (when not nil) and appends events, as one unit where the
	// store can. Events arrive in Seq order; the first must follow the
	// newest one held (any Seq for a session without events), else Save
	// fails with ErrSeqGap and writes nothing. Both are immutable: a store
	// may keep the pointers, and must not modify them.
	Save(ctx context.Context, id string, rec *Record, events []*Event) error
	// Events returns up to limit events after seq (limit 0: all kept). It
	// fails with ErrEventsTrimmed when events after seq are no longer kept.
	Events(ctx context.Context, id string, afterSeq uint64, limit int) ([]Event, error)
	// List returns the ids of all stored sessions.
	List(ctx context.Context) ([]string, error)
	// Delete forgets a session.
	Delete(ctx context.Context, id string) error
}

// FileStore keeps the bytes of files the user uploaded, so that a message
// resent after a restart still carries its files. A Store that persists
// usually implements it too (next to its data, bounded in size). Files are
// deleted with DeleteFiles once their chat ended.
type FileStore interface {
	// PutFile stores a file of a session, replacing one with the same id.
	// It fails with ErrStoreFull past the store's size bound.
	PutFile(ctx context.Context, sessionID string, info FileInfo, data []byte) error
	// OpenFile returns a stored file, or an error matching ErrNotFound.
	OpenFile(ctx context.Context, sessionID, fileID string) (FileInfo, io.ReadCloser, error)
	// DeleteFiles removes every file of a session.
	DeleteFiles(ctx context.Context, sessionID string) error
}

// FileStreamer is a FileStore that takes a file's bytes from a reader, so
// that a large file need not be in memory whole: the gateway stores uploads
// with it when the store has it (a store on disk does).
type FileStreamer interface {
	// PutFileFrom stores the info.Size bytes read from r, as PutFile
	// stores data; a reader that ends short or long is an error and
	// stores nothing.
	PutFileFrom(ctx context.Context, sessionID string, info FileInfo, r io.Reader) error
}

// FileInfo describes a stored file.
type FileInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
	Size int64  `json:"size"`
}

// Pinger is implemented by stores that can be unreachable (a network
// store): Ping answers whether the store works now, for health checks.
type Pinger interface {
	Ping(ctx context.Context) error
}

// MemoryStore is the in-process Store: it survives an Engine restart within
// one process (tests, single-node servers that restart the engine), not a
// process restart. Records are kept as they are, not as JSON (a pending
// file's Open survives, which JSON cannot carry); events are shared with
// the sessions, being immutable once published. Sessions are
// spread over shards so that many sessions save without one lock.
type MemoryStore struct {
	shards    [memShards]memShard
	tail      int
	fileBytes atomic.Int64

	eventBytes  int64       // per session; 0: no bound
	eventBudget *ByteBudget // all sessions
}

const memShards = 64

type memShard struct {
	mu       sync.Mutex
	sessions map[string]*memEntry
}

type memEntry struct {
	record *Record
	events eventLog
	files  map[string]memFile
}

type memFile struct {
	info FileInfo
	data []byte
}

// MemoryFileLimit bounds the bytes of files a MemoryStore holds in all.
const MemoryFileLimit = 256 << 20

// StoreEventBytes is every store's default bound on the encoded bytes of
// one session's events: past it the oldest are dropped, and reading them is
// ErrEventsTrimmed.
const StoreEventBytes = 4 << 20

// Default byte bounds of a MemoryStore's events (LimitEventBytes).
const (
	MemoryEventBytes      = StoreEventBytes
	MemoryEventTotalBytes = 512 << 20
)

// NewMemoryStore returns a MemoryStore that keeps the newest tail events of
// each session (256 when tail <= 0), within MemoryEventBytes per session
// and MemoryEventTotalBytes in all.
func NewMemoryStore(tail int) *MemoryStore {
	if tail <= 0 {
		tail = 256
	}
	m := &MemoryStore{tail: tail, eventBytes: MemoryEventBytes, eventBudget: NewByteBudget(MemoryEventTotalBytes)}
	for i := range m.shards {
		m.shards[i].sessions = make(map[string]*memEntry)
	}
	return m
}

// LimitEventBytes sets the bytes of encoded events the store keeps per
// session and in all (<= 0: no bound); past them a session's oldest events
// are dropped, and reading them fails with ErrEventsTrimmed. Call it
// before the store is used. It returns m.
func (m *MemoryStore) LimitEventBytes(perSession, total int64) *MemoryStore {
	m.eventBytes = max(perSession, 0)
	m.eventBudget = nil
	if total > 0 {
		m.eventBudget = NewByteBudget(total)
	}
	return m
}

// EventBytes returns the bytes of encoded events the store holds.
func (m *MemoryStore) EventBytes() int64 { return m.eventBudget.Used() }

func (m *MemoryStore) newEntry() *memEntry {
	return &memEntry{events: eventLog{max: m.tail, maxBytes: m.eventBytes, budget: m.eventBudget}}
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
	var last uint64
	if e, ok := sh.sessions[id]; ok {
		rec, last = e.record, e.events.last
	}
	sh.mu.Unlock()
	if rec == nil {
		return Record{}, fmt.Errorf("memory store: load %s: %w", id, ErrNotFound)
	}
	c := rec.clone()
	c.LastSeq = last
	return c, nil
}

// clone copies r's maps and slices, so that neither the store nor its
// caller sees the other's later changes. (The pointed-to connect message
// and profile are never modified in place.)
func (r *Record) clone() Record {
	c := *r
	c.Profiles = maps.Clone(r.Profiles)
	c.Outbox = slices.Clone(r.Outbox)
	c.RecentSent = slices.Clone(r.RecentSent)
	c.DeskState = slices.Clone(r.DeskState)
	return c
}

// Save implements Store.
func (m *MemoryStore) Save(_ context.Context, id string, rec *Record, events []*Event) error {
	sh := m.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.sessions[id]
	last := uint64(0)
	if ok {
		last = e.events.last
	}
	if err := CheckSeqs(last, events); err != nil {
		return fmt.Errorf("memory store: save %s: %w", id, err)
	}
	if !ok {
		e = m.newEntry()
		sh.sessions[id] = e
	}
	// The record itself, not JSON: this store lives in the process, and
	// keeping it saves what JSON cannot (a pending file's Open) at a
	// fraction of the cost. The engine never changes a record it saved.
	if rec != nil {
		e.record = rec
	}
	for _, ev := range events {
		e.events.append(ev)
	}
	return nil
}

// CheckSeqs reports whether events may be appended to a log whose newest
// Seq is last (0: no events yet): they must follow it and each other
// without gaps, else the error matches ErrSeqGap. Store implementations
// call it before they write anything.
func CheckSeqs(last uint64, events []*Event) error {
	for _, ev := range events {
		if last != 0 && ev.Seq != last+1 {
			return fmt.Errorf("event seq %d after %d: %w", ev.Seq, last, ErrSeqGap)
		}
		last = ev.Seq
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

// Delete implements Store; it deletes the session's files too.
func (m *MemoryStore) Delete(_ context.Context, id string) error {
	sh := m.shard(id)
	sh.mu.Lock()
	if e, ok := sh.sessions[id]; ok {
		m.dropFiles(e)
		e.events.release()
		delete(sh.sessions, id)
	}
	sh.mu.Unlock()
	return nil
}

// PutFile implements FileStore.
func (m *MemoryStore) PutFile(_ context.Context, sessionID string, info FileInfo, data []byte) error {
	size := int64(len(data))
	if m.fileBytes.Add(size) > MemoryFileLimit {
		m.fileBytes.Add(-size)
		return fmt.Errorf("memory store: put file %s of %s (%d bytes): %w", info.ID, sessionID, size, ErrStoreFull)
	}
	info.Size = size
	sh := m.shard(sessionID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.sessions[sessionID]
	if !ok {
		e = m.newEntry()
		sh.sessions[sessionID] = e
	}
	if e.files == nil {
		e.files = make(map[string]memFile)
	}
	if old, ok := e.files[info.ID]; ok {
		m.fileBytes.Add(-int64(len(old.data)))
	}
	e.files[info.ID] = memFile{info: info, data: data}
	return nil
}

// OpenFile implements FileStore.
func (m *MemoryStore) OpenFile(_ context.Context, sessionID, fileID string) (FileInfo, io.ReadCloser, error) {
	sh := m.shard(sessionID)
	sh.mu.Lock()
	var f memFile
	var ok bool
	if e := sh.sessions[sessionID]; e != nil {
		f, ok = e.files[fileID]
	}
	sh.mu.Unlock()
	if !ok {
		return FileInfo{}, nil, fmt.Errorf("memory store: open file %s of %s: %w", fileID, sessionID, ErrNotFound)
	}
	return f.info, io.NopCloser(bytes.NewReader(f.data)), nil
}

// DeleteFiles implements FileStore.
func (m *MemoryStore) DeleteFiles(_ context.Context, sessionID string) error {
	sh := m.shard(sessionID)
	sh.mu.Lock()
	if e := sh.sessions[sessionID]; e != nil {
		m.dropFiles(e)
	}
	sh.mu.Unlock()
	return nil
}

func (m *MemoryStore) dropFiles(e *memEntry) {
	for _, f := range e.files {
		m.fileBytes.Add(-int64(len(f.data)))
	}
	e.files = nil
}
