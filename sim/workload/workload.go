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
	"slices"
	"sort"
	"strconv"
	"sync"

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
	Payments int // distinct payment ids, 1..Drawn(); 0 means ceil(Drawn()/2)
	Mix      Mix // all zero means DefaultMix()
	// DrawnFor, when above Requests, is the request count the workload is
	// drawn for: the operations are those of the workload of DrawnFor
	// requests, and each client issues only a prefix of its own (the
	// Requests shared among the clients as evenly as always). So shrinking
	// Requests with DrawnFor fixed keeps every client's first operations,
	// where shrinking Requests alone draws a different workload. 0 (or
	// Requests) means Requests: the workload as without the field.
	DrawnFor int
	// Issued, when not nil, is how many operations each client issues (a
	// prefix of its operations in the drawn workload, at most its share of
	// Drawn()); they must add up to Requests. nil shares Requests evenly.
	Issued []int
}

// Drawn returns the request count the workload is drawn for: DrawnFor, or
// Requests when DrawnFor is 0.
func (c Config) Drawn() int {
	if c.DrawnFor > 0 {
		return c.DrawnFor
	}
	return c.Requests
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
	if c.DrawnFor != 0 && (c.DrawnFor < c.Requests || c.DrawnFor > MaxRequests) {
		return fmt.Errorf("workload: DrawnFor must be 0 (the workload of Requests) or in Requests..%d (%d..%d), got %d", MaxRequests, c.Requests, MaxRequests, c.DrawnFor)
	}
	if c.Payments < 0 || c.Payments > c.Drawn() {
		return fmt.Errorf("workload: Payments must be 0 (default ceil(Requests/2)) or in 1..Requests (%d), got %d", c.Drawn(), c.Payments)
	}
	if c.Issued != nil {
		if len(c.Issued) != c.Clients {
			return fmt.Errorf("workload: Issued must name one count per client (%d), got %d", c.Clients, len(c.Issued))
		}
		sum := 0
		for j, m := range c.Issued {
			if d := share(j, c.Drawn(), c.Clients, c.PaymentCount()); m < 0 || m > d {
				return fmt.Errorf("workload: Issued[%d] must be in 0..%d (client %d's operations in the drawn workload), got %d", j, d, j, m)
			}
			sum += m
		}
		if sum != c.Requests {
			return fmt.Errorf("workload: Issued must add up to Requests (%d), got %d", c.Requests, sum)
		}
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
// IssuedCounts returns how many operations each client issues: Issued, or
// Requests shared evenly among the clients that own payments (as a Plan of
// c issues them). It returns nil when c is invalid.
func (c Config) IssuedCounts() []int {
	if c.Validate() != nil {
		return nil
	}
	if c.Issued != nil {
		return slices.Clone(c.Issued)
	}
	out := make([]int, c.Clients)
	for j := range out {
		out[j] = share(j, c.Requests, c.Clients, c.PaymentCount())
	}
	return out
}

// Payments, or ceil(Drawn()/2) when Payments is 0.
func (c Config) PaymentCount() int {
	if c.Payments > 0 {
		return c.Payments
	}
	return (c.Drawn() + 1) / 2
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
	var b [24]byte
	return string(appendPaymentID(b[:0], i, idWidth(n)))
}

// idWidth returns the digits of the ids in a workload of n payments.
func idWidth(n int) int {
	w := 1
	for ; n >= 10; n /= 10 {
		w++
	}
	return max(w, 3)
}

// appendPaymentID appends the id of payment i (1-based) whose digits are
// width wide (idWidth): "PAY" then i zero-padded.
func appendPaymentID(b []byte, i, width int) []byte {
	b = append(b, "PAY"...)
	var d [20]byte
	digits := strconv.AppendInt(d[:0], int64(i), 10)
	for k := len(digits); k < width; k++ {
		b = append(b, '0')
	}
	return append(b, digits...)
}

// PaymentIndex returns i when id is PaymentID(i, n) for some i in 1..n
// (ok false otherwise): the inverse of PaymentID.
func PaymentIndex(id []byte, n int) (i int, ok bool) {
	w := idWidth(n)
	if len(id) != 3+w || string(id[:3]) != "PAY" {
		return 0, false
	}
	for _, c := range id[3:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		i = i*10 + int(c-'0')
	}
	return i, i >= 1 && i <= n
}

// Plan is a workload whose operations are drawn lazily, client by client,
// as the clients ask for them: its memory is proportional to the payments,
// not to the requests. Payment i (0-based) belongs to client i mod
// Clients; the requests are shared among the clients that own payments as
// evenly as possible (see Config.clientRequests). Every client draws from
// its own random stream, seeded from the Plan's stream in client order, so
// a client's operations depend only on the seed and the Config. A Plan is
// read-only once built and safe for concurrent readers; each Ops it returns
// is a separate, stateful drawer (see Ops).
type Plan struct {
	c     Config
	n     int // payments
	mix   Mix
	seeds [][2]uint64 // per client, its stream's seed
}

// NewPlan prepares the workload c drawn from r (see Generate for how). It
// returns nil when c is invalid (see Validate) or r is nil.
func NewPlan(c Config, r *rand.Rand) *Plan {
	if r == nil || c.Validate() != nil {
		return nil
	}
	p := &Plan{c: c, n: c.PaymentCount(), mix: c.EffectiveMix(), seeds: make([][2]uint64, c.Clients)}
	p.c.Issued = slices.Clone(c.Issued) // read-only once built
	for i := range p.seeds {
		p.seeds[i] = [2]uint64{r.Uint64(), r.Uint64()}
	}
	return p
}

// clientPayments returns the number of payments client j owns (payments j,
// j+Clients, ...).
func (p *Plan) clientPayments(j int) int {
	if j >= p.n {
		return 0
	}
	return (p.n-1-j)/p.c.Clients + 1
}

// clientRequests returns the number of operations client j draws: the
// Drawn() requests shared evenly among the min(Clients, payments) clients
// that own payments, the first ones taking one more. It is at least
// clientPayments(j), because Payments <= Drawn().
func (p *Plan) clientRequests(j int) int { return p.share(j, p.c.Drawn()) }

// clientIssued returns the number of operations client j issues: Issued[j],
// or Requests shared the same way, at most clientRequests(j) (a share grows
// with the total).
func (p *Plan) clientIssued(j int) int {
	if p.c.Issued != nil {
		return p.c.Issued[j]
	}
	return p.share(j, p.c.Requests)
}

func (p *Plan) share(j, total int) int { return share(j, total, p.c.Clients, p.n) }

// share returns client j's share of total operations among the
// min(clients, payments) clients that own payments, the first ones taking
// one more.
func share(j, total, clients, payments int) int {
	k := min(clients, payments)
	if j >= k {
		return 0
	}
	r := total / k
	if j < total%k {
		r++
	}
	return r
}

// Clients returns the number of clients of the plan.
func (p *Plan) Clients() int { return len(p.seeds) }

// Payments returns the number of the plan's payments: their ids are
// PaymentID(i, Payments()) for i in 1..Payments().
func (p *Plan) Payments() int { return p.n }

// PaymentIDs returns the sorted ids of the plan's payments (every payment
// is authorized by its client, so these are the ids its operations use).
func (p *Plan) PaymentIDs() []string {
	ids := make([]string, p.n)
	for i := range ids {
		ids[i] = PaymentID(i+1, p.n)
	}
	return ids
}

// Client returns client i's operations (0-based), or an empty Ops when i is
// out of range. Each call returns a new drawer starting at the first
// operation.
func (p *Plan) Client(i int) Ops {
	if i < 0 || i >= len(p.seeds) {
		return Ops{}
	}
	return Ops{d: &drawer{plan: p, client: i, total: p.clientRequests(i)}, n: p.clientIssued(i)}
}

// Ops is one client's operations in a Plan, drawn on demand. The zero
// value is empty. An Ops is safe for concurrent use (calls are
// serialised: an explorer's parallel search shares it between workers).
// Operations are drawn in order, so asking for them in order (or for the
// last one again) is cheap, and asking for an earlier one draws the
// client's operations again from the start.
type Ops struct {
	d *drawer
	n int // operations issued: a prefix of the d.total drawn
}

// Len returns the number of operations.
func (o Ops) Len() int {
	if o.d == nil {
		return 0
	}
	return o.n
}

// Op returns the text of operation i (0 <= i < Len()).
func (o Ops) Op(i int) string {
	if i < 0 || i >= o.Len() {
		panic(fmt.Sprintf("workload: operation %d of %d", i, o.Len()))
	}
	return o.d.op(i)
}

// Strings returns all operations as text.
func (o Ops) Strings() []string {
	out := make([]string, o.Len())
	for i := range out {
		out[i] = o.Op(i)
	}
	return out
}

// Follow-up kinds drawn from the mix.
const (
	kConfirm = iota
	kCancel
	kRefund
)

// Payment states in a drawer.
const (
	payNew        = iota   // not yet touched: amount not drawn
	payOpen                // amount drawn, neither confirmed nor cancelled
	payClosed              // confirmed or cancelled
	payAuthorized = 1 << 7 // flag: its authorize has been emitted
)

// drawer draws one client's operations: the state of each of the client's
// payments (local index k is payment client + k*Clients), the open ones
// (neither confirmed nor cancelled), the refundable ones (captured, with
// money left), and a follow-up operation drawn but held back until its
// payment's authorize has been emitted.
type drawer struct {
	// mu serialises op: an explorer's parallel search shares one client's
	// Ops between the worlds its workers step (op i is a function of i
	// alone, whatever was drawn before, so the order of calls never
	// changes a result).
	mu         sync.Mutex
	plan       *Plan
	client     int
	total      int // operations of the client
	r          *rand.Rand
	next       int        // index of the next operation to draw
	last       string     // operation next-1
	pay        []payState // per payment
	open       []int32
	refundable []int32
	unauth     []int32 // payments whose authorize is not yet emitted
	followUps  int     // follow-ups not yet drawn
	held       string
	hasHeld    bool
}

// payState is what a drawer keeps of one payment, in 8 bytes, so that the
// random accesses of a draw find it in one cache line: its state (payNew,
// payOpen or payClosed, and payAuthorized) in the top 8 bits of v, its
// amount in the low 24 (the authorized amount, then the captured money not
// yet refunded: at most 100,000 cents), and its index in unauth (while
// its authorize is not yet emitted).
type payState struct {
	v   uint32
	pos int32
}

func (p *payState) state() uint8       { return uint8(p.v >> 24) }
func (p *payState) setState(st uint8)  { p.v = p.v&0xffffff | uint32(st)<<24 }
func (p *payState) amount() uint32     { return p.v & 0xffffff }
func (p *payState) setAmount(a uint32) { p.v = p.v&^0xffffff | a }

func (d *drawer) reset() {
	s := d.plan.seeds[d.client]
	d.r = rand.New(rand.NewPCG(s[0], s[1]))
	np := d.plan.clientPayments(d.client)
	d.next, d.last, d.hasHeld, d.held = 0, "", false, ""
	d.pay = make([]payState, np)
	d.open = make([]int32, np)
	for k := range d.open {
		d.open[k] = int32(k)
	}
	d.refundable = nil
	d.unauth = make([]int32, np)
	for k := range d.unauth {
		d.unauth[k], d.pay[k].pos = int32(k), int32(k)
	}
	d.followUps = d.total - np
}

func (d *drawer) op(i int) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.r == nil || i < d.next-1 {
		d.reset()
	}
	for d.next <= i {
		d.last = d.draw()
		d.next++
	}
	return d.last
}

// opText returns the text of the operation of kind on the client's
// payment k (with amount, for authorize and refund): what ledger.Authorize,
// Confirm, ... return for its id, built in one allocation.
func (d *drawer) opText(kind ledger.Kind, k int, amount int64) string {
	var a [64]byte
	b := append(a[:0], kind.String()...)
	b = append(b, ' ')
	b = appendPaymentID(b, d.client+k*d.plan.c.Clients+1, idWidth(d.plan.n))
	if kind == ledger.KindAuthorize || kind == ledger.KindRefund {
		b = append(b, ' ')
		b = strconv.AppendInt(b, amount, 10)
	}
	return string(b)
}

// touch draws payment k's amount when it is first used.
func (d *drawer) touch(k int) {
	if p := &d.pay[k]; p.state()&^payAuthorized == payNew {
		p.setAmount(uint32(100 * (1 + d.r.Int64N(1000))))
		p.setState(p.state()&payAuthorized | payOpen)
	}
}

// authorize emits payment k's authorize.
func (d *drawer) authorize(k int) string {
	d.touch(k)
	p := &d.pay[k]
	p.setState(p.state() | payAuthorized)
	j, last := p.pos, int32(len(d.unauth)-1)
	d.unauth[j] = d.unauth[last]
	d.pay[d.unauth[j]].pos = j
	d.unauth = d.unauth[:last]
	return d.opText(ledger.KindAuthorize, k, int64(p.amount()))
}

// draw returns the next operation. A held follow-up goes first; otherwise
// an authorize of a random payment not yet authorized is emitted with
// probability u/(u+followUps), u the payments not yet authorized, else the next
// follow-up is drawn, and if its payment is not yet authorized, the
// authorize is emitted and the follow-up held for the next operation.
func (d *drawer) draw() string {
	if d.hasHeld {
		d.hasHeld = false
		return d.held
	}
	if u := len(d.unauth); u > 0 && (d.followUps == 0 || d.r.IntN(u+d.followUps) < u) {
		return d.authorize(int(d.unauth[d.r.IntN(u)]))
	}
	k, op := d.followUp()
	d.followUps--
	if d.pay[k].state()&payAuthorized == 0 {
		d.held, d.hasHeld = op, true
		return d.authorize(k)
	}
	return op
}

// followUp draws a follow-up operation from the mix over the client's
// payments, as if all were authorized: confirm or cancel pick a random open
// payment, refund a random captured one with money left (half the time
// all that is left, otherwise a random part). A drawn kind with no
// eligible payment falls back to another kind of positive weight (order
// confirm, cancel, refund), and to "get" of a random payment when none is
// possible. It returns the payment and the operation.
func (d *drawer) followUp() (int, string) {
	mix := d.plan.mix
	weight := [3]float64{mix.Confirm, mix.Cancel, mix.Refund}
	total := weight[0] + weight[1] + weight[2]
	drawn := kRefund
	if x := d.r.Float64() * total; x < weight[kConfirm] {
		drawn = kConfirm
	} else if x < weight[kConfirm]+weight[kCancel] {
		drawn = kCancel
	}
	kind := -1
	for _, cand := range [4]int{drawn, kConfirm, kCancel, kRefund} {
		if weight[cand] <= 0 {
			continue
		}
		if (cand == kRefund && len(d.refundable) > 0) || (cand != kRefund && len(d.open) > 0) {
			kind = cand
			break
		}
	}
	take := func(s *[]int32) int {
		j := d.r.IntN(len(*s))
		p := (*s)[j]
		last := len(*s) - 1
		(*s)[j] = (*s)[last]
		*s = (*s)[:last]
		return int(p)
	}
	switch kind {
	case kConfirm:
		k := take(&d.open)
		d.touch(k)
		d.pay[k].setState(d.pay[k].state()&payAuthorized | payClosed)
		d.refundable = append(d.refundable, int32(k))
		return k, d.opText(ledger.KindConfirm, k, 0)
	case kCancel:
		k := take(&d.open)
		d.touch(k)
		d.pay[k].setState(d.pay[k].state()&payAuthorized | payClosed)
		return k, d.opText(ledger.KindCancel, k, 0)
	case kRefund:
		j := d.r.IntN(len(d.refundable))
		k := int(d.refundable[j])
		p := &d.pay[k]
		amount := int64(p.amount())
		if d.r.IntN(2) == 0 {
			amount = 1 + d.r.Int64N(amount)
		}
		p.setAmount(p.amount() - uint32(amount))
		if p.amount() == 0 {
			d.refundable[j] = d.refundable[len(d.refundable)-1]
			d.refundable = d.refundable[:len(d.refundable)-1]
		}
		return k, d.opText(ledger.KindRefund, k, amount)
	default:
		k := d.r.IntN(len(d.pay))
		d.touch(k)
		return k, d.opText(ledger.KindGet, k, 0)
	}
}

// Generate returns, for each of c.Clients clients, its ordered operations;
// there are exactly c.Requests operations in total. Payment i (0-based)
// belongs to client i mod Clients, and the requests are shared evenly among
// the clients that own payments. Each client draws from its own stream
// (seeded from r in client order): every one of its payments is authorized
// (amounts are whole currency units, 1.00 to 1000.00), and its other
// operations are follow-ups drawn one by one from the mix over its payments:
// confirm or cancel pick a uniformly random open payment, refund picks a
// random captured payment with money left (half the time refunding all that
// is left, otherwise a random part). A drawn kind with no eligible payment
// falls back to another kind of positive weight (order confirm, cancel,
// refund), and to "get" of a random payment when none is possible. The
// authorizes are spread among the follow-ups at random, each before its
// payment's first follow-up. Generate returns nil when c is invalid (see
// Validate) or r is nil. NewPlan draws the same workload lazily, in memory
// proportional to the payments; prefer it for large runs.
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
