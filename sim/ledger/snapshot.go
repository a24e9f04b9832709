package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
)

// snapshotMagic opens every snapshot (and the digest's input); it versions
// the encoding. v2 lists payments in trie order (v1: by id).
const snapshotMagic = "pbftsim-ledger/v2\n"

// minRecordLen is the smallest encoded payment: id length, a 1-byte id,
// state and three 1-byte amounts.
const minRecordLen = 6

// Snapshot returns the canonical encoding of the ledger in a new slice:
//
//	"pbftsim-ledger/v2\n" uvarint(count)
//	count x { uvarint(len(id)) id state(1 byte: 1 authorized, 2 confirmed,
//	          3 partially-refunded, 4 refunded, 5 cancelled)
//	          uvarint(authorized) uvarint(captured) uvarint(refunded) }
//
// with payments in trie order (ascending keyOf(id), then id) and minimal
// varints. It costs O(payments) each call; Freeze is the cheap way to keep
// a state for later.
func (l *Ledger) Snapshot() []byte { return encode(l.root, l.count) }

// Frozen is a state of a ledger, unchanged by the ledger's later
// operations: it shares the ledger's immutable trie.
type Frozen struct {
	root  *node
	count int
	ver   *version // the state's version in a SnapshotCache (nil: unshared)
}

// Freeze returns the current state, in O(1) and without copying: the trie
// is persistent, so the state occupies only what later operations do not
// share with it. (The result type is an interface literal so that the
// ledger satisfies the replicas' StateMachine interfaces without importing
// them.)
func (l *Ledger) Freeze() interface{ Encode() []byte } {
	l.own = nil // the nodes are the frozen state's too: copy them from now on
	return &Frozen{l.root, l.count, l.ver}
}

// Thaw replaces the ledger's state with f, a state Freeze returned. A
// Frozen of this package is taken as it is, in O(1) and sharing its trie
// (and, if it was frozen in a SnapshotCache, its version: the ledger shares
// with the others again); any other value is restored from its encoding.
func (l *Ledger) Thaw(f interface{ Encode() []byte }) error {
	if fr, ok := f.(*Frozen); ok {
		// The nodes stay the frozen state's: a new owner (if the ledger
		// is unshared) marks what the ledger builds from now on, and a
		// shared ledger must not mark the nodes it adds to a version.
		l.root, l.count, l.ver, l.own = fr.root, fr.count, fr.ver, nil
		return nil
	}
	return l.Restore(f.Encode())
}

// Encode returns the state's Snapshot encoding (a new slice, O(payments)).
func (f *Frozen) Encode() []byte { return encode(f.root, f.count) }

// encode returns Snapshot's encoding of the trie root holding count payments.
func encode(root *node, count int) []byte {
	b := make([]byte, 0, len(snapshotMagic)+binary.MaxVarintLen64+count*24)
	b = append(b, snapshotMagic...)
	b = binary.AppendUvarint(b, uint64(count))
	walk(root, func(r []byte) { b = append(b, r...) })
	return b
}

// SnapshotCache lets the ledgers of one run (the replicas' copies of one
// state machine) share their states and results. Ledgers that executed the
// same operations from the empty state hold the same version; a version
// remembers the last operation executed in it, its result and the version
// it led to, so when replicas that agree execute an operation one after
// the other, only the first executes it and builds the new trie path; the
// others take its result and its (immutable) trie, and so share its nodes,
// their Merkle hashes and their memory. The cache keeps the links of its
// recent versions only: a ledger that lags further (a crashed replica)
// pins only its own version, and finding no link it executes the
// operation itself. A ledger
// that restored a snapshot no longer shares. Sharing changes speed and
// memory only, never a result, snapshot or digest. A cache belongs to one
// run and, like a Ledger, is not safe for concurrent use, unless
// SetConcurrent was called: then ledgers sharing it may be used from
// different goroutines (each ledger still by one goroutine at a time).
type SnapshotCache struct {
	// concurrent (SetConcurrent) makes Execute on a shared ledger hold mu.
	concurrent bool
	mu         sync.Mutex
	root       *version // the empty state of the ledgers made by NewShared
	// recent holds the last recentVersions versions made (a ring, next
	// is the oldest): a ledger that lags by fewer operations always finds
	// the link to the next version. A version's link is cut when it
	// leaves the ring, so that a lagging ledger does not pin the versions
	// made since its own (strong links would chain them all). The links
	// were weak pointers once: making one cost more than half a
	// microsecond per operation, and a collection between two replicas'
	// execution of the same batch cut the laggard off (a ledger that
	// recomputes a version never joins the others again).
	recent [recentVersions]*version
	next   int
	// sums is the table of the top trie nodes' child hashes that the
	// ledgers' Digests share (nil: none yet; see Ledger.sumTable).
	sums *sumTable
}

// recentVersions is the number of versions a SnapshotCache keeps alive: a
// few KB of trie paths each at most.
const recentVersions = 256

// keep makes v one of the recent versions, and cuts the link of the
// oldest, which leaves them.
func (c *SnapshotCache) keep(v *version) {
	if old := c.recent[c.next]; old != nil {
		old.next = nil
	}
	c.recent[c.next] = v
	c.next = (c.next + 1) % recentVersions
}

// SetConcurrent makes the cache safe for ledgers used from different
// goroutines (the replicas on the simulation's, a checker's reference
// ledger on another): Execute on a ledger sharing the cache then holds its
// mutex. The tries are immutable once built (the cached Merkle hashes, in
// the nodes and in the cache's sumTable, are written by Digest, which only
// the replicas call, on one goroutine), so the versions' memos and the
// recent ring are the only shared state. Results never depend on
// which ledger executes an operation first. Call it before the ledgers are
// used.
func (c *SnapshotCache) SetConcurrent() { c.concurrent = true }

// NewSnapshotCache returns an empty cache.
func NewSnapshotCache() *SnapshotCache { return &SnapshotCache{root: &version{}} }

// NewShared returns an empty ledger that shares states through c.
func NewShared(c *SnapshotCache) *Ledger { return &Ledger{ver: c.root, cache: c} }

// version is one state of the ledgers sharing a SnapshotCache, and the
// memo of the last operation executed in it.
type version struct {
	root  *node
	count int

	op, res string   // the last operation executed in this state that changed it, and its result ("": none)
	next    *version // the state op led to, while this version is one of the cache's recent ones (nil: none)
	// rop and rres are the last operation executed in this state that did
	// not change it (a read, a rejected one) and its result: kept apart so
	// that such an operation does not cut the link to the next state.
	rop, rres string
}

// Restore replaces the ledger's state with the one encoded in snapshot. It
// accepts only canonical encodings as produced by Snapshot (so a restored
// ledger's Snapshot equals the input byte for byte) and on any error leaves
// the ledger unchanged. Errors name the byte offset and the problem.
func (l *Ledger) Restore(snapshot []byte) error {
	d := decoder{b: snapshot}
	if len(snapshot) < len(snapshotMagic) || string(snapshot[:len(snapshotMagic)]) != snapshotMagic {
		return errors.New("ledger: restore: not a ledger snapshot (missing \"pbftsim-ledger/v2\" header)")
	}
	d.off = len(snapshotMagic)
	count, err := d.uvarint("payment count")
	if err != nil {
		return err
	}
	if count > uint64(len(snapshot)-d.off)/minRecordLen {
		return fmt.Errorf("ledger: restore: payment count %d exceeds what %d remaining bytes can hold", count, len(snapshot)-d.off)
	}
	var rsa [4][]byte // small snapshots (the checker's one-payment ledgers) need no slices
	var hsa [4]uint64
	rs, hs := rsa[:0], hsa[:0]
	if count > uint64(len(rsa)) {
		rs, hs = make([][]byte, 0, count), make([]uint64, 0, count)
	}
	var last string // the previous payment's id
	for i := uint64(0); i < count; i++ {
		start := d.off
		idLen, err := d.uvarint("id length")
		if err != nil {
			return err
		}
		if idLen < 1 || idLen > MaxIDLen {
			return fmt.Errorf("ledger: restore: payment %d: id length %d out of range 1..%d", i, idLen, MaxIDLen)
		}
		if uint64(len(snapshot)-d.off) < idLen+1 {
			return fmt.Errorf("ledger: restore: payment %d: truncated at byte %d", i, d.off)
		}
		p := &payment{id: string(snapshot[d.off : d.off+int(idLen)])}
		d.off += int(idLen)
		p.st = state(snapshot[d.off])
		d.off++
		var captured int64 // not stored: checked against what the state implies
		for _, f := range []struct {
			name string
			v    *int64
		}{{"authorized", &p.authorized}, {"captured", &captured}, {"refunded", &p.refunded}} {
			v, err := d.uvarint(f.name)
			if err != nil {
				return err
			}
			if v > uint64(MaxAmount) {
				return fmt.Errorf("ledger: restore: payment %q: %s=%d out of range 0..%d", p.id, f.name, v, MaxAmount)
			}
			*f.v = int64(v)
		}
		if err := checkAmounts(p, captured); err != nil {
			return fmt.Errorf("ledger: restore: %w", err)
		}
		h := keyOf(p.id)
		if n := len(rs); n > 0 && !less(hs[n-1], last, h, p.id) {
			return fmt.Errorf("ledger: restore: payment %q at byte %d: payments not in canonical order (strictly ascending key, then id): it follows %q", p.id, start, last)
		}
		rs, hs, last = append(rs, snapshot[start:d.off]), append(hs, h), p.id
	}
	if d.off != len(snapshot) {
		return fmt.Errorf("ledger: restore: %d trailing bytes after %d payments", len(snapshot)-d.off, count)
	}
	own := &owner{} // the restored ledger's: it may change what it builds here
	l.ver = nil     // shares no version with the others any more
	l.own = own
	l.root, l.count = build(0, rs, hs, own), len(rs) // copies the records
	return nil
}

// decoder reads minimal uvarints from b at off.
type decoder struct {
	b   []byte
	off int
}

func (d *decoder) uvarint(what string) (uint64, error) {
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		return 0, fmt.Errorf("ledger: restore: %s: bad or truncated varint at byte %d", what, d.off)
	}
	var tmp [binary.MaxVarintLen64]byte
	if binary.PutUvarint(tmp[:], v) != n {
		return 0, fmt.Errorf("ledger: restore: %s: non-minimal varint at byte %d", what, d.off)
	}
	d.off += n
	return v, nil
}
