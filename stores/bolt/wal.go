package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/deskbridge/deskbridge/core/flow"
)

// The log. Saves and Deletes are not written into bbolt as they come: the
// committer appends each group of them to a log file beside the bbolt file
// and fsyncs it once, then acknowledges them. bbolt is brought up to date
// from the log in the background (applyLog), in large batches, so that a
// session's leaf pages are rewritten once a batch rather than once a save;
// the log's generation is deleted once its batch is committed in bbolt. A
// read of a session with logged writes, and List while any are logged,
// first apply the log, so reads see every acknowledged write. Open replays
// what a crash left in the logs.
//
// A log file is path + ".log." + its generation. It holds logMagic, the
// generation (8 bytes big-endian), then entries: the length of the
// payload (4 bytes), its CRC-32C (4 bytes), the payload. bbolt's meta
// bucket keeps, under keyLogGen, the newest generation applied, in the
// transaction that applied it: a log whose generation is not above it is
// deleted at Open without being replayed.

// A log generation is applied once its first entry is applyEvery old, or
// once it holds applyEntries entries or applyBytes bytes, whichever comes
// first (the Store's fields of these names; tests lower them).
const (
	applyEvery   = 2 * time.Second
	applyEntries = 32768
	applyBytes   = 32 << 20
)

// applyBounds are a Store's bounds on an unapplied log generation.
type applyBounds struct {
	every   time.Duration
	entries int
	bytes   int
}

var (
	logMagic   = []byte("deskbridge-boltstore-log/1\n")
	keyLogGen  = []byte("log")
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

const logHeaderLen = 27 + 8 // logMagic, the generation

// Entry kinds.
const (
	entrySave   byte = 1
	entryDelete byte = 2
)

// entry is one logged write: a Save (a record, events, or both) or a
// Delete of a session's record and events.
type entry struct {
	kind   byte
	id     string
	rec    []byte        // the record's JSON; nil: the stored one stays
	events []*flow.Event // their seqs; a replayed entry's hold nothing else
	evJSON [][]byte      // the events' JSON
}

// appendTo appends e as a log entry to b.
func (e *entry) appendTo(b []byte) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0, e.kind)
	b = binary.AppendUvarint(b, uint64(len(e.id)))
	b = append(b, e.id...)
	b = binary.AppendUvarint(b, uint64(len(e.rec)))
	b = append(b, e.rec...)
	b = binary.AppendUvarint(b, uint64(len(e.events)))
	for i, ev := range e.events {
		b = binary.BigEndian.AppendUint64(b, ev.Seq)
		b = binary.AppendUvarint(b, uint64(len(e.evJSON[i])))
		b = append(b, e.evJSON[i]...)
	}
	payload := b[start+8:]
	binary.BigEndian.PutUint32(b[start:], uint32(len(payload)))
	binary.BigEndian.PutUint32(b[start+4:], crc32.Checksum(payload, castagnoli))
	return b
}

var errBadEntry = errors.New("malformed log entry")

// decodeEntry reads an entry's payload (its CRC already checked).
func decodeEntry(p []byte) (*entry, error) {
	if len(p) < 1 {
		return nil, errBadEntry
	}
	e := &entry{kind: p[0]}
	if e.kind != entrySave && e.kind != entryDelete {
		return nil, fmt.Errorf("%w: kind %d", errBadEntry, e.kind)
	}
	p = p[1:]
	bytesOf := func() ([]byte, bool) {
		n, w := binary.Uvarint(p)
		if w <= 0 || n > uint64(len(p)-w) {
			return nil, false
		}
		b := p[w : w+int(n)]
		p = p[w+int(n):]
		return b, true
	}
	id, ok := bytesOf()
	if !ok || len(id) == 0 {
		return nil, errBadEntry
	}
	e.id = string(id)
	rec, ok := bytesOf()
	if !ok {
		return nil, errBadEntry
	}
	if len(rec) > 0 {
		e.rec = rec
	}
	n, w := binary.Uvarint(p)
	if w <= 0 || n > uint64(len(p)) {
		return nil, errBadEntry
	}
	p = p[w:]
	e.events = make([]*flow.Event, 0, n)
	e.evJSON = make([][]byte, 0, n)
	for range n {
		if len(p) < 8 {
			return nil, errBadEntry
		}
		seq := binary.BigEndian.Uint64(p)
		p = p[8:]
		js, ok := bytesOf()
		if !ok {
			return nil, errBadEntry
		}
		e.events = append(e.events, &flow.Event{Seq: seq})
		e.evJSON = append(e.evJSON, js)
	}
	if len(p) != 0 {
		return nil, errBadEntry
	}
	return e, nil
}

// pendInfo is what the store knows of a session with logged writes not yet
// applied to bbolt.
type pendInfo struct {
	gen  uint64 // the generation of its newest logged write
	last uint64 // the newest seq it holds once they are applied (0: none)
}

// generation is a log generation taken by an apply.
type generation struct {
	gen     uint64
	entries []*entry
	file    *os.File // closed and removed once applied; nil: none
	err     error    // the new generation's file could not be made
}

func logName(path string, gen uint64) string {
	return path + ".log." + strconv.FormatUint(gen, 10)
}

// createLog makes the file of generation gen, its header durable (the
// file, and its name in the directory) before any entry goes in.
func createLog(path string, gen uint64) (*os.File, error) {
	name := logName(path, gen)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, mapErr(err)
	}
	hdr := binary.BigEndian.AppendUint64(slices.Clip(logMagic), gen)
	if _, err := f.Write(hdr); err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = syncDir(filepath.Dir(name))
	}
	if err != nil {
		_ = f.Close()
		_ = os.Remove(name)
		return nil, fmt.Errorf("create the log %s: %w", name, mapErr(err))
	}
	return f, nil
}

// appendLog writes a group's entries at the end of the log and syncs them;
// on failure the log is cut back to where it was, so that the next group
// follows whole entries.
func (s *Store) appendLog(buf []byte) error {
	_, err := s.logFile.WriteAt(buf, s.logSize)
	if err == nil {
		err = fdatasync(s.logFile)
	}
	if err != nil {
		if terr := s.logFile.Truncate(s.logSize); terr != nil {
			s.log.Error("boltstore: cut the log back after a failed write", "log", s.logFile.Name(), "err", terr)
		}
		return fmt.Errorf("append to the log %s: %w", s.logFile.Name(), mapErr(err))
	}
	s.logSize += int64(len(buf))
	return nil
}

// lastLogged is the newest seq session id holds once what is logged is
// applied: this group's entries first, then the logged ones, then bbolt.
func (s *Store) lastLogged(id string, group map[string]uint64) (uint64, error) {
	if last, ok := group[id]; ok {
		return last, nil
	}
	s.pendMu.Lock()
	p, ok := s.pend[id]
	s.pendMu.Unlock()
	if ok {
		return p.last, nil
	}
	var last uint64
	err := s.view(func(tx *bolt.Tx) error {
		_, last = seqRange(tx.Bucket(bucketEvents).Cursor(), eventPrefix([]byte(id)))
		return nil
	})
	return last, err
}

// commitLog logs the group's saves and deletes with one write and one
// fsync, and answers them. A save whose events do not follow the session's
// is refused and not logged.
func (s *Store) commitLog(ops []*op) {
	results := make([]error, len(ops))
	group := s.groupLast
	clear(group)
	buf := s.logBuf[:0]
	var taken []int
	for i, o := range ops {
		e := o.entry
		last, err := s.lastLogged(e.id, group)
		if err != nil {
			results[i] = err
			continue
		}
		if e.kind == entrySave {
			if err := flow.CheckSeqs(last, e.events); err != nil {
				results[i] = err
				continue
			}
			if n := len(e.events); n > 0 {
				last = e.events[n-1].Seq
			}
		} else {
			last = 0
		}
		group[e.id] = last
		buf = e.appendTo(buf)
		taken = append(taken, i)
	}
	logged := len(taken) > 0
	if logged {
		if err := s.appendLog(buf); err != nil {
			s.log.Error("boltstore: group commit failed", "saves", len(taken), "err", err)
			for _, i := range taken {
				results[i] = err
			}
			logged = false
		}
	}
	if logged {
		s.commits.Add(1)
		s.pendMu.Lock()
		for id, last := range group {
			s.pend[id] = pendInfo{gen: s.logGen, last: last}
		}
		s.pendMu.Unlock()
		started := len(s.logged) == 0
		for _, i := range taken {
			s.logged = append(s.logged, ops[i].entry)
		}
		s.loggedBytes += len(buf)
		switch {
		case len(s.logged) >= s.bounds.entries || s.loggedBytes >= s.bounds.bytes:
			signal(s.logFull)
		case started:
			signal(s.logStarted)
		}
	}
	if cap(buf) <= 1<<20 {
		s.logBuf = buf[:0]
	}
	for i, o := range ops {
		o.done <- results[i]
	}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// rotate, on the committer (or once it stopped), hands the current
// generation's entries to an apply. While the committer runs, later writes
// go to a new generation's file; once it stopped, none come.
func (s *Store) rotate(stopped bool) generation {
	if stopped {
		g := generation{gen: s.logGen, entries: s.logged, file: s.logFile}
		s.logged, s.loggedBytes, s.logFile = nil, 0, nil
		return g
	}
	if len(s.logged) == 0 {
		return generation{}
	}
	f, err := createLog(s.path, s.logGen+1)
	if err != nil {
		return generation{err: err}
	}
	g := generation{gen: s.logGen, entries: s.logged, file: s.logFile}
	s.logFile, s.logGen, s.logSize = f, s.logGen+1, logHeaderLen
	s.logged, s.loggedBytes = nil, 0
	return g
}

// takeGeneration asks the committer for the current generation.
func (s *Store) takeGeneration() generation {
	reply := make(chan generation, 1)
	select {
	case s.rotateReq <- reply:
		return <-reply
	case <-s.stopped:
		return s.rotate(true)
	}
}

// applyLog brings bbolt up to date with everything logged so far: a
// generation whose apply failed before, then the current one. One apply
// runs at a time.
func (s *Store) applyLog() error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	for range 2 {
		g := s.retry
		if g == nil {
			taken := s.takeGeneration()
			if taken.err != nil {
				return taken.err
			}
			g = &taken
		}
		if len(g.entries) > 0 {
			if err := s.applyBatch(g.entries, g.gen); err != nil {
				s.retry = g
				return fmt.Errorf("apply the log %s: %w", logName(s.path, g.gen), err)
			}
			s.applies.Add(1)
		}
		s.retry = nil
		if g.file != nil {
			_ = g.file.Close()
			if err := os.Remove(g.file.Name()); err != nil {
				// Applied already: the next Open deletes it unread.
				s.log.Warn("boltstore: remove an applied log", "log", g.file.Name(), "err", err)
			}
		}
		s.pendMu.Lock()
		for id, p := range s.pend {
			if p.gen <= g.gen {
				delete(s.pend, id)
			}
		}
		s.pendMu.Unlock()
	}
	return nil
}

// applyBatch writes entries into bbolt in one transaction, with gen as
// the newest generation applied. Each session's entries are merged first
// (merge), so that its events are sought, counted and trimmed once.
func (s *Store) applyBatch(entries []*entry, gen uint64) error {
	bySession := make(map[string][]*entry)
	for _, e := range entries {
		bySession[e.id] = append(bySession[e.id], e)
	}
	ids := slices.Sorted(maps.Keys(bySession)) // neighbouring keys, neighbouring pages
	return s.update(func(tx *bolt.Tx) error {
		for _, id := range ids {
			for _, e := range merge(bySession[id]) {
				if err := s.applyEntry(tx, e); err != nil {
					var r *refusal
					if !errors.As(err, &r) {
						return err
					}
					// Checked when it was logged: only a file changed
					// behind the store's back gets here.
					s.log.Error("boltstore: a logged save does not follow the stored events; skipped", "session", e.id, "err", r.err)
				}
			}
		}
		return tx.Bucket(bucketMeta).Put(keyLogGen, seqKey(gen))
	})
}

// merge folds one session's entries, in their order, into what applying
// them one by one leaves: the last delete, if any, then one save of the
// newest record and every event after that delete. Trimming once after all
// the events keeps the same events as trimming after each save: both keep
// the longest newest run within the bounds. Events that do not follow each
// other (never, as they were checked when logged) are applied as they came.
func merge(entries []*entry) []*entry {
	if len(entries) == 1 {
		return entries
	}
	var out []*entry
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].kind == entryDelete {
			out = append(out, entries[i])
			entries = entries[i+1:]
			break
		}
	}
	if len(entries) == 0 {
		return out
	}
	m := &entry{kind: entrySave, id: entries[0].id}
	for _, e := range entries {
		if e.rec != nil {
			m.rec = e.rec
		}
		if len(e.events) == 0 {
			continue
		}
		if n := len(m.events); n > 0 && e.events[0].Seq != m.events[n-1].Seq+1 {
			return append(out, entries...)
		}
		m.events = append(m.events, e.events...)
		m.evJSON = append(m.evJSON, e.evJSON...)
	}
	return append(out, m)
}

// applyLoop applies each generation applyEvery after its first entry, or
// as soon as it is full; a failed apply is tried again every applyEvery.
func (s *Store) applyLoop() {
	defer close(s.applierDone)
	for {
		select {
		case <-s.closing:
			return
		case <-s.logFull:
		case <-s.logStarted:
			if !s.wait(s.bounds.every, s.logFull) {
				return
			}
		}
		for err := s.applyLog(); err != nil; err = s.applyLog() {
			s.log.Error("boltstore: bringing the file up to date with its log failed; saves go on into the log", "err", err)
			if !s.wait(s.bounds.every, nil) {
				return
			}
		}
	}
}

// wait waits d, or until early has a value; false when the store closes.
func (s *Store) wait(d time.Duration, early <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.closing:
		return false
	case <-early:
	case <-t.C:
	}
	return true
}

// settle applies the log when it holds writes of session id (any session's
// when id is ""), so that a read of bbolt sees them.
func (s *Store) settle(id string) error {
	if s.closed.Load() {
		return errClosed
	}
	s.pendMu.Lock()
	pending := len(s.pend) > 0
	if id != "" {
		_, pending = s.pend[id]
	}
	s.pendMu.Unlock()
	if !pending {
		return nil
	}
	return s.applyLog()
}

// replayLogs applies, at Open, the logs a crash left behind, oldest first,
// and makes the log of the next generation.
func (s *Store) replayLogs() error {
	var applied uint64
	err := s.view(func(tx *bolt.Tx) error {
		applied = seqOf(tx.Bucket(bucketMeta).Get(keyLogGen))
		return nil
	})
	if err != nil {
		return err
	}
	gens, err := logGenerations(s.path)
	if err != nil {
		return err
	}
	next := applied + 1
	for _, gen := range gens {
		name := logName(s.path, gen)
		next = max(next, gen+1)
		if gen <= applied {
			if err := os.Remove(name); err != nil {
				return mapErr(err)
			}
			continue
		}
		entries, err := s.readLog(name, gen)
		if err != nil {
			return err
		}
		if len(entries) > 0 {
			if err := s.applyBatch(entries, gen); err != nil {
				return fmt.Errorf("replay the log %s: %w", name, err)
			}
			s.log.Info("boltstore: replayed the writes a stop left in the log", "log", name, "writes", len(entries))
		}
		if err := os.Remove(name); err != nil {
			return mapErr(err)
		}
	}
	f, err := createLog(s.path, next)
	if err != nil {
		return err
	}
	s.logFile, s.logGen, s.logSize = f, next, logHeaderLen
	return nil
}

// logGenerations lists the generations of path's log files, oldest first.
func logGenerations(path string) ([]uint64, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, mapErr(err)
	}
	prefix := base + ".log."
	var gens []uint64
	for _, de := range des {
		rest, ok := strings.CutPrefix(de.Name(), prefix)
		if !ok {
			continue
		}
		if gen, err := strconv.ParseUint(rest, 10, 64); err == nil && gen > 0 && gen < math.MaxUint64 {
			gens = append(gens, gen)
		}
	}
	slices.Sort(gens)
	return gens, nil
}

// readLog reads the entries of a log file. A torn last write (a crash
// during a group's write, which nobody was told had succeeded) ends it:
// what follows the last whole entry is dropped, with a warning.
func (s *Store) readLog(name string, gen uint64) ([]*entry, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, mapErr(err)
	}
	if len(b) < logHeaderLen || bytes.Count(b[:logHeaderLen], []byte{0}) == logHeaderLen {
		// Made, but its header never reached the disk: nothing in it was
		// acknowledged.
		return nil, nil
	}
	if !bytes.Equal(b[:len(logMagic)], logMagic) || binary.BigEndian.Uint64(b[len(logMagic):logHeaderLen]) != gen {
		return nil, fmt.Errorf("the log %s is not this store's log of generation %d (its header is corrupt)", name, gen)
	}
	var entries []*entry
	p := b[logHeaderLen:]
	for len(p) > 0 {
		if len(p) < 8 {
			break
		}
		n := binary.BigEndian.Uint32(p)
		if uint64(n) > uint64(len(p)-8) || crc32.Checksum(p[8:8+n], castagnoli) != binary.BigEndian.Uint32(p[4:]) {
			break
		}
		e, err := decodeEntry(p[8 : 8+n])
		if err != nil {
			return nil, fmt.Errorf("the log %s is corrupt at byte %d: %w", name, len(b)-len(p), err)
		}
		entries = append(entries, e)
		p = p[8+n:]
	}
	if len(p) > 0 {
		s.log.Warn("boltstore: the log ends in a write cut short by a stop; its unacknowledged end is dropped", "log", name, "bytes", len(p))
	}
	return entries, nil
}
