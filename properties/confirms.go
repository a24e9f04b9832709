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
// LedgerInvariant check that nothing confirms a payment twice. It holds
// one 24-byte record per confirmed payment instead of a map per replica
// and one for the log: replicas normally confirm a payment at the same
// seq, so the record holds that seq and the set of replicas (ids below 64)
// that confirmed it there; a replica's first confirm at another seq goes
// to a side map. A payment id of at most shortIDLen bytes (the workload's
// ids) is the key itself, packed into 16 bytes: no string is kept and the
// map holds no pointers, so the collector does not scan it; longer ids
// are kept as strings in a second map.
type confirmTable struct {
	short map[shortID]confirmRec
	long  map[string]confirmRec
	other map[confirmKey]uint64
}

// confirmRec is one payment's record: seq+1 (0: none) and the replicas
// (bit r) whose first confirm was at seq, and the committed log's seq+1
// (0: none).
type confirmRec struct {
	seq  uint64
	mask uint64
	ref  uint64
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
	t.short, t.long, t.other = reuse(t.short), reuse(t.long), reuse(t.other)
}

// get returns id's record.
func (t *confirmTable) get(id string) (confirmRec, bool) {
	if k, ok := shortOf(id); ok {
		rec, ok := t.short[k]
		return rec, ok
	}
	rec, ok := t.long[id]
	return rec, ok
}

// put sets id's record (isNew: id had none, so a long id is cloned: the
// table must not keep alive the operation it was cut from).
func (t *confirmTable) put(id string, rec confirmRec, isNew bool) {
	if k, ok := shortOf(id); ok {
		t.short[k] = rec
		return
	}
	if isNew {
		id = strings.Clone(id)
	}
	t.long[id] = rec
}

// replica returns the seq at which replica r first confirmed payment id.
func (t *confirmTable) replica(r int, id string) (uint64, bool) {
	rec, ok := t.get(id)
	if ok && r >= 0 && r < 64 && rec.mask&(1<<r) != 0 {
		return rec.seq - 1, true
	}
	if len(t.other) == 0 {
		return 0, false
	}
	s, ok := t.other[confirmKey{id, r}]
	return s, ok
}

// setReplica records replica r's first confirm of payment id at seq.
func (t *confirmTable) setReplica(r int, id string, seq uint64) {
	rec, ok := t.get(id)
	if rec.seq == 0 {
		rec.seq = seq + 1
	}
	if rec.seq == seq+1 && r >= 0 && r < 64 {
		rec.mask |= 1 << r
	} else {
		t.other[confirmKey{strings.Clone(id), r}] = seq
	}
	t.put(id, rec, !ok)
}

// clearReplica forgets replica r's confirms (a wiped replica starts again).
func (t *confirmTable) clearReplica(r int) {
	if r >= 0 && r < 64 {
		for id, rec := range t.short {
			if rec.mask&(1<<r) != 0 {
				rec.mask &^= 1 << r
				t.short[id] = rec
			}
		}
		for id, rec := range t.long {
			if rec.mask&(1<<r) != 0 {
				rec.mask &^= 1 << r
				t.long[id] = rec
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
	rec, _ := t.get(id)
	if rec.ref == 0 {
		return 0, false
	}
	return rec.ref - 1, true
}

// setLog records the committed log's first confirm of id at seq.
func (t *confirmTable) setLog(id string, seq uint64) {
	rec, ok := t.get(id)
	rec.ref = seq + 1
	t.put(id, rec, !ok)
}
