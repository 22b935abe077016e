package redisstore_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/deskbridge/deskbridge/core/flow"
	redisstore "github.com/deskbridge/deskbridge/stores/redis"
)

// A store on a local Redis, handed to the engine as its flow.Store. (It
// needs a running Redis, so it has no Output to check.)
func Example() {
	ctx := context.Background()
	st, err := redisstore.Open(ctx, "redis://127.0.0.1:6379/0", redisstore.Options{
		Prefix: "deskbridge",
		TTL:    72 * time.Hour,
	})
	if err != nil {
		log.Fatal(err) // matches flow.ErrStoreUnavailable when Redis is down
	}
	defer st.Close()

	var store flow.Store = st // and flow.FileStore, flow.Pinger
	ev := &flow.Event{Seq: 1, Type: flow.EventState, State: flow.StateWaiting}
	if err := store.Save(ctx, "s1", &flow.Record{ID: "s1", State: flow.StateWaiting}, []*flow.Event{ev}); err != nil {
		log.Fatal(err)
	}
	rec, err := store.Load(ctx, "s1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.State, rec.LastSeq)
}
