package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"weak"
)

// snapshotMagic opens every snapshot; it versions the encoding.
const snapshotMagic = "pbftsim-ledger/v1\n"

// minRecordLen is the smallest encoded payment: id length, a 1-byte id,
// state and three 1-byte amounts.
const minRecordLen = 6

// Snapshot returns the canonical encoding of the ledger:
//
//	"pbftsim-ledger/v1\n" uvarint(count)
//	count x { uvarint(len(id)) id state(1 byte: 1 authorized, 2 confirmed,
//	          3 partially-refunded, 4 refunded, 5 cancelled)
//	          uvarint(authorized) uvarint(captured) uvarint(refunded) }
//
// with payments in ascending id order and minimal varints. The encoding is
// computed once per state (Digest hashes the same bytes), so the returned
// slice is shared: callers must not modify it.
func (l *Ledger) Snapshot() []byte {
	l.fresh()
	return l.snap
}

// encode builds Snapshot's encoding of the current state in a new slice.
func (l *Ledger) encode() []byte {
	size := len(snapshotMagic) + binary.MaxVarintLen64
	for _, p := range l.sorted {
		size += 1 + len(p.id) + 1 + 3*binary.MaxVarintLen64
	}
	return l.appendEncoding(make([]byte, 0, size))
}

// appendEncoding appends Snapshot's encoding of the current state to buf.
func (l *Ledger) appendEncoding(buf []byte) []byte {
	buf = append(buf, snapshotMagic...)
	buf = binary.AppendUvarint(buf, uint64(len(l.sorted)))
	for _, p := range l.sorted {
		buf = binary.AppendUvarint(buf, uint64(len(p.id)))
		buf = append(buf, p.id...)
		buf = append(buf, byte(p.st))
		buf = binary.AppendUvarint(buf, uint64(p.authorized))
		buf = binary.AppendUvarint(buf, uint64(p.captured))
		buf = binary.AppendUvarint(buf, uint64(p.refunded))
	}
	return buf
}

// SnapshotCache lets the ledgers of one run (the replicas' copies of one
// state machine) share their snapshots and results: when a ledger's state
// encodes to the bytes another ledger encoded recently, it takes that
// ledger's (read-only) snapshot and digest instead of allocating and
// hashing its own, and an operation's result string is shared the same
// way. Replicas that agree reach the same state at every checkpoint and
// return the same results, so only the first of them pays. It changes
// nothing but speed and memory. A cache belongs to one run and, like a
// Ledger, is not safe for concurrent use.
type SnapshotCache struct {
	root       *version // the empty state of the ledgers made by NewShared
	encodes    int      // states encoded (tests)
	lastResult string
	scratch    []byte
	next       int
	slot       [2]struct {
		snap   []byte
		digest [32]byte
	}
}

// NewSnapshotCache returns an empty cache.
func NewSnapshotCache() *SnapshotCache { return &SnapshotCache{} }

// NewShared returns an empty ledger that shares snapshots through c.
func NewShared(c *SnapshotCache) *Ledger {
	l := New()
	l.cache = c
	if c.root == nil {
		c.root = &version{}
	}
	l.ver = c.root
	return l
}

// version is one state of the ledgers sharing a SnapshotCache, reached from
// the empty state by a sequence of state-changing operations: ledgers that
// applied the same operations in the same order hold the same version (and
// the same state, Execute being deterministic), so the first of them to
// encode and hash the state leaves its snapshot and digest for the others,
// which then neither encode nor compare (the cache's slots compare whole
// encodings: O(payments) per ledger and checkpoint). A version links to the
// version after its latest next operation weakly, so a ledger that lags (a
// crashed replica) pins only its own version; when the link is gone, or a
// ledger restored a snapshot, it falls back to the slots. Sharing changes
// speed only, never a snapshot or a digest.
type version struct {
	nextOp string
	link   weak.Pointer[version]
	ok     bool // snap and digest are set
	snap   []byte
	digest [32]byte
}

// next returns the version after op (a state-changing operation).
func (v *version) next(op string) *version {
	if v.nextOp == op {
		if n := v.link.Value(); n != nil {
			return n
		}
	}
	n := &version{}
	v.nextOp, v.link = op, weak.Make(n)
	return n
}

// fresh recomputes the cached snapshot encoding and digest after a change.
func (l *Ledger) fresh() {
	if l.digestOK {
		return
	}
	l.digestOK = true
	if v := l.ver; v != nil && v.ok {
		l.snap, l.digest = v.snap, v.digest
		return
	}
	l.encodeAndHash()
	if v := l.ver; v != nil {
		v.snap, v.digest, v.ok = l.snap, l.digest, true
	}
}

// encodeAndHash sets snap and digest from the current state.
func (l *Ledger) encodeAndHash() {
	c := l.cache
	if c == nil {
		l.snap = l.encode()
		l.digest = sha256.Sum256(l.snap)
		return
	}
	c.encodes++
	c.scratch = l.appendEncoding(c.scratch[:0])
	for i := range c.slot {
		if s := &c.slot[i]; s.snap != nil && bytes.Equal(s.snap, c.scratch) {
			l.snap, l.digest = s.snap, s.digest
			return
		}
	}
	l.snap = bytes.Clone(c.scratch)
	l.digest = sha256.Sum256(l.snap)
	s := &c.slot[c.next]
	s.snap, s.digest = l.snap, l.digest
	c.next = (c.next + 1) % len(c.slot)
}

// Restore replaces the ledger's state with the one encoded in snapshot. It
// accepts only canonical encodings as produced by Snapshot (so a restored
// ledger's Snapshot equals the input byte for byte) and on any error leaves
// the ledger unchanged. Errors name the byte offset and the problem.
func (l *Ledger) Restore(snapshot []byte) error {
	d := decoder{b: snapshot}
	if len(snapshot) < len(snapshotMagic) || string(snapshot[:len(snapshotMagic)]) != snapshotMagic {
		return errors.New("ledger: restore: not a ledger snapshot (missing \"pbftsim-ledger/v1\" header)")
	}
	d.off = len(snapshotMagic)
	count, err := d.uvarint("payment count")
	if err != nil {
		return err
	}
	if count > uint64(len(snapshot)-d.off)/minRecordLen {
		return fmt.Errorf("ledger: restore: payment count %d exceeds what %d remaining bytes can hold", count, len(snapshot)-d.off)
	}
	byID := make(map[string]*payment, count)
	sorted := make([]*payment, 0, count)
	for i := uint64(0); i < count; i++ {
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
		for _, f := range []struct {
			name string
			v    *int64
		}{{"authorized", &p.authorized}, {"captured", &p.captured}, {"refunded", &p.refunded}} {
			v, err := d.uvarint(f.name)
			if err != nil {
				return err
			}
			if v > uint64(MaxAmount) {
				return fmt.Errorf("ledger: restore: payment %q: %s=%d out of range 0..%d", p.id, f.name, v, MaxAmount)
			}
			*f.v = int64(v)
		}
		if err := checkPayment(p); err != nil {
			return fmt.Errorf("ledger: restore: %w", err)
		}
		if n := len(sorted); n > 0 && sorted[n-1].id >= p.id {
			return fmt.Errorf("ledger: restore: payment ids not strictly ascending: %q after %q", p.id, sorted[n-1].id)
		}
		sorted = append(sorted, p)
		byID[p.id] = p
	}
	if d.off != len(snapshot) {
		return fmt.Errorf("ledger: restore: %d trailing bytes after %d payments", len(snapshot)-d.off, count)
	}
	l.byID, l.sorted, l.digestOK = byID, sorted, false
	l.ver = nil // shares no version with the others any more
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
