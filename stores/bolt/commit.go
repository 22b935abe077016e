package boltstore

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// maxBatch bounds one group commit, so that one fsync never waits on an
// unbounded transaction.
const maxBatch = 512

// groupLinger is how long a group waits for more ops when the group
// before it had company (a busy store). An fsync costs this machine's kind
// 60-120 µs of CPU whatever it carries: on a busy node, waiting a little
// makes far fewer, larger groups (a tenth as many at 1,000 busy chats) for
// a millisecond more a save. A lone save still commits at once.
const groupLinger = time.Millisecond

// op is one write handed to the committer: a save or delete of a session
// (entry), which goes through the log (wal.go), or a write straight into
// bbolt (apply: the metadata of files). apply runs inside the group's
// transaction; it returns a refusal when it wrote nothing (the others go
// on), any other error when it may have written (the group is rolled back
// and retried without it).
type op struct {
	entry *entry
	apply func(tx *bolt.Tx) error
	done  chan error
}

// refusal wraps the error of an op that checked before writing and wrote
// nothing.
type refusal struct{ err error }

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

func refuse(err error) error { return &refusal{err} }

// submit hands apply to the committer and waits for its commit.
func (s *Store) submit(ctx context.Context, apply func(tx *bolt.Tx) error) error {
	return s.submitOp(ctx, &op{apply: apply})
}

// submitOp hands o to the committer and waits for its commit. Until the
// committer takes it, ctx may end it (nothing written); once taken, it
// waits for the commit, whose outcome it must report.
func (s *Store) submitOp(ctx context.Context, o *op) error {
	if s.closed.Load() {
		return errClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	o.done = make(chan error, 1)
	select {
	case s.queue <- o:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closing:
		return errClosed
	}
	return <-o.done
}

// commitLoop is the committer: it takes one op, then every op that queued
// while the last commit ran (up to maxBatch), and commits them together:
// the saves and deletes in one write to the log and one fsync, the other
// writes in one bbolt transaction. A lone save commits at once; after a
// group of several, the next waits up to groupLinger for more. Between
// groups it hands the log's generation to an apply that asks for it.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	batch := make([]*op, 0, maxBatch)
	company := false // the last group had more than one op
	linger := time.NewTimer(groupLinger)
	linger.Stop()
	defer linger.Stop()
	for {
		select {
		case o := <-s.queue:
			batch = append(batch[:0], o)
		case reply := <-s.rotateReq:
			reply <- s.rotate(false)
			continue
		case <-s.closing:
			return
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case o := <-s.queue:
				batch = append(batch, o)
			default:
				break drain
			}
		}
		if company && len(batch) < maxBatch {
			// Busy: wait a little for more company before the fsync.
			linger.Reset(groupLinger)
		wait:
			for len(batch) < maxBatch {
				select {
				case o := <-s.queue:
					batch = append(batch, o)
				case <-linger.C:
					break wait
				case <-s.closing:
					break wait
				}
			}
			linger.Stop()
		}
		company = len(batch) > 1
		s.commit(batch)
		clear(batch)
	}
}

// commit commits a group and answers each op: the logged ones first.
func (s *Store) commit(batch []*op) {
	var logged, direct []*op
	for _, o := range batch {
		if o.entry != nil {
			logged = append(logged, o)
		} else {
			direct = append(direct, o)
		}
	}
	if len(logged) > 0 {
		s.commitLog(logged)
	}
	if len(direct) > 0 {
		s.commitDirect(direct)
	}
}

// commitDirect writes batch in one bbolt transaction and answers each op.
func (s *Store) commitDirect(batch []*op) {
	results := make([]error, len(batch))
	out := make([]bool, len(batch)) // dropped after it failed the group
	for {
		culprit := -1
		err := s.update(func(tx *bolt.Tx) error {
			for i, o := range batch {
				if out[i] {
					continue
				}
				results[i] = nil
				if err := o.apply(tx); err != nil {
					var r *refusal
					if errors.As(err, &r) {
						results[i] = r.err
						continue
					}
					culprit = i
					return err
				}
			}
			return nil
		})
		if err == nil {
			s.commits.Add(1)
			break
		}
		if culprit < 0 {
			// The transaction failed as a whole (the commit, the fsync):
			// nothing of it is on disk.
			s.log.Error("boltstore: group commit failed", "saves", len(batch), "err", err)
			for i := range batch {
				if !out[i] {
					results[i] = err
				}
			}
			break
		}
		results[culprit], out[culprit] = err, true
		if !slices.Contains(out, false) {
			break
		}
	}
	for i, o := range batch {
		o.done <- results[i]
	}
}

// update runs fn in a write transaction; a panic in bbolt rolls it back
// and comes back as an error.
func (s *Store) update(fn func(tx *bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("boltstore: panic in a commit", "panic", r)
			err = fmt.Errorf("the file is corrupt (commit failed: %v)", r)
		}
	}()
	return mapErr(s.db.Update(fn))
}
