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
//
// A node keeps its payments as bytes: the records of its payment slots,
// in slot order, each in the snapshot's encoding (appendRecord), in one
// slice (recs), and its child nodes in another (subs). A payment so costs
// its encoded record (about 20 bytes for the workload's ids) and a share
// of a node, not an object of its own, and the collector scans nodes, not
// payments; the records are also what the node's hash and the snapshot
// take, byte for byte.

// keyOf returns the 64-bit key that places id in the trie: FNV-1a over the
// id's bytes, then the SplitMix64 finalizer so that every byte moves the
// most significant nibbles too. It is part of the snapshot format (the
// encoding lists payments in trie order): never change it without changing
// snapshotMagic.
func keyOf[T string | []byte](id T) uint64 {
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
func nibble[T string | []byte](h uint64, id T, d int) int {
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
// holds a child node when sub has bit s and a payment otherwise. subs has
// the child nodes and recs the payments' records, each in slot order. A
// node other than the root has at least two payments below it.
type node struct {
	occ, sub uint16
	// own is the owner that may change the node in place (nil: nobody);
	// an owned node's subs and recs are its own, never shared.
	own  *owner
	subs []*node
	recs []byte
	// sum is the node's Merkle hash (see hashNode), computed on the first
	// Digest that needs it; all zero in its first 8 bytes: not computed
	// (see summed). It is a cache: it never changes once set, the node
	// being immutable (an owned node's is cleared when put changes it).
	// It comes after the fields a search reads (find, seek.find), which
	// so share the node's first 64 bytes, mostly one cache line; the
	// hash, which hashNode reads of the children of a node it hashes,
	// spans as many cache lines at offset 64 as it would at offset 0.
	sum [32]byte
}

// summed reports whether n.sum is set. A hash whose first 8 bytes are
// zero (a chance of 2^-64 per node) is taken as not set and computed again
// at every Digest: slower, never wrong.
func (n *node) summed() bool { return binary.LittleEndian.Uint64(n.sum[:8]) != 0 }

// owner marks the nodes an unshared ledger built since its last Freeze
// (Ledger.own): no frozen state, version or other ledger holds them, so
// put may change them in place rather than copy them. It is not empty, so
// that distinct owners have distinct addresses.
type owner struct{ _ byte }

// A record is a payment in the snapshot's encoding (appendRecord):
// uvarint(len(id)) id state uvarint(authorized) uvarint(captured)
// uvarint(refunded). An id is at most MaxIDLen (< 128) bytes, so its
// length is one byte.

// recEnd returns the end of the record that starts at off in b (b holds
// well-formed records).
func recEnd(b []byte, off int) int {
	off += int(b[off]) + 2
	for range 3 {
		for b[off] >= 0x80 {
			off++
		}
		off++
	}
	return off
}

// recID returns the id of record r (a slice of r).
func recID(r []byte) []byte { return r[1 : 1+int(r[0])] }

// decodeRec returns the payment of record r; its id is id (the caller's
// copy of the bytes in r: no string is made).
func decodeRec(id string, r []byte) payment {
	off := 1 + int(r[0])
	p := payment{id: id, st: state(r[off])}
	off++
	a, n := binary.Uvarint(r[off:])
	off += n
	_, n = binary.Uvarint(r[off:]) // captured: implied by the state
	off += n
	rf, _ := binary.Uvarint(r[off:])
	p.authorized, p.refunded = int64(a), int64(rf)
	return p
}

// recOff returns the offset in n.recs of the record in payment slot bit.
func (n *node) recOff(bit uint16) int {
	off := 0
	for k := bits.OnesCount16(n.occ &^ n.sub & (bit - 1)); k > 0; k-- {
		off = recEnd(n.recs, off)
	}
	return off
}

// child returns the index in n.subs of child slot bit.
func (n *node) child(bit uint16) int { return bits.OnesCount16(n.sub & (bit - 1)) }

// get returns the record of the payment with key h and id below root (nil:
// none): a slice of its node's records, valid until the node changes.
func get(root *node, h uint64, id string) []byte {
	n, off, end := find(root, h, id)
	if n == nil {
		return nil
	}
	return n.recs[off:end]
}

// find returns the node below root that holds the record of the payment
// with key h and id, and the record's bounds in its recs (n == nil: none).
func find(root *node, h uint64, id string) (n *node, off, end int) {
	n = root
	for d := 0; n != nil; d++ {
		bit := uint16(1) << nibble(h, id, d)
		if n.occ&bit == 0 {
			return nil, 0, 0
		}
		if n.sub&bit != 0 {
			n = n.subs[n.child(bit)]
			continue
		}
		off = n.recOff(bit)
		end = recEnd(n.recs, off)
		if string(recID(n.recs[off:end])) == id {
			return n, off, end
		}
		return nil, 0, 0
	}
	return nil, 0, 0
}

// splice returns b with b[off:end] replaced by r: in b's array when
// mine (no other node holds it), else in a new one.
func splice(b []byte, off, end int, r []byte, mine bool) []byte {
	if mine {
		return slices.Replace(b, off, end, r...)
	}
	c := make([]byte, 0, len(b)-(end-off)+len(r))
	c = append(c, b[:off]...)
	c = append(c, r...)
	return append(c, b[end:]...)
}

// maxPath is the deepest slot (depth maxPath-1) that put reaches by a
// path (seek); deeper ones, of payments whose 64-bit keys are equal, go
// through putDeep.
const maxPath = 24

// step is a node on the way to a payment's slot, and the slot's bit in it.
type step struct {
	n   *node
	bit uint16
}

// seek is the way to a payment's slot in a trie (find it with find): the
// nodes from the root down to the one whose slot it is, path[:depth+1],
// and what the slot holds: the payment's record (found), another
// payment's (other), at recs[off:end] of the last node, or nothing (off
// is where the record goes). ok is false when the trie is empty or the
// slot is deeper than maxPath.
type seek struct {
	path         [maxPath]step
	depth        int
	off, end     int
	found, other bool
	ok           bool
	deep         []byte // !ok: the payment's record found below maxPath (nil: none)
}

// find sets s to the way to the slot of the payment with key h and id
// below root.
func (s *seek) find(root *node, h uint64, id string) {
	s.found, s.other, s.ok, s.deep = false, false, false, nil
	n := root
	for d := 0; n != nil; d++ {
		if d == maxPath {
			// Keys equal in 64 bits: the slot is deeper than a path holds;
			// put goes through putDeep, and the record is found the long way.
			s.deep = get(root, h, id)
			return
		}
		bit := uint16(1) << nibble(h, id, d)
		s.path[d], s.depth = step{n, bit}, d
		if n.sub&bit != 0 {
			n = n.subs[n.child(bit)]
			continue
		}
		s.ok = true
		s.off = n.recOff(bit)
		if n.occ&bit == 0 {
			return
		}
		s.end = recEnd(n.recs, s.off)
		s.found = string(recID(n.recs[s.off:s.end])) == id
		s.other = !s.found
		return
	}
}

// rec returns the payment's record that find found (nil: none), a slice of
// its node's records.
func (s *seek) rec() []byte {
	if !s.ok {
		return s.deep
	}
	if !s.found {
		return nil
	}
	return s.path[s.depth].n.recs[s.off:s.end]
}

// put returns a new trie that is root (nil: empty) with the payment id
// whose record is rec (key h) added or in place of the record with that
// id; s is the way to id's slot that find found below root, which has not
// changed since. root is not changed, unless own is not nil and owns nodes
// on the way: put changes those in place, copies the others, from the
// slot's node up, without searching the way again. added reports whether
// id was new. key returns the key of an id (keyOf; a test passes another
// to make keys equal). rec is copied.
func (s *seek) put(root *node, h uint64, id string, rec []byte, key func([]byte) uint64, own *owner) (_ *node, added bool) {
	if !s.ok {
		return putDeep(root, 0, h, id, rec, key, own)
	}
	d := s.depth
	n, bit := s.path[d].n, s.path[d].bit
	// s.other: the record's slot becomes a child node (pair, below).
	c, mine := n.writable(own, s.other, len(rec))
	switch {
	case s.found:
		c.recs = splice(c.recs, s.off, s.end, rec, mine)
	case s.other:
		old := c.recs[s.off:s.end]
		sub := pair(d+1, key(recID(old)), old, h, id, rec, own) // copies old first
		c.recs = splice(c.recs, s.off, s.end, nil, mine)
		c.subs = slices.Insert(c.subs, c.child(bit), sub)
		c.sub |= bit
		added = true
	default:
		c.recs = splice(c.recs, s.off, s.off, rec, mine)
		c.occ |= bit
		added = true
	}
	for d--; d >= 0; d-- {
		p := s.path[d].n
		i := p.child(s.path[d].bit)
		if own != nil && p.own == own {
			p.sum = [32]byte{}
			p.subs[i] = c
			c = p
			continue
		}
		q := newNode(len(p.subs))
		q.occ, q.sub, q.own, q.recs = p.occ, p.sub, own, p.recs
		if own != nil && len(q.recs) > 0 {
			q.recs = slices.Clone(q.recs) // an owned node's records are its own
		}
		q.subs = append(q.subs, p.subs...)
		q.subs[i] = c
		c = q
	}
	return c, added
}

// writable returns the node that put and putDeep change in n's place, and
// whether its records are its own, to change in place: n, its hash
// cleared, when own owns it; else a new node owned by own with n's slots,
// children and records, with room for one more child when grow. A new
// node without children (a leaf, the most common place of a payment) gets
// a copy of n's records with room for extra more bytes, in its own
// allocation (newLeaf); any other shares n's records until they change.
func (n *node) writable(own *owner, grow bool, extra int) (c *node, mine bool) {
	if own != nil && n.own == own {
		n.sum = [32]byte{}
		return n, true
	}
	if n.sub == 0 && !grow {
		c = newLeaf(len(n.recs) + extra)
		c.occ, c.own = n.occ, own
		c.recs = append(c.recs, n.recs...)
		return c, true
	}
	k := len(n.subs)
	if grow {
		k++
	}
	c = newNode(k)
	c.occ, c.sub, c.own, c.recs = n.occ, n.sub, own, n.recs
	c.subs = append(c.subs, n.subs...)
	return c, false
}

// putDeep is put by recursion, for any depth: it returns a new trie,
// rooted at depth d, that is n (nil: empty) with the payment id whose
// record is rec (key h) added or in place of the record with that id; n is
// not changed, unless own is not nil and owns it (then it is changed in
// place and returned). added reports whether id was new.
func putDeep(n *node, d int, h uint64, id string, rec []byte, key func([]byte) uint64, own *owner) (_ *node, added bool) {
	bit := uint16(1) << nibble(h, id, d)
	if n == nil {
		return &node{occ: bit, own: own, recs: slices.Clone(rec)}, true
	}
	other := false // the slot holds another payment's record: it becomes a child node (pair, below)
	if n.occ&bit != 0 && n.sub&bit == 0 {
		off := n.recOff(bit)
		other = string(recID(n.recs[off:recEnd(n.recs, off)])) != id
	}
	c, mine := n.writable(own, other, len(rec))
	switch {
	case n.occ&bit == 0:
		off := c.recOff(bit)
		c.recs = splice(c.recs, off, off, rec, mine)
		c.occ |= bit
		return c, true
	case n.sub&bit != 0:
		if !mine && own != nil && len(c.recs) > 0 {
			c.recs = slices.Clone(c.recs) // an owned node's records are its own
		}
		i := c.child(bit)
		c.subs[i], added = putDeep(c.subs[i], d+1, h, id, rec, key, own)
		return c, added
	}
	off := c.recOff(bit)
	end := recEnd(c.recs, off)
	old := c.recs[off:end]
	if string(recID(old)) == id {
		c.recs = splice(c.recs, off, end, rec, mine)
		return c, false
	}
	sub := pair(d+1, key(recID(old)), old, h, id, rec, own) // copies old first
	c.recs = splice(c.recs, off, end, nil, mine)
	c.subs = slices.Insert(c.subs, c.child(bit), sub)
	c.sub |= bit
	return c, true
}

// newNode returns an empty node with room for k child nodes (0 <= k <=
// 16; its subs is empty, with capacity k), allocated with the node: one
// allocation instead of two on the path put copies, and the child
// pointers beside the node they belong to. The size classes of node and
// array together are never above those of the two apart.
func newNode(k int) *node {
	switch k {
	case 0:
		return &node{}
	case 1:
		x := new(struct {
			n node
			a [1]*node
		})
		x.n.subs = x.a[:0]
		return &x.n
	case 2:
		x := new(struct {
			n node
			a [2]*node
		})
		x.n.subs = x.a[:0]
		return &x.n
	case 3:
		x := new(struct {
			n node
			a [3]*node
		})
		x.n.subs = x.a[:0]
		return &x.n
	case 4:
		x := new(struct {
			n node
			a [4]*node
		})
		x.n.subs = x.a[:0]
		return &x.n
	case 5, 6:
		x := new(struct {
			n node
			a [6]*node
		})
		x.n.subs = x.a[:0:k]
		return &x.n
	case 7, 8:
		x := new(struct {
			n node
			a [8]*node
		})
		x.n.subs = x.a[:0:k]
		return &x.n
	case 9, 10:
		x := new(struct {
			n node
			a [10]*node
		})
		x.n.subs = x.a[:0:k]
		return &x.n
	case 11, 12:
		x := new(struct {
			n node
			a [12]*node
		})
		x.n.subs = x.a[:0:k]
		return &x.n
	case 13, 14:
		x := new(struct {
			n node
			a [14]*node
		})
		x.n.subs = x.a[:0:k]
		return &x.n
	}
	x := new(struct {
		n node
		a [16]*node
	})
	x.n.subs = x.a[:0:k]
	return &x.n
}

// newLeaf returns an empty node for records alone (no child nodes) whose
// recs, empty, has room for size bytes: for up to 160 bytes (a few
// records) in the node's allocation, so that a leaf costs one allocation,
// not two, and a search finds the records beside the fields it read
// first.
func newLeaf(size int) *node {
	switch {
	case size <= 32:
		return leafWith(func(b *[32]byte) []byte { return b[:0] })
	case size <= 64:
		return leafWith(func(b *[64]byte) []byte { return b[:0] })
	case size <= 96:
		return leafWith(func(b *[96]byte) []byte { return b[:0] })
	case size <= 128:
		return leafWith(func(b *[128]byte) []byte { return b[:0] })
	case size <= 160:
		return leafWith(func(b *[160]byte) []byte { return b[:0] })
	}
	return &node{recs: make([]byte, 0, size)}
}

// leafWith allocates a node together with a buffer B and gives the node
// the buffer, empty (recs of B), as its records.
func leafWith[B any](recs func(*B) []byte) *node {
	x := new(struct {
		n node
		b B
	})
	x.n.recs = recs(&x.b)
	return &x.n
}

// pair returns the trie at depth d that holds just the records a (key ha)
// and b (key hb, id bid), of distinct ids, its nodes owned by own.
func pair(d int, ha uint64, a []byte, hb uint64, bid string, b []byte, own *owner) *node {
	sa, sb := nibble(ha, recID(a), d), nibble(hb, bid, d)
	if sa == sb {
		n := newNode(1)
		n.occ, n.sub, n.own = 1<<sa, 1<<sa, own
		n.subs = append(n.subs, pair(d+1, ha, a, hb, bid, b, own))
		return n
	}
	if sa > sb {
		sa, sb, a, b = sb, sa, b, a
	}
	n := newLeaf(len(a) + len(b))
	n.occ, n.own = 1<<sa|1<<sb, own
	n.recs = append(append(n.recs, a...), b...)
	return n
}

// build returns the trie at depth d holding the records rs, whose keys are
// hs, sorted in trie order with distinct ids (Restore's input), its nodes
// owned by own. It makes the shape put makes, in one pass.
func build(d int, rs [][]byte, hs []uint64, own *owner) *node {
	var ends [16]int // the used slots' groups: rs[ends[k-1]:ends[k]]
	var occ uint16
	k, subs, size := 0, 0, 0
	for i := 0; i < len(rs); k++ {
		s := nibble(hs[i], recID(rs[i]), d)
		j := i + 1
		for j < len(rs) && nibble(hs[j], recID(rs[j]), d) == s {
			j++
		}
		if j == i+1 {
			size += len(rs[i])
		} else {
			subs++
		}
		occ |= 1 << s
		ends[k], i = j, j
	}
	var n *node
	if subs == 0 {
		n = newLeaf(size)
	} else {
		n = newNode(subs)
		if size > 0 {
			n.recs = make([]byte, 0, size)
		}
	}
	n.occ, n.own = occ, own
	for g, i := 0, 0; g < k; g++ {
		j := ends[g]
		if j == i+1 {
			n.recs = append(n.recs, rs[i]...)
		} else {
			n.sub |= 1 << nibble(hs[i], recID(rs[i]), d)
			n.subs = append(n.subs, build(d+1, rs[i:j], hs[i:j], own))
		}
		i = j
	}
	return n
}

// walk calls f with the record of every payment below n, in trie order.
func walk(n *node, f func(r []byte)) {
	if n == nil {
		return
	}
	off, ci := 0, 0
	for occ := n.occ; occ != 0; occ &= occ - 1 {
		if bit := occ & -occ; n.sub&bit != 0 {
			walk(n.subs[ci], f)
			ci++
		} else {
			end := recEnd(n.recs, off)
			f(n.recs[off:end])
			off = end
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
// t (nil: none) is the table of the top nodes' child hashes of a trie
// whose nodes are all immutable, and pos n's place in it (see sumTable):
// n's children's hashes are then read from the table, not from the
// children, unless a child is not the one the table has for its slot.
func hashNode(n *node, buf *[]byte, hashed *int, t *sumTable, pos int) [32]byte {
	if n.summed() {
		return n.sum
	}
	var es *[16]sumEntry
	if t != nil && pos < sumPositions {
		es = &t.e[pos]
	}
	ci := 0
	for occ := n.sub; occ != 0; occ &= occ - 1 {
		c := n.subs[ci]
		ci++
		if es == nil {
			if !c.summed() {
				hashNode(c, buf, hashed, nil, 0)
			}
			continue
		}
		s := bits.TrailingZeros16(occ)
		if e := &es[s]; e.c != c && (!brokenSumTable || e.c == nil) {
			e.sum = hashNode(c, buf, hashed, t, pos*16+1+s)
			e.c = c
		}
	}
	b := append((*buf)[:0], 'N', byte(n.occ>>8), byte(n.occ), byte(n.sub>>8), byte(n.sub))
	if n.sub == 0 {
		b = append(b, n.recs...)
	} else {
		off, ci := 0, 0
		for occ := n.occ; occ != 0; occ &= occ - 1 {
			if bit := occ & -occ; n.sub&bit == 0 {
				end := recEnd(n.recs, off)
				b = append(b, n.recs[off:end]...)
				off = end
			} else if es != nil {
				b = append(b, es[bits.TrailingZeros16(bit)].sum[:]...)
			} else {
				b = append(b, n.subs[ci].sum[:]...)
				ci++
			}
		}
	}
	*hashed += len(b)
	n.sum = sha256.Sum256(b)
	*buf = b
	return n.sum
}

// sumPositions is the number of places in a sumTable: the nodes of depth
// 0, 1 and 2 (1 + 16 + 256), whose children (up to 4,096 nodes at depth 3
// in a large ledger) are hashed mostly long ago and sit in memory no cache
// holds any more.
const sumPositions = 1 + 16 + 256

// sumTable holds, for each place of the trie's top levels (a node at depth
// < 3, by the slots of the path to it: the root is place 0 and the child
// in slot s of place p is place 16p+1+s), the last hash computed of the
// child node in each slot, with the node. A Digest after a few changes so
// reads the hashes of the unchanged children of the nodes it hashes from
// 640 contiguous bytes per node instead of one cache miss per child, the
// cost of a large ledger's Digest. An entry whose node is not the child in
// its slot is only unused (an older or another state's child); so the
// table holds for any trie whose nodes never change, which is every trie
// of the ledgers sharing a SnapshotCache (it is the cache's).
type sumTable struct {
	e [sumPositions][16]sumEntry
}

// brokenSumTable makes hashNode take any child hash a sumTable has for a
// slot, whatever node it was computed for (tests show that digests of
// other branches and of older states are then wrong).
var brokenSumTable bool

// sumEntry is a child node and its Merkle hash.
type sumEntry struct {
	c   *node
	sum [32]byte
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
