package ledger

import (
	"fmt"
	"runtime"
	"testing"
)

// heapAfterGC returns the bytes of live heap objects after a collection.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestBytesPerPayment bounds the memory a ledger holds per payment (no
// timing: the live heap after collections). 200,000 payments of the
// workload's ids (9 bytes), a third of them confirmed and a sixth refunded
// in part, in an unshared ledger and in four replicas sharing a
// SnapshotCache, the last two frozen states of each kept (checkpoints
// every 1,000 payments): each must stay under 80 bytes per payment, and
// the collector must find fewer than 0.7 objects per payment (nodes, not
// payments). The layout with a record object and an id string per payment
// and a slot for it in its node (127 bytes and 2.4 objects per payment
// here) fails both; records packed in their nodes take 64-69 bytes and
// 0.83 objects, which fails the second; the records of a node without
// children in the node's own allocation (newLeaf), 66-69 bytes and 0.52
// objects.
func TestBytesPerPayment(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 200,000 payments")
	}
	const n = 200000
	ops := func(i int) []string {
		id := fmt.Sprintf("PAY%06d", i)
		o := []string{Authorize(id, int64(1000+i%9000))}
		if i%3 == 0 {
			o = append(o, Confirm(id))
			if i%2 == 0 {
				o = append(o, Refund(id, 100))
			}
		}
		return o
	}
	objects := func() uint64 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.Mallocs - ms.Frees
	}
	for _, shared := range []bool{false, true} {
		before := heapAfterGC()
		objs := objects()
		ls := []*Ledger{New()}
		if shared {
			c := NewSnapshotCache()
			ls = []*Ledger{NewShared(c), NewShared(c), NewShared(c), NewShared(c)}
		}
		var frozen []any
		for i := range n {
			for _, op := range ops(i) {
				for _, l := range ls {
					l.Execute(op)
				}
			}
			if i%1000 == 0 {
				for _, l := range ls {
					l.Digest()
					frozen = append(frozen, l.Freeze())
				}
				if len(frozen) > 2*len(ls) {
					frozen = frozen[len(ls):]
				}
			}
		}
		for _, l := range ls {
			l.Digest()
		}
		perPay := float64(heapAfterGC()-before) / n
		perObj := float64(objects()-objs) / n
		runtime.KeepAlive(ls)
		runtime.KeepAlive(frozen)
		t.Logf("shared=%v: %.1f bytes and %.2f heap objects per payment", shared, perPay, perObj)
		if perPay > 80 {
			t.Errorf("shared=%v: %.1f bytes per payment, want < 80", shared, perPay)
		}
		if perObj > 0.7 {
			t.Errorf("shared=%v: %.2f heap objects per payment, want < 0.7", shared, perObj)
		}
	}
}

// TestPutAllocsPerNode: a change in a shared ledger (whose trie nodes are
// never changed in place) copies the path to the payment with one
// allocation per node, the node with its child pointers (newNode), plus
// the changed records, the new version and the result. Fails if a copied
// node's child array is allocated apart again (two per inner node).
func TestPutAllocsPerNode(t *testing.T) {
	const n = 5000
	l := NewShared(NewSnapshotCache())
	for i := range n {
		id := fmt.Sprintf("A%05d", i)
		l.Execute(Authorize(id, 1_000_000))
		l.Execute(Confirm(id))
	}
	ops, nodes := make([]string, n), 0
	for i := range n {
		id := fmt.Sprintf("A%05d", i)
		ops[i] = Refund(id, 1)
		h := keyOf(id)
		for c, d := l.root, 0; c != nil; d++ { // the nodes on the path
			nodes++
			bit := uint16(1) << nibble(h, id, d)
			if c.sub&bit == 0 {
				break
			}
			c = c.subs[c.child(bit)]
		}
	}
	i := 0
	allocs := testing.AllocsPerRun(n-1, func() {
		l.Execute(ops[i])
		i++
	})
	path := float64(nodes) / n
	// per run: the node copies, the leaf's records, the version and the
	// result
	if want := path + 3.2; allocs > want {
		t.Errorf("%.2f allocations per change along %.2f nodes: want at most %.2f (one per node)", allocs, path, want)
	}
}
