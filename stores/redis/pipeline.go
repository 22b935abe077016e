package redisstore

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Saves of many sessions go to Redis together: whatever saves are waiting
// when a pipeline is free go in one pipeline, one write and one read for
// all of them in both processes, instead of a round trip each. A session
// has at most one save in flight (the engine's rule), so its saves keep
// their order. At most maxPipelines pipelines are in flight; their
// goroutines exist only while saves wait.
const (
	maxPipelines = 4
	maxPipelined = 256
	// pipelineTimeout bounds one pipeline once taken, whatever its
	// callers' contexts say: a save that was sent is waited for.
	pipelineTimeout = 3 * ioTimeout
)

type saveReq struct {
	ctx  context.Context
	keys []string
	args []any
	cmd  *redis.Cmd // the answer, set when done is closed
	done chan struct{}
}

type pipeliner struct {
	mu      sync.Mutex
	queue   []*saveReq
	running int
}

// runSave sends the save script for one session and returns its answer.
func (s *Store) runSave(ctx context.Context, keys []string, args []any) *redis.Cmd {
	req := &saveReq{ctx: ctx, keys: keys, args: args, done: make(chan struct{})}
	p := &s.pipe
	p.mu.Lock()
	p.queue = append(p.queue, req)
	start := p.running < maxPipelines
	if start {
		p.running++
	}
	p.mu.Unlock()
	if start {
		go s.pipelines()
	}
	<-req.done
	return req.cmd
}

// pipelines sends batches of waiting saves until none wait.
func (s *Store) pipelines() {
	p := &s.pipe
	for {
		p.mu.Lock()
		n := min(len(p.queue), maxPipelined)
		if n == 0 {
			p.running--
			p.mu.Unlock()
			return
		}
		batch := make([]*saveReq, n)
		copy(batch, p.queue)
		p.queue = append(p.queue[:0], p.queue[n:]...)
		p.mu.Unlock()
		s.sendSaves(batch)
	}
}

func (s *Store) sendSaves(batch []*saveReq) {
	ctx, cancel := context.WithTimeout(context.Background(), pipelineTimeout)
	defer cancel()
	pipe := s.c.Pipeline()
	var sent []*saveReq
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			// Given up on before it was taken: not sent.
			r.cmd = redis.NewCmd(r.ctx)
			r.cmd.SetErr(err)
			close(r.done)
			continue
		}
		r.cmd = saveScript.EvalSha(ctx, pipe, r.keys, r.args...)
		sent = append(sent, r)
	}
	if len(sent) == 0 {
		return
	}
	_, _ = pipe.Exec(ctx) // each command has its own error
	// A Redis that lost its script cache (a restart, SCRIPT FLUSH) answers
	// NOSCRIPT: those saves go again with the script itself.
	var again []*saveReq
	for _, r := range sent {
		if err := r.cmd.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			again = append(again, r)
		}
	}
	if len(again) > 0 {
		pipe = s.c.Pipeline()
		for _, r := range again {
			r.cmd = saveScript.Eval(ctx, pipe, r.keys, r.args...)
		}
		_, _ = pipe.Exec(ctx)
	}
	for _, r := range sent {
		close(r.done)
	}
}
