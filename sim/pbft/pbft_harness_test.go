package pbft

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// logSM is a tiny deterministic state machine: it appends ops to a log and
// returns how many ops it has executed. Its digest is a hash chain over the
// ops; a snapshot holds the count and the chain (ops lists only the ops
// executed since the last Restore).
type logSM struct {
	ops   []string
	count uint64
	chain [32]byte
}

func (s *logSM) Execute(op string) string {
	s.ops = append(s.ops, op)
	s.count++
	s.chain = sha256.Sum256(append(s.chain[:], op...))
	return strconv.FormatUint(s.count, 10)
}

func (s *logSM) Digest() [32]byte { return s.chain }

func (s *logSM) Freeze() Frozen      { return EncodedState(s.Snapshot()) }
func (s *logSM) Thaw(f Frozen) error { return s.Restore(f.Encode()) }

func (s *logSM) Snapshot() []byte {
	return append(binary.BigEndian.AppendUint64(nil, s.count), s.chain[:]...)
}

func (s *logSM) Restore(b []byte) error {
	if len(b) != 40 {
		return fmt.Errorf("logSM: snapshot of %d bytes, want 40", len(b))
	}
	s.count = binary.BigEndian.Uint64(b)
	copy(s.chain[:], b[8:])
	s.ops = nil
	return nil
}

// hmsg is a message between two nodes (a NEW-VIEW send, a deferred
// injection).
type hmsg struct {
	from, to sim.NodeID
	msg      sim.Message
}

// nodeEvent is an event reported by a node.
type nodeEvent struct {
	node sim.NodeID
	at   sim.Time
	ev   sim.Event
}

// harness runs replicas and clients on the real kernel (sim.New): the
// kernel's delivery rules, timers, crash semantics and network model, a
// constant zero delay unless hopts.delay says otherwise (so messages are
// delivered FIFO before any later timer). Each node is wrapped by an
// observer that records what it sends, reports and arms, for the tests'
// assertions; hooks can drop messages (a network filter), inject messages
// (the kernel's Inject) and look at every step.
type harness struct {
	t        *testing.T
	k        *sim.Kernel
	now      sim.Time // the time of the last step (or of advance)
	kr       *Keyring
	n, f     int
	nodes    []sim.Node // the protocol nodes (the kernel runs observers of them)
	replicas []*Replica
	clients  []*Client
	sms      []*logSM
	// timers holds each live timer's deadline, keyed by (node, timer id).
	timers map[[2]uint64]sim.Time
	// drop, if set, is asked about every network send; true drops it.
	drop func(from, to sim.NodeID, m sim.Message) bool
	// sent counts network sends by message type name (drops included).
	sent   map[string]int
	events []nodeEvent
	// out is what the last node step produced.
	out   sim.Output
	steps int
	// timerLog records every timer operation.
	timerLog []struct {
		node sim.NodeID
		op   sim.TimerOp
	}
	// forwards records every NEW-VIEW send.
	forwards []hmsg
	// afterStep, if set, runs after every node step.
	afterStep func()
	// afterDeliver, if set, runs after every step of a message input, with
	// the stepped node and its input.
	afterDeliver func(nd sim.Node, now sim.Time, in sim.Input)

	started    bool   // start was called: nodes run Start
	stepping   bool   // inside a kernel step (injections are deferred)
	injecting  bool   // a deferred injection is being sent (not filtered)
	deferred   []hmsg // injections made during a kernel step
	timerFires int    // timer inputs so far
}

type hopts struct {
	n, k, l, batch int
	clients        int
	ops            int
	variant        Variant
	vcTimeout      time.Duration
	clientTimeout  time.Duration
	batchTimeout   time.Duration
	interval       time.Duration
	// delay is every link's delay (zero: a constant 0); with a random
	// distribution, seed seeds the kernel's streams (reordering).
	delay  sim.Delay
	seed   uint64
	stores bool // give every replica a stable store (crash kinds other than keep)
}

func newHarness(t *testing.T, o hopts) *harness {
	t.Helper()
	if o.k == 0 {
		o.k = 100
	}
	if o.l == 0 {
		o.l = 2 * o.k
	}
	if o.batch == 0 {
		o.batch = 1
	}
	if o.vcTimeout == 0 {
		o.vcTimeout = 100 * time.Millisecond
	}
	if o.clientTimeout == 0 {
		o.clientTimeout = 150 * time.Millisecond
	}
	if o.batchTimeout == 0 {
		o.batchTimeout = 5 * time.Millisecond
	}
	f := (o.n - 1) / 3
	h := &harness{t: t, n: o.n, f: f, timers: map[[2]uint64]sim.Time{}, sent: map[string]int{}}
	h.kr = NewKeyring(42, o.n+o.clients)
	for i := 0; i < o.n; i++ {
		sm := &logSM{}
		var st *Store
		if o.stores {
			st = NewStore()
		}
		r, err := NewReplica(Config{ID: sim.NodeID(i), N: o.n, F: f, CheckpointInterval: o.k, Window: o.l,
			Batch: o.batch, BatchTimeout: o.batchTimeout, ViewChangeTimeout: o.vcTimeout, Keyring: h.kr, SM: sm, Variant: o.variant, Store: st})
		if err != nil {
			t.Fatal(err)
		}
		h.sms = append(h.sms, sm)
		h.replicas = append(h.replicas, r)
		h.nodes = append(h.nodes, r)
	}
	for c := 0; c < o.clients; c++ {
		id := sim.NodeID(o.n + c)
		ops := make([]string, o.ops)
		for i := range ops {
			ops[i] = fmt.Sprintf("c%d-op%d", id, i)
		}
		cl, err := NewClient(ClientConfig{ID: id, N: o.n, F: f, Ops: ops, Interval: o.interval, Timeout: o.clientTimeout, Variant: o.variant, Keyring: h.kr})
		if err != nil {
			t.Fatal(err)
		}
		h.clients = append(h.clients, cl)
		h.nodes = append(h.nodes, cl)
	}
	wrapped := make([]sim.Node, len(h.nodes))
	for i, nd := range h.nodes {
		wrapped[i] = &observer{h: h, id: sim.NodeID(i), inner: nd}
	}
	k, err := sim.New(sim.Config{Seed: o.seed, Nodes: wrapped,
		Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: o.delay}, Filters: []sim.Filter{harnessFilter{h}}}})
	if err != nil {
		t.Fatal(err)
	}
	h.k = k
	return h
}

// observer runs one node for the kernel and records its outputs in the
// harness. Until start is called, the node's Start is not run (a test
// then drives it only with the messages it injects).
type observer struct {
	h     *harness
	id    sim.NodeID
	inner sim.Node
}

func (o *observer) Start(now sim.Time, out *sim.Output) {
	if !o.h.started {
		return
	}
	o.h.record(o.id, now, out, func() { o.inner.Start(now, out) })
}

func (o *observer) Step(now sim.Time, in sim.Input, out *sim.Output) {
	h := o.h
	switch in.Kind {
	case sim.InputTimer:
		delete(h.timers, [2]uint64{uint64(o.id), uint64(in.Timer)})
		h.timerFires++
	case sim.InputRecover:
		h.clearTimers(o.id) // the kernel cancelled them all
	}
	h.record(o.id, now, out, func() { o.inner.Step(now, in, out) })
	h.steps++
	if h.steps > 200_000_000 {
		h.t.Fatal("harness: too many steps")
	}
	if h.afterStep != nil {
		h.afterStep()
	}
	if h.afterDeliver != nil && in.Kind == sim.InputMessage {
		h.afterDeliver(o.inner, now, in)
	}
}

// record runs step, which appends to out, and records what it appended.
func (h *harness) record(from sim.NodeID, now sim.Time, out *sim.Output, step func()) {
	h.now = now
	s0, t0, e0 := len(out.Sends), len(out.Timers), len(out.Events)
	step()
	h.out.Reset()
	for _, s := range out.Sends[s0:] {
		if s.To == from {
			h.t.Fatalf("node %d sent %v to itself", from, s.Msg.Type())
		}
		h.sent[s.Msg.Type().String()]++
		if _, ok := s.Msg.(*NewView); ok {
			h.forwards = append(h.forwards, hmsg{from, s.To, s.Msg})
		}
		h.out.Sends = append(h.out.Sends, s)
	}
	for _, op := range out.Timers[t0:] {
		h.timerLog = append(h.timerLog, struct {
			node sim.NodeID
			op   sim.TimerOp
		}{from, op})
		key := [2]uint64{uint64(from), uint64(op.ID)}
		if op.Cancel {
			delete(h.timers, key)
		} else {
			h.timers[key] = now.Add(op.After)
		}
		h.out.Timers = append(h.out.Timers, op)
	}
	for _, e := range out.Events[e0:] {
		h.events = append(h.events, nodeEvent{from, now, e})
		h.out.Events = append(h.out.Events, e)
	}
}

// harnessFilter asks the harness's drop hook about every network send.
type harnessFilter struct{ h *harness }

func (f harnessFilter) Filter(_ sim.Time, from, to sim.NodeID, m sim.Message) sim.Verdict {
	h := f.h
	return sim.Verdict{Drop: !h.injecting && h.drop != nil && h.drop(from, to, m)}
}

// start starts every node (Node.Start at time 0).
func (h *harness) start() {
	h.started = true
	h.k.Start()
}

// inject puts a message in flight as if from sent it (not counted in sent,
// not asked to the drop hook). Called from a hook during a step, it is sent
// right after that step.
func (h *harness) inject(from, to sim.NodeID, m sim.Message) {
	if h.stepping {
		h.deferred = append(h.deferred, hmsg{from, to, m})
		return
	}
	h.injecting = true
	err := h.k.Inject(from, to, m)
	h.injecting = false
	if err != nil {
		h.t.Fatal(err)
	}
}

// kstep runs one kernel step and sends the injections made during it.
func (h *harness) kstep() bool {
	h.stepping = true
	ok := h.k.Step()
	h.stepping = false
	for len(h.deferred) > 0 {
		m := h.deferred[0]
		h.deferred = h.deferred[1:]
		h.inject(m.from, m.to, m.msg)
	}
	if err := h.k.Err(); err != nil {
		h.t.Fatal(err)
	}
	return ok
}

// until steps the kernel while its next event is due at or before limit
// and more returns true.
func (h *harness) until(limit sim.Time, more func() bool) {
	h.k.SetMaxTime(max(limit, 1)) // 0 would mean no limit
	for more() && h.kstep() {
	}
	h.k.SetMaxTime(0)
}

// deliverAll delivers what is due now (with the default zero delay: every
// message in flight, and what they cause), firing no later timer.
func (h *harness) deliverAll() {
	h.until(h.k.Now(), func() bool { return true })
}

// fireNext runs the kernel until a timer due at or before limit has fired
// (delivering the messages due before it) and reports whether one did.
func (h *harness) fireNext(limit sim.Time) bool {
	fires := h.timerFires
	h.until(limit, func() bool { return h.timerFires == fires })
	return h.timerFires > fires
}

// advance moves time forward to at, delivering and firing what is due
// before it.
func (h *harness) advance(at time.Duration) {
	h.k.AdvanceTo(sim.Time(at))
	h.now = h.k.Now()
}

// run delivers messages and fires timers until quiet or until virtual time
// would pass limit, or until stop returns true (asked after every step).
func (h *harness) run(limit time.Duration, stop func() bool) {
	h.until(sim.Time(limit), func() bool { return stop == nil || !stop() })
}

// crash crashes node id now (the kernel's crash: its timers stop, messages
// to it are lost until it recovers).
func (h *harness) crash(id sim.NodeID) {
	if err := h.k.Crash(id); err != nil {
		h.t.Fatal(err)
	}
	h.until(sim.Time(1<<62), func() bool { return !h.k.Down(id) })
	h.clearTimers(id)
}

// recover recovers node id now (stepped with InputRecover).
func (h *harness) recover(id sim.NodeID) { h.recoverKind(id, sim.CrashKeep) }

// recoverKind recovers id from a crash of kind k.
func (h *harness) recoverKind(id sim.NodeID, k sim.CrashKind) {
	if err := h.k.RecoverAs(id, k); err != nil {
		h.t.Fatal(err)
	}
	h.until(sim.Time(1<<62), func() bool { return h.k.Down(id) })
}

func (h *harness) clearTimers(id sim.NodeID) {
	for k := range h.timers {
		if sim.NodeID(k[0]) == id {
			delete(h.timers, k)
		}
	}
}

func (h *harness) allDone() bool {
	for _, c := range h.clients {
		if !c.Done() {
			return false
		}
	}
	return true
}

// eventsOf returns the events named name, in order.
func (h *harness) eventsOf(name string) []nodeEvent {
	var out []nodeEvent
	for _, e := range h.events {
		if e.ev.Name() == name {
			out = append(out, e)
		}
	}
	return out
}

// executedLog returns replica id's executed (seq, index, op) entries.
func (h *harness) executedLog(id sim.NodeID) []string {
	var out []string
	for _, e := range h.events {
		if x, ok := e.ev.(*Executed); ok && e.node == id {
			out = append(out, fmt.Sprintf("%d.%d:%s", x.Seq, x.Index, x.Op))
		}
	}
	return out
}

// checkAgreement fails if two honest replicas executed different requests at
// the same (seq, index) or if honest replicas with equal LastExecuted have
// different state digests.
func (h *harness) checkAgreement(honest []sim.NodeID) {
	h.t.Helper()
	at := map[string]string{}
	for _, e := range h.events {
		x, ok := e.ev.(*Executed)
		if !ok || !contains(honest, e.node) {
			continue
		}
		k := fmt.Sprintf("%d.%d", x.Seq, x.Index)
		v := fmt.Sprintf("%v/%s/%d", x.Null, x.Op, x.Timestamp)
		if old, ok := at[k]; ok && old != v {
			h.t.Fatalf("agreement violated at %s: %s vs %s (replica %d)", k, old, v, e.node)
		}
		at[k] = v
	}
	byExec := map[uint64]Digest{}
	for _, id := range honest {
		r := h.replicas[id]
		d := r.StateDigest()
		if old, ok := byExec[r.LastExecuted()]; ok && old != d {
			h.t.Fatalf("replicas at seq %d have different state digests", r.LastExecuted())
		}
		byExec[r.LastExecuted()] = d
	}
}

func contains(ids []sim.NodeID, id sim.NodeID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func ids(from, to int) []sim.NodeID {
	var out []sim.NodeID
	for i := from; i < to; i++ {
		out = append(out, sim.NodeID(i))
	}
	return out
}

// counts formats the sent counters, sorted, for failure messages.
func (h *harness) counts() string {
	keys := make([]string, 0, len(h.sent))
	for k := range h.sent {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%d ", k, h.sent[k])
	}
	return b.String()
}
