package gateway

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
)

// corkConn is a socket's connection with a cork: while corked, what the
// WebSocket writes is gathered, and uncork sends it in one write. A batch
// of events is then one system call (and, on the wire, as few packets as
// its size needs) instead of one per frame.
type corkConn struct {
	net.Conn
	mu     sync.Mutex
	corked bool
	buf    *[]byte // from corkBuffers while corked
}

var corkBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// maxPooledCork is the largest gathered buffer kept for the next batch.
const maxPooledCork = 64 << 10

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.corked {
		*c.buf = append(*c.buf, p...)
		c.mu.Unlock()
		return len(p), nil
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// cork gathers the writes that follow until uncork.
func (c *corkConn) cork() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		c.corked = true
		c.buf = corkBuffers.Get().(*[]byte)
	}
}

// uncork writes what was gathered, in one write, with the deadline the
// WebSocket set for its last frame.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		return nil
	}
	c.corked = false
	b := c.buf
	c.buf = nil
	var err error
	if len(*b) > 0 {
		_, err = c.Conn.Write(*b)
	}
	if cap(*b) <= maxPooledCork {
		*b = (*b)[:0]
		corkBuffers.Put(b)
	}
	return err
}

// corkingWriter hands the WebSocket upgrade a corkConn in place of the
// hijacked connection.
type corkingWriter struct {
	http.ResponseWriter
	conn *corkConn
}

func (w *corkingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("gateway: the response cannot be hijacked")
	}
	c, brw, err := h.Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn = &corkConn{Conn: c}
	return w.conn, brw, nil
}
