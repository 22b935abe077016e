package redisstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Options configure a Store. Zero values take the defaults.
type Options struct {
	// Prefix starts every key (default "deskbridge"); stores with distinct
	// prefixes share a Redis without seeing each other. It may not contain
	// '{' or '}', which would change the keys' hash tags.
	Prefix string
	// Tail is how many events each session keeps (default 1024).
	Tail int
	// MaxEventBytes bounds the encoded bytes of each session's events
	// (default flow.StoreEventBytes, 4 MiB; negative: no bound): past it
	// the oldest are dropped, the newest always kept.
	MaxEventBytes int64
	// TTL bounds a session's age: its record, events and files expire this
	// long after its last save, together (default 7 days).
	TTL time.Duration
	// MaxFileBytes bounds the bytes of all files of all sessions under
	// Prefix (default 256 MiB).
	MaxFileBytes int64
	// Instance names this server instance when several share the Redis
	// (unique among them, stable across its restarts: a host name and
	// port). The store then implements ownership (flow.Owners): leases,
	// fenced saves, orphaned chats. Empty: one instance, no leases.
	Instance string
	// LeaseTTL is how long an instance's ownership of a session lasts
	// without renewal (default 10s): how soon another instance takes over
	// the chats of one that died.
	LeaseTTL time.Duration
	// Logger receives the store's warnings. Default: discard.
	Logger *slog.Logger
}

// Defaults.
const (
	DefaultPrefix       = "deskbridge"
	DefaultTail         = 1024
	DefaultTTL          = 7 * 24 * time.Hour
	DefaultMaxFileBytes = 256 << 20
)

func (o Options) withDefaults() (Options, error) {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(o.Prefix, "{}") {
		return o, fmt.Errorf("redisstore: prefix %q contains '{' or '}'", o.Prefix)
	}
	if o.Tail <= 0 {
		o.Tail = DefaultTail
	}
	switch {
	case o.MaxEventBytes == 0:
		o.MaxEventBytes = flow.StoreEventBytes
	case o.MaxEventBytes < 0:
		o.MaxEventBytes = 0
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.TTL < time.Millisecond {
		o.TTL = time.Millisecond
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.LeaseTTL < 30*time.Millisecond {
		o.LeaseTTL = 30 * time.Millisecond
	}
	if strings.Contains(o.Instance, "|") {
		return o, fmt.Errorf("redisstore: instance %q contains '|'", o.Instance)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// Store is a flow.Store, flow.FileStore and flow.Pinger on Redis. It is
// safe for concurrent use.
type Store struct {
	c     redis.UniversalClient
	owned bool // Close closes c
	opts  Options
	ttl   string // TTL in milliseconds, as the scripts take it

	// Keys shared by all sessions.
	sessions, files, fileSizes, fileBytes string
	running                               string // sessions with a running chat (zset)
	keyStart                              string // "<prefix>:{"

	leases leases // this instance's leases (Options.Instance)
	bus    bus    // requests between instances, event signals

	pipe pipeliner // saves of many sessions in one pipeline
}

var (
	_ flow.Store     = (*Store)(nil)
	_ flow.FileStore = (*Store)(nil)
	_ flow.Pinger    = (*Store)(nil)
	_ io.Closer      = (*Store)(nil)
)

// Client timeouts of Open: short, so that a Redis that does not answer
// fails an operation within about a second or two rather than hanging the
// session that waits on it (the engine retries a failed Save).
const (
	dialTimeout = time.Second
	ioTimeout   = time.Second
	poolTimeout = 2 * time.Second
)

// Open connects to the Redis at url (redis:// or rediss://, as
// redis.ParseURL reads it) and pings it. Timeouts the URL does not set are
// short (see the package doc); the client reconnects by itself.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redisstore: open: %w", redact(err))
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = dialTimeout
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = ioTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = ioTimeout
	}
	if o.PoolTimeout == 0 {
		o.PoolTimeout = poolTimeout
	}
	if o.PoolSize == 0 {
		o.PoolSize = 128
	}
	// One retry (after a dead pooled connection, say); Save is safe to
	// retry, as the save script lets a replay of its last batch through.
	if o.MaxRetries == 0 {
		o.MaxRetries = 1
	}
	// One dial try per attempt: the retry loop of the store's caller (the
	// engine) is what waits for Redis to come back, not each call.
	o.DialerRetries = 1
	o.ContextTimeoutEnabled = true
	// Redis 7 has no maintenance notifications; asking costs a round trip
	// per connection and a logged error.
	o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	c := redis.NewClient(o)
	s, err := newStore(c, opts)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	s.owned = true
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redisstore: open %s: %w", o.Addr, classify(err))
	}
	return s, nil
}

// redact drops the URL, and with it any password, from a parse error.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return errors.New(strings.ReplaceAll(err.Error(), "://", " "))
}

// New returns a Store on a client the caller made and closes. The store's
// scripts need every key of a call in one Redis: a standalone server, a
// Sentinel-managed primary, or a one-shard cluster (see the package doc).
// It panics on a Prefix with '{' or '}'.
func New(client redis.UniversalClient, opts Options) *Store {
	s, err := newStore(client, opts)
	if err != nil {
		panic(err)
	}
	return s
}

func newStore(c redis.UniversalClient, opts Options) (*Store, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	p := o.Prefix + ":"
	return &Store{
		c: c, opts: o, ttl: strconv.FormatInt(o.TTL.Milliseconds(), 10),
		sessions: p + "sessions", files: p + "files", fileSizes: p + "filesizes", fileBytes: p + "filebytes",
		running: p + "running", keyStart: p + "{",
		leases: leases{held: make(map[string]*lease), stop: make(chan struct{}), done: make(chan struct{})},
	}, nil
}

// Close stops renewing leases (they run out, or the engine released them)
// and closes the client if Open made it.
func (s *Store) Close() error {
	s.stopRenewing()
	s.stopListening()
	if !s.owned {
		return nil
	}
	if err := s.c.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("redisstore: close: %w", err)
	}
	return nil
}

// Ping implements flow.Pinger.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redisstore: ping: %w", classify(err))
	}
	return nil
}

// tag encodes a session id for the keys' hash tag: base64url has neither
// braces nor colons, so any id is safe and all of a session's keys hash
// to one slot.
func tag(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

func (s *Store) key(tag, kind string) string { return s.keyStart + tag + "}:" + kind }

// Load implements flow.Store: one HMGET.
func (s *Store) Load(ctx context.Context, id string) (flow.Record, error) {
	vals, err := s.c.HMGet(ctx, s.key(tag(id), "s"), "rec", "last").Result()
	if err != nil {
		return flow.Record{}, fmt.Errorf("redisstore: load session %s: %w", id, classify(err))
	}
	raw, ok := vals[0].(string)
	if !ok {
		return flow.Record{}, fmt.Errorf("redisstore: load session %s: %w", id, flow.ErrNotFound)
	}
	var rec flow.Record
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		return flow.Record{}, fmt.Errorf("redisstore: load session %s: decode record: %w", id, err)
	}
	rec.LastSeq = 0
	if last, ok := vals[1].(string); ok {
		if rec.LastSeq, err = strconv.ParseUint(last, 10, 64); err != nil {
			return flow.Record{}, fmt.Errorf("redisstore: load session %s: last seq %q: %w", id, last, err)
		}
	}
	return rec, nil
}

// Save implements flow.Store: one script, which checks the seqs against
// the stored log and writes everything or nothing.
func (s *Store) Save(ctx context.Context, id string, rec *flow.Record, events []*flow.Event) error {
	// A gap inside the batch needs no round trip.
	if err := flow.CheckSeqs(0, events); err != nil {
		return fmt.Errorf("redisstore: save session %s: %w", id, err)
	}
	t := tag(id)
	lease, err := s.writerLease(id)
	if err != nil {
		return fmt.Errorf("redisstore: save session %s: %w", id, err)
	}
	args := make([]any, 9, 9+len(events))
	args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7] = lease, t, s.ttl, s.opts.Tail, 0, "", "", ""
	args[8] = s.opts.MaxEventBytes
	if s.opts.Instance != "" {
		args[7] = s.eventChannel(t) // other instances' sockets on the session wait on it
	}
	if rec != nil {
		b, err := flow.RecordJSON(rec)
		if err != nil {
			return fmt.Errorf("redisstore: save session %s: encode record: %w", id, err)
		}
		args[5] = b
		args[6] = "0"
		if rec.State.Active() {
			args[6] = "1"
		}
	}
	if len(events) > 0 {
		args[4] = events[0].Seq
	}
	for _, ev := range events {
		b, err := flow.EventJSON(ev)
		if err != nil {
			return fmt.Errorf("redisstore: save session %s: encode event %d: %w", id, ev.Seq, err)
		}
		args = append(args, b)
	}
	keys := []string{s.key(t, "s"), s.key(t, "ev"), s.key(t, "f"), s.sessions, s.files, s.key(t, "own"), s.running}
	status, last, _, err := reply(s.runSave(ctx, keys, args))
	switch {
	case err != nil:
		return fmt.Errorf("redisstore: save session %s: %w", id, classify(err))
	case status == statusFenced:
		s.dropLease(id)
		return fmt.Errorf("redisstore: save session %s: fenced (lease %s is not the owner's): %w", id, lease, flow.ErrNotOwner)
	case status == statusGap:
		return fmt.Errorf("redisstore: save session %s: event seq %d after %d: %w", id, events[0].Seq, last, flow.ErrSeqGap)
	case status == statusReplay:
		// Not an error: the engine saves a batch again after an error,
		// and this one had gone in before its reply was lost.
		s.opts.Logger.Warn("redisstore: a save that had failed was in Redis already; its newer events appended",
			"session", id, "first_seq", events[0].Seq, "last_seq", last)
	case status != statusOK:
		return fmt.Errorf("redisstore: save session %s: unexpected status %d", id, status)
	}
	if len(events) > 0 && uint64(last) != events[len(events)-1].Seq {
		return fmt.Errorf("redisstore: save session %s: stored last seq %d, want %d", id, last, events[len(events)-1].Seq)
	}
	return nil
}

// Events implements flow.Store: one script.
func (s *Store) Events(ctx context.Context, id string, afterSeq uint64, limit int) ([]flow.Event, error) {
	t := tag(id)
	status, oldest, rest, err := reply(eventsScript.Run(ctx, s.c, []string{s.key(t, "s"), s.key(t, "ev")}, afterSeq, max(limit, 0)))
	switch {
	case err != nil:
		return nil, fmt.Errorf("redisstore: events of session %s: %w", id, classify(err))
	case status == statusMissing:
		return nil, fmt.Errorf("redisstore: events of session %s: %w", id, flow.ErrNotFound)
	case status == statusTrimmed:
		return nil, fmt.Errorf("redisstore: events of session %s after %d (oldest kept %d): %w", id, afterSeq, oldest, flow.ErrEventsTrimmed)
	case status != statusOK:
		return nil, fmt.Errorf("redisstore: events of session %s: unexpected status %d", id, status)
	}
	raws, _ := rest.([]any)
	evs := make([]flow.Event, len(raws))
	for i, r := range raws {
		raw, _ := r.(string)
		if err := json.Unmarshal([]byte(raw), &evs[i]); err != nil {
			return nil, fmt.Errorf("redisstore: events of session %s: decode event: %w", id, err)
		}
	}
	return evs, nil
}

// List implements flow.Store: one script, which first drops expired
// sessions from the index.
func (s *Store) List(ctx context.Context) ([]string, error) {
	_, _, rest, err := reply(listScript.Run(ctx, s.c, []string{s.sessions}))
	if err != nil {
		return nil, fmt.Errorf("redisstore: list sessions: %w", classify(err))
	}
	tags, _ := rest.([]any)
	ids := make([]string, 0, len(tags))
	for _, t := range tags {
		ts, _ := t.(string)
		b, err := base64.RawURLEncoding.DecodeString(ts)
		if err != nil {
			return nil, fmt.Errorf("redisstore: list sessions: a key tag %q: %w", ts, err)
		}
		ids = append(ids, string(b))
	}
	slices.Sort(ids)
	return ids, nil
}

// Delete implements flow.Store; it deletes the session's files too.
func (s *Store) Delete(ctx context.Context, id string) error {
	t := tag(id)
	keys := []string{s.key(t, "f"), s.files, s.fileSizes, s.fileBytes, s.key(t, "s"), s.key(t, "ev"), s.sessions, s.running}
	if _, _, _, err := reply(deleteScript.Run(ctx, s.c, keys, s.keyStart, t)); err != nil {
		return fmt.Errorf("redisstore: delete session %s: %w", id, classify(err))
	}
	return nil
}

// PutFile implements flow.FileStore: one script, which refuses a file past
// MaxFileBytes before it writes anything.
func (s *Store) PutFile(ctx context.Context, sessionID string, info flow.FileInfo, data []byte) error {
	info.Size = int64(len(data))
	b, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("redisstore: put file %s of session %s: encode: %w", info.ID, sessionID, err)
	}
	t := tag(sessionID)
	keys := []string{s.key(t, "f"), s.files, s.fileSizes, s.fileBytes}
	status, held, _, err := reply(putFileScript.Run(ctx, s.c, keys, s.keyStart, t, info.ID, b, data, s.ttl, s.opts.MaxFileBytes))
	switch {
	case err != nil:
		return fmt.Errorf("redisstore: put file %s of session %s: %w", info.ID, sessionID, classify(err))
	case status == statusFull:
		return fmt.Errorf("redisstore: put file %s of session %s (%d bytes, %d held, bound %d): %w",
			info.ID, sessionID, len(data), held, s.opts.MaxFileBytes, flow.ErrStoreFull)
	case status != statusOK:
		return fmt.Errorf("redisstore: put file %s of session %s: unexpected status %d", info.ID, sessionID, status)
	}
	return nil
}

// OpenFile implements flow.FileStore: one HMGET.
func (s *Store) OpenFile(ctx context.Context, sessionID, fileID string) (flow.FileInfo, io.ReadCloser, error) {
	vals, err := s.c.HMGet(ctx, s.key(tag(sessionID), "f"), "i:"+fileID, "d:"+fileID).Result()
	if err != nil {
		return flow.FileInfo{}, nil, fmt.Errorf("redisstore: open file %s of session %s: %w", fileID, sessionID, classify(err))
	}
	raw, ok1 := vals[0].(string)
	data, ok2 := vals[1].(string)
	if !ok1 || !ok2 {
		return flow.FileInfo{}, nil, fmt.Errorf("redisstore: open file %s of session %s: %w", fileID, sessionID, flow.ErrNotFound)
	}
	var info flow.FileInfo
	if err := json.Unmarshal([]byte(raw), &info); err != nil {
		return flow.FileInfo{}, nil, fmt.Errorf("redisstore: open file %s of session %s: decode: %w", fileID, sessionID, err)
	}
	return info, io.NopCloser(strings.NewReader(data)), nil
}

// DeleteFiles implements flow.FileStore.
func (s *Store) DeleteFiles(ctx context.Context, sessionID string) error {
	t := tag(sessionID)
	keys := []string{s.key(t, "f"), s.files, s.fileSizes, s.fileBytes}
	if _, _, _, err := reply(deleteFilesScript.Run(ctx, s.c, keys, s.keyStart, t)); err != nil {
		return fmt.Errorf("redisstore: delete files of session %s: %w", sessionID, classify(err))
	}
	return nil
}

// reply reads a script's {status, value, rest} reply.
func reply(cmd *redis.Cmd) (status, value int64, rest any, err error) {
	v, err := cmd.Result()
	if err != nil {
		return 0, 0, nil, err
	}
	a, ok := v.([]any)
	if !ok || len(a) < 2 {
		return 0, 0, nil, fmt.Errorf("unexpected script reply %v", v)
	}
	status, _ = a[0].(int64)
	value, _ = a[1].(int64)
	if len(a) > 2 {
		rest = a[2]
	}
	return status, value, rest, nil
}
