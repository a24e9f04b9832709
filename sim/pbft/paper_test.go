package pbft_test

// One test per rule of the paper (Castro and Liskov, OSDI'99 §4, TOCS'02
// §4-§6; docs/protocol.md summarises them), each named after its section in
// the way etcd raft's raft_paper_test.go is. They run real replicas on the
// real kernel and network (sim.New, constant link delays); the other
// replicas or the client are either real too or scripted actors that send
// hand-made, correctly signed messages and record what they receive.

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/byzantine"
	"github.com/pbftsim/pbftsim/sim/cluster"
	"github.com/pbftsim/pbftsim/sim/ledger"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// actor is a scripted node: at given times it sends given messages, it may
// answer what it receives (react) and it records every message it gets.
type actor struct {
	at    []time.Duration
	sends [][]sim.Send
	react func(now sim.Time, from sim.NodeID, m sim.Message, out *sim.Output)
	got   []received
}

type received struct {
	at   sim.Time
	from sim.NodeID
	msg  sim.Message
}

// after schedules sends at time at.
func (a *actor) after(at time.Duration, sends ...sim.Send) {
	a.at = append(a.at, at)
	a.sends = append(a.sends, sends)
}

func (a *actor) Start(now sim.Time, out *sim.Output) {
	for i, at := range a.at {
		out.SetTimer(sim.TimerID(i+1), at)
	}
}

func (a *actor) Step(now sim.Time, in sim.Input, out *sim.Output) {
	switch in.Kind {
	case sim.InputTimer:
		out.Sends = append(out.Sends, a.sends[in.Timer-1]...)
	case sim.InputMessage:
		a.got = append(a.got, received{now, in.From, in.Msg})
		if a.react != nil {
			a.react(now, in.From, in.Msg, out)
		}
	}
}

// gotOf returns the messages of type T the actor received.
func gotOf[T any](a *actor) []T {
	var out []T
	for _, r := range a.got {
		if m, ok := any(r.msg).(T); ok {
			out = append(out, m)
		}
	}
	return out
}

// world is n replicas and some clients on the kernel; actors replace the
// nodes listed in actors.
type world struct {
	t        *testing.T
	n, f     int
	kr       *pbft.Keyring
	replicas []*pbft.Replica // nil where an actor plays the replica
	actors   map[sim.NodeID]*actor
	events   []sim.Record
	sent     map[string]int
	k        *sim.Kernel
}

type worldOpts struct {
	n, k, window int
	timeout      time.Duration
	delay        time.Duration
	actors       []sim.NodeID  // replicas or clients played by actors
	clients      [][]string    // ops of each real client (ids n, n+1, ...); nil entries: an actor
	maxTime      time.Duration // default 5s
}

func newWorld(t *testing.T, o worldOpts) *world {
	t.Helper()
	if o.k == 0 {
		o.k = 100
	}
	if o.window == 0 {
		o.window = 2 * o.k
	}
	if o.timeout == 0 {
		o.timeout = 100 * time.Millisecond
	}
	if o.delay == 0 {
		o.delay = time.Millisecond
	}
	if o.maxTime == 0 {
		o.maxTime = 5 * time.Second
	}
	w := &world{t: t, n: o.n, f: (o.n - 1) / 3, actors: map[sim.NodeID]*actor{}, sent: map[string]int{}}
	total := o.n + len(o.clients)
	w.kr = pbft.NewKeyring(7, total)
	nodes := make([]sim.Node, total)
	w.replicas = make([]*pbft.Replica, o.n)
	for i := 0; i < total; i++ {
		id := sim.NodeID(i)
		if slices.Contains(o.actors, id) || i >= o.n && o.clients[i-o.n] == nil {
			w.actors[id] = &actor{}
			nodes[i] = w.actors[id]
			continue
		}
		if i < o.n {
			r, err := pbft.NewReplica(pbft.Config{ID: id, N: o.n, F: w.f, CheckpointInterval: o.k, Window: o.window,
				Batch: 1, ViewChangeTimeout: o.timeout, Keyring: w.kr, SM: ledger.New()})
			if err != nil {
				t.Fatal(err)
			}
			w.replicas[i], nodes[i] = r, r
			continue
		}
		c, err := pbft.NewClient(pbft.ClientConfig{ID: id, N: o.n, F: w.f, Ops: o.clients[i-o.n], Timeout: 3 * o.timeout, Keyring: w.kr})
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = c
	}
	k, err := sim.New(sim.Config{Seed: 1, Nodes: nodes, MaxTime: sim.Time(o.maxTime), Sinks: []sim.Sink{w},
		Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: sim.Delay{Kind: sim.DelayConst, Min: o.delay}}}})
	if err != nil {
		t.Fatal(err)
	}
	w.k = k
	return w
}

// Record implements sim.Sink: it keeps events and counts sends by type.
func (w *world) Record(r *sim.Record) {
	switch r.Kind {
	case sim.RecEvent:
		w.events = append(w.events, *r)
	case sim.RecSend:
		w.sent[r.Msg.Type().String()]++
	}
}

func (w *world) run() { w.k.Run() }

// eventsOf returns the events of type T reported by node id (-1: any).
func eventsOf[T any](w *world, id sim.NodeID) []T {
	var out []T
	for _, r := range w.events {
		if e, ok := r.Event.(T); ok && (id < 0 || r.From == id) {
			out = append(out, e)
		}
	}
	return out
}

// ---- signed message makers ----

func (w *world) request(c sim.NodeID, ts uint64, op string) *pbft.Request {
	q := &pbft.Request{Op: op, Timestamp: ts, Client: c}
	q.Sig = w.kr.Signer(c).Sign(q)
	return q
}

func (w *world) prePrepare(v, seq uint64, batch ...*pbft.Request) *pbft.PrePrepare {
	p := sim.NodeID(v % uint64(w.n))
	pp := &pbft.PrePrepare{View: v, Seq: seq, Batch: batch, Digest: pbft.BatchDigest(batch), Replica: p}
	pp.Sig = w.kr.Signer(p).Sign(pp)
	return pp
}

func (w *world) prepare(v, seq uint64, d pbft.Digest, i sim.NodeID) *pbft.Prepare {
	p := &pbft.Prepare{View: v, Seq: seq, Digest: d, Replica: i}
	p.Sig = w.kr.Signer(i).Sign(p)
	return p
}

func (w *world) commit(v, seq uint64, d pbft.Digest, i sim.NodeID) *pbft.Commit {
	c := &pbft.Commit{View: v, Seq: seq, Digest: d, Replica: i}
	c.Sig = w.kr.Signer(i).Sign(c)
	return c
}

func (w *world) viewChange(v uint64, i sim.NodeID, certs ...pbft.PreparedCert) *pbft.ViewChange {
	vc := &pbft.ViewChange{NewView: v, Replica: i, Prepared: certs}
	vc.Sig = w.kr.Signer(i).Sign(vc)
	return vc
}

func (w *world) newView(v uint64, V []*pbft.ViewChange, O []*pbft.PrePrepare) *pbft.NewView {
	p := sim.NodeID(v % uint64(w.n))
	for _, pp := range O {
		pp.Sig = w.kr.Signer(p).Sign(pp)
	}
	nv := &pbft.NewView{View: v, ViewChanges: V, PrePrepares: O, Replica: p}
	nv.Sig = w.kr.Signer(p).Sign(nv)
	return nv
}

func to(id sim.NodeID, m sim.Message) sim.Send { return sim.Send{To: id, Msg: m} }

// ---- §4.2 normal-case operation ----

// TestPaper4_2_NormalCaseMessages: a request costs one PRE-PREPARE to the
// n-1 backups, PREPAREs from every backup to every other replica, COMMITs
// from every replica to every other and n REPLYs (the reference's table).
func TestPaper4_2_NormalCaseMessages(t *testing.T) {
	for _, n := range []int{4, 7} {
		w := newWorld(t, worldOpts{n: n, clients: [][]string{{"authorize P1 10"}}})
		w.run()
		want := map[string]int{"REQUEST": 1, "PRE-PREPARE": n - 1, "PREPARE": (n - 1) * (n - 1), "COMMIT": n * (n - 1), "REPLY": n}
		for typ, c := range want {
			if w.sent[typ] != c {
				t.Errorf("n=%d: %d %s, want %d", n, w.sent[typ], typ, c)
			}
		}
		if got := eventsOf[*pbft.Executed](w, -1); len(got) != n {
			t.Errorf("n=%d: %d executions, want %d", n, len(got), n)
		}
	}
}

// normalCase sets up real replica 1 of n with actors for every other
// replica and client n (an actor); the actors send it the PRE-PREPARE of
// a request at seq, prepares PREPAREs (from backups 2, 3, ...) and
// commits COMMITs (from replicas 0, 2, 3, ...).
func normalCase(t *testing.T, n int, seq uint64, prepares, commits int, maxTime time.Duration) (*world, *pbft.PrePrepare) {
	var actors []sim.NodeID
	for i := 0; i < n; i++ {
		if i != 1 {
			actors = append(actors, sim.NodeID(i))
		}
	}
	w := newWorld(t, worldOpts{n: n, actors: actors, clients: [][]string{nil}, maxTime: maxTime})
	pp := w.prePrepare(0, seq, w.request(sim.NodeID(n), 1, "authorize P1 10"))
	w.actors[0].after(0, to(1, pp))
	for i := 0; i < prepares; i++ {
		w.actors[sim.NodeID(2+i)].after(time.Millisecond, to(1, w.prepare(0, seq, pp.Digest, sim.NodeID(2+i))))
	}
	for i := 0; i < commits; i++ {
		id := sim.NodeID(i)
		if i >= 1 {
			id = sim.NodeID(i + 1)
		}
		w.actors[id].after(2*time.Millisecond, to(1, w.commit(0, seq, pp.Digest, id)))
	}
	return w, pp
}

// TestPaper4_2_PreparedNeeds2fPrepares: prepared(m, v, n, i) needs the
// PRE-PREPARE and 2f matching PREPAREs from distinct backups (its own
// counts); with one fewer the replica sends no COMMIT.
func TestPaper4_2_PreparedNeeds2fPrepares(t *testing.T) {
	for _, c := range []struct{ n, others, want int }{{4, 0, 0}, {4, 1, 1}, {7, 2, 0}, {7, 3, 1}} {
		w, _ := normalCase(t, c.n, 1, c.others, 0, 50*time.Millisecond)
		w.run()
		if got := len(eventsOf[*pbft.Prepared](w, 1)); got != c.want {
			t.Errorf("n=%d, own PREPARE + %d others: prepared %d times, want %d", c.n, c.others, got, c.want)
		}
		if got := len(gotOf[*pbft.Commit](w.actors[0])); got != c.want {
			t.Errorf("n=%d, own PREPARE + %d others: the primary got %d COMMITs, want %d", c.n, c.others, got, c.want)
		}
	}
}

// TestPaper4_2_CommittedLocalNeeds2fPlus1Commits: committed-local needs
// prepared and 2f+1 matching COMMITs (its own counts); then it executes and
// replies to the client.
func TestPaper4_2_CommittedLocalNeeds2fPlus1Commits(t *testing.T) {
	for _, c := range []struct{ n, prepares, commits, want int }{{4, 1, 1, 0}, {4, 1, 2, 1}, {7, 3, 3, 0}, {7, 3, 4, 1}} {
		w, _ := normalCase(t, c.n, 1, c.prepares, c.commits, 50*time.Millisecond)
		w.run()
		if got := len(eventsOf[*pbft.Executed](w, 1)); got != c.want {
			t.Errorf("n=%d, own COMMIT + %d others: executed %d, want %d", c.n, c.commits, got, c.want)
		}
		if got := len(gotOf[*pbft.Reply](w.actors[sim.NodeID(c.n)])); got != c.want {
			t.Errorf("n=%d: the client got %d REPLYs, want %d", c.n, got, c.want)
		}
	}
}

// TestPaper4_2_PrePrepareAcceptance: a backup accepts a PRE-PREPARE only
// from the view's primary, with d = D(m), within the watermarks, and only
// one per (v, n); it never takes a PREPARE from the primary.
func TestPaper4_2_PrePrepareAcceptance(t *testing.T) {
	cases := []struct {
		name string
		mk   func(w *world) []sim.Send // what actor 0 sends
		want int                       // PREPAREs replica 1 sends to actor 0
	}{
		{"valid", func(w *world) []sim.Send {
			return []sim.Send{to(1, w.prePrepare(0, 1, w.request(4, 1, "authorize P1 10")))}
		}, 1},
		{"digest does not match the batch", func(w *world) []sim.Send {
			pp := w.prePrepare(0, 1, w.request(4, 1, "authorize P1 10"))
			pp.Digest = pbft.BatchDigest([]*pbft.Request{w.request(4, 1, "authorize P2 10")})
			pp.Sig = w.kr.Signer(0).Sign(pp)
			return []sim.Send{to(1, pp)}
		}, 0},
		{"above the high watermark h+L", func(w *world) []sim.Send {
			return []sim.Send{to(1, w.prePrepare(0, 201, w.request(4, 1, "authorize P1 10")))}
		}, 0},
		{"second PRE-PREPARE for (v, n)", func(w *world) []sim.Send {
			return []sim.Send{to(1, w.prePrepare(0, 1, w.request(4, 1, "authorize P1 10"))),
				to(1, w.prePrepare(0, 1, w.request(4, 2, "authorize P2 10")))}
		}, 1},
		{"bad signature", func(w *world) []sim.Send {
			pp := w.prePrepare(0, 1, w.request(4, 1, "authorize P1 10"))
			pp.Sig++
			return []sim.Send{to(1, pp)}
		}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, worldOpts{n: 4, actors: []sim.NodeID{0, 2, 3}, clients: [][]string{nil}, maxTime: 50 * time.Millisecond})
			w.actors[0].after(0, c.mk(w)...)
			w.run()
			if got := len(gotOf[*pbft.Prepare](w.actors[0])); got != c.want {
				t.Errorf("replica 1 sent %d PREPAREs, want %d", got, c.want)
			}
		})
	}
	// A PREPARE signed by the primary is never counted.
	w, pp := normalCase(t, 4, 1, 0, 0, 50*time.Millisecond)
	w.actors[0].after(time.Millisecond, to(1, w.prepare(0, 1, pp.Digest, 0)))
	w.run()
	if got := len(eventsOf[*pbft.Prepared](w, 1)); got != 0 {
		t.Errorf("prepared with the primary's PREPARE: %d", got)
	}
}

// TestPaper4_3_CheckpointStability: every K executions a replica multicasts
// CHECKPOINT; it is stable with 2f+1 matching ones and then h moves to it
// and the log below is discarded. Votes with other digests do not count.
func TestPaper4_3_CheckpointStability(t *testing.T) {
	for _, c := range []struct {
		name   string
		echo   []sim.NodeID // actors that echo replica 1's CHECKPOINT
		bogus  []sim.NodeID // actors that vote another digest
		stable uint64
	}{
		{"2f+1 matching", []sim.NodeID{0, 2}, nil, 2},
		{"f+1 matching", []sim.NodeID{0}, nil, 0},
		{"f+1 matching and f+1 other digests", []sim.NodeID{0}, []sim.NodeID{2, 3}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, worldOpts{n: 4, k: 2, actors: []sim.NodeID{0, 2, 3}, clients: [][]string{nil}, maxTime: 50 * time.Millisecond})
			for seq := uint64(1); seq <= 2; seq++ {
				pp := w.prePrepare(0, seq, w.request(4, seq, fmt.Sprintf("authorize P%d 10", seq)))
				w.actors[0].after(0, to(1, pp), to(1, w.commit(0, seq, pp.Digest, 0)))
				w.actors[2].after(0, to(1, w.prepare(0, seq, pp.Digest, 2)), to(1, w.commit(0, seq, pp.Digest, 2)))
			}
			for _, id := range append(slices.Clone(c.echo), c.bogus...) {
				id, bogus := id, slices.Contains(c.bogus, id)
				w.actors[id].react = func(_ sim.Time, from sim.NodeID, m sim.Message, out *sim.Output) {
					if ck, ok := m.(*pbft.Checkpoint); ok && from == 1 {
						v := &pbft.Checkpoint{Seq: ck.Seq, StateDigest: ck.StateDigest, Replica: id}
						if bogus {
							v.StateDigest[0]++
						}
						v.Sig = w.kr.Signer(id).Sign(v)
						out.Send(1, v)
					}
				}
			}
			w.run()
			r := w.replicas[1]
			if r.LastExecuted() != 2 || r.StableCheckpoint() != c.stable {
				t.Fatalf("executed %d stable %d, want 2 and %d", r.LastExecuted(), r.StableCheckpoint(), c.stable)
			}
			if c.stable > 0 && r.LogSize() != 0 {
				t.Errorf("log holds %d entries at or below the stable checkpoint", r.LogSize())
			}
		})
	}
}

// ---- §4.4 view changes ----

// TestPaper4_4_ViewChangeCarriesPreparedCertificates: a backup whose
// request timer expires multicasts VIEW-CHANGE(v+1) with its stable
// checkpoint n and, for each request prepared above n, the PRE-PREPARE and
// 2f matching PREPAREs.
func TestPaper4_4_ViewChangeCarriesPreparedCertificates(t *testing.T) {
	w, pp := normalCase(t, 4, 1, 1, 0, 150*time.Millisecond)
	w.run() // prepared at 1ms; no COMMITs: the request timer (100ms) expires
	vcs := gotOf[*pbft.ViewChange](w.actors[2])
	if len(vcs) == 0 {
		t.Fatal("no VIEW-CHANGE")
	}
	vc := vcs[0]
	if vc.NewView != 1 || vc.StableSeq != 0 || len(vc.Prepared) != 1 {
		t.Fatalf("VIEW-CHANGE %+v: want view 1, stable 0, one certificate", vc)
	}
	pc := vc.Prepared[0]
	if pc.PrePrepare.Digest != pp.Digest || len(pc.Prepares) != 2*w.f {
		t.Fatalf("certificate: digest %x with %d PREPAREs, want %x with 2f = %d", pc.PrePrepare.Digest[:4], len(pc.Prepares), pp.Digest[:4], 2*w.f)
	}
	for _, p := range pc.Prepares {
		if p.Digest != pp.Digest || p.Replica == 0 || !w.kr.Verify(p) {
			t.Errorf("bad PREPARE in the certificate: %+v", p)
		}
	}
}

// TestPaper4_4_NewViewIsVerified: a backup accepts NEW-VIEW(v+1, V, O) only
// if V holds 2f+1 valid VIEW-CHANGEs for v+1 and O equals the O it
// recomputes (the prepared request re-proposed at its sequence number);
// it then PREPAREs O's requests. A NEW-VIEW with another O proves the new
// primary faulty: the backup moves on to v+2.
func TestPaper4_4_NewViewIsVerified(t *testing.T) {
	for _, c := range []struct {
		name     string
		dropCert bool // O leaves out the prepared request
		view     uint64
		prepares int
	}{{"O recomputed", false, 1, 1}, {"O without the prepared request", true, 2, 0}} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, worldOpts{n: 4, actors: []sim.NodeID{0, 1, 3}, clients: [][]string{nil}, maxTime: 50 * time.Millisecond})
			pp := w.prePrepare(0, 1, w.request(4, 1, "authorize P1 10"))
			cert := pbft.PreparedCert{PrePrepare: pp, Prepares: []*pbft.Prepare{w.prepare(0, 1, pp.Digest, 1), w.prepare(0, 1, pp.Digest, 3)}}
			V := []*pbft.ViewChange{w.viewChange(1, 0), w.viewChange(1, 1, cert), w.viewChange(1, 3)}
			o := &pbft.PrePrepare{View: 1, Seq: 1, Digest: pp.Digest, Batch: pp.Batch, Replica: 1}
			if c.dropCert {
				o = &pbft.PrePrepare{View: 1, Seq: 1, Digest: pbft.BatchDigest(nil), Replica: 1}
			}
			w.actors[1].after(0, to(2, w.newView(1, V, []*pbft.PrePrepare{o})))
			w.run()
			r := w.replicas[2]
			if r.View() != c.view {
				t.Errorf("replica 2 in view %d, want %d", r.View(), c.view)
			}
			if got := len(gotOf[*pbft.Prepare](w.actors[1])); got != c.prepares {
				t.Errorf("replica 2 sent %d PREPAREs for O, want %d", got, c.prepares)
			}
		})
	}
}

// TestPaper4_4_JoinOnFPlus1ViewChanges: f+1 VIEW-CHANGEs for views above
// its own make a replica join the smallest of them, even though its own
// timer has not expired.
func TestPaper4_4_JoinOnFPlus1ViewChanges(t *testing.T) {
	for _, c := range []struct {
		senders []sim.NodeID
		views   []uint64
		want    uint64
	}{{[]sim.NodeID{0}, []uint64{3}, 0}, {[]sim.NodeID{0, 3}, []uint64{3, 2}, 2}} {
		w := newWorld(t, worldOpts{n: 4, actors: []sim.NodeID{0, 1, 3}, clients: [][]string{nil}, maxTime: 50 * time.Millisecond})
		for i, id := range c.senders {
			w.actors[id].after(0, to(2, w.viewChange(c.views[i], id)))
		}
		w.run()
		if got := w.replicas[2].View(); got != c.want {
			t.Errorf("VIEW-CHANGEs for %v: replica 2 in view %d, want %d", c.views, got, c.want)
		}
	}
}

// ---- §4.5.2 liveness: timers ----

// TestPaper4_5_2_RequestTimerBelongsToTheAwaitedRequest: a backup starts
// its timer when it receives a request and stops it only when that request
// executes; other clients' executions do not restart it, so a primary that
// censors one client is voted out.
func TestPaper4_5_2_RequestTimerBelongsToTheAwaitedRequest(t *testing.T) {
	for _, variant := range []string{"", string(pbft.VariantTimerAnyExec)} {
		cfg := cluster.Config{Seed: 1, N: 4, Clients: 4, Requests: 120, ViewChangeTimeout: 100 * time.Millisecond,
			ClientTimeout: 150 * time.Millisecond, MaxTime: sim.Time(10 * time.Second), Variant: variant,
			Network:   sim.NetworkConfig{Default: sim.LinkConfig{Delay: sim.Delay{Kind: sim.DelayConst, Min: 10 * time.Millisecond}}},
			Byzantine: []cluster.ByzantineSpec{{Replica: 0, Strategy: "censor", Params: map[string]string{"clients": "4"}}}}
		res, err := cluster.Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Completed || res.Views.Final < 1 {
			t.Fatalf("%q: completed=%v final view %d: the censoring primary was not replaced", variant, res.Completed, res.Views.Final)
		}
		// the censored client's first request waits for its retransmission
		// (150ms) and one timer T (100ms), not for the others' load (1.5s)
		if slow := res.LatencyNs.Max > int64(time.Second); slow != (variant != "") {
			t.Errorf("%q: slowest request took %v", variant, time.Duration(res.LatencyNs.Max))
		}
	}
}

// TestPaper4_5_2_TimeoutDoublesUntilAViewWorks: with no faults but links
// slower than the timeout allows (60ms per message, T = 100ms), the timeout
// doubles for every view that executes nothing until a view has time to
// execute a request; every request commits.
func TestPaper4_5_2_TimeoutDoublesUntilAViewWorks(t *testing.T) {
	for _, variant := range []string{"", string(pbft.VariantTimeoutNoGrowth)} {
		res, err := cluster.Run(cluster.Config{Seed: 1, N: 4, Clients: 2, Requests: 4, ViewChangeTimeout: 100 * time.Millisecond,
			MaxTime: sim.Time(30 * time.Second), Variant: variant,
			Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: sim.Delay{Kind: sim.DelayConst, Min: 60 * time.Millisecond}}}})
		if err != nil {
			t.Fatal(err)
		}
		if ok := res.Completed && res.Requests.Committed == 4; ok != (variant == "") {
			t.Fatalf("%q: committed %d of 4 in %v (%d views)", variant, res.Requests.Committed, time.Duration(res.SimTimeNs), res.Views.Changes)
		}
		t.Logf("%q: %d of 4 requests in %v, %d view changes", variant, res.Requests.Committed, time.Duration(res.SimTimeNs), res.Views.Changes)
	}
}

// TestPaper4_5_2_BackupRelaysEveryRetransmission: a backup that receives a
// client's request relays it to the primary each time the client sends it.
func TestPaper4_5_2_BackupRelaysEveryRetransmission(t *testing.T) {
	w := newWorld(t, worldOpts{n: 4, actors: []sim.NodeID{0, 2, 3, 4}, clients: [][]string{nil}, maxTime: 50 * time.Millisecond})
	q := w.request(4, 1, "authorize P1 10")
	w.actors[4].after(0, to(1, q))
	w.actors[4].after(10*time.Millisecond, to(1, q))
	w.run()
	if got := len(gotOf[*pbft.Request](w.actors[0])); got != 2 {
		t.Errorf("the primary got %d relays, want 2", got)
	}
}

// ---- TOCS'02 §6.2 state transfer ----

// TestPaperTOCS6_2_StateTransferIsVerified: a replica that missed
// everything fetches the state of a stable checkpoint; a Byzantine replica
// answers first with the true (seq, digest, proof) and a forged snapshot.
// The fetching replica discards it, accuses the sender (BadState) and
// installs the state of a correct replica, which hashes to the proven
// digest.
func TestPaperTOCS6_2_StateTransferIsVerified(t *testing.T) {
	cl, _, _ := forgedStateRun(t, string(pbft.VariantStateUnverified))
	if r0, r3 := cl.Replica(0), cl.Replica(3); r3.StateDigest() == r0.StateDigest() {
		t.Fatalf("variant %s: replica 3 has the correct state", pbft.VariantStateUnverified)
	}
	cl, res, events := forgedStateRun(t, "")
	var bad []*pbft.BadState
	transfers := 0
	for _, r := range events {
		switch e := r.Event.(type) {
		case *pbft.BadState:
			bad = append(bad, e)
		case *pbft.StateTransferred:
			if e.Replica == 3 {
				transfers++
			}
		}
	}
	if len(bad) == 0 || bad[0].Replica != 3 || bad[0].From != 1 || bad[0].Want == bad[0].Got {
		t.Fatalf("no accusation of replica 1 by replica 3: %+v", bad)
	}
	if transfers == 0 {
		t.Fatal("replica 3 installed no state")
	}
	if !res.Completed {
		t.Fatal("not every request completed")
	}
	r0, r3 := cl.Replica(0), cl.Replica(3)
	if r3.LastExecuted() != r0.LastExecuted() || r3.StateDigest() != r0.StateDigest() {
		t.Errorf("replica 3 %v, state %x; replica 0 %v, state %x", r3, r3.StateDigest(), r0, r0.StateDigest())
	}
}

// forgedStateRun: replica 3 misses everything until GST (300ms) and then
// fetches the state; replica 1 (forge-state, faster link to 3) answers
// first with a forged snapshot.
func forgedStateRun(t *testing.T, variant string) (*cluster.Cluster, *cluster.Result, []sim.Record) {
	gst := sim.Time(300 * time.Millisecond)
	cfg := cluster.Config{Seed: 1, N: 4, Clients: 2, Requests: 40, Interval: 20 * time.Millisecond,
		CheckpointInterval: 2, Window: 4, MaxTime: sim.Time(5 * time.Second),
		Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: sim.Delay{Kind: sim.DelayConst, Min: 2 * time.Millisecond}},
			Links: map[sim.Link]sim.LinkConfig{{From: 1, To: 3}: {Delay: sim.Delay{Kind: sim.DelayConst, Min: time.Millisecond}}},
			GST:   gst, Delta: 10 * time.Millisecond},
		NetRules:  []byzantine.NetRule{{To: []sim.NodeID{3}, Drop: 1, End: gst}},
		Byzantine: []cluster.ByzantineSpec{{Replica: 1, Strategy: "forge-state"}}, Variant: variant}
	var events []sim.Record
	cfg.Sinks = []sim.Sink{sinkFunc(func(r *sim.Record) {
		if r.Kind == sim.RecEvent {
			events = append(events, *r)
		}
	})}
	cl, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cl, cl.Run(), events
}

type sinkFunc func(r *sim.Record)

func (f sinkFunc) Record(r *sim.Record) { f(r) }

// ---- §4.1 clients ----

// TestPaper4_1_ClientAcceptsFPlus1MatchingReplies: a client accepts a
// result only after f+1 replies from distinct replicas with the same
// timestamp and result.
func TestPaper4_1_ClientAcceptsFPlus1MatchingReplies(t *testing.T) {
	rep := func(i sim.NodeID, result string) *pbft.Reply {
		return &pbft.Reply{Timestamp: 1, Client: 4, Replica: i, Result: result}
	}
	for _, c := range []struct {
		name    string
		replies []*pbft.Reply
		want    int
	}{
		{"one reply", []*pbft.Reply{rep(0, "ok")}, 0},
		{"f+1 replies that differ", []*pbft.Reply{rep(0, "ok"), rep(1, "lie")}, 0},
		{"the same replica twice", []*pbft.Reply{rep(0, "ok"), rep(0, "ok")}, 0},
		{"f+1 matching", []*pbft.Reply{rep(0, "ok"), rep(1, "lie"), rep(2, "ok")}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, worldOpts{n: 4, actors: []sim.NodeID{0, 1, 2, 3}, clients: [][]string{{"authorize P1 10"}}, maxTime: 50 * time.Millisecond})
			for _, r := range c.replies {
				w.actors[r.Replica].after(time.Duration(len(w.actors[r.Replica].at)+1)*time.Millisecond, to(4, r))
			}
			w.run()
			acc := eventsOf[*pbft.Accepted](w, 4)
			if len(acc) != c.want {
				t.Fatalf("accepted %d, want %d", len(acc), c.want)
			}
			if c.want == 1 && acc[0].Result != "ok" {
				t.Errorf("accepted %q", acc[0].Result)
			}
		})
	}
}

// TestPaper4_2_TimestampsExecuteOnce: a replica executes a (client,
// timestamp) once, answers a retransmission from its reply cache and
// discards a request older than the last reply to that client.
func TestPaper4_2_TimestampsExecuteOnce(t *testing.T) {
	w := newWorld(t, worldOpts{n: 4, actors: []sim.NodeID{4}, clients: [][]string{nil}, maxTime: 500 * time.Millisecond})
	q1, q2 := w.request(4, 1, "authorize P1 10"), w.request(4, 2, "authorize P2 10")
	w.actors[4].after(0, to(0, q1))
	w.actors[4].after(50*time.Millisecond, to(0, q2))
	w.actors[4].after(100*time.Millisecond, to(0, q1), to(1, q1)) // retransmission of an old request
	w.actors[4].after(150*time.Millisecond, to(0, q2), to(1, q2)) // retransmission of the last one
	w.run()
	for i := 0; i < 4; i++ {
		if got := len(eventsOf[*pbft.Executed](w, sim.NodeID(i))); got != 2 {
			t.Errorf("replica %d executed %d requests, want 2", i, got)
		}
	}
	replies := map[uint64]int{}
	for _, r := range gotOf[*pbft.Reply](w.actors[4]) {
		replies[r.Timestamp]++
	}
	// ts 1: n replies; ts 2: n replies and 2 cached ones; the old ts 1 is not answered again
	if replies[1] != 4 || replies[2] != 6 {
		t.Errorf("replies by timestamp %v, want 1:4 2:6", replies)
	}
}

// TestPaper4_4_FutureViewMessagesVerifiedAndCapped: normal-case messages
// of a view the replica has not entered are kept for later only once their
// signatures verify, and at most 4L+8 per sender, so a Byzantine sender can
// neither fill the buffer nor, with forged messages of f+1 replicas, make
// the replica ask for a NEW-VIEW.
func TestPaper4_4_FutureViewMessagesVerifiedAndCapped(t *testing.T) {
	w := newWorld(t, worldOpts{n: 4, actors: []sim.NodeID{0, 2, 3}, clients: [][]string{nil}, maxTime: 200 * time.Millisecond})
	d := pbft.BatchDigest(nil)
	for _, id := range []sim.NodeID{2, 3} {
		forged := w.prepare(5, 1, d, id)
		forged.Sig++
		w.actors[id].after(0, to(1, forged))
	}
	for _, v := range []uint64{1, 3, 5} { // views whose primary is not 2
		var flood []sim.Send
		for seq := uint64(1); seq <= 400; seq++ {
			flood = append(flood, to(1, w.prepare(v, seq, d, 2)))
		}
		w.actors[2].after(time.Duration(v)*time.Millisecond, flood...)
	}
	w.run()
	if got := len(gotOf[*pbft.FetchState](w.actors[0])); got != 0 {
		t.Errorf("forged future-view PREPAREs made replica 1 ask for the NEW-VIEW (%d FETCH-STATEs)", got)
	}
	if got, want := w.replicas[1].Inspect().Buffered, 4*200+8; got != want {
		t.Errorf("%d messages of one sender buffered, want the cap %d", got, want)
	}
}
