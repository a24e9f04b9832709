package properties

import (
	"strings"

	"github.com/pbftsim/pbftsim/sim/ledger"
)

// newRef returns the checker's reference ledger: sharing the replicas'
// states through c when it is set (Options.Ledgers).
func newRef(c *ledger.SnapshotCache) *ledger.Ledger {
	if c != nil {
		return ledger.NewShared(c)
	}
	return ledger.New()
}

// confirmTable records, per payment, the seq at which each correct replica
// and the committed log first confirmed it (successfully), for the
// LedgerInvariant check that nothing confirms a payment twice. Replicas and
// the log normally confirm a payment at the same seq, so one 8-byte word
// per payment holds that seq and who confirmed it there (confirmWord); a
// first confirm at another seq, by a replica id of packedReplicas or more
// or at a seq too large to pack goes to a side map. A payment id of at
// most shortIDLen bytes (the workload's ids) is the key itself, packed into
// 16 bytes: no string is kept and the map holds no pointers, so the
// collector does not scan it; longer ids are kept as strings in a second
// map.
type confirmTable struct {
	short map[shortID]uint64
	long  map[string]uint64
	other map[confirmKey]uint64 // replica r's first confirm seq, when not packed
	log2  map[string]uint64     // the log's first confirm seq, when not packed
}

// A confirm word packs: bits 0..22 the replicas (bit r) whose first
// confirm was at seq, bit 23 the committed log's first confirm was at seq,
// bits 24..63 seq+1 (0: none yet).
const (
	packedReplicas = 23
	logBit         = uint64(1) << packedReplicas
	seqShift       = 24
	maxPackedSeq   = uint64(1)<<(64-seqShift) - 2
)

// wordSeq returns the seq a confirm word holds (ok false: none).
func wordSeq(w uint64) (uint64, bool) {
	if w>>seqShift == 0 {
		return 0, false
	}
	return w>>seqShift - 1, true
}

// withSeq returns w holding seq when it holds none yet and seq packs.
func withSeq(w, seq uint64) uint64 {
	if w>>seqShift == 0 && seq <= maxPackedSeq {
		w |= (seq + 1) << seqShift
	}
	return w
}

type confirmKey struct {
	id string
	r  int
}

// shortIDLen is the longest id a shortID holds.
const shortIDLen = 15

// shortID is an id of at most shortIDLen bytes: its length, then its bytes
// padded with zeros (the length makes it injective whatever the bytes).
type shortID [shortIDLen + 1]byte

// shortOf returns id's shortID (ok false: id is longer than shortIDLen).
func shortOf(id string) (k shortID, ok bool) {
	if len(id) > shortIDLen {
		return k, false
	}
	k[0] = byte(len(id))
	copy(k[1:], id)
	return k, true
}

func (t *confirmTable) reset() {
	t.short, t.long, t.other, t.log2 = reuse(t.short), reuse(t.long), reuse(t.other), reuse(t.log2)
}

// get returns id's confirm word (0: none).
func (t *confirmTable) get(id string) uint64 {
	if k, ok := shortOf(id); ok {
		return t.short[k]
	}
	return t.long[id]
}

// put sets id's confirm word (a long id new to the table is cloned: the
// table must not keep alive the operation it was cut from).
func (t *confirmTable) put(id string, w uint64) {
	if k, ok := shortOf(id); ok {
		t.short[k] = w
		return
	}
	if _, ok := t.long[id]; !ok {
		id = strings.Clone(id)
	}
	t.long[id] = w
}

// replica returns the seq at which replica r first confirmed payment id.
func (t *confirmTable) replica(r int, id string) (uint64, bool) {
	w := t.get(id)
	if s, ok := wordSeq(w); ok && r >= 0 && r < packedReplicas && w&(1<<r) != 0 {
		return s, true
	}
	if len(t.other) == 0 {
		return 0, false
	}
	s, ok := t.other[confirmKey{id, r}]
	return s, ok
}

// setReplica records replica r's first confirm of payment id at seq.
func (t *confirmTable) setReplica(r int, id string, seq uint64) {
	w := withSeq(t.get(id), seq)
	if s, ok := wordSeq(w); ok && s == seq && r >= 0 && r < packedReplicas {
		t.put(id, w|1<<r)
		return
	}
	if w != 0 {
		t.put(id, w)
	}
	t.other[confirmKey{strings.Clone(id), r}] = seq
}

// clearReplica forgets replica r's confirms (a wiped replica starts again).
func (t *confirmTable) clearReplica(r int) {
	if r >= 0 && r < packedReplicas {
		for id, w := range t.short {
			if w&(1<<r) != 0 {
				t.short[id] = w &^ (1 << r)
			}
		}
		for id, w := range t.long {
			if w&(1<<r) != 0 {
				t.long[id] = w &^ (1 << r)
			}
		}
	}
	for k := range t.other {
		if k.r == r {
			delete(t.other, k)
		}
	}
}

// log returns the seq at which the committed log first confirmed id.
func (t *confirmTable) log(id string) (uint64, bool) {
	w := t.get(id)
	if s, ok := wordSeq(w); ok && w&logBit != 0 {
		return s, true
	}
	if len(t.log2) == 0 {
		return 0, false
	}
	s, ok := t.log2[id]
	return s, ok
}

// setLog records the committed log's first confirm of id at seq.
func (t *confirmTable) setLog(id string, seq uint64) {
	w := withSeq(t.get(id), seq)
	if s, ok := wordSeq(w); ok && s == seq {
		t.put(id, w|logBit)
		return
	}
	if w != 0 {
		t.put(id, w)
	}
	t.log2[strings.Clone(id)] = seq
}
