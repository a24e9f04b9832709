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
// The payments live in a persistent (copy-on-write) hash trie: an operation
// copies the path to the payment it changes and shares the rest, so Freeze
// takes a frozen copy of the state in O(1) and Digest, a Merkle hash over
// the trie whose node hashes are cached, costs O(payments changed since the
// last Digest), not O(payments). Snapshot is a canonical binary encoding of
// all payments in trie order (by keyOf(id), then id); it is built only when
// asked for. Equal ledgers have equal snapshots and digests. Restore accepts
// exactly the canonical encodings (it validates ordering, varint
// minimality, states and amounts) and otherwise returns an error without
// changing the ledger.
package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
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

// payment is a record decoded (the trie keeps records encoded, see
// appendRecord). What was captured follows from the state (see captured).
type payment struct {
	id         string
	st         state
	authorized int64
	refunded   int64
}

// captured returns the amount captured: all of it once confirmed, else 0.
func (p *payment) captured() int64 {
	switch p.st {
	case stConfirmed, stPartiallyRefunded, stRefunded:
		return p.authorized
	}
	return 0
}

// Ledger is the payments state machine. New returns an empty one (the zero
// value also works as an empty ledger).
// A Ledger is not safe for concurrent use (the simulation is single-threaded)
// and must not be copied (use Freeze and Restore).
type Ledger struct {
	root  *node          // the payments (nil: none), a persistent trie (trie.go)
	count int            // payments in root
	ver   *version       // this state's version in a SnapshotCache (nil: unshared)
	cache *SnapshotCache // the cache of NewShared (nil: none)
	own   *owner         // an unshared ledger's mark on the nodes it may change in place (nil: none yet)

	buf    []byte   // scratch for hashing nodes
	rec    [96]byte // scratch for a record (put copies it)
	hashed int      // bytes Digest hashed, over the ledger's life (tests)
}

// New returns an empty ledger.
func New() *Ledger { return &Ledger{} }

// Execute applies op and returns its result (see the package comment for the
// exact forms). It is deterministic and never panics.
func (l *Ledger) Execute(op string) string {
	v := l.ver
	if v == nil {
		res, _ := l.execute(op)
		return res
	}
	if c := l.cache; c != nil && c.concurrent {
		// the versions' memos and the recent ring are the cache's
		// shared state (the tries themselves are immutable)
		c.mu.Lock()
		defer c.mu.Unlock()
	}
	// another ledger executed op in this state
	if v.op == op && v.res != "" {
		if n := v.next; n != nil {
			l.root, l.count, l.ver = n.root, n.count, n
			return v.res
		}
	} else if v.rop == op && v.rres != "" {
		return v.rres
	}
	res, changed := l.execute(op)
	if !changed {
		v.rop, v.rres = op, res
		return res
	}
	n := &version{root: l.root, count: l.count}
	l.ver = n
	if l.cache != nil { // else nothing would cut the link (see keep)
		v.op, v.res, v.next = op, res, n
		l.cache.keep(n)
	}
	return res
}

// execute applies op; changed reports whether the state changed.
func (l *Ledger) execute(op string) (res string, changed bool) {
	o, reason := parse(op)
	if reason != "" {
		return "error malformed " + reason, false
	}
	h := keyOf(o.ID)
	var s seek // the way to o.ID's slot: set puts the new record there
	s.find(l.root, h, o.ID)
	r := s.rec()
	if o.Kind == KindAuthorize {
		if r != nil {
			p := decodeRec(o.ID, r)
			return errResult(o.ID, "duplicate-authorize", &p), false
		}
		p := payment{id: o.ID, st: stAuthorized, authorized: o.Amount}
		l.set(&s, h, &p)
		return okResult(&p), true
	}
	if r == nil {
		return errResult(o.ID, "unknown-payment", nil), false
	}
	pv := decodeRec(o.ID, r)
	p := &pv
	q := pv // the new record, if valid
	switch o.Kind {
	case KindConfirm:
		switch p.st {
		case stCancelled:
			return errResult(o.ID, "confirm-cancelled", p), false
		case stConfirmed, stPartiallyRefunded, stRefunded:
			return errResult(o.ID, "double-confirm", p), false
		}
		q.st = stConfirmed
	case KindRefund:
		switch p.st {
		case stAuthorized, stCancelled:
			return errResult(o.ID, "refund-not-captured", p), false
		}
		if o.Amount > p.captured()-p.refunded {
			return errResult(o.ID, "refund-exceeds-captured", p), false
		}
		q.refunded += o.Amount
		if q.refunded == q.authorized {
			q.st = stRefunded
		} else {
			q.st = stPartiallyRefunded
		}
	case KindCancel:
		switch p.st {
		case stCancelled:
			return errResult(o.ID, "double-cancel", p), false
		case stConfirmed, stPartiallyRefunded, stRefunded:
			return errResult(o.ID, "cancel-captured", p), false
		}
		q.st = stCancelled
	case KindGet:
		return okResult(p), false
	}
	l.set(&s, h, &q) // copies q's path, or changes the ledger's own nodes in place
	return okResult(&q), true
}

// owner returns the mark of the nodes and records the ledger may change in
// place, making one if needed; nil for a shared ledger (in a
// SnapshotCache), whose states other ledgers hold.
func (l *Ledger) owner() *owner {
	if l.ver != nil {
		return nil
	}
	if l.own == nil {
		l.own = &owner{}
	}
	return l.own
}

// set puts p (whose key is h) in the ledger, new or in place of the record
// with its id; s is the way to its slot (seek.find on the ledger's trie).
func (l *Ledger) set(s *seek, h uint64, p *payment) {
	var added bool
	l.root, added = s.put(l.root, h, p.id, appendRecord(l.rec[:0], p), keyOf[[]byte], l.owner())
	if added {
		l.count++
	}
}

// find returns the record of payment id (ok false: none).
func (l *Ledger) find(id string) (p payment, ok bool) {
	r := get(l.root, keyOf(id), id)
	if r == nil {
		return payment{}, false
	}
	return decodeRec(id, r), true
}

// okResult formats "ok <id> <state> authorized=.. captured=.. refunded=..".
func okResult(p *payment) string {
	var b [160]byte
	buf := append(b[:0], "ok "...)
	buf = append(buf, p.id...)
	buf = append(buf, ' ')
	buf = append(buf, p.st.String()...)
	buf = appendAmounts(buf, p)
	return string(buf)
}

// errResult formats "error <id> <code> state=<state> authorized=.. ...".
func errResult(id, code string, p *payment) string {
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
	return string(buf)
}

func appendAmounts(buf []byte, p *payment) []byte {
	buf = append(buf, " authorized="...)
	buf = strconv.AppendInt(buf, p.authorized, 10)
	buf = append(buf, " captured="...)
	buf = strconv.AppendInt(buf, p.captured(), 10)
	buf = append(buf, " refunded="...)
	buf = strconv.AppendInt(buf, p.refunded, 10)
	return buf
}

// Digest returns the ledger's state digest: SHA-256 over
// "pbftsim-ledger/v2\n", uvarint(number of payments) and the Merkle hash of
// the payments' trie (see hashNode). Equal ledgers have equal digests (the
// trie's shape depends on the payments alone); a collision between unequal
// ledgers is a SHA-256 collision. Node hashes are cached in the immutable
// nodes, so a Digest hashes only the nodes built since the last one: the
// paths to the payments changed since, not the whole ledger.
func (l *Ledger) Digest() [32]byte {
	root := l.root
	if root == nil {
		root = &node{}
	}
	r := hashNode(root, &l.buf, &l.hashed, l.sumTable(), 0)
	b := append(l.buf[:0], snapshotMagic...)
	b = binary.AppendUvarint(b, uint64(l.count))
	b = append(b, r[:]...)
	l.buf = b
	return sha256.Sum256(b)
}

// sumTableMin is the number of payments from which the ledgers sharing a
// SnapshotCache read their top nodes' child hashes from the cache's
// sumTable: in a smaller ledger the few nodes below them stay in the
// processor's caches, and the table's 175 KB would be spent for nothing.
const sumTableMin = 2048

// sumTable returns the table of child hashes that Digest may use (nil:
// none): the SnapshotCache's, for a ledger sharing one (whose trie's nodes
// never change) of at least sumTableMin payments. An unshared ledger
// changes its own nodes in place, so a node's hash is not a lasting fact.
func (l *Ledger) sumTable() *sumTable {
	c := l.cache
	if l.ver == nil || c == nil || l.count < sumTableMin {
		return nil
	}
	if c.sums == nil {
		c.sums = new(sumTable)
	}
	return c.sums
}

// Payments returns a copy of every payment, sorted by id.
func (l *Ledger) Payments() []Payment {
	out := make([]Payment, 0, l.count)
	walk(l.root, func(r []byte) {
		p := decodeRec(string(recID(r)), r)
		out = append(out, Payment{ID: p.id, State: p.st.String(), Authorized: p.authorized, Captured: p.captured(), Refunded: p.refunded})
	})
	if len(out) > 1 {
		slices.SortFunc(out, func(a, b Payment) int { return strings.Compare(a.ID, b.ID) })
	}
	return out
}

// EachState calls f with every payment's id and state, in trie order (not
// by id). id is valid only during the call. It walks the trie once, where
// State per id would search it once per payment.
func (l *Ledger) EachState(f func(id []byte, state string)) {
	walk(l.root, func(r []byte) {
		id := recID(r)
		f(id, state(r[len(id)+1]).String())
	})
}

// Lookup returns payment id's record (ok false: no such payment).
func (l *Ledger) Lookup(id string) (p Payment, ok bool) {
	r, ok := l.find(id)
	if !ok {
		return Payment{}, false
	}
	return Payment{ID: r.id, State: r.st.String(), Authorized: r.authorized, Captured: r.captured(), Refunded: r.refunded}, true
}

// LookupCheck is Lookup and CheckPayment of payment id with one search of
// the trie: its record (ok false: no such payment) and what CheckPayment
// finds wrong with it (nil: nothing, or no such payment).
func (l *Ledger) LookupCheck(id string) (p Payment, ok bool, err error) {
	r, ok := l.find(id)
	if !ok {
		return Payment{}, false, nil
	}
	return Payment{ID: r.id, State: r.st.String(), Authorized: r.authorized, Captured: r.captured(), Refunded: r.refunded}, true, checkPayment(&r)
}

// Shares reports whether l and o hold their state in the same trie, so
// that it takes memory once (ledgers sharing a SnapshotCache that executed
// the same operations). Equal states built apart do not share.
func (l *Ledger) Shares(o *Ledger) bool { return l.root != nil && l.root == o.root }

// Len returns the number of payments.
func (l *Ledger) Len() int { return l.count }

// State returns the state of payment id and whether it exists.
func (l *Ledger) State(id string) (string, bool) {
	p, ok := l.find(id)
	if !ok {
		return "", false
	}
	return p.st.String(), true
}

// Totals returns the sums over all payments of the Authorized, Captured and
// Refunded amounts (cancelled payments included with their authorized amount).
func (l *Ledger) Totals() (authorized, captured, refunded int64) {
	walk(l.root, func(r []byte) {
		p := decodeRec("", r)
		authorized += p.authorized
		captured += p.captured()
		refunded += p.refunded
	})
	return authorized, captured, refunded
}

// CheckInvariants verifies that money is conserved and states match amounts:
// for every payment 0 <= refunded <= captured <= authorized <= MaxAmount, and
// authorized/cancelled have nothing captured, confirmed has captured the full
// amount and refunded nothing, partially-refunded has 0 < refunded < captured,
// refunded has refunded == captured. It also checks that the index (the
// trie) is well formed and canonical, every payment in its slot, and holds
// Len payments. The error names the first offending payment in trie order.
func (l *Ledger) CheckInvariants() error {
	if l.root == nil {
		if l.count != 0 {
			return fmt.Errorf("ledger: no payments but a count of %d", l.count)
		}
		return nil
	}
	var path []int
	n, err := checkNode(l.root, &path)
	if err == nil && n != l.count {
		err = fmt.Errorf("ledger: the index holds %d payments but the count is %d", n, l.count)
	}
	return err
}

// checkNode checks the trie below n, whose slots from the root are path,
// and the payments there, in trie order; it returns their number.
func checkNode(n *node, path *[]int) (int, error) {
	d := len(*path)
	if len(n.subs) != bits.OnesCount16(n.sub) || n.sub&^n.occ != 0 {
		return 0, fmt.Errorf("ledger: index node at depth %d: %d child nodes for slots %016b (nodes %016b)", d, len(n.subs), n.occ, n.sub)
	}
	total, off, ci := 0, 0, 0
	for s := range 16 {
		bit := uint16(1) << s
		if n.occ&bit == 0 {
			continue
		}
		*path = append(*path, s)
		if n.sub&bit != 0 {
			c, err := checkNode(n.subs[ci], path)
			if err != nil {
				return 0, err
			}
			if c < 2 {
				return 0, fmt.Errorf("ledger: index node at depth %d holds %d payments, want at least 2", d+1, c)
			}
			total += c
			ci++
		} else {
			r, err := nextRec(n.recs, off)
			if err != nil {
				return 0, fmt.Errorf("ledger: index node at depth %d, slot %d: %v", d, s, err)
			}
			off += len(r)
			id := recID(r)
			h := keyOf(id)
			for j, want := range *path {
				if nibble(h, id, j) != want {
					return 0, fmt.Errorf("ledger: payment %q indexed in the wrong slot at depth %d", id, j)
				}
			}
			p := decodeRec(string(id), r)
			if err := checkPayment(&p); err != nil {
				return 0, err
			}
			if !slices.Equal(appendRecord(nil, &p), r) {
				return 0, fmt.Errorf("ledger: payment %q: record %x is not canonical", id, r)
			}
			total++
		}
		*path = (*path)[:d]
	}
	if off != len(n.recs) {
		return 0, fmt.Errorf("ledger: index node at depth %d: %d bytes after its records", d, len(n.recs)-off)
	}
	return total, nil
}

// nextRec returns the record at off in b, checking that it is well formed
// (the trie's own records always are; this is CheckInvariants' guard).
func nextRec(b []byte, off int) ([]byte, error) {
	start := off
	if off >= len(b) || int(b[off]) > MaxIDLen || len(b)-off < int(b[off])+2 {
		return nil, fmt.Errorf("truncated or bad record at byte %d", start)
	}
	off += int(b[off]) + 2
	for range 3 {
		_, k := binary.Uvarint(b[off:])
		if k <= 0 {
			return nil, fmt.Errorf("bad varint in the record at byte %d", start)
		}
		off += k
	}
	return b[start:off], nil
}

// CheckPayment verifies CheckInvariants' conditions for payment id alone
// (nil when there is no such payment): all that an operation on id can
// break, since Execute changes one payment and keeps the index sound. A
// caller replaying operations checks the touched payment after each, in
// O(log payments) instead of CheckInvariants' O(payments).
func (l *Ledger) CheckPayment(id string) error {
	p, ok := l.find(id)
	if !ok {
		return nil
	}
	return checkPayment(&p)
}

// checkPayment validates one record's id, state and amounts.
func checkPayment(p *payment) error { return checkAmounts(p, p.captured()) }

// checkAmounts validates a record's id, state and amounts, with c captured
// (a snapshot states it; a record implies it).
func checkAmounts(p *payment, c int64) error {
	if !validID(p.id) {
		return fmt.Errorf("ledger: payment id %q: %s", p.id, reasonID)
	}
	a, r := p.authorized, p.refunded
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
