package stream

import (
	"slices"
	"testing"
)

func TestSequencerSkip(t *testing.T) {
	s := NewSequencer[string](0, 0)
	if got := s.Skip(); got != nil {
		t.Fatalf("Skip with nothing waiting = %v", got)
	}
	if ready, gap := s.Push(1, "a"); !slices.Equal(ready, []string{"a"}) || gap {
		t.Fatalf("Push(1) = %v, %v", ready, gap)
	}
	s.Push(5, "e")
	if ready, gap := s.Push(3, "c"); ready != nil || !gap {
		t.Fatalf("Push(3) behind a gap = %v, %v", ready, gap)
	}
	if got := s.Skip(); !slices.Equal(got, []string{"c", "e"}) {
		t.Fatalf("Skip = %v, want [c e]", got)
	}
	if s.Last() != 5 {
		t.Fatalf("Last after Skip = %d, want 5", s.Last())
	}
	if ready, _ := s.Push(4, "d"); ready != nil {
		t.Fatalf("an item from the skipped gap was delivered: %v", ready)
	}
	if ready, gap := s.Push(6, "f"); !slices.Equal(ready, []string{"f"}) || gap {
		t.Fatalf("Push(6) = %v, %v", ready, gap)
	}
}
