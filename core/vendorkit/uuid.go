package vendorkit

import (
	"crypto/rand"
	"crypto/sha1"
	"fmt"
	"strings"
)

// NewUUID returns a random UUID (version 4), in lowercase: the ids
// vendors want their clients to choose (conversations, messages, entries).
func NewUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return formatUUID(b, 0x40)
}

// NameUUID returns a UUID for name: name itself, lowercased, when it is a
// UUID, else one derived from it (version 5, SHA-1), the same every time,
// so that an engine's message id resent is the vendor's same id.
func NameUUID(name string) string {
	if IsUUID(name) {
		return strings.ToLower(name)
	}
	sum := sha1.Sum([]byte("deskbridge:" + name))
	return formatUUID(sum[:16], 0x50)
}

func formatUUID(b []byte, version byte) string {
	b[6] = b[6]&0x0f | version
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// IsUUID reports whether s is a UUID in its 36-character form, either
// case.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdefABCDEF", c):
			return false
		}
	}
	return true
}
