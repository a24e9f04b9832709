package properties

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/pbftsim/pbftsim/sim/ledger"
)

// TestRefOrdersMatchesSearch compares refOrders with linSearch on random
// segments of 2 to 4 operations of one payment with random call and return
// times, from random start states: results taken from executing the
// operations in a random order (some then corrupted), and reference-replay
// records (linOp.chain, pre, post) on about half of them, taken from that
// execution as the reference replay would take them. Whenever refOrders
// decides a segment, the search must find exactly one end state, that
// one; and refOrders must decide most segments with one end state. It
// fails when refOrders takes an order that breaks real time, accepts a
// wrong result, or trusts a record from another state. (The payments'
// results name the record they leave, so no two orders that give every
// result end in different states here: refOrders' test for that is not
// exercised.)
func TestRefOrdersMatchesSearch(t *testing.T) {
	const id = "PX"
	ops := []string{ledger.Authorize(id, 100), ledger.Authorize(id, 50), ledger.Confirm(id), ledger.Cancel(id),
		ledger.Refund(id, 30), ledger.Refund(id, 100), ledger.Get(id)}
	rng := rand.New(rand.NewPCG(3, 4))
	var c Checker
	var lin linSearch
	decided, single, multi, none := 0, 0, 0, 0
	for range 20000 {
		// the start state: a few operations on an empty ledger
		l := ledger.New()
		for range rng.IntN(4) {
			l.Execute(ops[rng.IntN(len(ops))])
		}
		start, ok := sumOf(l, id, paySum{})
		if !ok {
			continue
		}
		k := 2 + rng.IntN(3)
		seg := make([]linOp, k)
		for i := range seg {
			call := int64(rng.IntN(10))
			seg[i] = linOp{client: i, input: ops[rng.IntN(len(ops))], call: call, ret: call + int64(rng.IntN(7)), payment: id}
		}
		slices.SortStableFunc(seg, byCall)
		// results: the operations executed in a random order
		order := rng.Perm(k)
		ref := start.ledgerOf(id)
		for _, i := range order {
			pre, _ := sumOf(ref, id, paySum{})
			seg[i].output = ref.Execute(seg[i].input)
			post, ok := sumOf(ref, id, paySum{})
			if ok && rng.IntN(2) == 0 {
				seg[i].chain, seg[i].pre, seg[i].post = true, pre, post
			}
		}
		if rng.IntN(8) == 0 {
			// a result the reference replay did not give: no record
			// (chain holds only for the result the client accepted)
			i := rng.IntN(k)
			if out := ledger.New().Execute(ops[rng.IntN(len(ops))]); out != seg[i].output {
				seg[i].output, seg[i].chain = out, false
			}
		}
		// the search's end states
		ends, ok := lin.ends(seg, 0, []linState{{snap: string(start.ledgerOf(id).Snapshot())}})
		if !ok {
			t.Fatalf("search gave up on %+v", seg)
		}
		var want paySum
		exact := false
		if len(ends) == 1 {
			e := ledger.New()
			if err := e.Restore([]byte(ends[0].snap)); err != nil {
				t.Fatal(err)
			}
			want, exact = sumOf(e, id, start)
		}
		switch {
		case len(ends) == 0:
			none++
		case len(ends) == 1:
			single++
		default:
			multi++
		}
		pl := &payLin{sum: start}
		if !c.refOrders(id, seg, pl) {
			if pl.sum != start {
				t.Fatalf("refOrders changed the state without deciding")
			}
			continue
		}
		decided++
		if !exact || !sameState(pl.sum, want) {
			t.Fatalf("refOrders decided %+v from %+v (%d search end states, exact %v, want %+v) for %+v", pl.sum, start, len(ends), exact, want, seg)
		}
	}
	t.Logf("%d segments decided by refOrders; the search found one end state in %d, several in %d, none in %d", decided, single, multi, none)
	if decided < single*9/10 || none == 0 {
		t.Fatalf("%d decided, %d with one end state, %d with several, %d with none: the comparison shows little", decided, single, multi, none)
	}
}
