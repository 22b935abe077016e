package boltstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
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

// Store is a flow.Store, flow.FileStore and flow.Pinger over one bbolt
// file. It is safe for concurrent use. Close it to release the file.
type Store struct {
	db       *bolt.DB
	path     string
	filesDir string
	tail     int
	maxFiles int64
	log      *slog.Logger

	queue   chan *op      // unbuffered: a send completes when the committer takes the op
	closing chan struct{} // closed by Close
	stopped chan struct{} // closed when the committer has returned
	closed  atomic.Bool
	once    sync.Once
	commits atomic.Int64 // successful group commits, for tests

	fileMu    sync.Mutex
	fileBytes int64 // bytes of all stored files, under fileMu
}

var (
	_ flow.Store     = (*Store)(nil)
	_ flow.FileStore = (*Store)(nil)
	_ flow.Pinger    = (*Store)(nil)
	_ io.Closer      = (*Store)(nil)
)

// Root buckets. Sessions and file metadata live under their own roots so
// that no session id can collide with the store's own keys.
var (
	bucketMeta     = []byte("meta")
	bucketSessions = []byte("sessions")
	bucketFiles    = []byte("files")

	keyFormat = []byte("format")
	keyRecord = []byte("record")
	keyLast   = []byte("last")
	keyEvents = []byte("events")

	formatV1 = []byte("deskbridge-boltstore/1")
)

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
		db: db, path: path, filesDir: opts.FilesDir, tail: opts.Tail, maxFiles: opts.MaxFileBytes,
		log:     opts.Logger.With("store", path),
		queue:   make(chan *op),
		closing: make(chan struct{}),
		stopped: make(chan struct{}),
	}
	if err := s.sweepFiles(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("boltstore: open %s: files in %s: %w", path, opts.FilesDir, err)
	}
	go s.commitLoop()
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
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout, FreelistType: bolt.FreelistMapType})
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
	return db.Update(func(tx *bolt.Tx) error {
		if m := tx.Bucket(bucketMeta); m != nil {
			if f := m.Get(keyFormat); string(f) != string(formatV1) {
				return fmt.Errorf("the file holds format %q, this store reads %q", f, formatV1)
			}
		} else {
			if k, _ := tx.Cursor().First(); k != nil {
				return fmt.Errorf("a bbolt database of some other program (root bucket %q), not a deskbridge store", k)
			}
			m, err := tx.CreateBucket(bucketMeta)
			if err != nil {
				return err
			}
			if err := m.Put(keyFormat, formatV1); err != nil {
				return err
			}
		}
		for _, name := range [][]byte{bucketSessions, bucketFiles} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
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

// Close waits for the saves already taken, then releases the file. Every
// call after Close fails with an error matching flow.ErrStoreUnavailable.
func (s *Store) Close() error {
	var err error
	s.once.Do(func() {
		s.closed.Store(true)
		close(s.closing)
		<-s.stopped
		if e := s.db.Close(); e != nil {
			err = fmt.Errorf("boltstore: close %s: %w", s.path, e)
		}
	})
	return err
}

// Ping implements flow.Pinger: the file is open and its root readable.
func (s *Store) Ping(context.Context) error {
	err := s.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketSessions) == nil {
			return errors.New("sessions bucket missing")
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
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions).Bucket([]byte(id))
		if b == nil {
			return flow.ErrNotFound
		}
		raw := b.Get(keyRecord)
		if raw == nil {
			return flow.ErrNotFound
		}
		if err := json.Unmarshal(raw, &rec); err != nil {
			return fmt.Errorf("decode record: %w", err)
		}
		rec.LastSeq = seqOf(b.Get(keyLast))
		return nil
	})
	if err != nil {
		return flow.Record{}, fmt.Errorf("boltstore: load session %s: %w", id, err)
	}
	return rec, nil
}

// Events implements flow.Store.
func (s *Store) Events(_ context.Context, id string, afterSeq uint64, limit int) ([]flow.Event, error) {
	var out []flow.Event
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions).Bucket([]byte(id))
		if b == nil {
			return flow.ErrNotFound
		}
		last := seqOf(b.Get(keyLast))
		if afterSeq >= last {
			return nil
		}
		evb := b.Bucket(keyEvents)
		if evb == nil {
			return nil
		}
		c := evb.Cursor()
		oldest := last + 1
		if k, _ := c.First(); k != nil {
			oldest = seqOf(k)
		}
		if afterSeq+1 < oldest {
			return fmt.Errorf("after %d (oldest kept %d): %w", afterSeq, oldest, flow.ErrEventsTrimmed)
		}
		n := int(last - afterSeq)
		if limit > 0 && n > limit {
			n = limit
		}
		out = make([]flow.Event, 0, n)
		for k, v := c.Seek(seqKey(afterSeq + 1)); k != nil && len(out) < n; k, v = c.Next() {
			var ev flow.Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("decode event %d: %w", seqOf(k), err)
			}
			out = append(out, ev)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: events of session %s: %w", id, err)
	}
	return out, nil
}

// List implements flow.Store: the sorted ids of sessions with a record.
func (s *Store) List(context.Context) ([]string, error) {
	var ids []string
	err := s.view(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketSessions)
		return root.ForEachBucket(func(k []byte) error {
			if root.Bucket(k).Get(keyRecord) != nil {
				ids = append(ids, string(k))
			}
			return nil
		})
	})
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
	key := []byte(id)
	return s.submit(ctx, func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketSessions)
		var last uint64
		if b := root.Bucket(key); b != nil {
			last = seqOf(b.Get(keyLast))
		}
		if err := flow.CheckSeqs(last, events); err != nil {
			return refuse(err)
		}
		b, err := root.CreateBucketIfNotExists(key)
		if err != nil {
			return err
		}
		if recJSON != nil {
			if err := b.Put(keyRecord, recJSON); err != nil {
				return err
			}
		}
		if len(events) == 0 {
			return nil
		}
		evb, err := b.CreateBucketIfNotExists(keyEvents)
		if err != nil {
			return err
		}
		for i, ev := range events {
			if err := evb.Put(seqKey(ev.Seq), evJSON[i]); err != nil {
				return err
			}
		}
		last = events[len(events)-1].Seq
		if err := b.Put(keyLast, seqKey(last)); err != nil {
			return err
		}
		return trim(evb, last, s.tail)
	})
}

// trim deletes the events older than the newest tail.
func trim(evb *bolt.Bucket, last uint64, tail int) error {
	if last <= uint64(tail) {
		return nil
	}
	keepFrom := last - uint64(tail) + 1
	c := evb.Cursor()
	for k, _ := c.First(); k != nil && seqOf(k) < keepFrom; k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// Delete implements flow.Store; it deletes the session's files too.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := s.deleteSession(ctx, id, true); err != nil {
		return fmt.Errorf("boltstore: delete session %s: %w", id, err)
	}
	return nil
}

func (s *Store) deleteSession(ctx context.Context, id string, record bool) error {
	if err := checkID(id); err != nil {
		return err
	}
	key := []byte(id)
	var freed int64
	err := s.submit(ctx, func(tx *bolt.Tx) error {
		freed = 0
		if record {
			if err := tx.Bucket(bucketSessions).DeleteBucket(key); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
				return err
			}
		}
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

func checkID(id string) error {
	if id == "" || len(id) > bolt.MaxKeySize {
		return fmt.Errorf("%w: id must be 1 to %d bytes", flow.ErrInvalid, bolt.MaxKeySize)
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
