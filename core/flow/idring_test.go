package flow

import (
	"fmt"
	"slices"
	"testing"
)

// idRing keeps the newest idRingSize ids, oldest first, growing only as
// ids come.
func TestIDRing(t *testing.T) {
	var r idRing
	if r.list() != nil || r.has("a") || r.has("") {
		t.Fatal("an empty ring holds something")
	}
	r.add("a")
	r.add("b")
	if got := r.list(); !slices.Equal(got, []string{"a", "b"}) || cap(r.ids) >= idRingSize {
		t.Fatalf("two ids: %v (cap %d)", got, cap(r.ids))
	}
	var want []string
	for i := range idRingSize + 8 {
		id := fmt.Sprint("m", i)
		r.add(id)
		want = append(want, id)
	}
	want = want[len(want)-idRingSize:]
	if got := r.list(); !slices.Equal(got, want) {
		t.Fatalf("after %d more: %v, want %v", idRingSize+8, got, want)
	}
	if r.has("a") || r.has("m7") || !r.has("m8") || !r.has(want[len(want)-1]) {
		t.Fatal("has: the oldest are gone, the newest kept")
	}
	if len(r.ids) != idRingSize {
		t.Fatalf("ring of %d", len(r.ids))
	}
}
