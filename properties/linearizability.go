package properties

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
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

func paymentOf(op string) string {
	o, err := ledger.ParseOp(op)
	if err != nil {
		return ""
	}
	return o.ID
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

// History returns the client operations seen so far as a porcupine history
// (call at submission, return at acceptance; never-accepted operations are
// pending until the end of time), plus the committed requests of faulty
// nodes as operations that may take effect at any time.
func (c *Checker) History() []porcupine.Operation {
	out := make([]porcupine.Operation, 0, len(c.subs))
	for _, s := range c.subs {
		op := porcupine.Operation{ClientId: int(s.req.Client), Input: s.req.Op, Call: int64(s.at)}
		if s.accepted {
			op.Output, op.Return = s.result, int64(s.acceptAt)
		} else {
			op.Output, op.Return = pendingOutput{}, math.MaxInt64
		}
		out = append(out, op)
	}
	// Requests in the committed log that no correct client submitted (a
	// faulty node's, in its own name) change the state too: they may take
	// effect at any time, with any result.
	seqs := make([]uint64, 0, len(c.log))
	for s := range c.log {
		seqs = append(seqs, s)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for _, s := range seqs {
		for _, e := range c.log[s] {
			if !e.present || e.null {
				continue
			}
			if _, ok := c.subIndex[mkCT(e.req.Client, e.req.Timestamp)]; ok {
				continue
			}
			out = append(out, porcupine.Operation{ClientId: int(e.req.Client), Input: e.req.Op, Call: 0,
				Output: pendingOutput{}, Return: math.MaxInt64})
		}
	}
	return out
}

// linearizable checks the client history per payment with porcupine.
// Partitions longer than MaxHistory are skipped; a timeout is not a
// violation.
func (c *Checker) linearizable() {
	if len(c.subs) == 0 {
		return
	}
	for _, part := range partitionByPayment(c.History()) {
		if len(part) > c.opts.MaxHistory {
			continue
		}
		accepted := false
		for _, op := range part {
			if _, p := op.Output.(pendingOutput); !p {
				accepted = true
				break
			}
		}
		if !accepted {
			continue
		}
		m := PaymentsModel
		m.Partition = nil
		res, seq := sequentialCheck(part)
		if !seq {
			res = porcupine.CheckOperationsTimeout(m, part, c.opts.LinearizabilityTimeout)
		}
		if res == porcupine.Illegal {
			var clients []sim.NodeID
			for _, op := range part {
				clients = appendUnique(clients, sim.NodeID(op.ClientId))
			}
			c.violate(Violation{Property: Linearizability, Replicas: clients, Time: c.end,
				Detail: fmt.Sprintf("the %d client operations on payment %q are not linearizable: %s", len(part), paymentOf(part[0].Input.(string)), describeOps(part))})
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
func sequentialCheck(ops []porcupine.Operation) (res porcupine.CheckResult, ok bool) {
	for i := range ops {
		if ops[i].Return < ops[i].Call || ops[i].Return == math.MaxInt64 {
			return porcupine.Unknown, false
		}
		_, in := ops[i].Input.(string)
		_, out := ops[i].Output.(string)
		if !in || !out {
			return porcupine.Unknown, false
		}
	}
	order := ops
	byCall := func(a, b porcupine.Operation) int { return cmp.Compare(a.Call, b.Call) }
	if !slices.IsSortedFunc(ops, byCall) {
		order = slices.Clone(ops)
		slices.SortStableFunc(order, byCall)
	}
	for i := 1; i < len(order); i++ {
		if order[i-1].Return >= order[i].Call {
			return porcupine.Unknown, false
		}
	}
	l := ledger.New()
	for _, op := range order {
		if l.Execute(op.Input.(string)) != op.Output.(string) {
			return porcupine.Illegal, true
		}
	}
	return porcupine.Ok, true
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
