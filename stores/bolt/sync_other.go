//go:build !linux

package boltstore

import "os"

// fdatasync makes f's written bytes durable: an fsync where the system has
// no fdatasync.
func fdatasync(f *os.File) error { return f.Sync() }
