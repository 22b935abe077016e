package boltstore

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// maxBatch bounds one group commit, so that one fsync never waits on an
// unbounded transaction.
const maxBatch = 512

// op is one write handed to the committer. apply runs inside the group's
// transaction; it returns a refusal when it wrote nothing (the others go
// on), any other error when it may have written (the group is rolled back
// and retried without it).
type op struct {
	apply func(tx *bolt.Tx) error
	done  chan error
}

// refusal wraps the error of an op that checked before writing and wrote
// nothing.
type refusal struct{ err error }

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

func refuse(err error) error { return &refusal{err} }

// submit hands apply to the committer and waits for its commit. Until the
// committer takes it, ctx may end it (nothing written); once taken, it
// waits for the commit, whose outcome it must report.
func (s *Store) submit(ctx context.Context, apply func(tx *bolt.Tx) error) error {
	if s.closed.Load() {
		return errClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	o := &op{apply: apply, done: make(chan error, 1)}
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
// while the last commit ran (up to maxBatch), and commits them in one
// transaction, one fsync. There is no delay waiting for company: a lone save
// commits at once, and a busy store batches by itself.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	batch := make([]*op, 0, maxBatch)
	for {
		select {
		case o := <-s.queue:
			batch = append(batch[:0], o)
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
		s.commit(batch)
		clear(batch)
	}
}

// commit writes batch in one transaction and answers each op.
func (s *Store) commit(batch []*op) {
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
