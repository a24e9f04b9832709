package pbft

import "fmt"

// Invariant assertions (in the spirit of TigerBeetle's replica asserts):
// after every step of a replica that follows the paper's rules, checkInvariants
// panics if one of these does not hold:
//   - log window: every log entry's sequence number is in (h, h+L];
//   - watermarks: h is a multiple of K, h <= the last assigned sequence
//     number, and h <= the last executed one unless a state transfer is
//     under way (a stable checkpoint adopted from a proof before its state);
//   - view monotonicity: the view never decreases;
//   - one digest per (v, n): a replica never holds two PRE-PREPAREs with
//     different digests for one (view, sequence number);
//   - executed prefix: the last executed sequence number never decreases,
//     and a log entry is marked executed exactly when it is at or below it.
//
// They are on in this package's tests (invariants_test.go) and in any build
// with -tags invariants (make test runs sim/pbft and sim/cluster so); they
// cost nothing otherwise. A broken variant breaks some of them on purpose,
// so they are not asserted for one.
var invariantsOn = invariantsTag

// invariantState is what the assertions remember between steps.
type invariantState struct {
	view, lastExec uint64
	digests        map[[2]uint64]Digest // (view, seq) -> PRE-PREPARE digest held, above h
}

func (r *Replica) checkInvariants() {
	if !invariantsOn || r.broken {
		return
	}
	if r.inv == nil {
		r.inv = &invariantState{digests: map[[2]uint64]Digest{}}
	}
	fail := func(format string, a ...any) {
		panic(fmt.Sprintf("pbft: replica %d broke an invariant: %s (%v)", r.id, fmt.Sprintf(format, a...), r))
	}
	inv := r.inv
	if r.view < inv.view {
		fail("view went from %d back to %d", inv.view, r.view)
	}
	if r.lastExec < inv.lastExec {
		fail("last executed went from %d back to %d", inv.lastExec, r.lastExec)
	}
	inv.view, inv.lastExec = r.view, r.lastExec
	if r.h%r.k != 0 || r.seq < r.h || (r.lastExec < r.h && !r.fetching) {
		fail("watermarks: h=%d (K=%d), last assigned %d, last executed %d, fetching %v", r.h, r.k, r.seq, r.lastExec, r.fetching)
	}
	if r.log.len() > int(r.l) {
		fail("log holds %d entries, window L=%d", r.log.len(), r.l)
	}
	for s, e := range r.log.all() {
		if s != e.seq || !r.inWindow(s) {
			fail("log entry %d outside (h, h+L] = (%d, %d]", s, r.h, r.h+r.l)
		}
		if e.executed != (s <= r.lastExec) && s > r.h {
			fail("entry %d executed=%v with last executed %d", s, e.executed, r.lastExec)
		}
		if e.pp == nil {
			continue
		}
		key := [2]uint64{e.view, s}
		if d, ok := inv.digests[key]; ok && d != e.pp.Digest {
			fail("two PRE-PREPAREs for (view %d, seq %d): %v and %v", e.view, s, d, e.pp.Digest)
		}
		inv.digests[key] = e.pp.Digest
	}
	for key := range inv.digests {
		if key[1] <= r.h {
			delete(inv.digests, key)
		}
	}
}
