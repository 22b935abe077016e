package boltstore

import (
	"os"
	"syscall"
)

// fdatasync makes f's written bytes durable, and what is needed to read
// them (its size), without the rest of its metadata, as bbolt does on Linux.
func fdatasync(f *os.File) error {
	c, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := c.Control(func(fd uintptr) {
		for {
			if serr = syscall.Fdatasync(int(fd)); serr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	return serr
}
