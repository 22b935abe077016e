package gateway

import (
	"sync/atomic"
	"time"
)

// storeCheckEvery is how often the gateway asks the engine whether its
// sessions can save.
const storeCheckEvery = 250 * time.Millisecond

// storeWatch remembers whether the engine's Store takes saves.
type storeWatch struct {
	down atomic.Bool
	done chan struct{} // closed when watchStore returns
}

// watchStore tells every socket when the Store stops taking saves, and
// when it takes them again. Meanwhile the engine keeps what the sessions
// did and saves it once it can, but nothing is published or answered: a
// browser shows the connection as lost (Carbon's DISCONNECTED status),
// not an ended chat, and takes back what it showed when the store is
// back. Sockets that say hello meanwhile learn it in their welcome.
func (g *Gateway) watchStore() {
	defer close(g.store.done)
	t := time.NewTicker(storeCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-g.janitor:
			return
		case <-t.C:
		}
		down := g.engine.StoreError() != nil
		if g.store.down.Swap(down) == down {
			continue
		}
		if down {
			g.log.Warn("gateway: the store takes no saves; sockets are told the connection is lost until it does", "err", g.engine.StoreError())
		} else {
			g.log.Info("gateway: the store takes saves again; sockets are told")
		}
		g.broadcast(statusFrame{Type: typeStatus, Store: storeStatus(down)})
	}
}

// broadcast writes frame to every socket past its hello, each from its
// own goroutine: a slow socket delays nobody else.
func (g *Gateway) broadcast(frame any) {
	g.mu.Lock()
	conns := make([]*conn, 0, len(g.conns))
	for c := range g.conns {
		if c.helloed.Load() {
			conns = append(conns, c)
		}
	}
	g.mu.Unlock()
	for _, c := range conns {
		go c.write(frame)
	}
}

func storeStatus(down bool) string {
	if down {
		return storeUnavailable
	}
	return storeOK
}
