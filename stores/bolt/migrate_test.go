package boltstore

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/deskbridge/deskbridge/core/flow"
)

// writeV1 writes a format 1 file: a bucket a session, with its record, its
// last seq and a bucket of its events.
func writeV1(t *testing.T, path string, sessions, events int) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		meta, _ := tx.CreateBucket(bucketMeta)
		if err := meta.Put(keyFormat, formatV1); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bucketFiles); err != nil {
			return err
		}
		root, err := tx.CreateBucket(bucketSessions)
		if err != nil {
			return err
		}
		for i := range sessions {
			id := v1ID(i)
			b, err := root.CreateBucket([]byte(id))
			if err != nil {
				return err
			}
			if err := b.Put(keyRecord, fmt.Appendf(nil, `{"id":%q,"state":"connected","chat":1,"capabilities":{"allowFileUploads":false,"allowMultipleFileUploads":false,"allowedFileUploadTypes":""},"last_seq":0}`, id)); err != nil {
				return err
			}
			evb, err := b.CreateBucket(keyEvents)
			if err != nil {
				return err
			}
			// The oldest were trimmed: the log starts at 3.
			for seq := uint64(3); seq < uint64(3+events); seq++ {
				if err := evb.Put(seqKey(seq), fmt.Appendf(nil, `{"seq":%d,"type":"agent_message","time":1,"chat":1,"text":"%s %d"}`, seq, id, seq)); err != nil {
					return err
				}
			}
			if err := b.Put([]byte("last"), seqKey(uint64(2+events))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// v1ID makes ids of many lengths, some a prefix of others.
func v1ID(i int) string { return "s" + strings.Repeat("x", i%7) + fmt.Sprint(i) }

// A file of the earlier format opens as it was: every record, every event,
// the newest seq, and saves go on after it. The move takes several
// transactions and leaves format 3 behind.
func TestOpenMovesFormat1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	const sessions, events = 600, 5
	writeV1(t, path, sessions, events)
	s := openTest(t, path, Options{})
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	ids, err := s.List(ctx)
	if err != nil || len(ids) != sessions {
		t.Fatalf("List: %d ids, %v", len(ids), err)
	}
	for i := range sessions {
		id := v1ID(i)
		r, err := s.Load(ctx, id)
		if err != nil || r.ID != id || r.State != flow.StateConnected || r.LastSeq != 2+events {
			t.Fatalf("Load %s: %+v, %v", id, r, err)
		}
		evs, err := s.Events(ctx, id, 2, 0)
		if err != nil || len(evs) != events || evs[0].Seq != 3 || evs[0].Text != fmt.Sprintf("%s 3", id) {
			t.Fatalf("Events %s: %+v, %v", id, evs, err)
		}
		if _, err := s.Events(ctx, id, 1, 0); err == nil {
			t.Fatalf("Events %s after 1: the trimmed start is not reported", id)
		}
	}
	if err := s.Save(ctx, v1ID(7), nil, []*flow.Event{{Seq: 3 + events, Type: flow.EventAgentMessage, Text: "after the move"}}); err != nil {
		t.Fatalf("save after the move: %v", err)
	}
	if err := s.Save(ctx, v1ID(8), nil, []*flow.Event{{Seq: 2 + events, Type: flow.EventAgentMessage}}); err == nil {
		t.Fatal("a save that does not follow the moved log was taken")
	}
	err = s.view(func(tx *bolt.Tx) error {
		if f := tx.Bucket(bucketMeta).Get(keyFormat); string(f) != string(formatV3) {
			return fmt.Errorf("format %q after the move", f)
		}
		if tx.Bucket(bucketSessions) != nil {
			return fmt.Errorf("the format 1 bucket is still there")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
