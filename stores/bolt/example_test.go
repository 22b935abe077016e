package boltstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	boltstore "github.com/deskbridge/deskbridge/stores/bolt"
)

func Example() {
	dir, err := os.MkdirTemp("", "boltstore-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "flow.db")
	ctx := context.Background()

	store, err := boltstore.Open(path, boltstore.Options{Tail: 100})
	if err != nil {
		panic(err)
	}
	rec := &flow.Record{ID: "chat-1", State: flow.StateConnected, Chat: 1}
	events := []*flow.Event{
		{Seq: 1, Type: flow.EventState, State: flow.StateConnected},
		{Seq: 2, Type: flow.EventAgentJoined, Text: "Ada joined"},
	}
	if err := store.Save(ctx, "chat-1", rec, events); err != nil {
		panic(err)
	}
	_ = store.Close()

	// A restart: a new Store over the same file holds what the old one saved.
	store, err = boltstore.Open(path, boltstore.Options{Tail: 100})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	got, err := store.Load(ctx, "chat-1")
	if err != nil {
		panic(err)
	}
	evs, _ := store.Events(ctx, "chat-1", 1, 0)
	fmt.Println(got.State, got.LastSeq, evs[0].Text)

	// A second Open of a held file fails, naming what holds it.
	_, err = boltstore.Open(path, boltstore.Options{LockTimeout: 100 * time.Millisecond})
	fmt.Println(err != nil)
	// Output:
	// connected 2 Ada joined
	// true
}
