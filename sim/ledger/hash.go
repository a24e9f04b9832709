package ledger

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"hash"
	"math/bits"
)

// A node's Merkle hash (hashNode) is SHA-256 over its input: a 5-byte
// header, then its slots in order (a child's 32-byte hash or a record).
// An inner node of 16 children hashes 517 bytes (9 SHA-256 blocks), and
// between two checkpoints a node near the root changes in a few slots
// only: its new input begins with blocks of the input last hashed at its
// place in the trie. A hashTable keeps, for each place of the top
// tableDepth levels, the input last hashed there and the SHA-256 state
// after each stride (two 64-byte blocks), and hashNode resumes from the state
// after the blocks that the new input begins with (compared byte for
// byte, so the table holds no claim that could go stale: any node at any
// place, of any ledger, may use it) instead of hashing them again. The
// hash is SHA-256 of the same input either way (TestDigestIncrementalExact,
// TestSharedDigestsExact); only the work differs. The ledgers of a
// SnapshotCache share its table (whichever hashes a checkpoint's nodes
// first finds the previous checkpoint's inputs); an unshared ledger keeps
// its own. Digest writes the table (as it writes the nodes' cached
// hashes), so in a SnapshotCache shared across goroutines it holds the
// cache's mutex.

// tableDepth is the number of trie levels whose places a hashTable
// covers: the root, its 16 children and their 256 (at 100,000 payments,
// the levels of full nodes; the next level's 4,096 nodes hold a few
// records and children each).
const tableDepth = 3

// tableSize is the number of places in the top tableDepth levels.
const tableSize = (1<<(4*tableDepth) - 1) / 15

// hashTable holds the input last hashed at each place of the top
// tableDepth levels of a trie (nil: none yet), by tableIndex.
type hashTable [tableSize]*placeInput

// placeInput is an input hashed at a place and the SHA-256 state after
// each of its full strides: mids[k] after its first stride*(k+1) bytes.
type placeInput struct {
	in   []byte
	mids [][32]byte
}

// stride is the part of an input between two saved states: two SHA-256
// blocks, which the amd64 code without SHA instructions hashes together
// at less than twice the cost of one (per block, a third less), and half
// the states to save.
const stride = 128

// tableIndex returns the index in a hashTable of the place at depth d <
// tableDepth whose slots from the root are the nibbles of pos.
func tableIndex(d int, pos uint64) int { return (1<<(4*d)-1)/15 + int(pos) }

// hasher is a ledger's scratch for hashing nodes.
type hasher struct {
	buf     []byte // the input being hashed
	hashed  int    // bytes hashed, over the ledger's life (tests)
	resumed int    // bytes not hashed again thanks to the table (tests)
	d       hash.Hash
	app     encoding.BinaryAppender
	un      encoding.BinaryUnmarshaler
	// st is the marshaled state of a SHA-256 digest that has hashed a
	// whole number of blocks: resume copies a saved state and length
	// into it and unmarshals it (nil: the digest cannot resume, so nodes
	// are hashed whole and keep no states).
	st  []byte
	tmp []byte
	tab *hashTable // the inputs last hashed near the root (nil: none kept)
	own *hashTable // an unshared ledger's table (nil: none yet)
}

// sha256Magic opens the marshaled state of crypto/sha256's digest, whose
// layout resume relies on: magic, the 8 state words (big endian), the
// 64-byte block buffer, the length hashed (big endian uint64).
const sha256Magic = "sha\x03"

// init prepares h's digest and checks that a resumed digest gives
// SHA-256's result (else h hashes every input whole).
func (h *hasher) init() {
	if h.d != nil {
		return
	}
	h.d = sha256.New()
	app, ok1 := h.d.(encoding.BinaryAppender)
	un, ok2 := h.d.(encoding.BinaryUnmarshaler)
	if !ok1 || !ok2 {
		return
	}
	h.app, h.un = app, un
	h.d.Write(make([]byte, 64))
	st, err := app.AppendBinary(nil)
	if err != nil || len(st) != len(sha256Magic)+32+64+8 || string(st[:len(sha256Magic)]) != sha256Magic {
		return
	}
	h.st = st
	// check: hash 200 bytes whole and resumed after one and two blocks
	var in [200]byte
	for i := range in {
		in[i] = byte(i*7 + 3)
	}
	want := sha256.Sum256(in[:])
	h.d.Reset()
	h.d.Write(in[:64])
	m1 := h.mid()
	h.d.Write(in[64:128])
	m2 := h.mid()
	for k, m := range [][32]byte{m1, m2} {
		h.resume(&m, 64*(k+1))
		h.d.Write(in[64*(k+1):])
		var got [32]byte
		if h.d.Sum(got[:0]); got != want {
			h.st = nil
			return
		}
	}
}

// mid returns the state of h's digest, which has hashed a whole number
// of blocks.
func (h *hasher) mid() (m [32]byte) {
	h.tmp, _ = h.app.AppendBinary(h.tmp[:0])
	copy(m[:], h.tmp[len(sha256Magic):])
	return m
}

// resume sets h's digest to the state m after the input's first n bytes
// (a multiple of 64).
func (h *hasher) resume(m *[32]byte, n int) {
	copy(h.st[len(sha256Magic):], m[:])
	binary.BigEndian.PutUint64(h.st[len(h.st)-8:], uint64(n))
	if h.un.UnmarshalBinary(h.st) != nil {
		panic("ledger: a SHA-256 state that marshaled does not unmarshal")
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
// mean a SHA-256 collision in some node. n is the root of its trie.
func hashNode(n *node, h *hasher) [32]byte { return hashAt(n, h, 0, 0) }

// hashAt is hashNode for a node at depth d whose slots from the root are
// the nibbles of pos (while d < tableDepth; then pos is unused). Near the
// root it resumes from the states of h's table (see hashTable).
func hashAt(n *node, h *hasher, d int, pos uint64) [32]byte {
	if n.summed() {
		return n.sum
	}
	ci := 0
	for sub := n.sub; sub != 0; sub &= sub - 1 {
		if c := n.subs[ci]; !c.summed() {
			hashAt(c, h, d+1, pos<<4|uint64(bits.TrailingZeros16(sub)))
		}
		ci++
	}
	b := append(h.buf[:0], 'N', byte(n.occ>>8), byte(n.occ), byte(n.sub>>8), byte(n.sub))
	if n.sub == 0 {
		b = append(b, n.recs...)
	} else {
		off, ci := 0, 0
		for occ := n.occ; occ != 0; occ &= occ - 1 {
			if bit := occ & -occ; n.sub&bit != 0 {
				b = append(b, n.subs[ci].sum[:]...)
				ci++
			} else {
				end := recEnd(n.recs, off)
				b = append(b, n.recs[off:end]...)
				off = end
			}
		}
	}
	h.buf = b
	if d >= tableDepth || h.tab == nil || len(b) < 2*stride {
		h.hashed += len(b)
		n.sum = sha256.Sum256(b)
		return n.sum
	}
	if h.init(); h.st == nil {
		h.hashed += len(b)
		n.sum = sha256.Sum256(b)
		return n.sum
	}
	e := h.tab[tableIndex(d, pos)]
	if e == nil {
		e = &placeInput{}
		h.tab[tableIndex(d, pos)] = e
	}
	full := len(b) / stride
	k := 0 // the strides b begins with that e.in began with
	for k < full && k < len(e.mids) && string(b[stride*k:stride*(k+1)]) == string(e.in[stride*k:stride*(k+1)]) {
		k++
	}
	h.hashed += len(b) - stride*k
	h.resumed += stride * k
	if k == 0 {
		h.d.Reset()
	} else {
		h.resume(&e.mids[k-1], stride*k)
	}
	e.mids = e.mids[:k]
	for ; k < full; k++ {
		h.d.Write(b[stride*k : stride*(k+1)])
		e.mids = append(e.mids, h.mid())
	}
	h.d.Write(b[stride*full:])
	h.d.Sum(n.sum[:0])
	e.in = append(e.in[:0], b...)
	return n.sum
}
