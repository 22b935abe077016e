package facekit

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync"

	"github.com/deskbridge/deskbridge/core/servicedesk"
)

// Directory is what a directory outside a vendor's desk knows of its
// agents: their whole profiles, by the key the vendor shows customers
// (Connect a participant id, Genesys a nickname).
type Directory struct {
	// Key is the profile's key.
	Key func(servicedesk.AgentProfile) string
	mu  sync.Mutex
	m   map[string]servicedesk.AgentProfile
}

// Remember files p under its key; a nil p is ignored.
func (a *Directory) Remember(p *servicedesk.AgentProfile) {
	if p == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]servicedesk.AgentProfile{}
	}
	a.m[a.Key(*p)] = *p
}

// Lookup returns the profile filed under key.
func (a *Directory) Lookup(key string) (servicedesk.AgentProfile, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.m[key]
	return p, ok
}

// NewID returns prefix and nbytes random bytes in hex.
func NewID(prefix string, nbytes int) string {
	b := make([]byte, nbytes)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func itoa(n int) string { return strconv.Itoa(n) }
