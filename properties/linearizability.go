package properties

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/ledger"
)

// pendingOutput marks a client operation that was never accepted: any
// result (or none) is consistent with it.
type pendingOutput struct{}

// PaymentsModel is the porcupine model of the payments ledger. Operations
// are ledger operation strings; outputs are result strings (or a pending
// marker for operations never accepted). Histories are partitioned by
// payment id, since every operation touches exactly one payment. A state is
// the canonical snapshot of a ledger holding that one payment.
var PaymentsModel = porcupine.Model{
	Partition: partitionByPayment,
	Init:      func() interface{} { return "" },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		l := ledger.New()
		if s := state.(string); s != "" {
			if err := l.Restore([]byte(s)); err != nil {
				return false, state
			}
		}
		res := l.Execute(input.(string))
		next := string(l.Snapshot())
		if _, pending := output.(pendingOutput); pending {
			return true, next
		}
		return res == output.(string), next
	},
	Equal: func(a, b interface{}) bool { return a.(string) == b.(string) },
	DescribeOperation: func(input, output interface{}) string {
		if _, pending := output.(pendingOutput); pending {
			return fmt.Sprintf("%s -> (pending)", input)
		}
		return fmt.Sprintf("%s -> %s", input, output)
	},
}

// paymentOf returns the payment id of operation op ("" when op is
// malformed), as ledger.ParseOp finds it: without parsing when op has the
// canonical form (canonicalPayment).
func paymentOf(op string) string {
	if id, ok := canonicalPayment(op); ok {
		return id
	}
	o, err := ledger.ParseOp(op)
	if err != nil {
		return ""
	}
	return o.ID
}

// canonicalPayment returns the payment id of op when op is in the form the
// ledger's constructors write (ledger.Authorize, ...): a verb, one space,
// a valid id and, for authorize and refund, one space and a valid amount;
// ParseOp finds the same id in it. ok false: another form (malformed or
// not), for ParseOp to judge.
func canonicalPayment(op string) (id string, ok bool) {
	if len(op) > 256 {
		return "", false
	}
	var rest string
	amount := false
	switch {
	case strings.HasPrefix(op, "authorize "):
		rest, amount = op[len("authorize "):], true
	case strings.HasPrefix(op, "confirm "):
		rest = op[len("confirm "):]
	case strings.HasPrefix(op, "refund "):
		rest, amount = op[len("refund "):], true
	case strings.HasPrefix(op, "cancel "):
		rest = op[len("cancel "):]
	case strings.HasPrefix(op, "get "):
		rest = op[len("get "):]
	default:
		return "", false
	}
	n := 0
	for n < len(rest) && idByte(rest[n]) {
		n++
	}
	if n == 0 || n > ledger.MaxIDLen {
		return "", false
	}
	id, tail := rest[:n], rest[n:]
	if !amount || brokenFastPayment {
		return id, tail == "" || brokenFastPayment
	}
	// " " and 1..MaxAmount in decimal, no leading zero
	if len(tail) < 2 || len(tail) > 14 || tail[0] != ' ' || tail[1] == '0' {
		return "", false
	}
	v := int64(0)
	for i := 1; i < len(tail); i++ {
		c := tail[i]
		if c < '0' || c > '9' {
			return "", false
		}
		v = v*10 + int64(c-'0')
	}
	return id, v <= ledger.MaxAmount
}

// brokenFastPayment makes canonicalPayment take any text after the id
// (tests: TestPaymentOfMatchesParseOp must fail).
var brokenFastPayment = false

// idByte reports whether c may appear in a payment id ([A-Za-z0-9_.-]).
func idByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

func partitionByPayment(history []porcupine.Operation) [][]porcupine.Operation {
	by := map[string][]porcupine.Operation{}
	var keys []string
	for _, op := range history {
		k := paymentOf(op.Input.(string))
		if _, ok := by[k]; !ok {
			keys = append(keys, k)
		}
		by[k] = append(by[k], op)
	}
	sort.Strings(keys)
	out := make([][]porcupine.Operation, 0, len(keys))
	for _, k := range keys {
		out = append(out, by[k])
	}
	return out
}

// History returns the client operations not yet checked and dropped (see
// linsegment.go: the folded ones are checked during the run, segment by
// segment) as a porcupine history (call at submission, return at
// acceptance; never-accepted operations are pending until the end of
// time), plus the committed requests of faulty nodes not yet dropped as
// operations that may take effect at any time.
func (c *Checker) History() []porcupine.Operation {
	return operations(c.appendHistory(nil))
}

// linOp is one client operation of the history the linearizability check
// judges: porcupine.Operation without the interface boxing.
type linOp struct {
	client    int
	input     string
	output    string // "" when pending
	pending   bool   // never accepted: any result (or none) is consistent
	call, ret int64
	payment   string // paymentOf(input): the partition key
	carried   bool   // a faulty node's request of the folded log (see linsegment.go)
	// chain: the reference replay executed input for this request, with
	// output as its result, changing its payment's record from pre to post
	// (see refChain).
	chain     bool
	pre, post paySum
}

// operation returns op as a porcupine operation.
func (op *linOp) operation() porcupine.Operation {
	o := porcupine.Operation{ClientId: op.client, Input: op.input, Call: op.call, Output: op.output, Return: op.ret}
	if op.pending {
		o.Output = pendingOutput{}
	}
	return o
}

// operations returns ops as porcupine operations.
func operations(ops []linOp) []porcupine.Operation {
	out := make([]porcupine.Operation, len(ops))
	for i := range ops {
		out[i] = ops[i].operation()
	}
	return out
}

// appendHistory appends History's operations, as linOps, to out.
func (c *Checker) appendHistory(out []linOp) []linOp {
	out = c.foldedHistory(out) // the operations folded and not yet checked (compact.go)
	for _, s := range c.subs {
		op := linOp{client: int(s.req.Client), input: s.req.Op, call: int64(s.at)}
		if s.accepted {
			op.output, op.ret = s.result, int64(s.acceptAt)
		} else {
			op.pending, op.ret = true, math.MaxInt64
		}
		out = append(out, op)
	}
	// Requests in the committed log that no correct client submitted (a
	// faulty node's, in its own name) change the state too: they may take
	// effect at any time, with any result (those of the folded log are
	// carried by foldedHistory).
	seqs := c.log.appendKeys(c.seqScratch[:0])
	c.seqScratch = seqs
	for _, s := range seqs {
		entries, _ := c.log.get(s)
		for _, e := range entries {
			if !e.present || e.null {
				continue
			}
			if c.submittedReq(mkClientStamp(e.req.Client, e.req.Timestamp)) {
				continue
			}
			out = append(out, linOp{client: int(e.req.Client), input: e.req.Op, pending: true, ret: math.MaxInt64})
		}
	}
	return out
}

// linearizable checks, per payment, what the run did not check yet: the
// open segment, the unfolded operations and the faulty nodes' requests,
// from the states the checked segments can end in (linsegment.go). From a
// payment's initial state it decides with callOrderOps when that decides,
// otherwise with linSearch, and with porcupine when that search gives up;
// from later states with linSearch.exists. Partitions longer than
// MaxHistory are skipped; a porcupine timeout is not a violation.
func (c *Checker) linearizable() {
	t := &c.fold.req.pays
	if len(c.subs) == 0 && len(t.open) == 0 {
		return
	}
	hist := c.appendHistory(c.linOps[:0])
	c.linOps = hist
	// The partitions of partitionByPayment: by payment id, each in history
	// order (sorted through an index, the operations being large).
	idx := c.linIdx[:0]
	for i := range hist {
		hist[i].payment = paymentOf(hist[i].input)
		idx = append(idx, int32(i))
	}
	slices.SortFunc(idx, func(a, b int32) int {
		if c := cmp.Compare(hist[a].payment, hist[b].payment); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	c.linIdx = idx
	sorted := c.linSorted[:0]
	for _, i := range idx {
		sorted = append(sorted, hist[i])
	}
	c.linSorted = sorted
	// One ledger serves every partition from the initial state: each holds
	// the operations of one payment, and an operation reads and changes
	// only its own payment.
	var l *ledger.Ledger
	for len(sorted) > 0 {
		n := 1
		for n < len(sorted) && sorted[n].payment == sorted[0].payment {
			n++
		}
		part := sorted[:n]
		sorted = sorted[n:]
		id := part[0].payment
		var pl *payLin
		slot, held := t.find(id)
		if held {
			pl = t.slots[slot].pl
		}
		if pl == nil {
			pl = &payLin{}
			if held {
				pl.sum = t.slots[slot].sum
			}
		}
		if pl.sum.flags&(sumGaveUp|sumViolated) != 0 {
			continue // counted when given up or reported
		}
		// The carried operations last (linSearch.exists numbers them so).
		seg := c.linSeg[:0]
		for i := range part {
			if !part[i].carried {
				seg = append(seg, part[i])
			}
		}
		nSeg := len(seg)
		for i := range part {
			if part[i].carried {
				seg = append(seg, part[i])
			}
		}
		c.linSeg = seg
		decided := pl.sum.flags&sumDecided != 0
		if nSeg > c.opts.MaxHistory {
			c.linSkipped++
			if decided {
				c.linDecided--
			}
			continue
		}
		accepted := false
		for i := range seg[:nSeg] {
			if !seg[i].pending {
				accepted = true
				break
			}
		}
		if !accepted {
			continue
		}
		res := porcupine.Ok
		if pl.states == nil && pl.sum.st == 0 {
			// From the initial state (the carried operations are pending
			// operations like any other).
			if l == nil {
				l = ledger.New()
			}
			var ok bool
			res, ok = callOrderOps(seg, l, &c.linOrder)
			if !ok {
				res, ok = c.lin.search(seg)
			}
			if !ok {
				m := PaymentsModel
				m.Partition = nil
				res = porcupine.CheckOperationsTimeout(m, operations(seg), c.opts.LinearizabilityTimeout)
			}
		} else {
			starts := pl.startStates(id)
			found, ok := c.lin.exists(seg, len(seg)-nSeg, starts)
			switch {
			case !ok:
				res = porcupine.Unknown
			case !found:
				res = porcupine.Illegal
			}
		}
		switch res {
		case porcupine.Unknown:
			c.linUnknown++
			if decided {
				c.linDecided--
			}
		case porcupine.Illegal:
			if !held {
				slot = t.intern(id)
			}
			c.linViolation(slot, seg[:nSeg], pl, pl.startStates(id))
		default:
			if !decided {
				c.linDecided++
			}
		}
	}
}

// sequentialCheck decides a payments history whose operations are
// totally ordered in real time (each returns strictly before the next is
// called, none pending) without porcupine's search, goroutines and timer:
// its only linearization is the real-time order, so it is linearizable
// exactly when replaying that order on a new ledger gives every recorded
// result, which is the verdict porcupine reaches with PaymentsModel. ok is
// false when the history has concurrency (or is not of that model).
// linearizable decides these histories, and more, with callOrderOps.
func sequentialCheck(ops []porcupine.Operation) (res porcupine.CheckResult, ok bool) {
	lops := make([]linOp, len(ops))
	for i, op := range ops {
		in, okIn := op.Input.(string)
		out, okOut := op.Output.(string)
		if !okIn || !okOut {
			return porcupine.Unknown, false
		}
		lops[i] = linOp{client: op.ClientId, input: in, output: out, call: op.Call, ret: op.Return}
	}
	slices.SortStableFunc(lops, func(a, b linOp) int { return cmp.Compare(a.call, b.call) })
	if !sequential(lops) {
		return porcupine.Unknown, false
	}
	var scratch []linOp
	return callOrderOps(lops, ledger.New(), &scratch)
}

// sequential reports whether ops, sorted by call time, are none pending
// and each returns strictly before the next is called.
func sequential(order []linOp) bool {
	for j := range order {
		if order[j].pending || order[j].ret == math.MaxInt64 || order[j].ret < order[j].call || j > 0 && order[j-1].ret >= order[j].call {
			return false
		}
	}
	return true
}

// callOrderOps decides most payments histories without a search: the
// operations in the order of their calls (ties in history order) respect
// real time (an operation that returns before another is called is called
// before it), so when replaying them in that order on l gives every
// accepted result, that order is a linearization: the verdict is Ok, as
// porcupine's with PaymentsModel. When a result differs, the verdict is
// Illegal if the history is sequential (see sequentialCheck: that order is
// its only linearization) and undecided (ok false) otherwise. l may hold
// other payments (an operation reads and changes only its own); *scratch
// holds the sorted copy when ops is not sorted by call time. ok is also
// false when an operation returns before its call.
func callOrderOps(ops []linOp, l *ledger.Ledger, scratch *[]linOp) (res porcupine.CheckResult, ok bool) {
	for i := range ops {
		if ops[i].ret < ops[i].call {
			return porcupine.Unknown, false
		}
	}
	order := ops
	byCall := func(a, b linOp) int { return cmp.Compare(a.call, b.call) }
	if !slices.IsSortedFunc(ops, byCall) {
		order = append((*scratch)[:0], ops...)
		*scratch = order
		slices.SortStableFunc(order, byCall)
	}
	for i := range order {
		op := &order[i]
		if got := l.Execute(op.input); !op.pending && got != op.output {
			if !sequential(order) {
				return porcupine.Unknown, false
			}
			return porcupine.Illegal, true
		}
	}
	return porcupine.Ok, true
}

// maxSearchOps and maxSearchSteps bound linSearch: longer histories, and
// searches that execute more operations, are left to porcupine.
const (
	maxSearchOps   = 64
	maxSearchSteps = 1 << 14
)

// linSearch decides small payments histories with concurrency exactly as
// porcupine does with PaymentsModel (the Wing-Gong search with Lowe's
// memoisation of (linearized set, ledger snapshot)), single-threaded and
// without porcupine's goroutines, timer and boxing. Its memory is reused
// from one search to the next.
type linSearch struct {
	ops   []linOp
	l     *ledger.Ledger
	seen  map[linKey]struct{}
	steps int
	// ends and exists (linsegment.go)
	required uint64     // the operations every linearization holds (not pending)
	collect  bool       // every end state, not only one
	out      []linState // the end states found
}

// linKey is a memoised search state: the linearized operations (bit i:
// ops[i]) and the ledger snapshot after them.
type linKey struct {
	done  uint64
	state string
}

// emptySnapshot is the snapshot of a new ledger (PaymentsModel's "").
var emptySnapshot = ledger.New().Snapshot()

// search reports whether ops (one payment's operations, at most
// maxSearchOps) has a linearization: an order that respects real time (an
// operation that returns before another is called comes first) in which
// replaying every operation on a new ledger gives every accepted result
// (pending operations may have any result). An operation may be
// linearized next when it is called no later than every unlinearized
// operation returns (porcupine orders a call before a return at the same
// time). ok is false when the history is too long, has an operation that
// returns before its call, or the search took more than maxSearchSteps.
func (s *linSearch) search(ops []linOp) (res porcupine.CheckResult, ok bool) {
	// From the new ledger's state, nothing carried: a pending operation
	// that takes effect nowhere may as well take effect last (any result
	// is accepted), so a linearization of the accepted operations is one
	// of them all.
	found, ok := s.exists(ops, 0, []linState{{snap: string(emptySnapshot)}})
	switch {
	case !ok:
		return porcupine.Unknown, false
	case found:
		return porcupine.Ok, true
	}
	return porcupine.Illegal, true
}

func appendUnique(s []sim.NodeID, id sim.NodeID) []sim.NodeID {
	for _, x := range s {
		if x == id {
			return s
		}
	}
	return append(s, id)
}

func describeOps(ops []porcupine.Operation) string {
	out := ""
	for i, op := range ops {
		if i > 0 {
			out += "; "
		}
		ret := "pending"
		if op.Return != math.MaxInt64 {
			ret = sim.Time(op.Return).String()
		}
		out += fmt.Sprintf("c%d [%v, %s] %s", op.ClientId, time.Duration(op.Call), ret, PaymentsModel.DescribeOperation(op.Input, op.Output))
	}
	return out
}
