package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
	"slices"
)

// The ledger keeps its payments in a persistent hash trie: a 16-way trie
// whose path to a payment is the nibbles (4 bits, most significant first)
// of keyOf(id), then those of the id's bytes followed by a 0 byte. Two
// distinct ids differ in that sequence, so every payment has its own slot,
// and a payment sits in the shallowest slot no other payment's path shares:
// the trie's shape is a function of the set of ids alone (payments are
// never removed), whatever the order they were added in. Nodes are never
// modified once built (but for their cached Merkle hash): an update copies
// the path from the root (about log16(payments) nodes), so a root pointer
// is a frozen state that later operations do not change and that shares
// all but the changed paths with its successors. An unshared ledger (not
// in a SnapshotCache) changes the nodes it built since its last Freeze in
// place instead (see owner): no state but its own can hold them.

// keyOf returns the 64-bit key that places id in the trie: FNV-1a over the
// id's bytes, then the SplitMix64 finalizer so that every byte moves the
// most significant nibbles too. It is part of the snapshot format (the
// encoding lists payments in trie order): never change it without changing
// snapshotMagic.
func keyOf(id string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// keyDepth is the number of trie levels that consume keyOf's nibbles.
const keyDepth = 16

// nibble returns the slot (0..15) of a payment with key h and id at depth d.
// Past the key's 16 nibbles it takes those of id+"\x00": ids hold no 0 byte,
// so two distinct ids with equal keys differ at some depth below
// keyDepth+2*(MaxIDLen+1).
func nibble(h uint64, id string, d int) int {
	if d < keyDepth {
		return int(h>>(60-4*uint(d))) & 15
	}
	i := (d - keyDepth) / 2
	var b byte
	if i < len(id) {
		b = id[i]
	}
	if (d-keyDepth)&1 == 0 {
		return int(b >> 4)
	}
	return int(b & 15)
}

// less reports whether payment (ha, a) precedes (hb, b) in trie order: the
// order of their nibble sequences, which is that of (key, id).
func less(ha uint64, a string, hb uint64, b string) bool {
	if ha != hb {
		return ha < hb
	}
	return a < b
}

// node is one trie node. Slot s (0..15) is used when occ has bit s; it then
// holds a child node when sub has bit s and a payment otherwise. kids has
// one entry per used slot, in slot order. A node other than the root has
// at least two payments below it.
type node struct {
	occ, sub uint16
	// sum is the node's Merkle hash (see hashNode), computed on the first
	// Digest that needs it; summed says it is set. It is a cache: it never
	// changes once set, the node being immutable.
	summed bool
	kids   []kid
	sum    [32]byte
	// own is the owner that may change the node in place (nil: nobody).
	own *owner
}

// owner marks the nodes an unshared ledger built since its last Freeze
// (Ledger.own): no frozen state, version or other ledger holds them, so
// put may change them in place rather than copy them. It is not empty, so
// that distinct owners have distinct addresses.
type owner struct{ _ byte }

// kid is a used slot: a child node or a payment (exactly one is set).
type kid struct {
	n *node
	p *payment
}

// slot returns the index in n.kids of slot s and whether s is used.
func (n *node) slot(s int) (int, bool) {
	bit := uint16(1) << s
	return bits.OnesCount16(n.occ & (bit - 1)), n.occ&bit != 0
}

// get returns the payment with key h and id below root (nil: none).
func get(root *node, h uint64, id string) *payment {
	n := root
	for d := 0; n != nil; d++ {
		i, ok := n.slot(nibble(h, id, d))
		if !ok {
			return nil
		}
		k := n.kids[i]
		if k.p != nil {
			if k.p.id == id {
				return k.p
			}
			return nil
		}
		n = k.n
	}
	return nil
}

// put returns a new trie, rooted at depth d, that is n (nil: empty) with p
// (whose key is h) added or in place of the payment with p's id; n is not
// changed, unless own is not nil and owns it (then it is changed in place
// and returned). added reports whether p's id was new. key returns the key
// of an id (keyOf; a test passes another to make keys equal).
func put(n *node, d int, h uint64, p *payment, key func(string) uint64, own *owner) (_ *node, added bool) {
	if n == nil {
		n = newNode(0, 1, own)
	}
	s := nibble(h, p.id, d)
	i, used := n.slot(s)
	c := n
	if own != nil && n.own == own {
		c.summed = false
	} else {
		extra := 0
		if !used {
			extra = 1
		}
		c = newNode(len(n.kids), len(n.kids)+extra, own)
		c.occ, c.sub = n.occ, n.sub
		copy(c.kids, n.kids)
	}
	if !used {
		c.occ |= 1 << s
		c.kids = slices.Insert(c.kids, i, kid{p: p})
		return c, true
	}
	switch k := c.kids[i]; {
	case k.n != nil:
		c.kids[i].n, added = put(k.n, d+1, h, p, key, own)
	case k.p.id == p.id:
		c.kids[i].p = p
	default:
		c.kids[i] = kid{n: pair(d+1, key(k.p.id), k.p, h, p, own)}
		c.sub |= 1 << s
		added = true
	}
	return c, added
}

// pair returns the trie at depth d that holds just a and b (distinct ids,
// keys ha and hb), its nodes owned by own.
func pair(d int, ha uint64, a *payment, hb uint64, b *payment, own *owner) *node {
	sa, sb := nibble(ha, a.id, d), nibble(hb, b.id, d)
	if sa == sb {
		n := newNode(1, 1, own)
		n.occ, n.sub, n.kids[0] = 1<<sa, 1<<sa, kid{n: pair(d+1, ha, a, hb, b, own)}
		return n
	}
	if sa > sb {
		sa, sb, a, b = sb, sa, b, a
	}
	n := newNode(2, 2, own)
	n.occ, n.kids[0], n.kids[1] = 1<<sa|1<<sb, kid{p: a}, kid{p: b}
	return n
}

// Nodes are allocated with their kids (one allocation instead of two): a
// node of capacity k is the node of a nodeK whose kids start out in its
// arr. Up to 10 kids, each nodeK fills the size class that the node and its
// kids' array took apart (no memory is added); above, capacities round up
// to 12, 14 or 16 kids, which costs 16-32 bytes (5-12%) more per node than
// two allocations did. Should an owned node outgrow its array, append
// moves its kids to a separate array; the node stays valid.
type (
	node1 struct {
		node
		arr [1]kid
	}
	node2 struct {
		node
		arr [2]kid
	}
	node3 struct {
		node
		arr [3]kid
	}
	node4 struct {
		node
		arr [4]kid
	}
	node5 struct {
		node
		arr [5]kid
	}
	node6 struct {
		node
		arr [6]kid
	}
	node7 struct {
		node
		arr [7]kid
	}
	node8 struct {
		node
		arr [8]kid
	}
	node9 struct {
		node
		arr [9]kid
	}
	node10 struct {
		node
		arr [10]kid
	}
	node12 struct {
		node
		arr [12]kid
	}
	node14 struct {
		node
		arr [14]kid
	}
	node16 struct {
		node
		arr [16]kid
	}
)

// newNode returns a node owned by own with n zero kids and room for
// capacity (n <= capacity <= 16).
func newNode(n, capacity int, own *owner) *node {
	var c *node
	switch capacity {
	case 0:
		c = &node{}
	case 1:
		x := &node1{}
		x.kids, c = x.arr[:n], &x.node
	case 2:
		x := &node2{}
		x.kids, c = x.arr[:n], &x.node
	case 3:
		x := &node3{}
		x.kids, c = x.arr[:n], &x.node
	case 4:
		x := &node4{}
		x.kids, c = x.arr[:n], &x.node
	case 5:
		x := &node5{}
		x.kids, c = x.arr[:n], &x.node
	case 6:
		x := &node6{}
		x.kids, c = x.arr[:n], &x.node
	case 7:
		x := &node7{}
		x.kids, c = x.arr[:n], &x.node
	case 8:
		x := &node8{}
		x.kids, c = x.arr[:n], &x.node
	case 9:
		x := &node9{}
		x.kids, c = x.arr[:n], &x.node
	case 10:
		x := &node10{}
		x.kids, c = x.arr[:n], &x.node
	case 11, 12:
		x := &node12{}
		x.kids, c = x.arr[:n], &x.node
	case 13, 14:
		x := &node14{}
		x.kids, c = x.arr[:n], &x.node
	case 15, 16:
		x := &node16{}
		x.kids, c = x.arr[:n], &x.node
	default:
		c = &node{kids: make([]kid, n, capacity)}
	}
	c.own = own
	return c
}

// build returns the trie at depth d holding ps, whose keys are hs, sorted
// in trie order with distinct ids (Restore's input), its nodes owned by
// own. It makes the shape put makes, in one pass.
func build(d int, ps []*payment, hs []uint64, own *owner) *node {
	var ends [16]int // the used slots' groups: ps[ends[k-1]:ends[k]]
	var occ uint16
	k := 0
	for i := 0; i < len(ps); k++ {
		s := nibble(hs[i], ps[i].id, d)
		j := i + 1
		for j < len(ps) && nibble(hs[j], ps[j].id, d) == s {
			j++
		}
		occ |= 1 << s
		ends[k], i = j, j
	}
	n := newNode(k, k, own)
	n.occ = occ
	for g, i := 0, 0; g < k; g++ {
		j := ends[g]
		if j == i+1 {
			n.kids[g] = kid{p: ps[i]}
		} else {
			n.sub |= 1 << nibble(hs[i], ps[i].id, d)
			n.kids[g] = kid{n: build(d+1, ps[i:j], hs[i:j], own)}
		}
		i = j
	}
	return n
}

// walk calls f for every payment below n in trie order.
func walk(n *node, f func(p *payment)) {
	if n == nil {
		return
	}
	for _, k := range n.kids {
		if k.n != nil {
			walk(k.n, f)
		} else {
			f(k.p)
		}
	}
}

// hashNode returns n's Merkle hash, computing it (and its children's) if
// not cached: SHA-256 over
//
//	'N' occ(2 bytes, big endian) sub(2 bytes)
//	for each used slot in order: the child's hash (32 bytes), or the
//	payment's record as Snapshot encodes it
//
// The input is an injective encoding of the node (the bitmaps say what
// follows, a record delimits itself), so equal hashes of different tries
// mean a SHA-256 collision in some node. hashed counts the bytes hashed.
func hashNode(n *node, buf *[]byte, hashed *int) [32]byte {
	if n.summed {
		return n.sum
	}
	for _, k := range n.kids {
		if k.n != nil && !k.n.summed {
			hashNode(k.n, buf, hashed)
		}
	}
	b := append((*buf)[:0], 'N', byte(n.occ>>8), byte(n.occ), byte(n.sub>>8), byte(n.sub))
	for _, k := range n.kids {
		if k.n != nil {
			b = append(b, k.n.sum[:]...)
		} else {
			b = appendRecord(b, k.p)
		}
	}
	*hashed += len(b)
	n.sum, n.summed = sha256.Sum256(b), true
	*buf = b
	return n.sum
}

// appendRecord appends p's snapshot record: uvarint(len(id)) id state
// uvarint(authorized) uvarint(captured) uvarint(refunded).
func appendRecord(b []byte, p *payment) []byte {
	b = binary.AppendUvarint(b, uint64(len(p.id)))
	b = append(b, p.id...)
	b = append(b, byte(p.st))
	b = binary.AppendUvarint(b, uint64(p.authorized))
	b = binary.AppendUvarint(b, uint64(p.captured()))
	return binary.AppendUvarint(b, uint64(p.refunded))
}
