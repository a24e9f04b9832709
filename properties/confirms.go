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
// or at a seq too large to pack goes to a side map. The words are a slice,
// indexed through a map by payment id, so that a confirm looks its payment
// up once and changes the word in place. A payment id of at most
// shortIDLen bytes (the workload's ids) is the key itself, packed into 16
// bytes: no string is kept and the map holds no pointers, so the collector
// does not scan it; longer ids are kept as strings in a second map.
type confirmTable struct {
	short map[shortID]int32 // index in words
	long  map[string]int32  // index in words
	words []uint64
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
	t.words = t.words[:0]
}

// confirmAt is where a payment's confirm word is: its index in words
// (found false: it has none yet, i.e. the word 0).
type confirmAt struct {
	i     int32
	found bool
}

// find returns where id's confirm word is.
func (t *confirmTable) find(id string) confirmAt {
	var i int32
	var ok bool
	if k, short := shortOf(id); short {
		i, ok = t.short[k]
	} else {
		i, ok = t.long[id]
	}
	return confirmAt{i, ok}
}

// word returns the word at a (0: none).
func (t *confirmTable) word(a confirmAt) uint64 {
	if !a.found || brokenConfirmWord {
		return 0
	}
	return t.words[a.i]
}

// brokenConfirmWord makes the table forget every word (tests: the
// differential test must fail).
var brokenConfirmWord = false

// put sets id's word, at a as find returned it (a long id new to the table
// is cloned: the table must not keep alive the operation it was cut from).
func (t *confirmTable) put(id string, a confirmAt, w uint64) {
	if a.found {
		t.words[a.i] = w
		return
	}
	i := int32(len(t.words))
	t.words = append(t.words, w)
	if k, ok := shortOf(id); ok {
		t.short[k] = i
	} else {
		t.long[strings.Clone(id)] = i
	}
}

// replicaAt returns the seq at which replica r first confirmed payment id,
// whose word is at a.
func (t *confirmTable) replicaAt(r int, id string, a confirmAt) (uint64, bool) {
	w := t.word(a)
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
	t.setReplicaAt(r, id, seq, t.find(id))
}

// setReplicaAt is setReplica with id's word at a.
func (t *confirmTable) setReplicaAt(r int, id string, seq uint64, a confirmAt) {
	w := withSeq(t.word(a), seq)
	if s, ok := wordSeq(w); ok && s == seq && r >= 0 && r < packedReplicas {
		t.put(id, a, w|1<<r)
		return
	}
	if w != 0 {
		t.put(id, a, w)
	}
	t.other[confirmKey{strings.Clone(id), r}] = seq
}

// confirmReplica notes replica r's confirm of payment id at seq: it returns
// the seq of its earlier first confirm (twice true), or records this one as
// the first (replica, then setReplica, with one lookup of id).
func (t *confirmTable) confirmReplica(r int, id string, seq uint64) (first uint64, twice bool) {
	a := t.find(id)
	if s, ok := t.replicaAt(r, id, a); ok {
		return s, true
	}
	t.setReplicaAt(r, id, seq, a)
	return 0, false
}

// clearReplica forgets replica r's confirms (a wiped replica starts again).
func (t *confirmTable) clearReplica(r int) {
	if r >= 0 && r < packedReplicas {
		for i := range t.words {
			t.words[i] &^= 1 << r
		}
	}
	for k := range t.other {
		if k.r == r {
			delete(t.other, k)
		}
	}
}

// logAt returns the seq at which the committed log first confirmed id,
// whose word is at a.
func (t *confirmTable) logAt(id string, a confirmAt) (uint64, bool) {
	w := t.word(a)
	if s, ok := wordSeq(w); ok && w&logBit != 0 {
		return s, true
	}
	if len(t.log2) == 0 {
		return 0, false
	}
	s, ok := t.log2[id]
	return s, ok
}

// setLogAt records the committed log's first confirm of id, whose word is
// at a, at seq.
func (t *confirmTable) setLogAt(id string, seq uint64, a confirmAt) {
	w := withSeq(t.word(a), seq)
	if s, ok := wordSeq(w); ok && s == seq {
		t.put(id, a, w|logBit)
		return
	}
	if w != 0 {
		t.put(id, a, w)
	}
	t.log2[strings.Clone(id)] = seq
}

// confirmLog notes the committed log's confirm of id at seq: it returns the
// seq of its earlier first confirm (twice true), or records this one as the
// first (logAt, then setLogAt, with one lookup of id).
func (t *confirmTable) confirmLog(id string, seq uint64) (first uint64, twice bool) {
	a := t.find(id)
	if s, ok := t.logAt(id, a); ok {
		return s, true
	}
	t.setLogAt(id, seq, a)
	return 0, false
}
