package storetest_test

import (
	"testing"

	"github.com/deskbridge/deskbridge/core/flow"
	"github.com/deskbridge/deskbridge/core/flow/storetest"
)

func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		return storetest.HarnessFunc(func(*testing.T) flow.Store { return flow.NewMemoryStore(16) })
	}, storetest.Options{Tail: 16, NoReopen: true})
}

func BenchmarkMemoryStore(b *testing.B) {
	storetest.Benchmark(b, func(*testing.B) flow.Store { return flow.NewMemoryStore(256) })
}
