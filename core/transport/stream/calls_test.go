package stream

import (
	"context"
	"errors"
	"testing"
	"time"
)

// An answer reaches its call, even one that comes before Wait; an answer
// nobody waits for is reported; Abort fails the waiting calls; a call
// without an answer times out with ErrNoAnswer.
func TestCalls(t *testing.T) {
	ctx := context.Background()
	var c Calls[string]
	a := c.Begin("a")
	if !c.Answer("a", "yes") {
		t.Fatal("answer to a waiting call not taken")
	}
	if v, err := a.Wait(ctx, time.Second); err != nil || v != "yes" {
		t.Fatalf("wait: %q, %v", v, err)
	}
	a.Done()
	if c.Answer("a", "again") {
		t.Fatal("a second answer was taken")
	}
	b := c.Begin("b")
	lost := errors.New("connection lost")
	go c.Abort(lost)
	if _, err := b.Wait(ctx, time.Second); !errors.Is(err, lost) {
		t.Fatalf("aborted wait: %v", err)
	}
	d := c.Begin("d")
	if _, err := d.Wait(ctx, 10*time.Millisecond); !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("unanswered wait: %v", err)
	}
	d.Done()
	if c.Answer("d", "late") {
		t.Fatal("a late answer after Done was taken")
	}
}

// A gate lets waiters through while open, holds them after Reset until
// the next Open, and fails them once shut, until Renew.
func TestGate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var g Gate
	short := func() error {
		c, stop := context.WithTimeout(ctx, 20*time.Millisecond)
		defer stop()
		return g.Wait(c)
	}
	if err := short(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("closed gate: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- g.Wait(ctx) }()
	time.Sleep(10 * time.Millisecond)
	g.Open()
	if err := <-done; err != nil {
		t.Fatalf("opened gate: %v", err)
	}
	g.Reset()
	if err := short(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("reset gate: %v", err)
	}
	over := errors.New("over")
	go func() { done <- g.Wait(ctx) }()
	time.Sleep(10 * time.Millisecond)
	g.Shut(over)
	if err := <-done; !errors.Is(err, over) {
		t.Fatalf("shut gate: %v", err)
	}
	g.Open()
	if err := g.Wait(ctx); !errors.Is(err, over) {
		t.Fatalf("shut gate opened: %v", err)
	}
	g.Renew()
	g.Open()
	if err := g.Wait(ctx); err != nil {
		t.Fatalf("renewed gate: %v", err)
	}
}
