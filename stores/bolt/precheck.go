package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
)

// bbolt's meta page, as bbolt v1.x lays it out: a 16-byte page header, then
// magic, version, page size, flags (4 bytes each), the root bucket (16),
// the freelist page, the high water mark, the txid (8 each) and an FNV-64a
// checksum of all that, in the machine's byte order.
const (
	boltMagic   = 0xED0CDAED
	boltVersion = 2
	metaOff     = 16
	metaLen     = 56 // up to the checksum
	defaultPage = 4096
)

type metaPage struct {
	pageSize uint32
	hwm      uint64 // pages in use: the file holds at least hwm*pageSize bytes
	txid     uint64
}

// precheck refuses a file without a valid bbolt header, and one shorter
// than its header says. bbolt maps the file and would read pages past its
// end: a memory fault that no recover catches unless the faulting
// goroutine asked for it, and bbolt's consistency check runs on a
// goroutine of its own.
func precheck(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() == 0 {
		return nil // bbolt initialises an empty file
	}
	m, ok := newestMeta(f)
	if !ok {
		// bbolt would fail too, less clearly ("file size too small").
		return errors.New("not a bbolt database, or its header is corrupt: no valid meta page")
	}
	if need := int64(m.hwm) * int64(m.pageSize); st.Size() < need {
		return fmt.Errorf("the file is truncated: %d bytes, its header says %d", st.Size(), need)
	}
	return nil
}

// newestMeta returns the valid meta page with the highest txid, as bbolt
// picks it.
func newestMeta(f *os.File) (metaPage, bool) {
	m0, ok0 := readMeta(f, 0)
	second := int64(defaultPage)
	if ok0 {
		second = int64(m0.pageSize)
	}
	m1, ok1 := readMeta(f, second)
	switch {
	case ok0 && ok1 && m1.txid > m0.txid, !ok0 && ok1:
		return m1, true
	case ok0:
		return m0, true
	}
	return metaPage{}, false
}

func readMeta(f *os.File, off int64) (metaPage, bool) {
	buf := make([]byte, metaOff+metaLen+8)
	if _, err := f.ReadAt(buf, off); err != nil {
		return metaPage{}, false
	}
	m := buf[metaOff:]
	ne := binary.NativeEndian
	if ne.Uint32(m[0:]) != boltMagic || ne.Uint32(m[4:]) != boltVersion {
		return metaPage{}, false
	}
	h := fnv.New64a()
	_, _ = h.Write(m[:metaLen])
	if h.Sum64() != ne.Uint64(m[metaLen:]) {
		return metaPage{}, false
	}
	return metaPage{pageSize: ne.Uint32(m[8:]), hwm: ne.Uint64(m[40:]), txid: ne.Uint64(m[48:])}, true
}
