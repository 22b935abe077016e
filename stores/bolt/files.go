package boltstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/deskbridge/deskbridge/core/flow"
)

// fileMeta is what bolt keeps of a file: its FileInfo and the name of its
// bytes in the session's directory.
type fileMeta struct {
	Info flow.FileInfo `json:"info"`
	File string        `json:"file"`
}

// sessionDir is the directory of a session's files: a hash of the id, so
// that no id ('/', "..", a name too long) can reach outside FilesDir.
func (s *Store) sessionDir(sessionID string) string {
	h := sha256.Sum256([]byte(sessionID))
	return filepath.Join(s.filesDir, hex.EncodeToString(h[:]))
}

// newFileName names the bytes of one upload: a hash of the file id, for
// whoever reads the directory, and a random part, so that a replaced file
// is written beside the old one and the old one only goes once the new
// metadata is committed.
func newFileName(fileID string) string {
	h := sha256.Sum256([]byte(fileID))
	return hex.EncodeToString(h[:8]) + "-" + rand.Text()[:16]
}

// PutFile implements flow.FileStore. The bytes are written to a temporary
// file, fsynced and renamed before the metadata is committed.
func (s *Store) PutFile(ctx context.Context, sessionID string, info flow.FileInfo, data []byte) error {
	info.Size = int64(len(data))
	return s.PutFileFrom(ctx, sessionID, info, bytes.NewReader(data))
}

// PutFileFrom implements flow.FileStreamer: the info.Size bytes of r go
// to the temporary file as they are read.
func (s *Store) PutFileFrom(ctx context.Context, sessionID string, info flow.FileInfo, r io.Reader) error {
	if err := s.putFile(ctx, sessionID, info, r); err != nil {
		return fmt.Errorf("boltstore: put file %s of session %s (%d bytes): %w", info.ID, sessionID, info.Size, err)
	}
	return nil
}

func (s *Store) putFile(ctx context.Context, sessionID string, info flow.FileInfo, r io.Reader) error {
	if err := checkID(sessionID); err != nil {
		return err
	}
	if err := checkID(info.ID); err != nil {
		return fmt.Errorf("file id: %w", err)
	}
	old, err := s.fileMeta(sessionID, info.ID)
	if err != nil && !errors.Is(err, flow.ErrNotFound) {
		return err
	}
	if info.Size < 0 {
		return fmt.Errorf("%w: negative size", flow.ErrInvalid)
	}
	delta := info.Size - old.Info.Size
	s.fileMu.Lock()
	if s.fileBytes+delta > s.maxFiles {
		used := s.fileBytes
		s.fileMu.Unlock()
		return fmt.Errorf("%d of %d bytes used: %w", used, s.maxFiles, flow.ErrStoreFull)
	}
	s.fileBytes += delta
	s.fileMu.Unlock()
	release := func() {
		s.fileMu.Lock()
		s.fileBytes -= delta
		s.fileMu.Unlock()
	}

	dir := s.sessionDir(sessionID)
	name := newFileName(info.ID)
	if err := s.writeFile(dir, name, r, info.Size); err != nil {
		release()
		return mapErr(err)
	}
	meta, err := json.Marshal(fileMeta{Info: info, File: name})
	if err == nil {
		sk, fk := []byte(sessionID), []byte(info.ID)
		err = s.submit(ctx, func(tx *bolt.Tx) error {
			fb, err := tx.Bucket(bucketFiles).CreateBucketIfNotExists(sk)
			if err != nil {
				return err
			}
			return fb.Put(fk, meta)
		})
	}
	if err != nil {
		_ = os.Remove(filepath.Join(dir, name))
		release()
		return err
	}
	if old.File != "" {
		if err := os.Remove(filepath.Join(dir, old.File)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("boltstore: remove a replaced file", "session", sessionID, "file", info.ID, "err", err)
		}
	}
	return nil
}

// writeFile writes the size bytes of r durably as dir/name: temp file,
// fsync, rename, fsync of the directory. It leaves nothing behind when it
// fails, or when r holds more or fewer bytes.
func (s *Store) writeFile(dir, name string, r io.Reader, size int64) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		if err := syncDir(s.filesDir); err != nil {
			return err
		}
	}
	f, err := os.CreateTemp(dir, "*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	n, err := io.Copy(f, io.LimitReader(r, size+1))
	if err == nil && n != size {
		err = fmt.Errorf("%w: the file has %d bytes, not %d", flow.ErrInvalid, n, size)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		_ = os.Remove(tmp)
		_ = os.Remove(filepath.Join(dir, name))
		return err
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func (s *Store) fileMeta(sessionID, fileID string) (fileMeta, error) {
	var m fileMeta
	err := s.view(func(tx *bolt.Tx) error {
		fb := tx.Bucket(bucketFiles).Bucket([]byte(sessionID))
		if fb == nil {
			return flow.ErrNotFound
		}
		v := fb.Get([]byte(fileID))
		if v == nil {
			return flow.ErrNotFound
		}
		return json.Unmarshal(v, &m)
	})
	return m, err
}

// OpenFile implements flow.FileStore.
func (s *Store) OpenFile(_ context.Context, sessionID, fileID string) (flow.FileInfo, io.ReadCloser, error) {
	m, err := s.fileMeta(sessionID, fileID)
	var f *os.File
	if err == nil {
		f, err = os.Open(filepath.Join(s.sessionDir(sessionID), m.File))
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("its bytes are missing from %s: %w", s.filesDir, flow.ErrNotFound)
		}
	}
	if err != nil {
		return flow.FileInfo{}, nil, fmt.Errorf("boltstore: open file %s of session %s: %w", fileID, sessionID, err)
	}
	return m.Info, f, nil
}

// DeleteFiles implements flow.FileStore.
func (s *Store) DeleteFiles(ctx context.Context, sessionID string) error {
	if err := s.deleteFiles(ctx, sessionID); err != nil {
		return fmt.Errorf("boltstore: delete files of session %s: %w", sessionID, err)
	}
	return nil
}

// sweepFiles counts the stored files' bytes and removes what a crash left
// in FilesDir: temporary files, and files whose metadata was never
// committed or already deleted.
func (s *Store) sweepFiles() error {
	if err := os.MkdirAll(s.filesDir, 0o700); err != nil {
		return err
	}
	known := make(map[string]bool) // dir/name
	var total int64
	err := s.view(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketFiles)
		return root.ForEachBucket(func(sid []byte) error {
			dir := filepath.Base(s.sessionDir(string(sid)))
			return root.Bucket(sid).ForEach(func(_, v []byte) error {
				var m fileMeta
				if err := json.Unmarshal(v, &m); err != nil {
					return fmt.Errorf("decode file metadata of session %s: %w", sid, err)
				}
				known[dir+"/"+m.File] = true
				total += m.Info.Size
				return nil
			})
		})
	})
	if err != nil {
		return err
	}
	s.fileBytes = total
	dirs, err := os.ReadDir(s.filesDir)
	if err != nil {
		return err
	}
	swept := 0
	for _, d := range dirs {
		if !d.IsDir() || !isHexName(d.Name()) {
			continue // not ours
		}
		files, err := os.ReadDir(filepath.Join(s.filesDir, d.Name()))
		if err != nil {
			return err
		}
		left := 0
		for _, f := range files {
			if known[d.Name()+"/"+f.Name()] {
				left++
				continue
			}
			if err := os.RemoveAll(filepath.Join(s.filesDir, d.Name(), f.Name())); err != nil {
				return err
			}
			swept++
		}
		if left == 0 {
			_ = os.Remove(filepath.Join(s.filesDir, d.Name()))
		}
	}
	if swept > 0 {
		s.log.Info("boltstore: removed files left by an interrupted write or delete", "files", swept, "dir", s.filesDir)
	}
	return nil
}

func isHexName(name string) bool {
	return len(name) == 2*sha256.Size && strings.Trim(name, "0123456789abcdef") == ""
}
