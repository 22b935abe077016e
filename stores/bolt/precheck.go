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
// checksum of all that.
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

// precheck refuses a file shorter than its own header says. bbolt maps
// the file and would read pages past its end, a memory fault that no
// recover catches unless the faulting goroutine asked for it, and the
// consistency check runs on a goroutine of bbolt's.
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
	size := st.Size()
	if size == 0 {
		return nil // bbolt initialises an empty file
	}
	read := func(off int64) (metaPage, bool) {
		buf := make([]byte, metaOff+metaLen+8)
		if _, err := f.ReadAt(buf, off); err != nil {
			return metaPage{}, false
		}
		m := buf[metaOff:]
		le := binary.NativeEndian // bbolt writes its meta in the machine's byte order
		if le.Uint32(m[0:]) != boltMagic || le.Uint32(m[4:]) != boltVersion {
			return metaPage{}, false
		}
		h := fnv.New64a()
		_, _ = h.Write(m[:metaLen])
		if h.Sum64() != le.Uint64(m[metaLen:]) {
			return metaPage{}, false
		}
		return metaPage{pageSize: le.Uint32(m[8:]), hwm: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}, true
	}
	m0, ok0 := read(0)
	second := int64(defaultPage)
	if ok0 {
		second = int64(m0.pageSize)
	}
	m1, ok1 := read(second)
	var m metaPage
	switch {
	case ok0 && ok1:
		m = m0
		if m1.txid > m0.txid {
			m = m1
		}
	case ok0:
		m = m0
	case ok1:
		m = m1
	default:
		return nil // not bbolt's: Open says so
	}
	if need := int64(m.hwm) * int64(m.pageSize); size < need {
		return fmt.Errorf("the file is truncated: %d bytes, its header says %d", size, need)
	}
	return nil
}
