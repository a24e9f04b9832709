package pbft

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// This file is a rig for the rejection tests (reject_test.go): real replicas
// on the real kernel (sim.New), a few of them replaced by puppets, scripted
// Byzantine nodes that send, in their own network name, whatever messages a
// test builds (signed with any key of the keyring: the test plays an
// adversary that may replay any message a node ever signed). The rig
// records the target replica's state just before and just after the
// delivery of one marked message, and what it sent and reported in that
// step, so a test can tell whether the replica accepted the message.

// rigTarget is the honest replica the rejection tests talk to.
const rigTarget sim.NodeID = 1

// puppetNode is a scripted node: at each scripted time it sends the message
// the script builds then; it ignores everything it receives.
type puppetNode struct {
	script []scriptStep
}

// scriptStep is one send of a puppet.
type scriptStep struct {
	at   time.Duration
	to   sim.NodeID
	msg  func() sim.Message
	mark bool // the delivery whose reaction the rig observes
	sent sim.Message
}

func (p *puppetNode) Start(now sim.Time, out *sim.Output) {
	for i, s := range p.script {
		out.SetTimer(sim.TimerID(i+1), s.at)
	}
}

func (p *puppetNode) Step(now sim.Time, in sim.Input, out *sim.Output) {
	if in.Kind != sim.InputTimer {
		return
	}
	s := &p.script[in.Timer-1]
	s.sent = s.msg()
	out.Send(s.to, s.sent)
}

// reaction is what the target did with the marked message.
type reaction struct {
	delivered     bool
	before, after ReplicaState
	sends         []sim.Send
	events        []sim.Event
}

// changed reports whether the target's state moved or it sent or reported
// anything: a rejected message leaves no trace.
func (x *reaction) changed() bool {
	return !reflect.DeepEqual(x.before, x.after) || len(x.sends) > 0 || len(x.events) > 0
}

func (x *reaction) sent(t sim.MsgType) int {
	c := 0
	for _, s := range x.sends {
		if s.Msg.Type() == t {
			c++
		}
	}
	return c
}

func (x *reaction) reported(name string) bool {
	for _, e := range x.events {
		if e.Name() == name {
			return true
		}
	}
	return false
}

func (x *reaction) String() string {
	var b []string
	for _, s := range x.sends {
		b = append(b, fmt.Sprintf("%v->%d", s.Msg.Type(), s.To))
	}
	for _, e := range x.events {
		b = append(b, e.Name())
	}
	return fmt.Sprintf("delivered=%v sent/reported=%v\nbefore: %v\nafter:  %v", x.delivered, b, x.before, x.after)
}

// rigOpts configures a rig.
type rigOpts struct {
	n       int           // replicas (4 if 0)
	k, l    int           // checkpoint interval and window (4 and 8 if 0)
	puppets []sim.NodeID  // replica ids played by puppets (n-1 if empty)
	clients int           // client ids n..n+clients-1 are puppets too (2 if 0)
	crashes []sim.Crash   // crashes of honest nodes
	timeout time.Duration // replicas' view-change timeout (100ms if 0)
	variant Variant
}

// rig is one run: replicas, puppets, the kernel and the observer.
type rig struct {
	t       *testing.T
	n, f    int
	k, l    uint64
	kr      *Keyring
	reps    []*Replica // nil for puppets
	puppets map[sim.NodeID]*puppetNode
	kern    *sim.Kernel
	opts    rigOpts

	rx        reaction
	observing bool
	// sentBy counts the target's network sends by type over the whole run,
	// with the times of its FETCH-STATEs.
	sentBy     map[sim.MsgType]int
	fetchTimes []sim.Time
	sent       []sim.Send  // every network send of the target, in order
	events     []sim.Event // every event the target reported, in order
}

func newRig(t *testing.T, o rigOpts) *rig {
	t.Helper()
	if o.n == 0 {
		o.n = 4
	}
	if o.k == 0 {
		o.k = 4
	}
	if o.l == 0 {
		o.l = 2 * o.k
	}
	if len(o.puppets) == 0 {
		o.puppets = []sim.NodeID{sim.NodeID(o.n - 1)}
	}
	if o.clients == 0 {
		o.clients = 2
	}
	if o.timeout == 0 {
		o.timeout = 100 * time.Millisecond
	}
	g := &rig{t: t, n: o.n, f: (o.n - 1) / 3, k: uint64(o.k), l: uint64(o.l), opts: o,
		kr: NewKeyring(7, o.n+o.clients), puppets: map[sim.NodeID]*puppetNode{}, sentBy: map[sim.MsgType]int{}}
	for i := 0; i < o.n+o.clients; i++ {
		id := sim.NodeID(i)
		if i >= o.n || slices.Contains(o.puppets, id) {
			g.puppets[id] = &puppetNode{}
			g.reps = append(g.reps, nil)
			continue
		}
		if id == rigTarget && slices.Contains(o.puppets, id) {
			t.Fatal("rig: the target cannot be a puppet")
		}
		r, err := NewReplica(Config{ID: id, N: o.n, F: g.f, CheckpointInterval: o.k, Window: o.l, Batch: 1,
			ViewChangeTimeout: o.timeout, Keyring: g.kr, SM: &logSM{}, Variant: o.variant})
		if err != nil {
			t.Fatal(err)
		}
		g.reps = append(g.reps, r)
	}
	return g
}

// target is the honest replica under test.
func (g *rig) target() *Replica { return g.reps[rigTarget] }

// send scripts puppet from to send msg() to the target at time at.
func (g *rig) send(at time.Duration, from sim.NodeID, msg func() sim.Message) {
	g.script(at, from, rigTarget, msg, false)
}

// sendMarked is send for the message whose reaction is observed.
func (g *rig) sendMarked(at time.Duration, from sim.NodeID, msg func() sim.Message) {
	g.script(at, from, rigTarget, msg, true)
}

func (g *rig) script(at time.Duration, from, to sim.NodeID, msg func() sim.Message, mark bool) {
	p := g.puppets[from]
	if p == nil {
		g.t.Fatalf("rig: node %d is not a puppet", from)
	}
	p.script = append(p.script, scriptStep{at: at, to: to, msg: msg, mark: mark})
}

// Record implements sim.Sink: it snapshots the target around the marked
// delivery and counts the target's sends.
func (g *rig) Record(r *sim.Record) {
	switch {
	case r.Kind == sim.RecDeliver && r.To == rigTarget && g.isMarked(r.From, r.Msg):
		g.rx.delivered = true
		g.rx.before = g.target().Inspect()
		g.observing = true
	case r.Kind == sim.RecSend && r.From == rigTarget:
		g.sentBy[r.Msg.Type()]++
		g.sent = append(g.sent, sim.Send{To: r.To, Msg: r.Msg})
		if r.Msg.Type() == TypeFetchState {
			g.fetchTimes = append(g.fetchTimes, r.Time)
		}
		if g.observing {
			g.rx.sends = append(g.rx.sends, sim.Send{To: r.To, Msg: r.Msg})
		}
	case r.Kind == sim.RecEvent && r.From == rigTarget:
		g.events = append(g.events, r.Event)
		if g.observing {
			g.rx.events = append(g.rx.events, r.Event)
		}
	}
}

func (g *rig) isMarked(from sim.NodeID, m sim.Message) bool {
	p := g.puppets[from]
	if p == nil {
		return false
	}
	for _, s := range p.script {
		if s.mark && s.sent == m && s.to == rigTarget {
			return true
		}
	}
	return false
}

// run runs the kernel until it is quiet (or limit of virtual time) and
// returns the reaction to the marked message.
func (g *rig) run(limit time.Duration) *reaction {
	g.t.Helper()
	nodes := make([]sim.Node, len(g.reps))
	for i, r := range g.reps {
		if r != nil {
			nodes[i] = r
		} else {
			nodes[i] = g.puppets[sim.NodeID(i)]
		}
	}
	k, err := sim.New(sim.Config{Seed: 1, Nodes: nodes, Crashes: g.opts.crashes, MaxTime: sim.Time(limit),
		Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: sim.Delay{Kind: sim.DelayConst, Min: time.Millisecond}}},
		Sinks:   []sim.Sink{g}})
	if err != nil {
		g.t.Fatal(err)
	}
	g.kern = k
	for k.Step() {
		if g.observing {
			g.observing = false
			g.rx.after = g.target().Inspect()
		}
	}
	if err := k.Err(); err != nil {
		g.t.Fatal(err)
	}
	return &g.rx
}

// ---- message builders (signed with the author's key) ----

func (g *rig) primary(v uint64) sim.NodeID { return sim.NodeID(v % uint64(g.n)) }

// request is a REQUEST of client c (a client id, n or above, unless a test
// wants otherwise), signed by c.
func (g *rig) request(c sim.NodeID, ts uint64, op string) *Request {
	q := &Request{Op: op, Timestamp: ts, Client: c}
	q.Sig = g.kr.Signer(c).Sign(q)
	return q
}

// prePrepare is the PRE-PREPARE of view v's primary for (v, seq) ordering
// one request of client n.
func (g *rig) prePrepare(v, seq uint64, op string) *PrePrepare {
	return g.prePrepareOf(v, seq, g.primary(v), g.request(sim.NodeID(g.n), seq, op))
}

func (g *rig) prePrepareOf(v, seq uint64, by sim.NodeID, batch ...*Request) *PrePrepare {
	pp := &PrePrepare{View: v, Seq: seq, Batch: batch, Replica: by}
	pp.Digest = BatchDigest(batch)
	pp.Sig = g.kr.Signer(by).Sign(pp)
	return pp
}

func (g *rig) prepare(v, seq uint64, d Digest, i sim.NodeID) *Prepare {
	p := &Prepare{View: v, Seq: seq, Digest: d, Replica: i}
	p.Sig = g.kr.Signer(i).Sign(p)
	return p
}

func (g *rig) commit(v, seq uint64, d Digest, i sim.NodeID) *Commit {
	c := &Commit{View: v, Seq: seq, Digest: d, Replica: i}
	c.Sig = g.kr.Signer(i).Sign(c)
	return c
}

func (g *rig) checkpoint(seq uint64, d Digest, i sim.NodeID) *Checkpoint {
	c := &Checkpoint{Seq: seq, StateDigest: d, Replica: i}
	c.Sig = g.kr.Signer(i).Sign(c)
	return c
}

// proof is 2f+1 CHECKPOINTs for (seq, d) from replicas 0..2f.
func (g *rig) proof(seq uint64, d Digest) []*Checkpoint {
	var out []*Checkpoint
	for i := 0; i < 2*g.f+1; i++ {
		out = append(out, g.checkpoint(seq, d, sim.NodeID(i)))
	}
	return out
}

// cert is a prepared certificate for pp with PREPAREs of 2f backups (the
// lowest ids other than pp's primary).
func (g *rig) cert(pp *PrePrepare) PreparedCert {
	pc := PreparedCert{PrePrepare: pp}
	for i := 0; i < g.n && len(pc.Prepares) < 2*g.f; i++ {
		if id := sim.NodeID(i); id != pp.Replica {
			pc.Prepares = append(pc.Prepares, g.prepare(pp.View, pp.Seq, pp.Digest, id))
		}
	}
	return pc
}

// viewChange is replica i's VIEW-CHANGE for view v with stable checkpoint
// stable (proven by proof) and the given certificates, signed by i.
func (g *rig) viewChange(v uint64, i sim.NodeID, stable uint64, proof []*Checkpoint, certs ...PreparedCert) *ViewChange {
	vc := &ViewChange{NewView: v, StableSeq: stable, Checkpoints: proof, Prepared: certs, Replica: i}
	vc.Sig = g.kr.Signer(i).Sign(vc)
	return vc
}

// resign signs m again with its author's key (after a test changed it).
func (g *rig) resign(m Signable) {
	s := g.kr.Signer(m.Author()).Sign(m)
	switch m := m.(type) {
	case *ViewChange:
		m.Sig = s
	case *NewView:
		m.Sig = s
	case *PrePrepare:
		m.Sig = s
	case *Prepare:
		m.Sig = s
	case *Commit:
		m.Sig = s
	case *Checkpoint:
		m.Sig = s
	case *Request:
		m.Sig = s
	default:
		g.t.Fatalf("rig: cannot re-sign %T", m)
	}
}

// expectedO computes O for view v from V as the paper defines it (written
// independently of the replica's computeO): min-s is the highest stable
// checkpoint in V, max-s the highest prepared seq; each seq in between
// gets the digest of its highest-view certificate, or the null request.
func (g *rig) expectedO(V []*ViewChange, v uint64) []*PrePrepare {
	var minS, maxS uint64
	for _, vc := range V {
		if vc != nil {
			minS = max(minS, vc.StableSeq)
		}
	}
	maxS = minS
	best := map[uint64]*PrePrepare{}
	for _, vc := range V {
		if vc == nil {
			continue
		}
		for _, pc := range vc.Prepared {
			pp := pc.PrePrepare
			if pp == nil {
				continue
			}
			maxS = max(maxS, pp.Seq)
			if b := best[pp.Seq]; b == nil || pp.View > b.View {
				best[pp.Seq] = pp
			}
		}
	}
	var O []*PrePrepare
	for s := minS + 1; s <= maxS; s++ {
		var batch []*Request
		if b := best[s]; b != nil {
			batch = b.Batch
		}
		O = append(O, g.prePrepareOf(v, s, g.primary(v), batch...))
	}
	return O
}

// newView is the NEW-VIEW of view v's primary with V and O, signed by it.
func (g *rig) newView(v uint64, V []*ViewChange, O []*PrePrepare) *NewView {
	nv := &NewView{View: v, ViewChanges: V, PrePrepares: O, Replica: g.primary(v)}
	nv.Sig = g.kr.Signer(nv.Replica).Sign(nv)
	return nv
}
