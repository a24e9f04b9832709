package pbft

import "iter"

// seqLog is a replica's message log: the entries by sequence number. Nearly
// all live entries lie in the watermark window (h, h+L], so it is a ring of
// slots indexed by seq modulo a power of two at least L+1, which makes a
// lookup an index and a compare instead of a map access; an entry whose
// slot holds another sequence number goes to a small overflow map. Nothing
// depends on the order of all, but it is deterministic anyway.
type seqLog struct {
	slots []*entry
	mask  uint64
	n     int
	over  map[uint64]*entry
}

// newSeqLog returns a log whose ring holds window+1 consecutive sequence
// numbers without overflow.
func newSeqLog(window int) seqLog {
	size := 8
	for size < window+1 {
		size *= 2
	}
	return seqLog{slots: make([]*entry, size), mask: uint64(size - 1)}
}

// get returns the entry of seq, or nil.
func (l *seqLog) get(seq uint64) *entry {
	if e := l.slots[seq&l.mask]; e != nil && e.seq == seq {
		return e
	}
	if l.over != nil {
		return l.over[seq]
	}
	return nil
}

// put stores e (with e.seq set) as the entry of its sequence number, which
// must not have one.
func (l *seqLog) put(e *entry) {
	l.n++
	if s := &l.slots[e.seq&l.mask]; *s == nil {
		*s = e
		return
	}
	if l.over == nil {
		l.over = make(map[uint64]*entry)
	}
	l.over[e.seq] = e
}

// del removes the entry of seq, if any.
func (l *seqLog) del(seq uint64) {
	if s := &l.slots[seq&l.mask]; *s != nil && (*s).seq == seq {
		*s = nil
		l.n--
		return
	}
	if _, ok := l.over[seq]; ok {
		delete(l.over, seq)
		l.n--
	}
}

// len returns the number of entries.
func (l *seqLog) len() int { return l.n }

// all yields every entry with its sequence number, in no particular order;
// the loop body may delete the entry it was given.
func (l *seqLog) all() iter.Seq2[uint64, *entry] {
	return func(yield func(uint64, *entry) bool) {
		for _, e := range l.slots {
			if e != nil && !yield(e.seq, e) {
				return
			}
		}
		for s, e := range l.over {
			if !yield(s, e) {
				return
			}
		}
	}
}
