// Package ledger is the state machine PBFT replicates: an e-commerce payments
// ledger that authorizes, captures (confirms), refunds and cancels payments.
//
// # Operations
//
// Operations are human-readable strings (amounts in cents, see ParseOp):
//
//	authorize <id> <amount>   create a payment in state "authorized"
//	confirm <id>              capture the full authorized amount -> "confirmed"
//	refund <id> <amount>      refund part or all of what was captured (cumulative)
//	                          -> "partially-refunded" or "refunded"
//	cancel <id>               void an authorization that was not captured -> "cancelled"
//	get <id>                  read the payment; never changes state
//
// # Results
//
// Execute returns exactly one of these forms (fields separated by one space):
//
//	ok <id> <state> authorized=<a> captured=<c> refunded=<r>
//	error <id> <code> state=<state> authorized=<a> captured=<c> refunded=<r>
//	error malformed <reason>
//
// An "ok" result carries the state after the operation; an "error" result
// carries the unchanged state (state=none and zero amounts for an unknown id).
// A rejected operation never changes the ledger. Error codes:
//
//	duplicate-authorize      authorize of an id that already exists (in any state)
//	unknown-payment          confirm, refund, cancel or get of an id never authorized
//	double-confirm           confirm of a payment already captured
//	confirm-cancelled        confirm of a cancelled payment
//	refund-not-captured      refund of a payment that is authorized or cancelled
//	refund-exceeds-captured  refund larger than captured minus already refunded
//	cancel-captured          cancel of a payment already captured
//	double-cancel            cancel of a cancelled payment
//
// # Digest and snapshots
//
// Snapshot is a canonical binary encoding of all payments sorted by id;
// Digest is SHA-256 over it. Equal ledgers have equal snapshots and digests.
// Restore accepts exactly the canonical encodings (it validates ordering,
// varint minimality, states and amounts) and otherwise returns an error
// without changing the ledger.
package ledger

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Payment states as reported by Execute, State and Payments.
const (
	StateAuthorized        = "authorized"
	StateConfirmed         = "confirmed"
	StatePartiallyRefunded = "partially-refunded"
	StateRefunded          = "refunded"
	StateCancelled         = "cancelled"
)

// state is the compact in-memory and snapshot code of a payment state.
type state uint8

const (
	stAuthorized state = iota + 1
	stConfirmed
	stPartiallyRefunded
	stRefunded
	stCancelled
)

func (s state) String() string {
	switch s {
	case stAuthorized:
		return StateAuthorized
	case stConfirmed:
		return StateConfirmed
	case stPartiallyRefunded:
		return StatePartiallyRefunded
	case stRefunded:
		return StateRefunded
	case stCancelled:
		return StateCancelled
	}
	return "invalid"
}

// Payment is one payment's record. Amounts are in cents. A cancelled payment
// keeps the amount it was authorized for; Captured is either 0 or Authorized.
type Payment struct {
	ID         string
	State      string
	Authorized int64
	Captured   int64
	Refunded   int64
}

// payment is the internal record.
type payment struct {
	id         string
	st         state
	authorized int64
	captured   int64
	refunded   int64
}

// Ledger is the payments state machine. New returns an empty one (the zero
// value also works as an empty ledger).
// A Ledger is not safe for concurrent use (the simulation is single-threaded).
type Ledger struct {
	byID   map[string]*payment
	sorted []*payment // ascending by id

	digestOK bool // digest and snap describe the current state
	digest   [32]byte
	snap     []byte // Snapshot's encoding of the current state (shared, read-only)
	cache    *SnapshotCache
	ver      *version // the current state's version, shared with the cache's other ledgers (nil: none)
	changed  bool     // the last operation changed the state
}

// New returns an empty ledger.
func New() *Ledger {
	return &Ledger{byID: make(map[string]*payment)}
}

// Execute applies op and returns its result (see the package comment for the
// exact forms). It is deterministic and never panics.
func (l *Ledger) Execute(op string) string {
	l.changed = false
	res := l.execute(op)
	if l.changed && l.ver != nil {
		l.ver = l.ver.next(op)
	}
	return res
}

func (l *Ledger) execute(op string) string {
	o, reason := parse(op)
	if reason != "" {
		return "error malformed " + reason
	}
	p := l.byID[o.ID]
	if o.Kind == KindAuthorize {
		if p != nil {
			return l.errResult(o.ID, "duplicate-authorize", p)
		}
		p = &payment{id: strings.Clone(o.ID), st: stAuthorized, authorized: o.Amount}
		l.insert(p)
		return l.okResult(p)
	}
	if p == nil {
		return l.errResult(o.ID, "unknown-payment", nil)
	}
	switch o.Kind {
	case KindConfirm:
		switch p.st {
		case stCancelled:
			return l.errResult(o.ID, "confirm-cancelled", p)
		case stConfirmed, stPartiallyRefunded, stRefunded:
			return l.errResult(o.ID, "double-confirm", p)
		}
		p.st = stConfirmed
		p.captured = p.authorized
	case KindRefund:
		switch p.st {
		case stAuthorized, stCancelled:
			return l.errResult(o.ID, "refund-not-captured", p)
		}
		if o.Amount > p.captured-p.refunded {
			return l.errResult(o.ID, "refund-exceeds-captured", p)
		}
		p.refunded += o.Amount
		if p.refunded == p.captured {
			p.st = stRefunded
		} else {
			p.st = stPartiallyRefunded
		}
	case KindCancel:
		switch p.st {
		case stCancelled:
			return l.errResult(o.ID, "double-cancel", p)
		case stConfirmed, stPartiallyRefunded, stRefunded:
			return l.errResult(o.ID, "cancel-captured", p)
		}
		p.st = stCancelled
	case KindGet:
		return l.okResult(p)
	}
	l.digestOK, l.changed = false, true
	return l.okResult(p)
}

// insert adds a new payment, keeping sorted ordered by id.
func (l *Ledger) insert(p *payment) {
	if l.byID == nil {
		l.byID = make(map[string]*payment)
	}
	l.byID[p.id] = p
	l.digestOK, l.changed = false, true
	n := len(l.sorted)
	if n == 0 || l.sorted[n-1].id < p.id { // common case: ids arrive in order
		l.sorted = append(l.sorted, p)
		return
	}
	i := sort.Search(n, func(i int) bool { return l.sorted[i].id > p.id })
	l.sorted = append(l.sorted, nil)
	copy(l.sorted[i+1:], l.sorted[i:])
	l.sorted[i] = p
}

// okResult formats "ok <id> <state> authorized=.. captured=.. refunded=..".
func (l *Ledger) okResult(p *payment) string {
	var b [160]byte
	buf := append(b[:0], "ok "...)
	buf = append(buf, p.id...)
	buf = append(buf, ' ')
	buf = append(buf, p.st.String()...)
	buf = appendAmounts(buf, p)
	return l.result(buf)
}

// result returns buf as a string: the string another ledger sharing l's
// cache made of the same bytes last (replicas that agree execute the same
// operation on the same state one after the other), or a new one.
func (l *Ledger) result(buf []byte) string {
	c := l.cache
	if c == nil {
		return string(buf)
	}
	if c.lastResult == string(buf) { // compares without allocating
		return c.lastResult
	}
	c.lastResult = string(buf)
	return c.lastResult
}

// errResult formats "error <id> <code> state=<state> authorized=.. ...".
func (l *Ledger) errResult(id, code string, p *payment) string {
	var b [200]byte
	buf := append(b[:0], "error "...)
	buf = append(buf, id...)
	buf = append(buf, ' ')
	buf = append(buf, code...)
	buf = append(buf, " state="...)
	if p == nil {
		buf = append(buf, "none"...)
		buf = appendAmounts(buf, &payment{})
	} else {
		buf = append(buf, p.st.String()...)
		buf = appendAmounts(buf, p)
	}
	return l.result(buf)
}

func appendAmounts(buf []byte, p *payment) []byte {
	buf = append(buf, " authorized="...)
	buf = strconv.AppendInt(buf, p.authorized, 10)
	buf = append(buf, " captured="...)
	buf = strconv.AppendInt(buf, p.captured, 10)
	buf = append(buf, " refunded="...)
	buf = strconv.AppendInt(buf, p.refunded, 10)
	return buf
}

// Digest returns SHA-256 over Snapshot's canonical encoding. It is cached
// between state changes.
func (l *Ledger) Digest() [32]byte {
	l.fresh()
	return l.digest
}

// Payments returns a copy of every payment, sorted by id.
func (l *Ledger) Payments() []Payment {
	out := make([]Payment, len(l.sorted))
	for i, p := range l.sorted {
		out[i] = Payment{ID: p.id, State: p.st.String(), Authorized: p.authorized, Captured: p.captured, Refunded: p.refunded}
	}
	return out
}

// Len returns the number of payments.
func (l *Ledger) Len() int { return len(l.sorted) }

// State returns the state of payment id and whether it exists.
func (l *Ledger) State(id string) (string, bool) {
	p := l.byID[id]
	if p == nil {
		return "", false
	}
	return p.st.String(), true
}

// Totals returns the sums over all payments of the Authorized, Captured and
// Refunded amounts (cancelled payments included with their authorized amount).
func (l *Ledger) Totals() (authorized, captured, refunded int64) {
	for _, p := range l.sorted {
		authorized += p.authorized
		captured += p.captured
		refunded += p.refunded
	}
	return authorized, captured, refunded
}

// CheckInvariants verifies that money is conserved and states match amounts:
// for every payment 0 <= refunded <= captured <= authorized <= MaxAmount, and
// authorized/cancelled have nothing captured, confirmed has captured the full
// amount and refunded nothing, partially-refunded has 0 < refunded < captured,
// refunded has refunded == captured. It also checks the id index is sorted,
// unique and consistent. The error names the first offending payment.
func (l *Ledger) CheckInvariants() error {
	if len(l.byID) != len(l.sorted) {
		return fmt.Errorf("ledger: index has %d ids but sorted list has %d", len(l.byID), len(l.sorted))
	}
	for i, p := range l.sorted {
		if i > 0 && l.sorted[i-1].id >= p.id {
			return fmt.Errorf("ledger: payment ids not strictly ascending at %q after %q", p.id, l.sorted[i-1].id)
		}
		if l.byID[p.id] != p {
			return fmt.Errorf("ledger: payment %q missing from the id index", p.id)
		}
		if err := checkPayment(p); err != nil {
			return err
		}
	}
	return nil
}

// CheckPayment verifies CheckInvariants' conditions for payment id alone
// (nil when there is no such payment): all that an operation on id can
// break, since Execute changes one payment and keeps the index sorted. A
// caller replaying operations checks the touched payment after each, in
// O(1) instead of CheckInvariants' O(payments).
func (l *Ledger) CheckPayment(id string) error {
	p := l.byID[id]
	if p == nil {
		return nil
	}
	if p.id != id {
		return fmt.Errorf("ledger: payment %q indexed under %q", p.id, id)
	}
	return checkPayment(p)
}

// checkPayment validates one record's id, state and amounts.
func checkPayment(p *payment) error {
	if !validID(p.id) {
		return fmt.Errorf("ledger: payment id %q: %s", p.id, reasonID)
	}
	a, c, r := p.authorized, p.captured, p.refunded
	if a < 1 || a > MaxAmount {
		return fmt.Errorf("ledger: payment %s: authorized=%d out of range 1..%d", p.id, a, MaxAmount)
	}
	if r < 0 || r > c || c > a {
		return fmt.Errorf("ledger: payment %s: money not conserved: want 0 <= refunded(%d) <= captured(%d) <= authorized(%d)", p.id, r, c, a)
	}
	var ok bool
	switch p.st {
	case stAuthorized, stCancelled:
		ok = c == 0 && r == 0
	case stConfirmed:
		ok = c == a && r == 0
	case stPartiallyRefunded:
		ok = c == a && r > 0 && r < c
	case stRefunded:
		ok = c == a && r == c
	default:
		return fmt.Errorf("ledger: payment %s: invalid state code %d", p.id, p.st)
	}
	if !ok {
		return fmt.Errorf("ledger: payment %s: state %s inconsistent with authorized=%d captured=%d refunded=%d", p.id, p.st, a, c, r)
	}
	return nil
}
