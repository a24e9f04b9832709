// Package workload generates deterministic payment workloads for the ledger
// state machine: for each client, the ordered list of operations it submits.
//
// Each payment belongs to exactly one client (payment i, counted from 0, goes
// to client i mod Clients), so a client issues a payment's operations in
// lifecycle order: authorize first, then confirm or cancel, then, for
// confirmed payments, zero or more refunds that never exceed what was
// captured. Executed in each client's order against one ledger, every
// operation is accepted (a "get" filler, emitted only when the mix allows no
// other operation, reads an existing payment). The same Config and rng state
// always give the same output.
package workload

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"

	"github.com/pbftsim/pbftsim/sim/ledger"
)

// Limits checked by Config.Validate.
const (
	MaxClients  = 10_000
	MaxRequests = 10_000_000
)

// Mix weighs the follow-up operations drawn after payments are authorized.
// Weights are relative (each in [0, 1]); a zero weight means that operation
// is never drawn. All zero means DefaultMix().
type Mix struct {
	Confirm float64
	Refund  float64
	Cancel  float64
}

// DefaultMix returns the mix used when Config.Mix is all zero:
// confirm 0.8, refund 0.1, cancel 0.1.
func DefaultMix() Mix { return Mix{Confirm: 0.8, Refund: 0.1, Cancel: 0.1} }

// IsZero reports whether every weight is zero (the default mix applies).
func (m Mix) IsZero() bool { return m == Mix{} }

// Config describes a workload.
type Config struct {
	Clients  int // clients issuing requests, 1..MaxClients
	Requests int // operations in total across clients, 1..MaxRequests
	Payments int // distinct payment ids, 1..Requests; 0 means ceil(Requests/2)
	Mix      Mix // all zero means DefaultMix()
}

// Validate reports the first field out of range, naming the field and the
// allowed range.
func (c Config) Validate() error {
	if c.Clients < 1 || c.Clients > MaxClients {
		return fmt.Errorf("workload: Clients must be in 1..%d, got %d", MaxClients, c.Clients)
	}
	if c.Requests < 1 || c.Requests > MaxRequests {
		return fmt.Errorf("workload: Requests must be in 1..%d, got %d", MaxRequests, c.Requests)
	}
	if c.Payments < 0 || c.Payments > c.Requests {
		return fmt.Errorf("workload: Payments must be 0 (default ceil(Requests/2)) or in 1..Requests (%d), got %d", c.Requests, c.Payments)
	}
	for _, w := range []struct {
		name string
		v    float64
	}{{"Mix.Confirm", c.Mix.Confirm}, {"Mix.Refund", c.Mix.Refund}, {"Mix.Cancel", c.Mix.Cancel}} {
		if math.IsNaN(w.v) || w.v < 0 || w.v > 1 {
			return fmt.Errorf("workload: %s must be in [0, 1], got %v", w.name, w.v)
		}
	}
	return nil
}

// PaymentCount returns the number of distinct payments the workload uses:
// Payments, or ceil(Requests/2) when Payments is 0.
func (c Config) PaymentCount() int {
	if c.Payments > 0 {
		return c.Payments
	}
	return (c.Requests + 1) / 2
}

// EffectiveMix returns Mix, or DefaultMix when Mix is all zero.
func (c Config) EffectiveMix() Mix {
	if c.Mix.IsZero() {
		return DefaultMix()
	}
	return c.Mix
}

// PaymentID returns the id of payment i (1-based) in a workload of n
// payments: "PAY" followed by i zero-padded to 3 digits, or to the width of
// n when n > 999, so that ids sort in numeric order.
func PaymentID(i, n int) string {
	width := len(strconv.Itoa(n))
	if width < 3 {
		width = 3
	}
	s := strconv.Itoa(i)
	for len(s) < width {
		s = "0" + s
	}
	return "PAY" + s
}

// An operation of a Plan packed in 64 bits: payment index (0-based) in the
// high 32 bits, the ledger.Kind in bits 28..31, the amount in cents (at most
// 100,000 here) in the low 28 bits.
type packed uint64

const (
	amountBits = 28
	amountMask = 1<<amountBits - 1
)

func pack(pay int, k ledger.Kind, amount int64) packed {
	return packed(uint64(pay)<<32 | uint64(k)<<amountBits | uint64(amount)&amountMask)
}

func (o packed) pay() int          { return int(o >> 32) }
func (o packed) kind() ledger.Kind { return ledger.Kind(o >> amountBits & 0xf) }
func (o packed) amount() int64     { return int64(o & amountMask) }

// life is one payment while the workload is being drawn.
type life struct {
	ops       []packed
	remaining int64 // captured but not yet refunded
}

// Plan is a generated workload stored compactly: 8 bytes per operation plus
// one id string per payment, each operation's text being formatted only when
// a client asks for it (Ops.Op). A Plan holds exactly the operations Generate
// returns for the same Config and rng state. It is read-only once built and
// safe for concurrent readers.
type Plan struct {
	ids     []string   // payment ids, index = payment number - 1
	clients [][]packed // per client, its operations in order
}

// NewPlan draws the workload c from r (see Generate for how). It returns nil
// when c is invalid (see Validate) or r is nil.
func NewPlan(c Config, r *rand.Rand) *Plan {
	if r == nil || c.Validate() != nil {
		return nil
	}
	n := c.PaymentCount()
	mix := c.EffectiveMix()
	pl := &Plan{ids: make([]string, n), clients: make([][]packed, c.Clients)}
	pays := make([]life, n)
	open := make([]int, n)   // authorized, neither confirmed nor cancelled
	refundable := []int(nil) // captured with remaining > 0
	for i := range pays {
		pl.ids[i] = PaymentID(i+1, n)
		amount := 100 * (1 + r.Int64N(1000))
		pays[i].ops = append(pays[i].ops, pack(i, ledger.KindAuthorize, amount))
		pays[i].remaining = amount // authorized amount until captured
		open[i] = i
	}
	take := func(s *[]int) int {
		j := r.IntN(len(*s))
		p := (*s)[j]
		last := len(*s) - 1
		(*s)[j] = (*s)[last]
		*s = (*s)[:last]
		return p
	}
	const (
		kConfirm = iota
		kCancel
		kRefund
	)
	weight := [3]float64{mix.Confirm, mix.Cancel, mix.Refund}
	total := weight[0] + weight[1] + weight[2]
	for k := n; k < c.Requests; k++ {
		drawn := kRefund
		if x := r.Float64() * total; x < weight[kConfirm] {
			drawn = kConfirm
		} else if x < weight[kConfirm]+weight[kCancel] {
			drawn = kCancel
		}
		kind := -1
		for _, cand := range [4]int{drawn, kConfirm, kCancel, kRefund} {
			if weight[cand] <= 0 {
				continue
			}
			if (cand == kRefund && len(refundable) > 0) || (cand != kRefund && len(open) > 0) {
				kind = cand
				break
			}
		}
		switch kind {
		case kConfirm:
			i := take(&open)
			p := &pays[i]
			p.ops = append(p.ops, pack(i, ledger.KindConfirm, 0))
			refundable = append(refundable, i)
		case kCancel:
			i := take(&open)
			p := &pays[i]
			p.ops = append(p.ops, pack(i, ledger.KindCancel, 0))
		case kRefund:
			j := r.IntN(len(refundable))
			i := refundable[j]
			p := &pays[i]
			amount := p.remaining
			if r.IntN(2) == 0 {
				amount = 1 + r.Int64N(p.remaining)
			}
			p.ops = append(p.ops, pack(i, ledger.KindRefund, amount))
			p.remaining -= amount
			if p.remaining == 0 {
				refundable[j] = refundable[len(refundable)-1]
				refundable = refundable[:len(refundable)-1]
			}
		default:
			i := r.IntN(n)
			p := &pays[i]
			p.ops = append(p.ops, pack(i, ledger.KindGet, 0))
		}
	}
	// Interleave each client's payments, keeping each payment's order.
	for cl := range pl.clients {
		var mine []*life
		count := 0
		for i := cl; i < n; i += c.Clients {
			mine = append(mine, &pays[i])
			count += len(pays[i].ops)
		}
		ops := make([]packed, 0, count)
		for len(mine) > 0 {
			j := r.IntN(len(mine))
			p := mine[j]
			ops = append(ops, p.ops[0])
			p.ops = p.ops[1:]
			if len(p.ops) == 0 {
				mine[j] = mine[len(mine)-1]
				mine = mine[:len(mine)-1]
			}
		}
		pl.clients[cl] = ops
	}
	return pl
}

// Clients returns the number of clients of the plan.
func (p *Plan) Clients() int { return len(p.clients) }

// PaymentIDs returns the sorted ids of the plan's payments (every payment
// is authorized by some client, so these are the ids its operations use).
func (p *Plan) PaymentIDs() []string { return append([]string(nil), p.ids...) }

// Client returns client i's operations (0-based), or an empty Ops when i is
// out of range.
func (p *Plan) Client(i int) Ops {
	if i < 0 || i >= len(p.clients) {
		return Ops{}
	}
	return Ops{ids: p.ids, ops: p.clients[i]}
}

// Ops is one client's operations in a Plan. The zero value is empty.
type Ops struct {
	ids []string
	ops []packed
}

// Len returns the number of operations.
func (o Ops) Len() int { return len(o.ops) }

// Op returns the text of operation i (0 <= i < Len()), formatted on each
// call.
func (o Ops) Op(i int) string {
	x := o.ops[i]
	id := o.ids[x.pay()]
	switch x.kind() {
	case ledger.KindAuthorize:
		return ledger.Authorize(id, x.amount())
	case ledger.KindConfirm:
		return ledger.Confirm(id)
	case ledger.KindCancel:
		return ledger.Cancel(id)
	case ledger.KindRefund:
		return ledger.Refund(id, x.amount())
	default:
		return ledger.Get(id)
	}
}

// Strings returns all operations as text.
func (o Ops) Strings() []string {
	out := make([]string, o.Len())
	for i := range out {
		out[i] = o.Op(i)
	}
	return out
}

// Generate returns, for each of c.Clients clients, its ordered operations;
// there are exactly c.Requests operations in total. First every payment is
// authorized (amounts are whole currency units, 1.00 to 1000.00); the other
// Requests - payments operations are drawn one by one from the mix: confirm
// or cancel pick a uniformly random authorized payment, refund picks a random
// captured payment with money left (half the time refunding all that is
// left, otherwise a random part). A drawn kind with no eligible payment falls
// back to another kind of positive weight (order confirm, cancel, refund),
// and to "get" of a random payment when none is possible. Finally each
// client's payments are interleaved at random, keeping every payment's own
// order. Generate returns nil when c is invalid (see Validate) or r is nil.
// NewPlan draws the same workload and keeps it compact (8 bytes per
// operation); prefer it for large runs.
func Generate(c Config, r *rand.Rand) [][]string {
	p := NewPlan(c, r)
	if p == nil {
		return nil
	}
	out := make([][]string, p.Clients())
	for i := range out {
		out[i] = p.Client(i).Strings()
	}
	return out
}

// PaymentIDs returns the sorted distinct payment ids that appear in ops,
// skipping malformed operations.
func PaymentIDs(ops [][]string) []string {
	seen := make(map[string]bool)
	var ids []string
	for _, client := range ops {
		for _, op := range client {
			o, err := ledger.ParseOp(op)
			if err != nil || seen[o.ID] {
				continue
			}
			seen[o.ID] = true
			ids = append(ids, o.ID)
		}
	}
	sort.Strings(ids)
	return ids
}
