package properties

import "strings"

// confirmTable records, per payment, the seq at which each correct replica
// and the committed log first confirmed it (successfully), for the
// LedgerInvariant check that nothing confirms a payment twice. It holds
// one 24-byte record and the id per confirmed payment instead of a map per
// replica and one for the log: replicas normally confirm a payment at the
// same seq, so the record holds that seq and the set of replicas (ids
// below 64) that confirmed it there; a replica's first confirm at another
// seq goes to a side map.
type confirmTable struct {
	m     map[string]confirmRec
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

func (t *confirmTable) reset() {
	t.m, t.other = reuse(t.m), reuse(t.other)
}

// replica returns the seq at which replica r first confirmed payment id.
func (t *confirmTable) replica(r int, id string) (uint64, bool) {
	rec, ok := t.m[id]
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
	rec, ok := t.m[id]
	if !ok {
		id = strings.Clone(id) // not the operation it was cut from
	}
	if rec.seq == 0 {
		rec.seq = seq + 1
	}
	if rec.seq == seq+1 && r >= 0 && r < 64 {
		rec.mask |= 1 << r
	} else {
		t.other[confirmKey{strings.Clone(id), r}] = seq
	}
	t.m[id] = rec
}

// clearReplica forgets replica r's confirms (a wiped replica starts again).
func (t *confirmTable) clearReplica(r int) {
	if r >= 0 && r < 64 {
		for id, rec := range t.m {
			if rec.mask&(1<<r) != 0 {
				rec.mask &^= 1 << r
				t.m[id] = rec
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
	rec := t.m[id]
	if rec.ref == 0 {
		return 0, false
	}
	return rec.ref - 1, true
}

// setLog records the committed log's first confirm of id at seq.
func (t *confirmTable) setLog(id string, seq uint64) {
	rec, ok := t.m[id]
	if !ok {
		id = strings.Clone(id)
	}
	rec.ref = seq + 1
	t.m[id] = rec
}
