package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/deskbridge/deskbridge/core/flow"
)

// Options configure a Store. The zero value is usable.
type Options struct {
	// Tail is how many events each session keeps (default 1024).
	Tail int
	// MaxEventBytes bounds the encoded bytes of each session's events
	// (default flow.StoreEventBytes, 4 MiB; negative: no bound): past it
	// the oldest are deleted, the newest always kept.
	MaxEventBytes int64
	// MaxFileBytes bounds the bytes of all stored files (default 1 GiB).
	MaxFileBytes int64
	// FilesDir holds the files' bytes (default path + ".files").
	FilesDir string
	// LockTimeout is how long Open waits for another process to release
	// the database file (default 1s).
	LockTimeout time.Duration
	// Logger receives what the store does on its own: files swept at Open,
	// failed commits (default slog.Default()).
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultTail         = 1024
	DefaultMaxFileBytes = 1 << 30
	DefaultLockTimeout  = time.Second
)

// Store is a flow.Store, flow.FileStore, flow.FileStreamer and flow.Pinger
// over one bbolt file. It is safe for concurrent use. Close it to release
// the file.
type Store struct {
	db       *bolt.DB
	path     string
	filesDir string
	tail     int
	maxBytes int64 // of one session's events; 0: no bound
	maxFiles int64
	log      *slog.Logger

	queue   chan *op      // unbuffered: a send completes when the committer takes the op
	closing chan struct{} // closed by Close
	stopped chan struct{} // closed when the committer has returned
	closed  atomic.Bool
	once    sync.Once
	commits atomic.Int64 // successful group commits, for tests

	// The log (wal.go). These belong to the committer, or to whoever
	// holds applyMu once it stopped.
	logFile     *os.File
	logGen      uint64
	logSize     int64
	logBuf      []byte
	logged      []*entry          // in logFile, not yet taken by an apply
	loggedBytes int               // their bytes in logFile
	groupLast   map[string]uint64 // commitLog's, reused

	rotateReq   chan chan generation // an apply asks the committer for the log's generation
	logStarted  chan struct{}        // a generation's first entry was logged
	logFull     chan struct{}        // a generation reached applyEntries or applyBytes
	applierDone chan struct{}        // closed when applyLoop has returned
	applyMu     sync.Mutex           // one apply at a time
	retry       *generation          // under applyMu: applied first, its last apply failed
	applies     atomic.Int64         // generations applied, for tests
	bounds      applyBounds

	pendMu sync.Mutex
	pend   map[string]pendInfo // sessions with logged writes not yet in bbolt

	fileMu    sync.Mutex
	fileBytes int64 // bytes of all stored files, under fileMu
}

var (
	_ flow.Store        = (*Store)(nil)
	_ flow.FileStore    = (*Store)(nil)
	_ flow.FileStreamer = (*Store)(nil)
	_ flow.Pinger       = (*Store)(nil)
	_ io.Closer         = (*Store)(nil)
)

// Root buckets. Records, events and file metadata live under their own
// roots so that no session id can collide with the store's own keys.
//
// Format 2 keeps every session's events in one bucket, under keys that
// sort by session and then seq (eventKey): a save appends to the leaf
// page that holds its session's newest events, and a group commit of many
// sessions rewrites few pages. Format 1 gave each session a bucket of its
// own with an events bucket inside, three or four pages rewritten a save;
// Open moves a format 1 file to format 2 (migrateV1).
var (
	bucketMeta    = []byte("meta")
	bucketRecords = []byte("records") // session id → record JSON
	bucketEvents  = []byte("events")  // eventKey(id, seq) → event JSON
	bucketEvBytes = []byte("evbytes") // session id → 8-byte sum of its events' JSON lengths
	bucketFiles   = []byte("files")

	keyFormat = []byte("format")

	formatV3 = []byte("deskbridge-boltstore/3")

	// Format 2 is format 3 without the log: the same buckets, every write
	// in bbolt. Open marks it format 3, so that an older deskbridge, which
	// would not read the log, refuses it.
	formatV2 = []byte("deskbridge-boltstore/2")

	// Format 1: bucket "sessions" → a bucket a session → "record",
	// "last" (8-byte seq) and bucket "events" (8-byte seq → event JSON).
	formatV1       = []byte("deskbridge-boltstore/1")
	bucketSessions = []byte("sessions")
	keyRecord      = []byte("record")
	keyEvents      = []byte("events")
)

// initialMmap is bbolt's first mapping of the file.
const initialMmap = 512 << 20

var errClosed = fmt.Errorf("store closed: %w", flow.ErrStoreUnavailable)

// Open opens (or creates) the store at path. It fails with a clear error
// when another process holds the file, or when the file is not an intact
// store.
func Open(path string, opts Options) (*Store, error) {
	if opts.Tail <= 0 {
		opts.Tail = DefaultTail
	}
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = DefaultMaxFileBytes
	}
	switch {
	case opts.MaxEventBytes == 0:
		opts.MaxEventBytes = flow.StoreEventBytes
	case opts.MaxEventBytes < 0:
		opts.MaxEventBytes = 0
	}
	if opts.FilesDir == "" {
		opts.FilesDir = path + ".files"
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	db, err := openDB(path, opts.LockTimeout)
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	s := &Store{
		db: db, path: path, filesDir: opts.FilesDir, tail: opts.Tail, maxBytes: opts.MaxEventBytes, maxFiles: opts.MaxFileBytes,
		log:         opts.Logger.With("store", path),
		queue:       make(chan *op),
		closing:     make(chan struct{}),
		stopped:     make(chan struct{}),
		groupLast:   make(map[string]uint64),
		rotateReq:   make(chan chan generation),
		logStarted:  make(chan struct{}, 1),
		logFull:     make(chan struct{}, 1),
		applierDone: make(chan struct{}),
		pend:        make(map[string]pendInfo),
		bounds:      applyBounds{every: applyEvery, entries: applyEntries, bytes: applyBytes},
	}
	if err := s.replayLogs(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	if err := s.sweepFiles(); err != nil {
		_ = s.logFile.Close()
		_ = db.Close()
		return nil, fmt.Errorf("boltstore: open %s: files in %s: %w", path, opts.FilesDir, err)
	}
	go s.commitLoop()
	go s.applyLoop()
	return s, nil
}

// openDB opens the bbolt file, checks it whole and sets up the root
// buckets. A corrupt file can make bbolt panic or fault on its pages; both
// come back as errors here.
func openDB(path string, lockTimeout time.Duration) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if db != nil {
				_ = db.Close()
			}
			db, err = nil, fmt.Errorf("the file is corrupt (%v)", r)
		}
	}()
	if err := precheck(path); err != nil {
		return nil, err
	}
	// The hashmap freelist allocates pages in O(1) where the array one
	// scans. NoFreelistSync would save a page write a commit, but bbolt
	// then rebuilds the freelist in a goroutine of its own at open, where a
	// corrupt page panics past any recover: a crash, not an error.
	//
	// The initial mmap is large (address space, not memory or disk: the
	// file grows as it is written) because every remap of a growing file
	// copies what the open transaction changed out of the old mapping, which
	// cost a large apply of the log more than its writes.
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout, FreelistType: bolt.FreelistMapType, InitialMmapSize: initialMmap})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("the file is in use by another process (its lock was not released within %v): %w", lockTimeout, flow.ErrStoreUnavailable)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return nil, fmt.Errorf("not a bbolt database, or its header is corrupt: %w", err)
	case err != nil:
		return nil, mapErr(err)
	}
	if err := checkDB(db); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// checkDB runs bbolt's consistency check and creates the root buckets; a
// bbolt file of some other program is refused rather than written into.
func checkDB(db *bolt.DB) error {
	// Walk every bucket first, on this goroutine: a page that points
	// outside the file faults here, where it is recovered, and not in
	// tx.Check's own goroutine, where it would crash the process.
	err := db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(_ []byte, b *bolt.Bucket) error { return walk(b) })
	})
	if err != nil {
		return fmt.Errorf("the file is corrupt: %w", err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		var errs []error
		for e := range tx.Check() {
			if len(errs) < 5 {
				errs = append(errs, e)
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("the file is corrupt (consistency check): %w", errors.Join(errs...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	var v1 bool
	err = db.Update(func(tx *bolt.Tx) error {
		if m := tx.Bucket(bucketMeta); m != nil {
			switch f := m.Get(keyFormat); string(f) {
			case string(formatV3):
			case string(formatV2):
				if err := m.Put(keyFormat, formatV3); err != nil {
					return err
				}
			case string(formatV1):
				v1 = true
			default:
				return fmt.Errorf("the file holds format %q, this store reads %q, %q and %q", f, formatV3, formatV2, formatV1)
			}
		} else {
			if k, _ := tx.Cursor().First(); k != nil {
				return fmt.Errorf("a bbolt database of some other program (root bucket %q), not a deskbridge store", k)
			}
			m, err := tx.CreateBucket(bucketMeta)
			if err != nil {
				return err
			}
			if err := m.Put(keyFormat, formatV3); err != nil {
				return err
			}
		}
		for _, name := range [][]byte{bucketRecords, bucketEvents, bucketEvBytes, bucketFiles} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || !v1 {
		return err
	}
	return migrateV1(db)
}

// migrateV1 moves the sessions of a format 1 file into format 3, a few
// hundred sessions a transaction (a big file is not one huge commit), each
// moved whole in one. Stopped halfway (a crash), the next Open goes on
// where it stopped; the format says 3 once the last session has moved.
func migrateV1(db *bolt.DB) error {
	const perTx = 256
	for {
		done := false
		err := db.Update(func(tx *bolt.Tx) error {
			old := tx.Bucket(bucketSessions)
			if old == nil {
				done = true
				return tx.Bucket(bucketMeta).Put(keyFormat, formatV3)
			}
			var ids [][]byte
			c := old.Cursor()
			for k, v := c.First(); k != nil && len(ids) < perTx; k, v = c.Next() {
				if v == nil {
					ids = append(ids, slices.Clone(k))
				}
			}
			if len(ids) == 0 {
				return tx.DeleteBucket(bucketSessions)
			}
			records, events := tx.Bucket(bucketRecords), tx.Bucket(bucketEvents)
			for _, id := range ids {
				b := old.Bucket(id)
				if r := b.Get(keyRecord); r != nil {
					if err := records.Put(id, slices.Clone(r)); err != nil {
						return err
					}
				}
				if evb := b.Bucket(keyEvents); evb != nil {
					prefix := eventPrefix(id)
					if err := evb.ForEach(func(k, v []byte) error {
						return events.Put(eventKey(prefix, seqOf(k)), slices.Clone(v))
					}); err != nil {
						return err
					}
				}
				if err := old.DeleteBucket(id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("move the file to format 3: %w", mapErr(err))
		}
		if done {
			return nil
		}
	}
}

func walk(b *bolt.Bucket) error {
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			if sub := b.Bucket(k); sub != nil {
				return walk(sub)
			}
		}
		return nil
	})
}

// Close waits for the saves already taken, brings the bbolt file up to
// date with the log and removes it, then releases the file. Every call
// after Close fails with an error matching flow.ErrStoreUnavailable. When
// the log cannot be applied, Close says so and leaves it for the next Open.
func (s *Store) Close() error {
	var err error
	s.once.Do(func() {
		s.closed.Store(true)
		close(s.closing)
		<-s.stopped
		<-s.applierDone
		if e := s.applyLog(); e != nil {
			err = fmt.Errorf("boltstore: close %s: %w (the log stays, for the next Open)", s.path, e)
		}
		if s.logFile != nil { // not applied: kept
			_ = s.logFile.Close()
		}
		if e := s.db.Close(); e != nil && err == nil {
			err = fmt.Errorf("boltstore: close %s: %w", s.path, e)
		}
	})
	return err
}

// Ping implements flow.Pinger: the file is open and its root readable.
func (s *Store) Ping(context.Context) error {
	err := s.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketRecords) == nil {
			return errors.New("records bucket missing")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("boltstore: ping %s: %w", s.path, err)
	}
	return nil
}

// Load implements flow.Store.
func (s *Store) Load(_ context.Context, id string) (flow.Record, error) {
	var rec flow.Record
	err := s.settle(id)
	if err == nil {
		err = s.view(func(tx *bolt.Tx) error {
			raw := tx.Bucket(bucketRecords).Get([]byte(id))
			if raw == nil {
				return flow.ErrNotFound
			}
			if err := json.Unmarshal(raw, &rec); err != nil {
				return fmt.Errorf("decode record: %w", err)
			}
			_, rec.LastSeq = seqRange(tx.Bucket(bucketEvents).Cursor(), eventPrefix([]byte(id)))
			return nil
		})
	}
	if err != nil {
		return flow.Record{}, fmt.Errorf("boltstore: load session %s: %w", id, err)
	}
	return rec, nil
}

// Events implements flow.Store.
func (s *Store) Events(_ context.Context, id string, afterSeq uint64, limit int) ([]flow.Event, error) {
	var out []flow.Event
	err := s.settle(id)
	if err == nil {
		err = s.view(func(tx *bolt.Tx) error {
			key := []byte(id)
			c := tx.Bucket(bucketEvents).Cursor()
			prefix := eventPrefix(key)
			oldest, last := seqRange(c, prefix)
			if last == 0 {
				if tx.Bucket(bucketRecords).Get(key) == nil {
					return flow.ErrNotFound
				}
				return nil
			}
			if afterSeq >= last {
				return nil
			}
			if afterSeq+1 < oldest {
				return fmt.Errorf("after %d (oldest kept %d): %w", afterSeq, oldest, flow.ErrEventsTrimmed)
			}
			n := int(last - afterSeq)
			if limit > 0 && n > limit {
				n = limit
			}
			out = make([]flow.Event, 0, n)
			for k, v := c.Seek(eventKey(prefix, afterSeq+1)); len(out) < n; k, v = c.Next() {
				seq, ok := seqIn(k, prefix)
				if !ok {
					break
				}
				var ev flow.Event
				if err := json.Unmarshal(v, &ev); err != nil {
					return fmt.Errorf("decode event %d: %w", seq, err)
				}
				out = append(out, ev)
			}
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("boltstore: events of session %s: %w", id, err)
	}
	return out, nil
}

// List implements flow.Store: the sorted ids of sessions with a record.
func (s *Store) List(context.Context) ([]string, error) {
	var ids []string
	err := s.settle("")
	if err == nil {
		err = s.view(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketRecords).ForEach(func(k, _ []byte) error {
				ids = append(ids, string(k))
				return nil
			})
		})
	}
	if err != nil {
		return nil, fmt.Errorf("boltstore: list sessions: %w", err)
	}
	slices.Sort(ids) // bbolt orders bytes, which is Go's string order; sort anyway, it is cheap
	return ids, nil
}

// Save implements flow.Store. The save joins the next group commit; it
// returns once that commit is on disk.
func (s *Store) Save(ctx context.Context, id string, rec *flow.Record, events []*flow.Event) error {
	if err := s.save(ctx, id, rec, events); err != nil {
		return fmt.Errorf("boltstore: save session %s: %w", id, err)
	}
	return nil
}

func (s *Store) save(ctx context.Context, id string, rec *flow.Record, events []*flow.Event) error {
	if err := checkID(id); err != nil {
		return err
	}
	// Encode in the caller's goroutine: the committer only writes.
	var recJSON []byte
	if rec != nil {
		var err error
		if recJSON, err = flow.RecordJSON(rec); err != nil {
			return fmt.Errorf("encode record: %w", err)
		}
	}
	evJSON := make([][]byte, len(events))
	for i, ev := range events {
		var err error
		if evJSON[i], err = flow.EventJSON(ev); err != nil {
			return fmt.Errorf("encode event %d: %w", ev.Seq, err)
		}
	}
	// The events are immutable, the caller's slice of them is not: the
	// entry lives until its apply, past this call.
	e := &entry{kind: entrySave, id: id, rec: recJSON, events: slices.Clone(events), evJSON: evJSON}
	return s.submitOp(ctx, &op{entry: e})
}

// applyEntry writes a logged save or delete into bbolt. A save checks seqs
// (flow.CheckSeqs) before it writes, and is refused when they do not
// follow the stored events.
func (s *Store) applyEntry(tx *bolt.Tx, e *entry) error {
	key := []byte(e.id)
	prefix := eventPrefix(key)
	evb := tx.Bucket(bucketEvents)
	if e.kind == entryDelete {
		if err := tx.Bucket(bucketRecords).Delete(key); err != nil {
			return err
		}
		if err := deleteEvents(evb, prefix, math.MaxUint64); err != nil {
			return err
		}
		return tx.Bucket(bucketEvBytes).Delete(key)
	}
	events := e.events
	oldest, last := seqRange(evb.Cursor(), prefix)
	if err := flow.CheckSeqs(last, events); err != nil {
		return refuse(err)
	}
	if e.rec != nil {
		if err := tx.Bucket(bucketRecords).Put(key, e.rec); err != nil {
			return err
		}
	}
	if len(events) == 0 {
		return nil
	}
	sizes := tx.Bucket(bucketEvBytes)
	held := heldBytes(sizes, evb, key, prefix, last)
	for i, ev := range events {
		if err := evb.Put(eventKey(prefix, ev.Seq), e.evJSON[i]); err != nil {
			return err
		}
		held += int64(len(e.evJSON[i]))
	}
	if oldest == 0 {
		oldest = events[0].Seq
	}
	held, err := s.trim(evb, prefix, oldest, events[len(events)-1].Seq, held)
	if err != nil {
		return err
	}
	return sizes.Put(key, binary.BigEndian.AppendUint64(nil, uint64(held)))
}

// heldBytes is the sum of the session's stored events' lengths: its count,
// or, for a session saved before the store counted (or none), a walk.
func heldBytes(sizes, evb *bolt.Bucket, key, prefix []byte, last uint64) int64 {
	if last == 0 {
		return 0
	}
	if b := sizes.Get(key); len(b) == 8 {
		return int64(binary.BigEndian.Uint64(b))
	}
	var n int64
	c := evb.Cursor()
	for k, v := c.Seek(eventKey(prefix, 0)); k != nil; k, v = c.Next() {
		if _, ok := seqIn(k, prefix); !ok {
			break
		}
		n += int64(len(v))
	}
	return n
}

// trim deletes the session's oldest events past the newest tail and past
// the byte bound (the newest is always kept), and returns the bytes left.
func (s *Store) trim(evb *bolt.Bucket, prefix []byte, oldest, last uint64, held int64) (int64, error) {
	n := last - oldest + 1
	if n <= uint64(s.tail) && (s.maxBytes == 0 || held <= s.maxBytes) {
		return held, nil
	}
	// Seek again after each Delete: bbolt's cursor may skip a key when
	// Next follows a Delete.
	c := evb.Cursor()
	from := eventKey(prefix, 0)
	for ; n > 1 && (n > uint64(s.tail) || (s.maxBytes > 0 && held > s.maxBytes)); n-- {
		k, v := c.Seek(from)
		if _, ok := seqIn(k, prefix); !ok {
			break
		}
		held -= int64(len(v))
		if err := c.Delete(); err != nil {
			return 0, err
		}
	}
	return held, nil
}

// deleteEvents deletes the session's events before seq before.
func deleteEvents(evb *bolt.Bucket, prefix []byte, before uint64) error {
	// Seek again after each Delete: bbolt's cursor may skip a key when
	// Next follows a Delete.
	c := evb.Cursor()
	from := eventKey(prefix, 0)
	for k, _ := c.Seek(from); ; k, _ = c.Seek(from) {
		if seq, ok := seqIn(k, prefix); !ok || seq >= before {
			return nil
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
}

// eventPrefix is what the keys of session id's events begin with: the
// id's length (a uvarint, so that no id's prefix is another's) and the id.
func eventPrefix(id []byte) []byte {
	return append(binary.AppendUvarint(make([]byte, 0, len(id)+binary.MaxVarintLen16+8), uint64(len(id))), id...)
}

// eventKey is the key of the session's event seq: its prefix and the seq
// big-endian, so that a session's events sort by seq.
func eventKey(prefix []byte, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(prefix[:len(prefix):len(prefix)], seq)
}

// seqIn returns the seq of k when k is a key of the session with prefix.
func seqIn(k, prefix []byte) (uint64, bool) {
	if len(k) != len(prefix)+8 || !bytes.HasPrefix(k, prefix) {
		return 0, false
	}
	return binary.BigEndian.Uint64(k[len(prefix):]), true
}

// seqRange returns the oldest and newest seq the session keeps (0, 0: no
// events): two descents of the tree, no writes.
func seqRange(c *bolt.Cursor, prefix []byte) (oldest, last uint64) {
	k, _ := c.Seek(eventKey(prefix, math.MaxUint64))
	if k == nil {
		k, _ = c.Last()
	} else if _, ok := seqIn(k, prefix); !ok {
		k, _ = c.Prev()
	}
	last, ok := seqIn(k, prefix)
	if !ok {
		return 0, 0
	}
	k, _ = c.Seek(eventKey(prefix, 0))
	oldest, _ = seqIn(k, prefix)
	return oldest, last
}

// Delete implements flow.Store; it deletes the session's files too. The
// record and events go through the log, as saves do.
func (s *Store) Delete(ctx context.Context, id string) error {
	err := checkID(id)
	if err == nil {
		err = s.submitOp(ctx, &op{entry: &entry{kind: entryDelete, id: id}})
	}
	if err == nil {
		err = s.deleteFiles(ctx, id)
	}
	if err != nil {
		return fmt.Errorf("boltstore: delete session %s: %w", id, err)
	}
	return nil
}

// deleteFiles deletes the metadata of the session's files, then their
// bytes.
func (s *Store) deleteFiles(ctx context.Context, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	key := []byte(id)
	var freed int64
	err := s.submit(ctx, func(tx *bolt.Tx) error {
		freed = 0
		files := tx.Bucket(bucketFiles)
		fb := files.Bucket(key)
		if fb == nil {
			return nil
		}
		if err := fb.ForEach(func(_, v []byte) error {
			var m fileMeta
			if json.Unmarshal(v, &m) == nil {
				freed += m.Info.Size
			}
			return nil
		}); err != nil {
			return err
		}
		return files.DeleteBucket(key)
	})
	if err != nil {
		return err
	}
	s.fileMu.Lock()
	s.fileBytes -= freed
	s.fileMu.Unlock()
	// The metadata is gone: what is left on disk is unreachable, and a
	// failure here is swept at the next Open.
	if err := os.RemoveAll(s.sessionDir(id)); err != nil {
		s.log.Warn("boltstore: remove files of a deleted session", "session", id, "err", err)
	}
	return nil
}

// view runs fn in a read transaction. A panic or memory fault in bbolt (a
// page corrupted after Open) comes back as an error.
func (s *Store) view(fn func(tx *bolt.Tx) error) (err error) {
	if s.closed.Load() {
		return errClosed
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("boltstore: panic in a read", "panic", r)
			err = fmt.Errorf("the file is corrupt (read failed: %v)", r)
		}
	}()
	return mapErr(s.db.View(fn))
}

// maxIDLen leaves room in an event's key for the length and the seq.
const maxIDLen = bolt.MaxKeySize - binary.MaxVarintLen16 - 8

func checkID(id string) error {
	if id == "" || len(id) > maxIDLen {
		return fmt.Errorf("%w: id must be 1 to %d bytes", flow.ErrInvalid, maxIDLen)
	}
	return nil
}

// mapErr makes bbolt's and the system's errors match flow's.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, berrors.ErrDatabaseNotOpen), errors.Is(err, berrors.ErrTxClosed):
		return fmt.Errorf("%w: %w", errClosed, err)
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), errors.Is(err, berrors.ErrMaxSizeReached):
		return fmt.Errorf("%w: %w", flow.ErrStoreFull, err)
	}
	return err
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

func seqOf(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}
