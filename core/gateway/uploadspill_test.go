package gateway

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// diskFiles is a flow.FileStore that keeps files on disk, as a durable
// store does, so that the heap holds only what the gateway holds.
type diskFiles struct {
	dir string

	mu    sync.Mutex
	infos map[string]flow.FileInfo
}

func newDiskFiles(t *testing.T) *diskFiles {
	return &diskFiles{dir: t.TempDir(), infos: make(map[string]flow.FileInfo)}
}

func (d *diskFiles) path(sid, fid string) string {
	return filepath.Join(d.dir, fmt.Sprintf("%x-%x", sid, fid))
}

func (d *diskFiles) PutFile(_ context.Context, sid string, info flow.FileInfo, data []byte) error {
	return d.PutFileFrom(context.Background(), sid, info, bytes.NewReader(data))
}

// PutFileFrom implements flow.FileStreamer.
func (d *diskFiles) PutFileFrom(_ context.Context, sid string, info flow.FileInfo, r io.Reader) error {
	f, err := os.Create(d.path(sid, info.ID))
	if err != nil {
		return err
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	info.Size = n
	d.mu.Lock()
	d.infos[sid+"\x00"+info.ID] = info
	d.mu.Unlock()
	return nil
}

func (d *diskFiles) OpenFile(_ context.Context, sid, fid string) (flow.FileInfo, io.ReadCloser, error) {
	d.mu.Lock()
	info, ok := d.infos[sid+"\x00"+fid]
	d.mu.Unlock()
	if !ok {
		return flow.FileInfo{}, nil, flow.ErrNotFound
	}
	f, err := os.Open(d.path(sid, fid))
	return info, f, err
}

func (d *diskFiles) DeleteFiles(_ context.Context, sid string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k := range d.infos {
		if strings.HasPrefix(k, sid+"\x00") {
			_ = os.Remove(d.path(sid, strings.TrimPrefix(k, sid+"\x00")))
			delete(d.infos, k)
		}
	}
	return nil
}

// bigCaps lets a memdesk chat take files of up to 16 MiB.
func bigCaps(o *Options) {
	f := o.Factory
	o.Factory = func(ctx context.Context, p servicedesk.FactoryParams) (servicedesk.ServiceDesk, error) {
		d, err := f(ctx, p)
		caps := servicedesk.Capabilities{AllowFileUploads: true, AllowedFileUploadTypes: "image/*", MaxFileSizeBytes: 16 << 20, MaxFiles: 5}
		p.Callback.UpdateCapabilities(caps.FullUpdate())
		return d, err
	}
}

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestConcurrentUploadsSpillToDisk: 16 uploads of 10 MiB at once (the
// bound on uploads in flight), each stopped with 9 MiB sent, do not sit in
// the server's memory: their bodies go to temporary files as they come.
// Before, each was read whole into memory (about 160 MiB at once).
func TestConcurrentUploadsSpillToDisk(t *testing.T) {
	const n, size, part = 16, 10 << 20, 9 << 20
	files := newDiskFiles(t)
	tmp := t.TempDir()
	e := newEnv(t, func(o *Options) {
		bigCaps(o)
		o.Files = files
		o.UploadDir = tmp
	})
	tokens := make([]string, n)
	for i := range tokens {
		c := e.connect("", modeFlow, 0)
		e.startAndJoin(c)
		tokens[i] = c.welcome.Token
	}
	before := liveHeap()

	const boundary = "XyZ"
	tail := "\r\n--" + boundary + "--\r\n"
	chunk := make([]byte, 64<<10)
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range conns {
		conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
		mustf(t, err, "dial")
		t.Cleanup(func() { conn.Close() })
		conns[i] = conn
		head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file_id\"\r\n\r\nbig\r\n--" + boundary +
			"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.png\"\r\nContent-Type: image/png\r\n\r\n"
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
			_, err := fmt.Fprintf(conn, "POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=%s\r\nContent-Length: %d\r\n\r\n%s%s",
				tokens[i], boundary, len(head)+size+len(tail), head, pngBytes)
			for sent := len(pngBytes); err == nil && sent < part; sent += len(chunk) {
				_, err = conn.Write(chunk[:min(len(chunk), part-sent)])
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		mustf(t, err, "send 9 MiB")
	}
	// Give the server a moment to read what the sockets hold.
	deadline := time.Now().Add(10 * time.Second)
	for spilled(t, tmp) < n*(part-1<<20) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	during := liveHeap()
	grown := int64(during) - int64(before)
	t.Logf("live heap: %d MiB before, %d MiB with %d uploads of 9 MiB under way (%+d MiB)", before>>20, during>>20, n, grown>>20)
	if grown > 32<<20 {
		t.Errorf("the live heap grew by %d MiB with %d uploads of 9 MiB under way; want under 32 MiB", grown>>20, n)
	}

	for i, conn := range conns {
		rest := size - part
		for rest > 0 {
			k := min(rest, len(chunk))
			_, err := conn.Write(chunk[:k])
			mustf(t, err, "send the rest of upload %d", i)
			rest -= k
		}
		_, err := io.WriteString(conn, tail)
		mustf(t, err, "end upload %d", i)
	}
	for i, conn := range conns {
		_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		mustf(t, err, "answer to upload %d", i)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload %d: %d %s", i, resp.StatusCode, b)
		}
	}
	for i, tok := range tokens {
		sid, _, _ := e.gw.tokens.verify(tok)
		info, rc, err := files.OpenFile(context.Background(), sid, "big")
		mustf(t, err, "open upload %d", i)
		got, _ := io.Copy(io.Discard, rc)
		rc.Close()
		if info.Size != size || got != size {
			t.Fatalf("upload %d stored with size %d, %d bytes; want %d", i, info.Size, got, size)
		}
	}
	if left := spilled(t, tmp); left != 0 {
		t.Fatalf("%d bytes of temporary files left after the uploads", left)
	}
}

// spilled is the bytes of the files in dir.
func spilled(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	total := 0
	for _, e := range ents {
		if fi, err := e.Info(); err == nil {
			total += int(fi.Size())
		}
	}
	return total
}

// bytesOnly hides diskFiles' PutFileFrom (a store such as Redis takes
// bytes only) and counts the PutFile calls under way at once.
type bytesOnly struct {
	flow.FileStore
	mu        sync.Mutex
	now, most int
}

func (b *bytesOnly) PutFile(ctx context.Context, sid string, info flow.FileInfo, data []byte) error {
	b.mu.Lock()
	b.now++
	b.most = max(b.most, b.now)
	b.mu.Unlock()
	time.Sleep(50 * time.Millisecond)
	defer func() { b.mu.Lock(); b.now--; b.mu.Unlock() }()
	return b.FileStore.PutFile(ctx, sid, info, data)
}

// TestUploadsLoadedForAByteStoreBounded: for a store that takes a file's
// bytes whole, at most maxLoading uploads at once are read into memory.
func TestUploadsLoadedForAByteStoreBounded(t *testing.T) {
	files := &bytesOnly{FileStore: newDiskFiles(t)}
	e := newEnv(t, func(o *Options) { o.Files = files; o.UploadDir = t.TempDir() })
	const n = 6
	tokens := make([]string, n)
	for i := range tokens {
		c := e.connect("", modeFlow, 0)
		e.startAndJoin(c)
		tokens[i] = c.welcome.Token
	}
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = e.upload(tok, "f", "a.png", "image/png", append(slices.Clone(pngBytes), make([]byte, 64<<10)...))
		}()
	}
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusCreated {
			t.Fatalf("upload %d: %d", i, code)
		}
	}
	if files.most < 1 || files.most > maxLoading {
		t.Fatalf("%d files were loaded into memory at once, want 1 to %d", files.most, maxLoading)
	}
}

// TestUTF8Stream: text checked in pieces is UTF-8 exactly when it is whole,
// wherever the pieces split a rune.
func TestUTF8Stream(t *testing.T) {
	for _, text := range []string{"plain", "ünïcødé ✓ 𝄞 end", "split 𝄞", "\xff", "bad \xe2\x82 x", "ends short \xe2\x82", "\xed\xa0\x80 surrogate"} {
		for piece := 1; piece <= 5; piece++ {
			var u utf8Stream
			for b := []byte(text); len(b) > 0; {
				k := min(piece, len(b))
				u.write(b[:k])
				b = b[k:]
			}
			if got, want := u.valid(), utf8.ValidString(text); got != want {
				t.Errorf("%q in pieces of %d: valid %v, want %v", text, piece, got, want)
			}
		}
	}
}
