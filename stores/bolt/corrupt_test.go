package boltstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/deskbridge/deskbridge/core/flow"
)

// realDB writes a store with enough sessions to span many pages and
// returns its path and size.
func realDB(t *testing.T) (string, int64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flow.db")
	s := openTest(t, path, Options{})
	for i := range 200 {
		id := fmt.Sprintf("s%03d", i)
		evs := make([]*flow.Event, 5)
		for j := range evs {
			evs[j] = &flow.Event{Seq: uint64(j + 1), Type: flow.EventAgentMessage, Text: strings.Repeat("x", 200)}
		}
		if err := s.Save(context.Background(), id, &flow.Record{ID: id, DeskState: []byte(`"` + strings.Repeat("d", 500) + `"`)}, evs); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, st.Size()
}

func openCorrupt(t *testing.T, path, want string) {
	t.Helper()
	s, err := Open(path, Options{Logger: quiet})
	if err == nil {
		_ = s.Close()
		t.Fatalf("Open of a bad file succeeded")
	}
	if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, want) {
		t.Fatalf("Open: %q; want the path and %q", msg, want)
	}
	t.Logf("%v", err)
}

func TestOpenRandomBytes(t *testing.T) {
	for _, size := range []int{1, 100, 4096, 3 * 4096, 1 << 16} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "flow.db")
			data := make([]byte, size)
			r := rand.NewChaCha8([32]byte{byte(size)})
			_, _ = r.Read(data)
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			openCorrupt(t, path, "not a bbolt database")
		})
	}
}

func TestOpenTruncated(t *testing.T) {
	path, _ := realDB(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := newestMeta(f)
	_ = f.Close()
	if !ok {
		t.Fatal("no valid meta page in a fresh db")
	}
	used := int64(m.hwm) * int64(m.pageSize)
	for _, n := range []int64{used / 2, 2*4096 + 100, used - 4096, used - 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "flow.db")
			if err := os.WriteFile(p, data[:n], 0o600); err != nil {
				t.Fatal(err)
			}
			openCorrupt(t, p, "truncated")
		})
	}
	// Cut to the pages in use, nothing is lost: that is not corrupt.
	p := filepath.Join(t.TempDir(), "flow.db")
	if err := os.WriteFile(p, data[:used], 0o600); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, p, Options{})
	defer s.Close()
	if ids, err := s.List(context.Background()); err != nil || len(ids) != 200 {
		t.Fatalf("after a cut to the used pages: %d sessions, %v", len(ids), err)
	}
}

func TestOpenZeroedHeader(t *testing.T) {
	path, _ := realDB(t)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, 2*4096), 0); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	openCorrupt(t, path, "not a bbolt database")
}

// Garbage over the data pages (the header intact) either fails Open with
// an error naming the file, or leaves a store whose calls fail or succeed;
// it never panics or crashes the process.
func TestOpenGarbledPages(t *testing.T) {
	path, size := realDB(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pages := int(size / 4096)
	for seed := range 40 {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(seed), 1))
			bad := append([]byte(nil), data...)
			for range 1 + r.IntN(3) {
				pg := 2 + r.IntN(pages-2)
				off := pg * 4096 // the page header: its kind, count, overflow
				if seed%2 == 1 {
					off += r.IntN(4096 - 64) // somewhere in the page
				}
				for i := range 64 {
					bad[off+i] = byte(r.Uint32())
				}
			}
			p := filepath.Join(t.TempDir(), "flow.db")
			if err := os.WriteFile(p, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(p, Options{Logger: quiet})
			if err != nil {
				if !strings.Contains(err.Error(), p) {
					t.Fatalf("Open error %q does not name the file", err)
				}
				t.Logf("%v", err)
				return
			}
			t.Log("opened")
			defer s.Close()
			ctx := context.Background()
			ids, _ := s.List(ctx)
			for _, id := range ids {
				_, _ = s.Load(ctx, id)
				_, _ = s.Events(ctx, id, 0, 0)
			}
			_ = s.Save(ctx, "new", &flow.Record{ID: "new"}, nil)
		})
	}
}

func TestOpenEmptyFile(t *testing.T) {
	// bbolt takes an empty file for a new database (a crash while creating
	// one leaves it empty), and so does the store.
	path := filepath.Join(t.TempDir(), "flow.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, path, Options{})
	defer s.Close()
	if ids, err := s.List(context.Background()); err != nil || len(ids) != 0 {
		t.Fatalf("List of an empty file: %v, %v", ids, err)
	}
}

func TestOpenOtherBoltDB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("widgets"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	openCorrupt(t, path, "some other program")
}

func TestOpenDirectory(t *testing.T) {
	path := t.TempDir()
	_, err := Open(path, Options{Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a directory: %v", err)
	}
}
