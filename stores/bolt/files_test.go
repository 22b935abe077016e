package boltstore

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/deskbridge/deskbridge/core/flow"
)

// filesUnder lists the regular files below dir, relative to it.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Ids with '/', "..", NUL or 256 bytes name no path: every byte written
// stays in FilesDir, and each file comes back under its ids.
func TestFileNamesAreSafe(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "db", "flow.db")
	if err := os.Mkdir(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, path, Options{})
	defer s.Close()
	ctx := context.Background()
	ids := []string{"../../escape", "/abs/path", "a:b", "..", ".", "nul\x00byte", strings.Repeat("long", 64), "ünï ✓"}
	for _, sid := range ids {
		for _, fid := range ids {
			if err := s.PutFile(ctx, sid, flow.FileInfo{ID: fid, Name: fid}, []byte(sid+"|"+fid)); err != nil {
				t.Fatalf("PutFile(%q, %q): %v", sid, fid, err)
			}
		}
	}
	for _, sid := range ids {
		for _, fid := range ids {
			info, rc, err := s.OpenFile(ctx, sid, fid)
			if err != nil {
				t.Fatalf("OpenFile(%q, %q): %v", sid, fid, err)
			}
			b, _ := io.ReadAll(rc)
			_ = rc.Close()
			if string(b) != sid+"|"+fid || info.ID != fid {
				t.Fatalf("file (%q, %q) came back as %q, %+v", sid, fid, b, info)
			}
		}
	}
	all := filesUnder(t, root)
	if len(all) != 2+len(ids)*len(ids) {
		t.Fatalf("%d files under the root, want the db, its log and %d: %q", len(all), len(ids)*len(ids), all)
	}
	for _, f := range all {
		if f != filepath.Join("db", "flow.db") && f != filepath.Join("db", "flow.db.log.1") && !strings.HasPrefix(f, filepath.Join("db", "flow.db.files")+"/") {
			t.Fatalf("a file outside FilesDir: %s", f)
		}
	}
}

// What an interrupted write or delete leaves is swept at Open, and the
// bound counts the files kept, from Open on.
func TestFilesAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.db")
	opts := Options{MaxFileBytes: 100}
	s := openTest(t, path, opts)
	ctx := context.Background()
	if err := s.PutFile(ctx, "s", flow.FileInfo{ID: "f", Name: "a"}, make([]byte, 60)); err != nil {
		t.Fatal(err)
	}
	// Replacing writes beside, then removes the old bytes.
	if err := s.PutFile(ctx, "s", flow.FileInfo{ID: "f", Name: "b"}, make([]byte, 60)); err != nil {
		t.Fatalf("replacing within the bound: %v", err)
	}
	if got := filesUnder(t, s.filesDir); len(got) != 1 {
		t.Fatalf("after a replace: %q, want one file", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(path+".files", filepath.Base(sessionDirOf("s")))
	orphanDir := filepath.Join(path+".files", filepath.Base(sessionDirOf("gone")))
	for _, p := range []string{filepath.Join(dir, "123.tmp"), filepath.Join(dir, "deadbeef-ORPHAN"), filepath.Join(orphanDir, "x")} {
		_ = os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte("left over"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	notOurs := filepath.Join(path+".files", "README")
	if err := os.WriteFile(notOurs, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, path, opts)
	defer s.Close()
	got := filesUnder(t, s.filesDir)
	if len(got) != 2 || !slices.Contains(got, "README") {
		t.Fatalf("after the sweep: %q, want the stored file and README", got)
	}
	if _, err := os.Stat(orphanDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an orphan session directory survived the sweep: %v", err)
	}
	if err := s.PutFile(ctx, "t", flow.FileInfo{ID: "g"}, make([]byte, 50)); !errors.Is(err, flow.ErrStoreFull) {
		t.Fatalf("60 of 100 bytes used after reopen, 50 more: %v, want ErrStoreFull", err)
	}
	if got := filesUnder(t, s.filesDir); len(got) != 2 {
		t.Fatalf("the refused file left %q", got)
	}
	if err := s.PutFile(ctx, "t", flow.FileInfo{ID: "g"}, make([]byte, 40)); err != nil {
		t.Fatalf("40 more: %v", err)
	}
}

func sessionDirOf(id string) string { return (&Store{filesDir: "/"}).sessionDir(id) }

// A PutFile whose ctx ended before its metadata was taken leaves nothing.
func TestPutFileContext(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "flow.db"), Options{MaxFileBytes: 10})
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.PutFile(ctx, "s", flow.FileInfo{ID: "f"}, []byte("0123456789")); !errors.Is(err, context.Canceled) {
		t.Fatalf("PutFile with a done ctx: %v", err)
	}
	if got := filesUnder(t, s.filesDir); len(got) != 0 {
		t.Fatalf("left %q", got)
	}
	// Its bytes were given back to the bound.
	if err := s.PutFile(context.Background(), "s", flow.FileInfo{ID: "f"}, []byte("0123456789")); err != nil {
		t.Fatal(err)
	}
}

func TestDiskFullIsStoreFull(t *testing.T) {
	for _, err := range []error{
		&fs.PathError{Op: "write", Path: "/x", Err: syscall.ENOSPC},
		&os.SyscallError{Syscall: "fdatasync", Err: syscall.ENOSPC},
		syscall.EDQUOT,
	} {
		if got := mapErr(err); !errors.Is(got, flow.ErrStoreFull) || !errors.Is(got, err) {
			t.Errorf("mapErr(%v) = %v, want it to match ErrStoreFull and keep the cause", err, got)
		}
	}
}
