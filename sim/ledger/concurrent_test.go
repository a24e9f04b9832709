package ledger

import (
	"fmt"
	"sync"
	"testing"
)

// TestSnapshotCacheConcurrent: ledgers sharing a cache made concurrent
// (SetConcurrent) execute the same operations on two goroutines and end
// in the same state, with the same results, as a ledger of its own. Run
// with -race: without SetConcurrent the versions' memos race.
func TestSnapshotCacheConcurrent(t *testing.T) {
	c := NewSnapshotCache()
	c.SetConcurrent()
	var ops []string
	for i := 0; i < 2000; i++ {
		id := fmt.Sprintf("P%03d", i%97)
		switch i % 4 {
		case 0:
			ops = append(ops, "authorize "+id+" 500")
		case 1:
			ops = append(ops, "confirm "+id)
		case 2:
			ops = append(ops, "refund "+id+" 100")
		default:
			ops = append(ops, "get "+id)
		}
	}
	ref := New()
	want := make([]string, len(ops))
	for i, op := range ops {
		want[i] = ref.Execute(op)
	}
	var wg sync.WaitGroup
	ls := make([]*Ledger, 3)
	for g := range ls {
		ls[g] = NewShared(c)
		wg.Add(1)
		go func(l *Ledger) {
			defer wg.Done()
			for i, op := range ops {
				if got := l.Execute(op); got != want[i] {
					t.Errorf("op %d %q: %q, want %q", i, op, got, want[i])
					return
				}
			}
		}(ls[g])
	}
	wg.Wait()
	for g, l := range ls {
		if l.Digest() != ref.Digest() {
			t.Errorf("ledger %d ends in another state", g)
		}
	}
}
