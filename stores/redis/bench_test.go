package redisstore_test

import (
	"testing"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/flow/storetest"
	redisstore "github.com/deskbridge/deskbridge/stores/redis"
	"github.com/deskbridge/deskbridge/stores/redis/redistest"
)

// BenchmarkStore measures Save on a local Redis with appendfsync everysec
// (with always, an fsync per write sets the pace, which measures the disk).
func BenchmarkStore(b *testing.B) {
	srv := redistest.Start(b, redistest.Options{AppendFsync: "everysec"})
	storetest.Benchmark(b, func(b *testing.B) flow.Store {
		return open(b, srv, redisstore.Options{Prefix: newPrefix(), Tail: 256})
	}, storetest.ServerCPU(srv.CPUTime))
}
