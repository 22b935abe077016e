package soak

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func ids(s ...string) []string { return s }

func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		name      string
		want, got []string
		maybe     map[string]bool
		lost      int
		dup       int
		reordered int
		unexp     int
	}{
		{name: "all once in order", want: ids("a", "b", "c"), got: ids("a", "b", "c")},
		{name: "empty", want: nil, got: nil},
		{name: "one lost", want: ids("a", "b", "c"), got: ids("a", "c"), lost: 1},
		{name: "all lost", want: ids("a", "b"), got: nil, lost: 2},
		{name: "one doubled", want: ids("a", "b", "c"), got: ids("a", "b", "b", "c"), dup: 1},
		{name: "tripled", want: ids("a"), got: ids("a", "a", "a"), dup: 2},
		{name: "a swap", want: ids("a", "b", "c", "d"), got: ids("a", "c", "b", "d"), reordered: 1},
		{name: "last first", want: ids("a", "b", "c", "d"), got: ids("d", "a", "b", "c"), reordered: 1},
		{name: "reversed", want: ids("a", "b", "c", "d"), got: ids("d", "c", "b", "a"), reordered: 3},
		{name: "a duplicate late is not a reorder", want: ids("a", "b"), got: ids("a", "b", "a"), dup: 1},
		{name: "unacknowledged but delivered", want: ids("a", "c"), got: ids("a", "b", "c"), maybe: map[string]bool{"b": true}},
		{name: "unacknowledged and doubled", want: ids("a"), got: ids("a", "b", "b"), maybe: map[string]bool{"b": true}, dup: 1},
		{name: "never sent", want: ids("a"), got: ids("a", "x"), unexp: 1},
		{name: "everything at once", want: ids("a", "b", "c", "d", "e"), got: ids("a", "d", "c", "c", "e", "x"), lost: 1, dup: 1, reordered: 1, unexp: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Compare("t", tc.want, tc.got, tc.maybe)
			if d.Lost != tc.lost || d.Duplicated != tc.dup || d.Reordered != tc.reordered || d.Unexpected != tc.unexp {
				t.Fatalf("Compare(%v, %v) = lost %d dup %d reordered %d unexpected %d, want %d %d %d %d (%v)",
					tc.want, tc.got, d.Lost, d.Duplicated, d.Reordered, d.Unexpected, tc.lost, tc.dup, tc.reordered, tc.unexp, d.Examples)
			}
			if d.Bad() != (tc.lost+tc.dup+tc.reordered+tc.unexp > 0) {
				t.Fatalf("Bad() = %v", d.Bad())
			}
			if d.Bad() && len(d.Examples) == 0 {
				t.Fatal("a bad diff names no example")
			}
		})
	}
}

func TestLongestIncreasing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		xs := rng.Perm(rng.IntN(9))
		if got, want := longestIncreasing(xs), bruteLIS(xs); got != want {
			t.Fatalf("longestIncreasing(%v) = %d, want %d", xs, got, want)
		}
	}
}

// bruteLIS tries every subset.
func bruteLIS(xs []int) int {
	best := 0
	for mask := 0; mask < 1<<len(xs); mask++ {
		var sub []int
		for i, x := range xs {
			if mask&(1<<i) != 0 {
				sub = append(sub, x)
			}
		}
		if slices.IsSorted(sub) && len(sub) > best {
			best = len(sub)
		}
	}
	return best
}

// TestCheck runs the checker on synthetic transcripts: a clean one passes,
// and each kind of damage, on either side, is seen.
func TestCheck(t *testing.T) {
	clean := func() Transcript {
		return Transcript{
			Client:    "c1",
			Sent:      ids("m1", "m2", "m3", "m4"),
			Acked:     ids("m1", "m2", "m3"), // m4's result never came
			DeskGot:   ids("m1", "m2", "m3", "m4"),
			DeskSent:  ids("hi", "e1", "e2", "e3", "e4"),
			AgentSeen: ids("hi", "e1", "e2", "e3", "e4"),
			DeskChats: 1,
		}
	}
	for _, tc := range []struct {
		name   string
		damage func(*Transcript)
		check  func(Report) bool
	}{
		{"clean", func(*Transcript) {}, func(r Report) bool { return r.Lost()+r.Duplicated()+r.Reordered()+r.Unexpected()+r.NoDeskChat == 0 }},
		{"user message lost", func(t *Transcript) { t.DeskGot = ids("m1", "m3", "m4") }, func(r Report) bool { return r.User.Lost == 1 && r.Lost() == 1 }},
		{"user message doubled", func(t *Transcript) { t.DeskGot = ids("m1", "m2", "m2", "m3") }, func(r Report) bool { return r.User.Duplicated == 1 }},
		{"unacknowledged message doubled", func(t *Transcript) { t.DeskGot = ids("m1", "m2", "m3", "m4", "m4") }, func(r Report) bool { return r.User.Duplicated == 1 }},
		{"user messages reordered", func(t *Transcript) { t.DeskGot = ids("m2", "m1", "m3") }, func(r Report) bool { return r.User.Reordered == 1 }},
		{"agent message lost", func(t *Transcript) { t.AgentSeen = ids("hi", "e1", "e3", "e4") }, func(r Report) bool { return r.Agent.Lost == 1 }},
		{"agent message doubled", func(t *Transcript) { t.AgentSeen = ids("hi", "e1", "e1", "e2", "e3", "e4") }, func(r Report) bool { return r.Agent.Duplicated == 1 }},
		{"agent messages reordered", func(t *Transcript) { t.AgentSeen = ids("hi", "e2", "e1", "e3", "e4") }, func(r Report) bool { return r.Agent.Reordered == 1 }},
		{"agent message nobody sent", func(t *Transcript) { t.AgentSeen = append(t.AgentSeen, "ghost") }, func(r Report) bool { return r.Agent.Unexpected == 1 }},
		{"no desk chat", func(t *Transcript) { t.DeskChats, t.DeskGot, t.DeskSent = 0, nil, nil }, func(r Report) bool { return r.NoDeskChat == 1 && r.User.Lost == 3 && r.Agent.Unexpected == 5 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := clean()
			tc.damage(&tr)
			other := clean()
			other.Client = "c2"
			r := Check([]Transcript{other, tr})
			if !tc.check(r) {
				t.Fatalf("report %+v", r)
			}
		})
	}
}
