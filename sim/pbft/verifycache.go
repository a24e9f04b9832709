package pbft

import (
	"bytes"
	"crypto/sha256"
	"unsafe"
)

// VerifyCache remembers messages whose signature a replica has verified, so
// that the other replicas of the same run do not verify the same message
// again: a multicast PREPARE or COMMIT is verified by every receiver, n-1
// times over the same bytes. It relies on messages being immutable once
// sent (a message is identified by its address, and the cache keeps the
// messages it holds alive, so an address cannot be reused while cached).
// Only successful verifications are remembered. It is a fixed-size
// direct-mapped table: a collision evicts, which costs only a repeated
// verification. All replicas sharing a cache must share one Keyring; a
// cache belongs to one run and is not safe for concurrent use.
//
// It also remembers PRE-PREPAREs found wholly valid (signature, batch
// digest and every request), so that the backups of a run do not hash the
// same batch again.
//
// Invariant: has (validPP) answers true only for the very message (same
// type and address) that add (addValidPP) was given, never for another
// message with equal content (TestVerifyCache, TestVerifyCachePrePrepare);
// so a hit is right exactly when messages are immutable once sent, which
// the kernel checks at every delivery in builds with -tags invariants
// (make test runs them).
//
// And it remembers the last state digest computed (stateSum): the replicas
// of a run reach each checkpoint in the same state, so all but the first
// would hash the same bytes again.
type VerifyCache struct {
	slots []Signable
	shift uint
	pps   [64]*PrePrepare // valid PRE-PREPAREs, direct-mapped by address

	stateIn  []byte // the input of the last stateSum (a copy)
	stateOut Digest // its SHA-256
}

// NewVerifyCache returns a cache sized for n replicas (about 4n² entries,
// between 64 and 16384).
func NewVerifyCache(n int) *VerifyCache { return NewVerifyCacheSize(4 * n * n) }

// NewVerifyCacheSize returns a cache of at least entries entries (a power
// of two between 64 and 16384).
func NewVerifyCacheSize(entries int) *VerifyCache {
	size, bits := 64, uint(6)
	for size < entries && size < 1<<14 {
		size, bits = size*2, bits+1
	}
	return &VerifyCache{slots: make([]Signable, size), shift: 64 - bits}
}

// Reset forgets every message (for a run with another Keyring); it keeps
// the table.
func (c *VerifyCache) Reset() {
	clear(c.slots)
	clear(c.pps[:])
}

// Verify reports whether m carries its author's valid signature under kr
// (Keyring.Verify), answering from the cache for this very message if it
// verified before and remembering it if it verifies now. Its memory is the
// fixed table: a long run does not grow it.
func (c *VerifyCache) Verify(kr *Keyring, m Signable) bool {
	if c.has(m) {
		return true
	}
	if !kr.Verify(m) {
		return false
	}
	c.add(m)
	return true
}

type ifaceWords struct{ tab, data unsafe.Pointer }

func (c *VerifyCache) index(m Signable) (int, ifaceWords) {
	w := *(*ifaceWords)(unsafe.Pointer(&m))
	return int((uint64(uintptr(w.data)) * 0x9e3779b97f4a7c15) >> c.shift), w
}

// has reports whether m (this very message) verified before.
func (c *VerifyCache) has(m Signable) bool {
	i, w := c.index(m)
	s := c.slots[i]
	if s == nil {
		return false
	}
	v := *(*ifaceWords)(unsafe.Pointer(&s))
	return v == w && w.data != nil
}

// add remembers that m verified.
func (c *VerifyCache) add(m Signable) {
	i, _ := c.index(m)
	c.slots[i] = m
}

func (c *VerifyCache) ppIndex(pp *PrePrepare) int {
	return int((uint64(uintptr(unsafe.Pointer(pp))) * 0x9e3779b97f4a7c15) >> 58)
}

// validPP reports whether pp (this very message) was found valid before.
func (c *VerifyCache) validPP(pp *PrePrepare) bool {
	return pp != nil && c.pps[c.ppIndex(pp)] == pp
}

// addValidPP remembers that pp is valid.
func (c *VerifyCache) addValidPP(pp *PrePrepare) { c.pps[c.ppIndex(pp)] = pp }

// stateSum returns the SHA-256 of b, from the memo when b equals the last
// input (compared byte for byte, so the answer never depends on the memo),
// and remembers b (copied: callers reuse their buffers) and its digest.
// A nil cache hashes.
func (c *VerifyCache) stateSum(b []byte) Digest {
	if c == nil {
		return sha256.Sum256(b)
	}
	if c.stateIn != nil && bytes.Equal(b, c.stateIn) {
		return c.stateOut
	}
	c.stateOut = sha256.Sum256(b)
	c.stateIn = append(c.stateIn[:0], b...)
	return c.stateOut
}
