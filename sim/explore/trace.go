package explore

import "slices"

// Trace is the path of a world as the records of its transitions (with
// Options.Records): a handle that an incremental check (Options.Judge)
// keeps to recognise the path it judged last, so that it can judge a
// world reached from it by feeding only the last transition's records.
// Two Traces are equal exactly when they are the same path of one search
// (a Trace keeps its records alive). The zero Trace is no path.
type Trace struct{ c *recChain }

// Trace returns the records of w's path (the zero Trace without
// Options.Records).
func (w *World) Trace() Trace { return Trace{w.trace} }

// IsZero reports whether t is no path.
func (t Trace) IsZero() bool { return t.c == nil }

// Up returns the path without its last transition (the zero Trace for the
// initial world's).
func (t Trace) Up() Trace {
	if t.c == nil {
		return Trace{}
	}
	return Trace{t.c.up}
}

// Last returns the records of the path's last transition (of the initial
// world's creation for the initial world's path), with Seq 0. They are
// shared: the caller must not change them.
func (t Trace) Last() []Record {
	if t.c == nil {
		return nil
	}
	return t.c.recs
}

// Records appends the records of the whole path, from the initial world's,
// to buf[:0], numbering them (Seq) from 0, and returns it.
func (t Trace) Records(buf []Record) []Record {
	n := 0
	for c := t.c; c != nil; c = c.up {
		n += len(c.recs)
	}
	buf = append(buf[:0], make([]Record, n)...)
	for c, end := t.c, n; c != nil; c = c.up {
		end -= len(c.recs)
		copy(buf[end:], c.recs)
	}
	for i := range buf {
		buf[i].Seq = uint64(i)
	}
	return buf
}

// Parts appends the records of the path's transitions to dst[:0], one
// slice per transition from the initial world's creation on, and returns
// it: the path's records without copying them (Records copies and numbers
// them). They are shared, with Seq 0: the caller must not change them.
func (t Trace) Parts(dst [][]Record) [][]Record {
	dst = dst[:0]
	for c := t.c; c != nil; c = c.up {
		dst = append(dst, c.recs)
	}
	slices.Reverse(dst)
	return dst
}

// Judge is an incremental check of new worlds (see Options.Judge): it
// returns the violated property ("" when none) and a detail for w, whose
// path is t, exactly as Options.Check would for w and t.Records.
type Judge func(w *World, t Trace) (property, detail string)
