package gateway

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"testing"
)

// countingConn records each Write it is given.
type countingConn struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
	err    error
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	c.writes = append(c.writes, bytes.Clone(p))
	return len(p), nil
}

func TestCorkConnGathersWritesIntoOne(t *testing.T) {
	under := &countingConn{}
	c := &corkConn{Conn: under}

	if _, err := c.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	if len(under.writes) != 1 {
		t.Fatalf("uncorked write: %d writes below, want 1 (passed through)", len(under.writes))
	}

	c.cork()
	c.cork() // a second cork is the same cork
	for _, s := range []string{"b", "cc", "ddd"} {
		if n, err := c.Write([]byte(s)); err != nil || n != len(s) {
			t.Fatalf("corked write %q: %d, %v", s, n, err)
		}
	}
	if len(under.writes) != 1 {
		t.Fatalf("corked writes reached the connection: %q", under.writes)
	}
	if err := c.uncork(); err != nil {
		t.Fatal(err)
	}
	if len(under.writes) != 2 || string(under.writes[1]) != "bcc"+"ddd" {
		t.Fatalf("after uncork the connection got %q, want one write of bccddd", under.writes)
	}
	if err := c.uncork(); err != nil || len(under.writes) != 2 {
		t.Fatalf("a second uncork wrote again: %q, %v", under.writes, err)
	}

	// Nothing gathered: no empty write.
	c.cork()
	if err := c.uncork(); err != nil || len(under.writes) != 2 {
		t.Fatalf("an empty cork wrote: %q, %v", under.writes, err)
	}

	// The gathered buffer is reused: what the last batch left is gone.
	c.cork()
	c.Write([]byte("e"))
	c.uncork()
	if got := string(under.writes[len(under.writes)-1]); got != "e" {
		t.Fatalf("second batch wrote %q, want e", got)
	}
}

func TestCorkConnUncorkReportsTheWriteError(t *testing.T) {
	broken := errors.New("broken pipe")
	c := &corkConn{Conn: &countingConn{err: broken}}
	c.cork()
	if _, err := c.Write([]byte("lost?")); err != nil {
		t.Fatalf("a corked write fails only at uncork: %v", err)
	}
	if err := c.uncork(); !errors.Is(err, broken) {
		t.Fatalf("uncork: %v, want the connection's error", err)
	}
}
