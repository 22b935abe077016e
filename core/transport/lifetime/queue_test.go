package lifetime

import (
	"sync"
	"testing"
	"time"
)

func TestQueue(t *testing.T) {
	var q Queue[int]
	if _, ok := q.Pop(); ok {
		t.Fatal("an empty queue popped")
	}
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				q.Push(p*1000 + i)
			}
		}()
	}
	last := map[int]int{0: -1, 1: -1, 2: -1, 3: -1}
	got := 0
	deadline := time.After(5 * time.Second)
	for got < 400 {
		select {
		case <-q.Ready():
		case <-deadline:
			t.Fatalf("%d of 400", got)
		}
		for {
			v, ok := q.Pop()
			if !ok {
				break
			}
			p, i := v/1000, v%1000
			if i <= last[p] {
				t.Fatalf("producer %d: %d after %d", p, i, last[p])
			}
			last[p] = i
			got++
		}
	}
	wg.Wait()
	q.Push(1, 2)
	q.Clear()
	if _, ok := q.Pop(); ok {
		t.Fatal("Clear left items")
	}
}
