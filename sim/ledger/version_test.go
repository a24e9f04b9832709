package ledger

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestSharedVersionsExact: ledgers sharing a SnapshotCache, executing
// mostly the same operations (some diverge, some restore a snapshot, some
// lag across garbage collections that may drop the links between
// versions), always give the snapshot and digest of an unshared ledger
// that executed the same operations.
func TestSharedVersionsExact(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		rng := rand.New(rand.NewPCG(seed, 9))
		c := NewSnapshotCache()
		const n = 4
		var shared, ref [n]*Ledger
		for i := range n {
			shared[i], ref[i] = NewShared(c), New()
		}
		var ops []string
		for k := range 3000 {
			id := fmt.Sprintf("P%03d", rng.IntN(200))
			switch rng.IntN(5) {
			case 0, 1:
				ops = append(ops, fmt.Sprintf("authorize %s %d", id, 1+rng.IntN(500)))
			case 2:
				ops = append(ops, "confirm "+id)
			case 3:
				ops = append(ops, fmt.Sprintf("refund %s %d", id, 1+rng.IntN(100)))
			default:
				ops = append(ops, "get "+id)
			}
			_ = k
		}
		pos := [n]int{}
		for step := 0; step < 20000; step++ {
			i := rng.IntN(n)
			switch r := rng.IntN(100); {
			case r < 80 && pos[i] < len(ops): // the common sequence
				op := ops[pos[i]]
				pos[i]++
				if a, b := shared[i].Execute(op), ref[i].Execute(op); a != b {
					t.Fatalf("seed %d step %d: ledger %d: %q gives %q, unshared %q", seed, step, i, op, a, b)
				}
			case r < 83: // a divergent operation
				op := fmt.Sprintf("authorize X%d-%d %d", i, step, 1+rng.IntN(50))
				shared[i].Execute(op)
				ref[i].Execute(op)
			case r < 84: // restore another's snapshot
				j := rng.IntN(n)
				snap := ref[j].Snapshot()
				if err := shared[i].Restore(snap); err != nil {
					t.Fatal(err)
				}
				if err := ref[i].Restore(snap); err != nil {
					t.Fatal(err)
				}
				pos[i] = pos[j]
			case r < 85:
				runtime.GC()
			default: // a checkpoint
				if a, b := shared[i].Digest(), ref[i].Digest(); a != b {
					t.Fatalf("seed %d step %d: ledger %d: digest %x, unshared %x", seed, step, i, a[:4], b[:4])
				}
				if a, b := string(shared[i].Snapshot()), string(ref[i].Snapshot()); a != b {
					t.Fatalf("seed %d step %d: ledger %d: snapshot differs from the unshared one", seed, step, i)
				}
			}
		}
	}
}

// TestSharedVersionsHashOnce: replicas that execute the same operations
// and take a digest every 16 of them hash each checkpoint's new trie nodes
// once between them, not once each: the others find the hashes cached in
// the nodes they share.
func TestSharedVersionsHashOnce(t *testing.T) {
	c := NewSnapshotCache()
	var ls [4]*Ledger
	for i := range ls {
		ls[i] = NewShared(c)
	}
	for k := range 1600 {
		op := fmt.Sprintf("authorize P%04d 100", k)
		for _, l := range ls {
			l.Execute(op)
		}
		if k%16 == 15 {
			d := ls[0].Digest()
			for _, l := range ls[1:] {
				if l.Digest() != d {
					t.Fatal("replicas' digests differ")
				}
			}
		}
	}
	if ls[0].hashed == 0 {
		t.Fatal("the first ledger hashed nothing")
	}
	for i, l := range ls[1:] {
		if l.hashed != 0 {
			t.Errorf("ledger %d hashed %d bytes, want 0 (the first one's node hashes are shared)", i+1, l.hashed)
		}
	}
}

// BenchmarkSharedReplicas: four ledgers sharing a SnapshotCache, as a run's
// replicas, on a ledger of 100,000 payments: each operation (a confirm or
// an authorize) executed by all four, a digest by all four every 16
// operations (a checkpoint). ns/op is per operation (four executions).
func BenchmarkSharedReplicas(b *testing.B) {
	const size = 100000
	c := NewSnapshotCache()
	var ls [4]*Ledger
	for i := range ls {
		ls[i] = NewShared(c)
	}
	for k := range size {
		op := Authorize("PAY"+itoa(k), 100)
		for _, l := range ls {
			l.Execute(op)
		}
	}
	ops := make([]string, b.N)
	for i := range ops {
		if i%2 == 0 {
			ops[i] = Confirm("PAY" + itoa(i/2%size))
		} else {
			ops[i] = Authorize("NEW"+itoa(i), 100)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i, op := range ops {
		for _, l := range ls {
			l.Execute(op)
		}
		if i%16 == 15 {
			for _, l := range ls {
				l.Digest()
			}
		}
	}
}

// encoded is a frozen state that is only its encoding (not this package's).
type encoded []byte

func (e encoded) Encode() []byte { return e }

// TestThaw: a thawed state is the frozen one; a ledger thawed from a
// shared ledger's frozen state shares with the others again (it adopts
// their tries), and one thawed from an unshared ledger's never changes the
// frozen state in place; a foreign frozen value goes through Restore.
func TestThaw(t *testing.T) {
	c := NewSnapshotCache()
	a, b := NewShared(c), NewShared(c)
	first := []string{Authorize("PAY1", 100), Authorize("PAY2", 50), Confirm("PAY1")}
	later := []string{Refund("PAY1", 30), Authorize("PAY3", 7), Cancel("PAY2")}
	for _, op := range first {
		a.Execute(op)
	}
	f, snap := a.Freeze(), a.Snapshot()
	for _, op := range later {
		a.Execute(op)
	}
	if err := b.Thaw(f); err != nil || !bytes.Equal(b.Snapshot(), snap) {
		t.Fatalf("thawed state differs from the frozen one (err %v)", err)
	}
	for _, op := range later {
		b.Execute(op)
	}
	if b.root != a.root || b.Digest() != a.Digest() {
		t.Fatal("a ledger thawed from a shared state does not share again")
	}
	u := New()
	for _, op := range first {
		u.Execute(op)
	}
	uf, usnap := u.Freeze(), u.Snapshot()
	v := New()
	if err := v.Thaw(uf); err != nil {
		t.Fatal(err)
	}
	for _, op := range later {
		v.Execute(op)
		u.Execute(op)
	}
	if !bytes.Equal(uf.Encode(), usnap) {
		t.Fatal("a ledger thawed from an unshared state changed the frozen state")
	}
	w := New()
	if err := w.Thaw(encoded(usnap)); err != nil || w.Digest() != scratchDigest(w) || !bytes.Equal(w.Snapshot(), usnap) {
		t.Fatalf("thaw of an encoded state: err %v", err)
	}
	if err := w.Thaw(encoded("junk")); err == nil {
		t.Fatal("thaw of a corrupt encoding accepted")
	}
}

// TestThawedSharedLedgerNeverChangesVersionsInPlace: a ledger that was
// unshared (it restored a snapshot, so it had an owner) and then thawed a
// shared state must not mark the nodes and records it adds to a shared
// version as its own: another ledger that adopts that version would see
// its state change under it. (The code before this test let the restored
// ledger's owner survive Thaw, and did exactly that.)
func TestThawedSharedLedgerNeverChangesVersionsInPlace(t *testing.T) {
	c := NewSnapshotCache()
	a, b, plain := NewShared(c), NewShared(c), New()
	for _, l := range []*Ledger{a, b, plain} {
		l.Execute(Authorize("X", 10))
	}
	fr := b.Freeze()
	r := New()
	if err := r.Restore(a.Snapshot()); err != nil {
		t.Fatal(err)
	}
	r.Execute(Authorize("W", 3)) // r changes what it owns
	if err := r.Thaw(fr); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{Authorize("Y", 5), Confirm("X")} {
		r.Execute(op) // r builds the version; a adopts it
		a.Execute(op)
		plain.Execute(op)
	}
	want := plain.Snapshot()
	r.Execute(Refund("X", 4))
	r.Execute(Confirm("Y"))
	if !bytes.Equal(a.Snapshot(), want) || a.Digest() != plain.Digest() {
		t.Fatalf("a ledger sharing a version changed when another changed:\n got %q\nwant %q", a.Snapshot(), want)
	}
}

// TestSharedVersionsSurviveCollections: ledgers that lag behind the first
// by a batch of operations, with a collection in between (as replicas of a
// run executing the same batch at different times), still adopt its
// versions and end on its very trie, reads and rejected operations in the
// batch notwithstanding; a laggard further behind than the
// cache keeps recent versions recomputes (and so is cut off from sharing).
// Fails if the cache keeps no recent versions (every link cut at once) or
// if a read's memo replaces the link to the next version.
func TestSharedVersionsSurviveCollections(t *testing.T) {
	c := NewSnapshotCache()
	ls := []*Ledger{NewShared(c), NewShared(c), NewShared(c)}
	var ops []string
	for k := range 1000 {
		id := fmt.Sprintf("P%05d", k)
		// a read and a rejected operation between two changes
		ops = append(ops, Authorize(id, 100), Get(id), Authorize(id, 5))
	}
	ops = ops[:1984] // whole batches
	const batch = 32
	for i := 0; i < len(ops); i += batch {
		for _, l := range ls[:2] {
			for _, op := range ops[i : i+batch] {
				l.Execute(op)
			}
			runtime.GC()
		}
	}
	if !ls[1].Shares(ls[0]) {
		t.Error("a ledger one batch behind, with a collection in between, no longer shares the first's trie")
	}
	// ls[2] starts after the others are 1,000 versions ahead
	runtime.GC()
	for _, op := range ops {
		ls[2].Execute(op)
	}
	if ls[2].Shares(ls[0]) || ls[2].Digest() != ls[0].Digest() {
		t.Error("a ledger far behind shares the trie (the cache keeps every version?) or differs")
	}
}

// TestSharedVersionsLinksBounded: a ledger that stays behind (here at the
// empty state) must not pin every version made since: the links from a
// version to the next are cut when it leaves the cache's recent ring, so
// the chain reachable from the oldest state holds at most recentVersions+1
// versions. Fails if the links are never cut (the chain would hold all
// 2,000).
func TestSharedVersionsLinksBounded(t *testing.T) {
	c := NewSnapshotCache()
	behind, ahead := NewShared(c), NewShared(c)
	for k := range 2000 {
		ahead.Execute(Authorize(fmt.Sprintf("P%05d", k), 100))
	}
	n := 0
	for v := behind.ver; v != nil; v = v.next {
		n++
	}
	if n > recentVersions+1 {
		t.Errorf("%d versions linked from the empty state, want at most %d", n, recentVersions+1)
	}
	// the recent ones are still linked: a ledger one version behind adopts
	other := NewShared(c)
	if err := other.Thaw(ahead.Freeze()); err != nil {
		t.Fatal(err)
	}
	ahead.Execute(Authorize("Q1", 5))
	other.Execute(Authorize("Q1", 5))
	if !other.Shares(ahead) {
		t.Error("a ledger one version behind did not adopt the next version")
	}
}

// TestSumTableExact: ledgers sharing a SnapshotCache, past sumTableMin
// payments so that their digests read the cache's table of child hashes,
// give the digest of an unshared ledger (which has no table) whatever
// the states they digest: the common one, branches of their own
// (divergent operations), older states thawed again, a restored
// snapshot. The broken variant, which takes the table's hash for a slot
// without checking that it was computed for the node there, fails.
func TestSumTableExact(t *testing.T) {
	if err := sumTableRun(); err != nil {
		t.Fatal(err)
	}
	brokenSumTable = true
	defer func() { brokenSumTable = false }()
	if sumTableRun() == nil {
		t.Fatal("the broken table (hashes taken for any node) gives the unshared digests too: the test cannot fail")
	}
}

// sumTableRun is TestSumTableExact's run: the first digest that differs
// from the unshared ledger's, as an error (nil: none).
func sumTableRun() error {
	const n, size = 3, 3000
	rng := rand.New(rand.NewPCG(7, 7))
	c := NewSnapshotCache()
	var shared, ref [n]*Ledger
	for i := range n {
		shared[i], ref[i] = NewShared(c), New()
	}
	exec := func(i int, op string) {
		shared[i].Execute(op)
		ref[i].Execute(op)
	}
	for k := range size {
		for i := range n {
			exec(i, Authorize(payID(k), 1000))
		}
	}
	type kept struct{ s, r interface{ Encode() []byte } }
	var frozen []kept
	for step := range 4000 {
		i := rng.IntN(n)
		switch r := rng.IntN(100); {
		case r < 60: // the common operations, in lockstep
			op := Confirm(payID(rng.IntN(size)))
			if step%2 == 0 {
				op = Refund(payID(rng.IntN(size)), 10)
			}
			for j := range n {
				exec(j, op)
			}
		case r < 80: // a branch of ledger i's own
			exec(i, Authorize(fmt.Sprintf("X%d", step), 5))
		case r < 85:
			frozen = append(frozen, kept{shared[i].Freeze(), ref[i].Freeze()})
		case r < 90 && len(frozen) > 0: // an older state again
			f := frozen[rng.IntN(len(frozen))]
			if err := shared[i].Thaw(f.s); err != nil {
				return err
			}
			if err := ref[i].Thaw(f.r); err != nil {
				return err
			}
		default: // a checkpoint
			if a, b := shared[i].Digest(), ref[i].Digest(); a != b {
				return fmt.Errorf("step %d: ledger %d: digest %x, unshared %x", step, i, a[:4], b[:4])
			}
		}
	}
	return nil
}
