package cluster

import (
	"iter"
	"strconv"

	"github.com/pbftsim/pbftsim/sim/ledger"
	"github.com/pbftsim/pbftsim/sim/workload"
)

// PaymentStates is each payment's state at the end of a run, in the ledger
// of the honest replicas that executed the most (Result.Payments): one of
// the ledger's states (ledger.StateAuthorized, ...), "diverged" when those
// replicas disagree, or "unknown" when none of them has the payment. The
// payments are the workload's, whose ids are workload.PaymentID(i, n) for
// i in 1..n, so it keeps one byte per payment, not a map entry. Its JSON
// form is the object {id: state} with the ids in order.
type PaymentStates struct {
	n  int
	st []uint8 // payment i+1's state: an index into stateNames
	// odd holds a state outside stateNames (a ledger's "invalid") by
	// payment index; st then holds oddState.
	odd map[int]string
}

// Payment states other than the ledger's.
const (
	StateUnknown  = "unknown"
	StateDiverged = "diverged"
)

var stateNames = [...]string{StateUnknown, StateDiverged, ledger.StateAuthorized, ledger.StateConfirmed,
	ledger.StatePartiallyRefunded, ledger.StateRefunded, ledger.StateCancelled}

const oddState = uint8(len(stateNames))

// newPaymentStates returns the states of n payments, all unknown.
func newPaymentStates(n int) PaymentStates { return PaymentStates{n: n, st: make([]uint8, n)} }

// set sets payment i's state (0-based).
func (p *PaymentStates) set(i int, state string) {
	for k, s := range stateNames {
		if s == state {
			p.st[i] = uint8(k)
			return
		}
	}
	if p.odd == nil {
		p.odd = map[int]string{}
	}
	p.st[i], p.odd[i] = oddState, state
}

// state returns payment i's state (0-based).
func (p PaymentStates) state(i int) string {
	if k := p.st[i]; k < oddState {
		return stateNames[k]
	}
	return p.odd[i]
}

// Len returns the number of payments.
func (p PaymentStates) Len() int { return len(p.st) }

// All yields every payment's id and state, in id order.
func (p PaymentStates) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for i := range p.st {
			if !yield(workload.PaymentID(i+1, p.n), p.state(i)) {
				return
			}
		}
	}
}

// Count returns the number of payments in state.
func (p PaymentStates) Count(state string) int {
	c := 0
	for i := range p.st {
		if p.state(i) == state {
			c++
		}
	}
	return c
}

// MarshalJSON encodes the states as encoding/json encodes a
// map[string]string of them: {"PAY001":"confirmed",...}, ids in order
// (null for the zero value, a Result never built).
func (p PaymentStates) MarshalJSON() ([]byte, error) {
	if p.st == nil {
		return []byte("null"), nil
	}
	b := make([]byte, 0, 2+len(p.st)*32)
	b = append(b, '{')
	for i := range p.st {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, workload.PaymentID(i+1, p.n))
		b = append(b, ':')
		b = strconv.AppendQuote(b, p.state(i))
	}
	return append(b, '}'), nil
}
