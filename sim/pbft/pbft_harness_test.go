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

// hmsg is a message in flight in the harness.
type hmsg struct {
	from, to sim.NodeID
	msg      sim.Message
}

type htimer struct {
	node sim.NodeID
	id   sim.TimerID
	at   sim.Time
}

// nodeEvent is an event reported by a node.
type nodeEvent struct {
	node sim.NodeID
	at   sim.Time
	ev   sim.Event
}

// harness is a small deterministic delivery loop over sim.Node: messages are
// delivered FIFO with zero delay; when none is in flight, virtual time jumps
// to the earliest timer. Hooks can drop or intercept messages.
type harness struct {
	t        *testing.T
	now      sim.Time
	kr       *Keyring
	n, f     int
	nodes    []sim.Node
	replicas []*Replica
	clients  []*Client
	sms      []*logSM
	queue    []hmsg
	timers   map[[2]uint64]sim.Time
	crashed  []bool
	// drop, if set, is asked about every network send; true drops it.
	drop func(from, to sim.NodeID, m sim.Message) bool
	// sent counts network sends by message type name (drops included).
	sent   map[string]int
	events []nodeEvent
	out    sim.Output
	steps  int
	// timerLog records every timer operation.
	timerLog []struct {
		node sim.NodeID
		op   sim.TimerOp
	}
	// forwards records every NEW-VIEW send.
	forwards []hmsg
	// pick, if set, chooses which in-flight message to deliver next (index
	// into the queue), modelling reordering.
	pick func(n int) int
	// afterStep, if set, runs after every step.
	afterStep func()
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
	stores         bool // give every replica a stable store (crash kinds other than keep)
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
	h.crashed = make([]bool, len(h.nodes))
	return h
}

// start calls Start on every node.
func (h *harness) start() {
	for i, nd := range h.nodes {
		h.out.Reset()
		nd.Start(h.now, &h.out)
		h.apply(sim.NodeID(i))
	}
}

// inject puts a message in flight as if from sent it (not counted).
func (h *harness) inject(from, to sim.NodeID, m sim.Message) {
	h.queue = append(h.queue, hmsg{from, to, m})
}

func (h *harness) apply(from sim.NodeID) {
	for _, s := range h.out.Sends {
		if s.To == from {
			h.t.Fatalf("node %d sent %v to itself", from, s.Msg.Type())
		}
		h.sent[s.Msg.Type().String()]++
		if _, ok := s.Msg.(*NewView); ok {
			h.forwards = append(h.forwards, hmsg{from, s.To, s.Msg})
		}
		if h.drop != nil && h.drop(from, s.To, s.Msg) {
			continue
		}
		h.queue = append(h.queue, hmsg{from, s.To, s.Msg})
	}
	for _, op := range h.out.Timers {
		h.timerLog = append(h.timerLog, struct {
			node sim.NodeID
			op   sim.TimerOp
		}{from, op})
		key := [2]uint64{uint64(from), uint64(op.ID)}
		if op.Cancel {
			delete(h.timers, key)
		} else {
			h.timers[key] = h.now.Add(op.After)
		}
	}
	for _, e := range h.out.Events {
		h.events = append(h.events, nodeEvent{from, h.now, e})
	}
}

func (h *harness) step(to sim.NodeID, in sim.Input) {
	h.out.Reset()
	h.nodes[to].Step(h.now, in, &h.out)
	h.apply(to)
	h.steps++
	if h.afterStep != nil {
		h.afterStep()
	}
}

// deliverAll delivers in-flight messages until none is left.
func (h *harness) deliverAll() {
	for len(h.queue) > 0 {
		i := 0
		if h.pick != nil {
			i = h.pick(len(h.queue))
		}
		m := h.queue[i]
		if i == 0 {
			h.queue = h.queue[1:]
		} else {
			h.queue = append(h.queue[:i], h.queue[i+1:]...)
		}
		if h.crashed[m.to] {
			continue
		}
		h.step(m.to, sim.Input{Kind: sim.InputMessage, From: m.from, Msg: m.msg})
		if h.steps > 200_000_000 {
			h.t.Fatal("harness: too many steps")
		}
	}
}

// fireNext advances time to the earliest timer (before limit) and fires it.
func (h *harness) fireNext(limit sim.Time) bool {
	var best *htimer
	for k, at := range h.timers {
		c := htimer{sim.NodeID(k[0]), sim.TimerID(k[1]), at}
		if best == nil || c.at < best.at || c.at == best.at && (c.node < best.node || c.node == best.node && c.id < best.id) {
			cc := c
			best = &cc
		}
	}
	if best == nil || best.at > limit {
		return false
	}
	delete(h.timers, [2]uint64{uint64(best.node), uint64(best.id)})
	if best.at > h.now {
		h.now = best.at
	}
	if !h.crashed[best.node] {
		h.step(best.node, sim.Input{Kind: sim.InputTimer, Timer: best.id})
	}
	return true
}

// run delivers messages and fires timers until quiet or until virtual time
// would pass limit, or until stop returns true.
func (h *harness) run(limit time.Duration, stop func() bool) {
	end := sim.Time(limit)
	for {
		h.deliverAll()
		if stop != nil && stop() {
			return
		}
		if !h.fireNext(end) {
			return
		}
	}
}

func (h *harness) crash(id sim.NodeID) {
	h.crashed[id] = true
	for k := range h.timers {
		if sim.NodeID(k[0]) == id {
			delete(h.timers, k)
		}
	}
}

func (h *harness) recover(id sim.NodeID) { h.recoverKind(id, sim.CrashKeep) }

// recoverKind recovers id from a crash of kind k.
func (h *harness) recoverKind(id sim.NodeID, k sim.CrashKind) {
	h.crashed[id] = false
	h.step(id, sim.Input{Kind: sim.InputRecover, Crash: k})
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
