package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// scratchDigest computes the digest of l from its payments alone: it sorts
// them in trie order, builds a new trie and hashes every node, sharing no
// cached hash with l.
func scratchDigest(l *Ledger) [32]byte {
	var rs [][]byte
	walk(l.root, func(r []byte) { rs = append(rs, slices.Clone(r)) })
	id := func(r []byte) string { return string(recID(r)) }
	sort.Slice(rs, func(i, j int) bool { return less(keyOf(recID(rs[i])), id(rs[i]), keyOf(recID(rs[j])), id(rs[j])) })
	hs := make([]uint64, len(rs))
	for i, r := range rs {
		hs[i] = keyOf(recID(r))
	}
	var buf []byte
	var n int
	r := hashNode(build(0, rs, hs, nil), &buf, &n, nil, 0)
	b := append([]byte(snapshotMagic), binary.AppendUvarint(nil, uint64(len(rs)))...)
	return sha256.Sum256(append(b, r[:]...))
}

// TestDigestIncrementalExact: after random operation sequences (with
// restores of other ledgers' snapshots and frozen states in between), the
// incrementally maintained digest equals the one computed from scratch,
// frozen states keep their contents, and the trie stays canonical.
func TestDigestIncrementalExact(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		ls := []*Ledger{New(), New(), New()}
		type frozen struct {
			f    interface{ Encode() []byte }
			snap []byte
		}
		var kept []frozen
		for step := range 4000 {
			l := ls[r.IntN(len(ls))]
			switch x := r.IntN(100); {
			case x < 2:
				if err := l.Restore(ls[r.IntN(len(ls))].Snapshot()); err != nil {
					t.Fatal(err)
				}
			case x < 4:
				kept = append(kept, frozen{l.Freeze(), l.Snapshot()})
			case x < 20:
				if got, want := l.Digest(), scratchDigest(l); got != want {
					t.Fatalf("seed %d step %d: digest %x, from scratch %x", seed, step, got[:6], want[:6])
				}
				if err := l.CheckInvariants(); err != nil {
					t.Fatalf("seed %d step %d: %v", seed, step, err)
				}
			default:
				l.Execute(randomOp(r, 300))
			}
		}
		for i, k := range kept {
			if string(k.f.Encode()) != string(k.snap) {
				t.Fatalf("seed %d: frozen state %d changed after later operations", seed, i)
			}
		}
	}
}

// TestDigestCostBoundedByChanges: a checkpoint's digest hashes what the
// operations since the previous one changed (their paths in the trie), not
// the ledger: at 100,000 payments, 16 changed payments cost the same few
// kilobytes per payment as at 2,000. An implementation that encodes or
// hashes the whole ledger per digest hashes megabytes here and fails.
func TestDigestCostBoundedByChanges(t *testing.T) {
	perChange := func(size int) float64 {
		l := New()
		for i := range size {
			l.Execute(Authorize(fmt.Sprintf("PAY%07d", i), 1000))
		}
		l.Digest()
		r := rand.New(rand.NewPCG(uint64(size), 1))
		before, changes := l.hashed, 0
		for round := range 50 {
			for k := range 16 {
				id := fmt.Sprintf("PAY%07d", r.IntN(size))
				var op string
				switch k % 3 {
				case 0:
					op = Authorize(fmt.Sprintf("NEW%d-%d", round, k), 5)
				case 1:
					op = Confirm(id)
				default:
					op = Cancel(id)
				}
				if res := l.Execute(op); res[0] == 'o' {
					changes++
				}
			}
			l.Digest()
		}
		if changes == 0 {
			t.Fatal("no operation changed the ledger")
		}
		return float64(l.hashed-before) / float64(changes)
	}
	small, large := perChange(2000), perChange(100000)
	t.Logf("bytes hashed per changed payment: %.0f at 2,000 payments, %.0f at 100,000", small, large)
	// A path has about log16(payments)+1 nodes of at most 16 entries
	// (records of ~20 bytes here, or 32-byte child hashes).
	if large > 4000 {
		t.Errorf("%.0f bytes hashed per changed payment at 100,000 payments, want < 4000", large)
	}
	if large > 3*small {
		t.Errorf("cost per change grew from %.0f to %.0f bytes with 50x the payments, want < 3x (the depth's growth)", small, large)
	}
}

// TestFreezeSharesAllButChanges: a frozen state (a retained checkpoint)
// holds only the trie nodes that the operations after it replaced: 16
// changes in a ledger of 50,000 payments leave at most a path (depth+1
// nodes) per change outside the current trie, not a copy of the ledger.
func TestFreezeSharesAllButChanges(t *testing.T) {
	l := New()
	for i := range 50000 {
		l.Execute(Authorize(fmt.Sprintf("PAY%07d", i), 1000))
	}
	f := l.Freeze().(*Frozen)
	for i := range 16 {
		l.Execute(Confirm(fmt.Sprintf("PAY%07d", i*3001)))
	}
	current := map[*node]bool{}
	var mark func(n *node)
	mark = func(n *node) {
		current[n] = true
		for _, c := range n.subs {
			mark(c)
		}
	}
	mark(l.root)
	own, depth := 0, 0
	var count func(n *node, d int)
	count = func(n *node, d int) {
		depth = max(depth, d)
		if !current[n] {
			own++
		}
		for _, c := range n.subs {
			count(c, d+1)
		}
	}
	count(f.root, 0)
	if own == 0 || own > 16*(depth+1) {
		t.Errorf("the frozen state owns %d nodes after 16 changes (trie depth %d), want 1..%d", own, depth, 16*(depth+1))
	}
}

// TestEqualKeys: payments whose 64-bit keys are equal are told apart by
// their ids' nibbles: put and get find each, walk lists them by id, build
// makes the trie put makes, and the structure check accepts it.
func TestEqualKeys(t *testing.T) {
	const h = 0x0123456789abcdef
	key := func([]byte) uint64 { return h }
	ids := []string{"B", "A", "AB", "A-", "AA", "Z9", "b"}
	rec := func(p payment) []byte { return appendRecord(nil, &p) }
	var root *node
	for i, id := range ids {
		var added bool
		root, added = put(root, h, id, rec(payment{id: id, st: stAuthorized, authorized: int64(i + 1)}), key, nil)
		if !added {
			t.Fatalf("put %q: not added", id)
		}
	}
	for i, id := range ids {
		if r := get(root, h, id); r == nil || decodeRec(id, r).authorized != int64(i+1) {
			t.Fatalf("get %q = %x", id, r)
		}
	}
	if get(root, h, "C") != nil || get(root, h, "A.") != nil {
		t.Fatal("get found an absent id")
	}
	var got []string
	walk(root, func(r []byte) { got = append(got, string(recID(r))) })
	want := slices.Sorted(slices.Values(ids))
	if !slices.Equal(got, want) {
		t.Fatalf("walk order %v, want %v", got, want)
	}
	var rs [][]byte
	walk(root, func(r []byte) { rs = append(rs, r) })
	hs := make([]uint64, len(rs))
	for i := range hs {
		hs[i] = h
	}
	var buf []byte
	var n int
	if a, b := hashNode(root, &buf, &n, nil, 0), hashNode(build(0, rs, hs, nil), &buf, &n, nil, 0); a != b {
		t.Fatal("build's trie differs from put's")
	}
	// replace one: not added, the others unchanged
	root2, added := put(root, h, "AB", rec(payment{id: "AB", st: stCancelled, authorized: 3}), key, nil)
	if added || decodeRec("AB", get(root2, h, "AB")).st != stCancelled || decodeRec("AB", get(root, h, "AB")).st != stAuthorized {
		t.Fatal("replacing a payment added it, or changed the old trie")
	}
}

// TestCheckInvariantsFindsBadIndex: the structure check catches a payment
// in another payment's slot and a node holding a single payment.
func TestCheckInvariantsFindsBadIndex(t *testing.T) {
	mk := func() *Ledger {
		l := New()
		for i := range 200 {
			l.Execute(Authorize(fmt.Sprintf("P%03d", i), 10))
		}
		return l
	}
	l := mk()
	if err := l.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	// swap the first records of two nodes
	var leaves []*node
	var collect func(n *node)
	collect = func(n *node) {
		if len(n.recs) > 0 {
			leaves = append(leaves, n)
		}
		for _, c := range n.subs {
			collect(c)
		}
	}
	collect(l.root)
	a, b := leaves[0], leaves[1]
	ra, rb := slices.Clone(a.recs[:recEnd(a.recs, 0)]), slices.Clone(b.recs[:recEnd(b.recs, 0)])
	a.recs = splice(a.recs, 0, len(ra), rb, false)
	b.recs = splice(b.recs, 0, len(rb), ra, false)
	if err := l.CheckInvariants(); err == nil {
		t.Error("swapped payments not found")
	}
	l = mk()
	l.count++
	if err := l.CheckInvariants(); err == nil {
		t.Error("wrong count not found")
	}
	l = mk()
	// wrap a payment at depth d in a node of its own (non-canonical)
	var wrap func(n *node, d int) bool
	wrap = func(n *node, d int) bool {
		for s := range 16 {
			bit := uint16(1) << s
			if n.occ&bit == 0 {
				continue
			}
			if n.sub&bit == 0 {
				off := n.recOff(bit)
				r := slices.Clone(n.recs[off:recEnd(n.recs, off)])
				n.recs = splice(n.recs, off, off+len(r), nil, false)
				c := &node{occ: 1 << nibble(keyOf(recID(r)), recID(r), d+1), recs: r}
				n.subs = slices.Insert(n.subs, n.child(bit), c)
				n.sub |= bit
				return true
			} else if wrap(n.subs[n.child(bit)], d+1) {
				return true
			}
		}
		return false
	}
	if !wrap(l.root, 0) {
		t.Fatal("no payment to wrap")
	}
	if err := l.CheckInvariants(); err == nil {
		t.Error("a node holding one payment not found")
	}
}

// TestPutSameAsPutDeep: put, which finds the way to a slot once and then
// copies (or, owned, changes) the nodes on it from the bottom up, builds
// the trie that the recursive putDeep builds, for the same payments, in
// both modes: persistent (the trie before each put is unchanged after it)
// and owned. The keys are cut to 4 bits, so that many are equal and some
// slots lie deeper than maxPath (put then goes through putDeep); the test
// fails if none does, or if none is reached by a path. The record that the
// way finds (seek.rec, which execute reads) is the one get finds, at any
// depth.
func TestPutSameAsPutDeep(t *testing.T) {
	key := func(id []byte) uint64 { return keyOf(id) & (0xf << 60) }
	r := rand.New(rand.NewPCG(7, 8))
	for _, owned := range []bool{false, true} {
		var own *owner
		if owned {
			own = &owner{}
		}
		var a, b *node
		deep, shallow, deepFound := 0, 0, 0
		for i := range 3000 {
			id := fmt.Sprintf("P%d", r.IntN(600))
			if r.IntN(8) == 0 {
				id = "LONG-SHARED-PREFIX-" + id // equal keys and long shared nibbles: deeper than maxPath
			}
			h := key([]byte(id))
			p := payment{id: id, st: stAuthorized, authorized: int64(1 + r.IntN(1000))}
			rec := appendRecord(nil, &p)
			var s seek
			s.find(a, h, id)
			if s.ok {
				shallow++
			} else if a != nil {
				deep++
				if s.rec() != nil {
					deepFound++
				}
			}
			if got, want := s.rec(), get(a, h, id); !bytes.Equal(got, want) {
				t.Fatalf("owned=%v, put %d (%q): the way found record %q, get finds %q", owned, i, id, got, want)
			}
			var before []byte
			if !owned {
				before = encode(a, 0)
			}
			na, addA := s.put(a, h, id, rec, key, own)
			nb, addB := putDeep(b, 0, h, id, rec, key, own)
			if addA != addB {
				t.Fatalf("owned=%v, put %d (%q): added %v, putDeep added %v", owned, i, id, addA, addB)
			}
			if !owned && !bytes.Equal(encode(a, 0), before) {
				t.Fatalf("put %d (%q) changed the trie it was given", i, id)
			}
			a, b = na, nb
			if i%100 == 99 || i == 2999 {
				var buf []byte
				var n int
				if got, want := encode(a, 0), encode(b, 0); !bytes.Equal(got, want) {
					t.Fatalf("owned=%v, after put %d: the tries hold different records", owned, i)
				}
				if hashNode(a, &buf, &n, nil, 0) != hashNode(b, &buf, &n, nil, 0) {
					t.Fatalf("owned=%v, after put %d: the tries' hashes differ (shapes differ)", owned, i)
				}
			}
		}
		if deep == 0 || shallow == 0 || deepFound == 0 {
			t.Fatalf("owned=%v: %d puts deeper than maxPath (%d of an existing payment), %d by a path: want all", owned, deep, deepFound, shallow)
		}
	}
}
