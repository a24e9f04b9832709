package pbft

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// The tests in this file hand an honest replica, on the real kernel, each
// malformed or malicious message the paper says to reject, next to the
// valid message it was made from (which must be accepted: the control that
// the rejection is due to the one rule broken). See rig_test.go.

var rigSizes = []int{4, 7}

// stateD is an arbitrary state digest for checkpoint proofs.
var stateD = Digest{0xc0, 0xff, 0xee}

// holdsVC reports whether the target holds a VIEW-CHANGE of replica i for view v.
func holdsVC(s ReplicaState, v uint64, i sim.NodeID) bool {
	for _, vv := range s.ViewChanges {
		if vv.View == v && slices.Contains(vv.Replicas, i) {
			return true
		}
	}
	return false
}

// vcCase is a VIEW-CHANGE for view 1 that puppet p sends in its own name.
type vcCase struct {
	name  string
	build func(g *rig, p sim.NodeID, v uint64) *ViewChange
	ok    bool
}

func vcCases() []vcCase {
	K := func(g *rig) uint64 { return g.k }
	base := func(g *rig, p sim.NodeID, v uint64, certs ...PreparedCert) *ViewChange {
		return g.viewChange(v, p, K(g), g.proof(K(g), stateD), certs...)
	}
	withCert := func(mod func(g *rig, pc *PreparedCert)) func(g *rig, p sim.NodeID, v uint64) *ViewChange {
		return func(g *rig, p sim.NodeID, v uint64) *ViewChange {
			pc := g.cert(g.prePrepare(0, K(g)+1, "x"))
			mod(g, &pc)
			return base(g, p, v, pc)
		}
	}
	withProof := func(mod func(g *rig, proof []*Checkpoint) []*Checkpoint) func(g *rig, p sim.NodeID, v uint64) *ViewChange {
		return func(g *rig, p sim.NodeID, v uint64) *ViewChange {
			return g.viewChange(v, p, K(g), mod(g, g.proof(K(g), stateD)))
		}
	}
	return []vcCase{
		{"valid: no checkpoint, no certificate", func(g *rig, p sim.NodeID, v uint64) *ViewChange { return g.viewChange(v, p, 0, nil) }, true},
		{"valid: stable checkpoint and a certificate", withCert(func(*rig, *PreparedCert) {}), true},
		{"valid: certificate with 2f+1 PREPAREs", withCert(func(g *rig, pc *PreparedCert) {
			pp := pc.PrePrepare
			pc.Prepares = append(pc.Prepares, g.prepare(pp.View, pp.Seq, pp.Digest, sim.NodeID(g.n-1)))
		}), true},
		{"valid: certificate at the top of the window", func(g *rig, p sim.NodeID, v uint64) *ViewChange {
			return base(g, p, v, g.cert(g.prePrepare(0, K(g)+g.l, "x")))
		}, true},
		{"valid: two certificates in seq order", func(g *rig, p sim.NodeID, v uint64) *ViewChange {
			return base(g, p, v, g.cert(g.prePrepare(0, K(g)+1, "x")), g.cert(g.prePrepare(0, K(g)+2, "y")))
		}, true},
		{"signed by another replica", func(g *rig, p sim.NodeID, v uint64) *ViewChange {
			vc := base(g, p, v)
			vc.Sig = g.kr.Signer(0).Sign(vc)
			return vc
		}, false},
		// checkpoint proof
		{"stable checkpoint not a multiple of K", func(g *rig, p sim.NodeID, v uint64) *ViewChange {
			return g.viewChange(v, p, K(g)+1, g.proof(K(g)+1, stateD))
		}, false},
		{"stable checkpoint without proof", func(g *rig, p sim.NodeID, v uint64) *ViewChange {
			return g.viewChange(v, p, K(g), nil)
		}, false},
		{"proof of 2f CHECKPOINTs", withProof(func(g *rig, pr []*Checkpoint) []*Checkpoint { return pr[:2*g.f] }), false},
		{"proof with a wrong digest", withProof(func(g *rig, pr []*Checkpoint) []*Checkpoint {
			pr[len(pr)-1] = g.checkpoint(K(g), Digest{9}, pr[len(pr)-1].Replica)
			return pr
		}), false},
		{"proof with a CHECKPOINT of another seq", withProof(func(g *rig, pr []*Checkpoint) []*Checkpoint {
			pr[len(pr)-1] = g.checkpoint(2*K(g), stateD, pr[len(pr)-1].Replica)
			return pr
		}), false},
		{"proof repeating a signer", withProof(func(g *rig, pr []*Checkpoint) []*Checkpoint {
			pr[len(pr)-1] = pr[0]
			return pr
		}), false},
		{"proof with a forged signature", withProof(func(g *rig, pr []*Checkpoint) []*Checkpoint {
			c := *pr[1]
			c.Sig = g.kr.Signer(sim.NodeID(g.n - 1)).Sign(&c)
			pr[1] = &c
			return pr
		}), false},
		{"proof with a CHECKPOINT signed by a client", withProof(func(g *rig, pr []*Checkpoint) []*Checkpoint {
			pr[len(pr)-1] = g.checkpoint(K(g), stateD, sim.NodeID(g.n))
			return pr
		}), false},
		{"proof with a CHECKPOINT of a negative replica id", withProof(func(g *rig, pr []*Checkpoint) []*Checkpoint {
			pr[len(pr)-1] = g.checkpoint(K(g), stateD, -1)
			return pr
		}), false},
		// prepared certificates
		{"certificate with 2f-1 PREPAREs", withCert(func(g *rig, pc *PreparedCert) { pc.Prepares = pc.Prepares[:2*g.f-1] }), false},
		{"certificate with a PREPARE of another digest", withCert(func(g *rig, pc *PreparedCert) {
			p := pc.Prepares[0]
			pc.Prepares[0] = g.prepare(p.View, p.Seq, Digest{7}, p.Replica)
		}), false},
		{"certificate with a PREPARE of another view", withCert(func(g *rig, pc *PreparedCert) {
			p := pc.Prepares[0]
			pc.Prepares[0] = g.prepare(p.View+1, p.Seq, p.Digest, p.Replica)
		}), false},
		{"certificate with a PREPARE of another seq", withCert(func(g *rig, pc *PreparedCert) {
			p := pc.Prepares[0]
			pc.Prepares[0] = g.prepare(p.View, p.Seq+1, p.Digest, p.Replica)
		}), false},
		{"certificate repeating a PREPARE signer", withCert(func(g *rig, pc *PreparedCert) {
			pc.Prepares[len(pc.Prepares)-1] = pc.Prepares[0]
		}), false},
		{"certificate counting the primary's PREPARE", withCert(func(g *rig, pc *PreparedCert) {
			pp := pc.PrePrepare
			pc.Prepares[0] = g.prepare(pp.View, pp.Seq, pp.Digest, pp.Replica)
		}), false},
		{"certificate with a PREPARE signed by a client", withCert(func(g *rig, pc *PreparedCert) {
			pp := pc.PrePrepare
			pc.Prepares[0] = g.prepare(pp.View, pp.Seq, pp.Digest, sim.NodeID(g.n))
		}), false},
		{"certificate with a PREPARE of a negative replica id", withCert(func(g *rig, pc *PreparedCert) {
			pp := pc.PrePrepare
			pc.Prepares[0] = g.prepare(pp.View, pp.Seq, pp.Digest, -1)
		}), false},
		{"certificate with a forged PREPARE", withCert(func(g *rig, pc *PreparedCert) {
			p := *pc.Prepares[0]
			p.Sig = g.kr.Signer(sim.NodeID(g.n - 1)).Sign(&p)
			pc.Prepares[0] = &p
		}), false},
		{"certificate whose PRE-PREPARE is not from the view's primary", withCert(func(g *rig, pc *PreparedCert) {
			*pc = g.cert(g.prePrepareOf(0, pc.PrePrepare.Seq, 2, g.request(sim.NodeID(g.n), 1, "x")))
		}), false},
		{"certificate whose PRE-PREPARE is forged", withCert(func(g *rig, pc *PreparedCert) {
			pp := *pc.PrePrepare
			pp.Sig = g.kr.Signer(sim.NodeID(g.n - 1)).Sign(&pp)
			pc.PrePrepare = &pp
		}), false},
		{"certificate whose PRE-PREPARE digest is not its batch's", withCert(func(g *rig, pc *PreparedCert) {
			pp := *pc.PrePrepare
			pp.Batch = []*Request{g.request(sim.NodeID(g.n), 2, "other")}
			g.resign(&pp)
			pc.PrePrepare = &pp
		}), false},
		{"certificate ordering an unsigned request", withCert(func(g *rig, pc *PreparedCert) {
			q := &Request{Op: "x", Timestamp: 1, Client: sim.NodeID(g.n)}
			*pc = g.cert(g.prePrepareOf(0, pc.PrePrepare.Seq, 0, q))
		}), false},
		{"certificate ordering a request of a replica id", withCert(func(g *rig, pc *PreparedCert) {
			*pc = g.cert(g.prePrepareOf(0, pc.PrePrepare.Seq, 0, g.request(2, 1, "x")))
		}), false},
		{"certificate of the new view", func(g *rig, p sim.NodeID, v uint64) *ViewChange {
			return base(g, p, v, g.cert(g.prePrepare(v, K(g)+1, "x")))
		}, false},
		{"certificate at the stable checkpoint", func(g *rig, p sim.NodeID, v uint64) *ViewChange {
			return base(g, p, v, g.cert(g.prePrepare(0, K(g), "x")))
		}, false},
		{"certificate above the window", func(g *rig, p sim.NodeID, v uint64) *ViewChange {
			return base(g, p, v, g.cert(g.prePrepare(0, K(g)+g.l+1, "x")))
		}, false},
		{"certificates out of seq order", func(g *rig, p sim.NodeID, v uint64) *ViewChange {
			return base(g, p, v, g.cert(g.prePrepare(0, K(g)+2, "x")), g.cert(g.prePrepare(0, K(g)+1, "y")))
		}, false},
		{"two certificates for one seq", func(g *rig, p sim.NodeID, v uint64) *ViewChange {
			return base(g, p, v, g.cert(g.prePrepare(0, K(g)+1, "x")), g.cert(g.prePrepare(0, K(g)+1, "y")))
		}, false},
	}
}

// TestRejectViewChange: a VIEW-CHANGE breaking one rule of validateVC is
// not held by the replica; the valid ones it was made from are.
func TestRejectViewChange(t *testing.T) {
	for _, n := range rigSizes {
		for _, c := range vcCases() {
			t.Run(fmt.Sprintf("n=%d/%s", n, c.name), func(t *testing.T) {
				g := newRig(t, rigOpts{n: n})
				p := sim.NodeID(n - 1)
				g.sendMarked(time.Millisecond, p, func() sim.Message { return c.build(g, p, 1) })
				rx := g.run(time.Second)
				if !rx.delivered {
					t.Fatal("not delivered")
				}
				if got := holdsVC(rx.after, 1, p); got != c.ok {
					t.Fatalf("VIEW-CHANGE held = %v, want %v\n%v", got, c.ok, rx)
				}
				if !c.ok && rx.changed() {
					t.Fatalf("rejected VIEW-CHANGE left a trace\n%v", rx)
				}
			})
		}
	}
}

// nvCase builds a NEW-VIEW for view v (whose primary is puppet p).
type nvCase struct {
	name  string
	build func(g *rig, v uint64) *NewView
	ok    bool
}

// nvV is V for view v: VIEW-CHANGEs of replicas 0..2f (stable checkpoint K
// at the first, certificates as given at the second).
func nvV(g *rig, v uint64, certs ...PreparedCert) []*ViewChange {
	V := []*ViewChange{g.viewChange(v, 0, g.k, g.proof(g.k, stateD))}
	V = append(V, g.viewChange(v, 1, 0, nil, certs...))
	for i := 2; i <= 2*g.f; i++ {
		V = append(V, g.viewChange(v, sim.NodeID(i), 0, nil))
	}
	return V
}

func nvCases() []nvCase {
	two := func(g *rig) []PreparedCert { // seq K+1 and K+3 (K+2 is a gap)
		return []PreparedCert{g.cert(g.prePrepare(0, g.k+1, "a")), g.cert(g.prePrepare(0, g.k+3, "c"))}
	}
	withO := func(mod func(g *rig, v uint64, O []*PrePrepare) []*PrePrepare) func(g *rig, v uint64) *NewView {
		return func(g *rig, v uint64) *NewView {
			V := nvV(g, v, two(g)...)
			return g.newView(v, V, mod(g, v, g.expectedO(V, v)))
		}
	}
	withV := func(mod func(g *rig, v uint64, V []*ViewChange) []*ViewChange) func(g *rig, v uint64) *NewView {
		return func(g *rig, v uint64) *NewView {
			V := mod(g, v, nvV(g, v))
			return g.newView(v, V, g.expectedO(V, v))
		}
	}
	cases := []nvCase{
		{"valid: empty O", withV(func(g *rig, v uint64, V []*ViewChange) []*ViewChange { return V }), true},
		{"valid: O with a gap filled by the null request", withO(func(g *rig, v uint64, O []*PrePrepare) []*PrePrepare { return O }), true},
		{"valid: O takes the highest-view certificate", func(g *rig, v uint64) *NewView {
			V := nvV(g, v, g.cert(g.prePrepare(0, g.k+1, "old")))
			V[2] = g.viewChange(v, 2, 0, nil, g.cert(g.prePrepare(1, g.k+1, "new")))
			O := g.expectedO(V, v)
			if len(O) != 1 || len(O[0].Batch) != 1 || O[0].Batch[0].Op != "new" {
				panic("expectedO")
			}
			return g.newView(v, V, O)
		}, true},
		{"O takes a lower-view certificate", func(g *rig, v uint64) *NewView {
			V := nvV(g, v, g.cert(g.prePrepare(0, g.k+1, "old")))
			V[2] = g.viewChange(v, 2, 0, nil, g.cert(g.prePrepare(1, g.k+1, "new")))
			O := []*PrePrepare{g.prePrepareOf(v, g.k+1, g.primary(v), V[1].Prepared[0].PrePrepare.Batch...)}
			return g.newView(v, V, O)
		}, false},
		{"V with 2f VIEW-CHANGEs", withV(func(g *rig, v uint64, V []*ViewChange) []*ViewChange { return V[1:] }), false},
		{"V with a VIEW-CHANGE for another view", withV(func(g *rig, v uint64, V []*ViewChange) []*ViewChange {
			V[2] = g.viewChange(v+1, 2, 0, nil)
			return V
		}), false},
		{"V with a VIEW-CHANGE for an earlier view", withV(func(g *rig, v uint64, V []*ViewChange) []*ViewChange {
			V[2] = g.viewChange(v-1, 2, 0, nil)
			return V
		}), false},
		{"V repeating a replica", withV(func(g *rig, v uint64, V []*ViewChange) []*ViewChange {
			V[2] = g.viewChange(v, 1, 0, nil)
			return V
		}), false},
		{"V with a VIEW-CHANGE signed by a client", withV(func(g *rig, v uint64, V []*ViewChange) []*ViewChange {
			V[2] = g.viewChange(v, sim.NodeID(g.n), 0, nil)
			return V
		}), false},
		{"O entry of another view", withO(func(g *rig, v uint64, O []*PrePrepare) []*PrePrepare {
			O[0] = g.prePrepareOf(v-1, O[0].Seq, g.primary(v-1), O[0].Batch...)
			return O
		}), false},
		{"O entry of another replica", withO(func(g *rig, v uint64, O []*PrePrepare) []*PrePrepare {
			O[0] = g.prePrepareOf(v, O[0].Seq, 0, O[0].Batch...)
			return O
		}), false},
		{"O entry with a forged signature", withO(func(g *rig, v uint64, O []*PrePrepare) []*PrePrepare {
			pp := *O[0]
			pp.Sig = g.kr.Signer(0).Sign(&pp)
			O[0] = &pp
			return O
		}), false},
		{"O entry whose digest is not its batch's", withO(func(g *rig, v uint64, O []*PrePrepare) []*PrePrepare {
			pp := *O[1] // the null request at the gap, with a request's digest
			pp.Digest = O[0].Digest
			g.resign(&pp)
			O[1] = &pp
			return O
		}), false},
		{"O out of seq order", withO(func(g *rig, v uint64, O []*PrePrepare) []*PrePrepare {
			O[0], O[1] = O[1], O[0]
			return O
		}), false},
		{"O repeating a seq", withO(func(g *rig, v uint64, O []*PrePrepare) []*PrePrepare {
			O[1] = O[0]
			return O
		}), false},
		{"O missing its last entry", withO(func(g *rig, v uint64, O []*PrePrepare) []*PrePrepare { return O[:len(O)-1] }), false},
		{"O with an extra null request", withO(func(g *rig, v uint64, O []*PrePrepare) []*PrePrepare {
			return append(O, g.prePrepareOf(v, O[len(O)-1].Seq+1, g.primary(v)))
		}), false},
		{"O replacing a prepared request by the null request", withO(func(g *rig, v uint64, O []*PrePrepare) []*PrePrepare {
			O[2] = g.prePrepareOf(v, O[2].Seq, g.primary(v))
			return O
		}), false},
		{"O shifted by one seq", withO(func(g *rig, v uint64, O []*PrePrepare) []*PrePrepare {
			for i, pp := range O {
				O[i] = g.prePrepareOf(v, pp.Seq+1, g.primary(v), pp.Batch...)
			}
			return O
		}), false},
		{"O ignoring the prepared certificates", func(g *rig, v uint64) *NewView {
			return g.newView(v, nvV(g, v, two(g)...), nil)
		}, false},
	}
	// every invalid VIEW-CHANGE makes V invalid
	for _, c := range vcCases() {
		if c.ok {
			continue
		}
		cases = append(cases, nvCase{"V holding a VIEW-CHANGE whose " + c.name, func(g *rig, v uint64) *NewView {
			V := nvV(g, v)
			V[2] = c.build(g, 2, v)
			return g.newView(v, V, g.expectedO(V, v))
		}, false})
	}
	return cases
}

// TestRejectNewView: a NEW-VIEW breaking one rule of validateNewView is not
// entered (the replica moves on to the next view, its primary proven
// faulty); the valid ones it was made from are.
func TestRejectNewView(t *testing.T) {
	for _, n := range rigSizes {
		for _, c := range nvCases() {
			t.Run(fmt.Sprintf("n=%d/%s", n, c.name), func(t *testing.T) {
				g := newRig(t, rigOpts{n: n})
				p := sim.NodeID(n - 1)
				v := uint64(p) // the puppet is its primary
				g.sendMarked(time.Millisecond, p, func() sim.Message { return c.build(g, v) })
				rx := g.run(time.Millisecond * 3)
				if !rx.delivered {
					t.Fatal("not delivered")
				}
				entered := rx.reported("new-view") && rx.after.View == v && !rx.after.InViewChange
				if entered != c.ok {
					t.Fatalf("NEW-VIEW entered = %v, want %v\n%v", entered, c.ok, rx)
				}
				if !c.ok && (rx.after.View != v+1 || !rx.after.InViewChange || rx.sent(TypeViewChange) != n-1) {
					t.Fatalf("after an invalid NEW-VIEW from the primary, want a VIEW-CHANGE for view %d\n%v", v+1, rx)
				}
			})
		}
	}
}

// relayCase is a message delivered to the target by one node; puppets are
// the replicas played by puppets in the run (n-1 always is one).
type relayCase struct {
	name    string
	puppets func(n int) []sim.NodeID
	setup   func(g *rig) // scripts earlier sends (at 1ms); the case's message goes at 20ms
	from    func(g *rig) sim.NodeID
	build   func(g *rig) sim.Message
	ok      bool
	accepts func(rx *reaction) bool // how acceptance shows (default: any trace)
}

// snapshotOf returns a snapshot of a logSM that executed ops and the state
// digest a replica with that state and no replies has.
func snapshotOf(g *rig, ops ...string) ([]byte, Digest) {
	sm := &logSM{}
	for _, op := range ops {
		sm.Execute(op)
	}
	r, err := NewReplica(Config{ID: 0, N: g.n, F: g.f, CheckpointInterval: int(g.k), Window: int(g.l), Batch: 1,
		ViewChangeTimeout: time.Second, Keyring: g.kr, SM: sm})
	if err != nil {
		panic(err)
	}
	return sm.Snapshot(), r.StateDigest()
}

func relayCases() []relayCase {
	last := func(n int) []sim.NodeID { return []sim.NodeID{sim.NodeID(n - 1)} }
	with := func(ids ...sim.NodeID) func(n int) []sim.NodeID {
		return func(n int) []sim.NodeID { return append(slices.Clone(ids), sim.NodeID(n-1)) }
	}
	node := func(id sim.NodeID) func(g *rig) sim.NodeID { return func(*rig) sim.NodeID { return id } }
	p := func(g *rig) sim.NodeID { return sim.NodeID(g.n - 1) }
	client := func(g *rig) sim.NodeID { return sim.NodeID(g.n) }
	otherClient := func(g *rig) sim.NodeID { return sim.NodeID(g.n + 1) }
	// The target enters view n-1 (whose primary is the puppet n-1), so it
	// has a NEW-VIEW to give to a replica in a lower view.
	inView := func(g *rig) {
		g.send(time.Millisecond, sim.NodeID(g.n-1), func() sim.Message {
			v := uint64(g.n - 1)
			V := nvV(g, v)[1:]
			V = append(V, g.viewChange(v, sim.NodeID(g.n-1), 0, nil))
			return g.newView(v, V, nil)
		})
	}
	// The target crashes at 2ms and recovers at 3ms: it starts a state fetch.
	fetching := func(g *rig) {
		g.opts.crashes = append(g.opts.crashes, sim.Crash{Node: rigTarget, At: sim.Time(2 * time.Millisecond), Recover: sim.Time(3 * time.Millisecond)})
	}
	state := func(replica func(g *rig) sim.NodeID, mod func(g *rig, st *State)) func(g *rig) sim.Message {
		return func(g *rig) sim.Message {
			snap, d := snapshotOf(g, "x", "y")
			st := &State{Seq: g.k, StateDigest: d, Snapshot: snap, Proof: g.proof(g.k, d), Replica: replica(g)}
			if mod != nil {
				mod(g, st)
			}
			return st
		}
	}
	transferred := func(rx *reaction) bool { return rx.reported("state-transfer") && rx.after.LastExecuted > 0 }
	pp := func(g *rig) sim.Message { return g.prePrepare(0, 1, "x") }
	ppDigest := func(g *rig) Digest { return g.prePrepare(0, 1, "x").Digest }
	return []relayCase{
		// PRE-PREPARE
		{"PRE-PREPARE from the primary", with(0), nil, node(0), pp, true, func(rx *reaction) bool { return rx.sent(TypePrepare) > 0 }},
		{"PRE-PREPARE of the primary relayed by a backup", with(0), nil, p, pp, false, nil},
		{"PRE-PREPARE of a backup in its own name", with(2), nil, node(2), func(g *rig) sim.Message {
			return g.prePrepareOf(0, 1, 2, g.request(sim.NodeID(g.n), 1, "x"))
		}, false, nil},
		{"PRE-PREPARE above the window", with(0), nil, node(0), func(g *rig) sim.Message { return g.prePrepare(0, g.l+1, "x") }, false, nil},
		{"PRE-PREPARE at seq 0", with(0), nil, node(0), func(g *rig) sim.Message { return g.prePrepare(0, 0, "x") }, false, nil},
		{"PRE-PREPARE of an old view", with(0), inView, node(0), pp, false, nil},
		// PREPARE
		{"PREPARE from its signer", with(2), nil, node(2), func(g *rig) sim.Message { return g.prepare(0, 1, ppDigest(g), 2) }, true, nil},
		{"PREPARE relayed by another replica", with(2), nil, p, func(g *rig) sim.Message { return g.prepare(0, 1, ppDigest(g), 2) }, false, nil},
		{"PREPARE from the view's primary", with(0), nil, node(0), func(g *rig) sim.Message { return g.prepare(0, 1, ppDigest(g), 0) }, false, nil},
		{"PREPARE with a forged signature", with(2), nil, node(2), func(g *rig) sim.Message {
			m := g.prepare(0, 1, ppDigest(g), 2)
			m.Sig = g.kr.Signer(0).Sign(m)
			return m
		}, false, nil},
		{"PREPARE above the window", with(2), nil, node(2), func(g *rig) sim.Message { return g.prepare(0, g.l+1, ppDigest(g), 2) }, false, nil},
		// COMMIT
		{"COMMIT from its signer", with(2), nil, node(2), func(g *rig) sim.Message { return g.commit(0, 1, ppDigest(g), 2) }, true, nil},
		{"COMMIT relayed by another replica", with(2), nil, p, func(g *rig) sim.Message { return g.commit(0, 1, ppDigest(g), 2) }, false, nil},
		{"COMMIT with a forged signature", with(2), nil, node(2), func(g *rig) sim.Message {
			m := g.commit(0, 1, ppDigest(g), 2)
			m.Sig = g.kr.Signer(0).Sign(m)
			return m
		}, false, nil},
		{"COMMIT above the window", with(2), nil, node(2), func(g *rig) sim.Message { return g.commit(0, g.l+1, ppDigest(g), 2) }, false, nil},
		// CHECKPOINT
		{"CHECKPOINT from its signer", with(2), nil, node(2), func(g *rig) sim.Message { return g.checkpoint(g.k, stateD, 2) }, true, nil},
		{"CHECKPOINT at the top of the window", with(2), nil, node(2), func(g *rig) sim.Message { return g.checkpoint(g.l, stateD, 2) }, true, nil},
		{"CHECKPOINT relayed by another replica", with(2), nil, p, func(g *rig) sim.Message { return g.checkpoint(g.k, stateD, 2) }, false, nil},
		{"CHECKPOINT not at a multiple of K", with(2), nil, node(2), func(g *rig) sim.Message { return g.checkpoint(g.k+1, stateD, 2) }, false, nil},
		{"CHECKPOINT at seq 0", with(2), nil, node(2), func(g *rig) sim.Message { return g.checkpoint(0, stateD, 2) }, false, nil},
		{"CHECKPOINT with a forged signature", with(2), nil, node(2), func(g *rig) sim.Message {
			m := g.checkpoint(g.k, stateD, 2)
			m.Sig = g.kr.Signer(0).Sign(m)
			return m
		}, false, nil},
		// VIEW-CHANGE
		{"VIEW-CHANGE from its signer", with(2), nil, node(2), func(g *rig) sim.Message { return g.viewChange(1, 2, 0, nil) }, true, nil},
		{"VIEW-CHANGE relayed by another replica", with(2), nil, p, func(g *rig) sim.Message { return g.viewChange(1, 2, 0, nil) }, false, nil},
		{"VIEW-CHANGE for the current view", with(2), nil, node(2), func(g *rig) sim.Message { return g.viewChange(0, 2, 0, nil) }, false, nil},
		// REQUEST
		{"REQUEST from its client", last, nil, client, func(g *rig) sim.Message { return g.request(sim.NodeID(g.n), 1, "x") }, true, nil},
		{"REQUEST relayed by a replica", last, nil, p, func(g *rig) sim.Message { return g.request(sim.NodeID(g.n), 1, "x") }, true, nil},
		{"REQUEST relayed by replica 0", with(0), nil, node(0), func(g *rig) sim.Message { return g.request(sim.NodeID(g.n), 1, "x") }, true, nil},
		{"REQUEST relayed by another client", last, nil, otherClient, func(g *rig) sim.Message { return g.request(sim.NodeID(g.n), 1, "x") }, false, nil},
		{"REQUEST in the name of a replica", with(2), nil, node(2), func(g *rig) sim.Message { return g.request(2, 1, "x") }, false, nil},
		{"REQUEST of another client relayed by a client", last, nil, client, func(g *rig) sim.Message { return g.request(sim.NodeID(g.n+1), 1, "x") }, false, nil},
		// messages of replicas sent by a client in its own name (its key signs them)
		{"PREPARE of a client", last, nil, client, func(g *rig) sim.Message { return g.prepare(0, 1, ppDigest(g), sim.NodeID(g.n)) }, false, nil},
		{"COMMIT of a client", last, nil, client, func(g *rig) sim.Message { return g.commit(0, 1, ppDigest(g), sim.NodeID(g.n)) }, false, nil},
		{"CHECKPOINT of a client", last, nil, client, func(g *rig) sim.Message { return g.checkpoint(g.k, stateD, sim.NodeID(g.n)) }, false, nil},
		{"VIEW-CHANGE of a client", last, nil, client, func(g *rig) sim.Message { return g.viewChange(1, sim.NodeID(g.n), 0, nil) }, false, nil},
		{"FETCH-STATE of a client", last, inView, client, func(g *rig) sim.Message { return &FetchState{Seq: 1, View: 0, Replica: sim.NodeID(g.n)} }, false, nil},
		{"STATE of a client", last, fetching, client, state(client, nil), false, nil},
		{"REQUEST with a forged signature", last, nil, client, func(g *rig) sim.Message {
			q := g.request(sim.NodeID(g.n), 1, "x")
			q.Sig = g.kr.Signer(sim.NodeID(g.n + 1)).Sign(q)
			return q
		}, false, nil},
		// FETCH-STATE
		{"FETCH-STATE from its sender", with(2), inView, node(2), func(g *rig) sim.Message { return &FetchState{Seq: 1, View: 0, Replica: 2} },
			true, func(rx *reaction) bool { return rx.sent(TypeState) == 1 }},
		{"FETCH-STATE from replica 0", with(0), inView, node(0), func(g *rig) sim.Message { return &FetchState{Seq: 1, View: 0, Replica: 0} },
			true, func(rx *reaction) bool { return rx.sent(TypeState) == 1 }},
		{"FETCH-STATE relayed by another replica", with(2), inView, p, func(g *rig) sim.Message { return &FetchState{Seq: 1, View: 0, Replica: 2} }, false, nil},
		{"FETCH-STATE from a replica in the same view", with(2), inView, node(2), func(g *rig) sim.Message {
			return &FetchState{Seq: 1, View: uint64(g.n - 1), Replica: 2}
		}, false, nil},
		// STATE
		{"STATE from its sender while fetching", last, fetching, p, state(p, nil), true, transferred},
		{"STATE relayed by another replica", with(2), fetching, p, state(node(2), nil), false, nil},
		{"STATE while not fetching", last, nil, p, state(p, nil), false, nil},
		{"STATE with a proof of 2f CHECKPOINTs", last, fetching, p, state(p, func(g *rig, st *State) { st.Proof = st.Proof[:2*g.f] }), false, nil},
		{"STATE whose snapshot does not have the proven digest", last, fetching, p, state(p, func(g *rig, st *State) {
			st.Snapshot, _ = snapshotOf(g, "x", "z")
		}), false, func(rx *reaction) bool { // refused, and its sender reported
			return transferred(rx) || !rx.reported("bad-state") || rx.after.LastExecuted != rx.before.LastExecuted
		}},
		{"STATE from a sender that sent a bad one", last, func(g *rig) {
			fetching(g)
			g.send(10*time.Millisecond, sim.NodeID(g.n-1), func() sim.Message {
				m := state(p, func(g *rig, st *State) { st.Snapshot, _ = snapshotOf(g, "x", "z") })(g)
				return m
			})
		}, p, state(p, nil), false, nil},
		{"STATE whose proof is for another digest", last, fetching, p, state(p, func(g *rig, st *State) { st.Proof = g.proof(g.k, stateD) }), false, nil},
		{"STATE at seq 0", last, fetching, p, state(p, func(g *rig, st *State) {
			st.Seq = 0
			st.Proof = g.proof(0, st.StateDigest)
		}), false, nil},
	}
}

// TestRejectRelayed: a message is taken only from its signer (the sender
// the network authenticates), REQUESTs also from replicas relaying them;
// and the other per-message rules (window, signatures, primary) hold.
func TestRejectRelayed(t *testing.T) {
	for _, n := range rigSizes {
		for _, c := range relayCases() {
			t.Run(fmt.Sprintf("n=%d/%s", n, c.name), func(t *testing.T) {
				g := newRig(t, rigOpts{n: n, puppets: c.puppets(n)})
				if c.setup != nil {
					c.setup(g)
				}
				g.sendMarked(20*time.Millisecond, c.from(g), func() sim.Message { return c.build(g) })
				rx := g.run(50 * time.Millisecond)
				if !rx.delivered {
					t.Fatal("not delivered")
				}
				accepted := rx.changed()
				if c.accepts != nil {
					accepted = c.accepts(rx)
				}
				if accepted != c.ok {
					t.Fatalf("accepted = %v, want %v\n%v", accepted, c.ok, rx)
				}
			})
		}
	}
}

// TestCheckpointsAboveWindowNeedFPlusOne: f replicas reporting checkpoints
// above the window may all be lying; they must not make a replica fetch
// state. f+1 of them (one is correct) must.
func TestCheckpointsAboveWindowNeedFPlusOne(t *testing.T) {
	for _, n := range rigSizes {
		f := (n - 1) / 3
		for _, senders := range []int{f, f + 1} {
			t.Run(fmt.Sprintf("n=%d/senders=%d", n, senders), func(t *testing.T) {
				var puppets []sim.NodeID
				for i := n - senders; i < n; i++ {
					puppets = append(puppets, sim.NodeID(i))
				}
				g := newRig(t, rigOpts{n: n, puppets: puppets})
				for j, id := range puppets {
					seq := g.l + g.k*uint64(1+j) // above H = L, different per sender
					g.script(time.Millisecond*time.Duration(1+j), id, rigTarget, func() sim.Message { return g.checkpoint(seq, stateD, id) }, j == len(puppets)-1)
				}
				rx := g.run(time.Second)
				fetched := rx.after.Fetching || g.sentBy[TypeFetchState] > 0
				if want := senders > f; fetched != want {
					t.Fatalf("%d CHECKPOINTs above the window: fetching = %v, want %v\n%v", senders, fetched, want, rx)
				}
				if senders > f && rx.after.FetchSeq != g.l+g.k {
					// the (f+1)-th highest: the lowest of the f+1
					t.Fatalf("fetch target %d, want %d", rx.after.FetchSeq, g.l+g.k)
				}
			})
		}
	}
}

// TestRecoveryKeepsPendingFetch: a replica that crashes while fetching
// state lost its fetch timer; on recovery it must arm it again (not ask
// startFetch, which sees a fetch in progress and does nothing), or it never
// asks again.
func TestRecoveryKeepsPendingFetch(t *testing.T) {
	T := 100 * time.Millisecond
	ms := func(x int) sim.Time { return sim.Time(time.Duration(x) * time.Millisecond) }
	g := newRig(t, rigOpts{timeout: T, crashes: []sim.Crash{
		{Node: rigTarget, At: ms(1), Recover: ms(2)}, // starts a fetch (nobody has state to give)
		{Node: rigTarget, At: ms(3), Recover: ms(4)}, // crashes during it
	}})
	g.run(ms(150).Duration())
	g.fetchTimes = slices.Compact(g.fetchTimes) // one multicast: n-1 sends
	if len(g.fetchTimes) < 2 || g.fetchTimes[0] != ms(2) {
		t.Fatalf("FETCH-STATE sent at %v; want at 2ms (first recovery) and again after the second", g.fetchTimes)
	}
	// the retry comes T after the second recovery, not after the first
	for _, at := range g.fetchTimes[1:] {
		if at != ms(4).Add(T) {
			t.Fatalf("FETCH-STATE retried at %v, want %v (T after the second recovery)", g.fetchTimes, ms(4).Add(T))
		}
	}
}

// TestFutureMessagesCapped: normal-case messages of a view not entered yet
// are buffered once verified, at most 4L+8 per sender: a Byzantine sender
// flooding them fills only its own share (another sender's still get in),
// forged ones are never buffered, and nothing beyond h+2L is.
func TestFutureMessagesCapped(t *testing.T) {
	for _, n := range rigSizes {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			p := sim.NodeID(n - 1)
			g := newRig(t, rigOpts{n: n, puppets: []sim.NodeID{2, p}})
			limit := 4*int(g.l) + 8
			for i := 0; i < limit+10; i++ {
				seq := 1 + uint64(i)%(2*g.l)
				g.script(time.Millisecond, p, rigTarget, func() sim.Message { return g.prepare(1, seq, Digest{byte(i)}, p) }, false)
			}
			g.script(2*time.Millisecond, 2, rigTarget, func() sim.Message { return g.prepare(1, 1, Digest{1}, 2) }, false)
			g.script(3*time.Millisecond, 2, rigTarget, func() sim.Message {
				m := g.prepare(1, 2, Digest{1}, 2)
				m.Sig = g.kr.Signer(p).Sign(m)
				return m
			}, true)
			rx := g.run(time.Second)
			if rx.before.Buffered != limit+1 {
				t.Fatalf("%d future messages buffered, want the flooder's cap %d and the other sender's one", rx.before.Buffered, limit+1)
			}
			if rx.changed() {
				t.Fatalf("a forged PREPARE of a future view was buffered\n%v", rx)
			}
			// beyond 2L above h, nothing is buffered; at 2L it is
			g = newRig(t, rigOpts{n: n})
			g.sendMarked(time.Millisecond, p, func() sim.Message { return g.prepare(1, 2*g.l+1, Digest{1}, p) })
			if rx := g.run(time.Second); rx.changed() {
				t.Fatalf("PREPARE of a future view beyond h+2L buffered\n%v", rx)
			}
			g = newRig(t, rigOpts{n: n})
			g.sendMarked(time.Millisecond, p, func() sim.Message { return g.prepare(1, 2*g.l, Digest{1}, p) })
			if rx := g.run(time.Second); rx.after.Buffered != 1 {
				t.Fatalf("PREPARE of a future view at h+2L not buffered\n%v", rx)
			}
		})
	}
}

// TestNewViewOrderWithoutRecompute: with the broken variant that does not
// recompute O (newview-no-recompute), the rule that O is in increasing seq
// order still holds (in the correct protocol the recomputation catches a
// disorder too).
func TestNewViewOrderWithoutRecompute(t *testing.T) {
	for _, c := range []string{"in order", "swapped", "repeated"} {
		g := newRig(t, rigOpts{variant: VariantNVNoRecompute})
		p := sim.NodeID(g.n - 1)
		v := uint64(p)
		g.sendMarked(time.Millisecond, p, func() sim.Message {
			V := nvV(g, v, g.cert(g.prePrepare(0, g.k+1, "a")), g.cert(g.prePrepare(0, g.k+2, "b")))
			O := g.expectedO(V, v)
			switch c {
			case "swapped":
				O[0], O[1] = O[1], O[0]
			case "repeated":
				O[1] = O[0]
			}
			return g.newView(v, V, O)
		})
		rx := g.run(3 * time.Millisecond)
		if entered := rx.reported("new-view"); entered != (c == "in order") {
			t.Fatalf("O %s: entered = %v\n%v", c, entered, rx)
		}
	}
}

// TestRecoveryAsksForState: a replica that recovers after executing
// requests asks for newer stable state at once (FETCH-STATE for the seq
// after its last executed).
func TestRecoveryAsksForState(t *testing.T) {
	ms := func(x int) sim.Time { return sim.Time(time.Duration(x) * time.Millisecond) }
	g := newRig(t, rigOpts{crashes: []sim.Crash{{Node: rigTarget, At: ms(30), Recover: ms(40)}}})
	c := sim.NodeID(g.n)
	for i := 1; i <= 3; i++ {
		ts := uint64(i)
		g.script(time.Duration(i)*time.Millisecond, c, 0, func() sim.Message { return g.request(c, ts, fmt.Sprintf("op%d", ts)) }, false)
	}
	g.run(ms(45).Duration())
	if got := g.target().LastExecuted(); got != 3 {
		t.Fatalf("target executed %d requests before recovering, want 3", got)
	}
	asked := false
	for _, at := range g.fetchTimes {
		asked = asked || at == ms(40)
	}
	if !asked {
		t.Fatalf("no FETCH-STATE at the recovery (40ms): sent at %v", g.fetchTimes)
	}
}

// TestProposeLimit: the primary assigns sequence numbers up to h + L/2 when
// L/2 reaches the next checkpoint (h + K), else up to h + L, however many
// requests wait (here nothing prepares: its backups are down).
func TestProposeLimit(t *testing.T) {
	for _, c := range []struct{ k, l, want int }{{4, 8, 4}, {2, 8, 4}, {4, 4, 4}, {3, 12, 6}} {
		t.Run(fmt.Sprintf("K=%d,L=%d", c.k, c.l), func(t *testing.T) {
			g := newRig(t, rigOpts{k: c.k, l: c.l, crashes: []sim.Crash{{Node: 1, At: 1}, {Node: 2, At: 1}}})
			cl := sim.NodeID(g.n)
			for i := 1; i <= 20; i++ {
				ts := uint64(i)
				g.script(time.Millisecond, cl, 0, func() sim.Message { return g.request(cl, ts, fmt.Sprintf("op%d", ts)) }, false)
			}
			g.run(50 * time.Millisecond)
			if got := g.reps[0].Inspect().LastAssigned; got != uint64(c.want) {
				t.Fatalf("the primary assigned up to %d, want %d", got, c.want)
			}
		})
	}
}

// TestFutureBufferBounds: a future-view message of replica 0 is buffered
// like any replica's; one at seq h (not above it) is not.
func TestFutureBufferBounds(t *testing.T) {
	g := newRig(t, rigOpts{puppets: []sim.NodeID{0, 3}})
	g.sendMarked(time.Millisecond, 0, func() sim.Message { return g.prepare(2, 1, Digest{1}, 0) })
	if rx := g.run(time.Second); rx.after.Buffered != 1 {
		t.Fatalf("future-view PREPARE of replica 0 not buffered\n%v", rx)
	}
	g = newRig(t, rigOpts{})
	g.sendMarked(time.Millisecond, 3, func() sim.Message { return g.prepare(1, 0, Digest{1}, 3) })
	if rx := g.run(time.Second); rx.changed() {
		t.Fatalf("future-view PREPARE at seq h = 0 buffered\n%v", rx)
	}
}

// TestLaggingReplicaAsksForNewView: when f+1 replicas send normal-case
// messages of a view the replica has not entered, it asks for the NEW-VIEW
// (a FETCH-STATE naming its view) after T/2; f of them are not enough.
func TestLaggingReplicaAsksForNewView(t *testing.T) {
	for _, senders := range []int{1, 2} { // f = 1
		T := 100 * time.Millisecond
		puppets := []sim.NodeID{3, 2}[:senders]
		g := newRig(t, rigOpts{puppets: puppets, timeout: T})
		for i, id := range puppets {
			g.script(time.Millisecond*time.Duration(1+i), id, rigTarget, func() sim.Message { return g.prepare(1, 1, Digest{1}, id) }, false)
		}
		g.run(T)
		asked := len(g.fetchTimes) > 0
		if asked != (senders == 2) {
			t.Fatalf("%d senders in view 1: FETCH-STATE sent at %v", senders, g.fetchTimes)
		}
		if want := sim.Time(3*time.Millisecond + T/2); asked && g.fetchTimes[0] != want {
			t.Fatalf("asked at %v, want T/2 after the (f+1)-th sender's message arrived (%v)", g.fetchTimes[0], want)
		}
	}
}

// TestViewChangeBuffersNewViewMessages: a replica changing to view v (no
// NEW-VIEW yet) buffers normal-case messages of v instead of processing them.
func TestViewChangeBuffersNewViewMessages(t *testing.T) {
	g := newRig(t, rigOpts{puppets: []sim.NodeID{2, 3}})
	for _, id := range []sim.NodeID{2, 3} { // f+1 VIEW-CHANGEs: the target joins view 2 (primary 2 stays silent)
		g.send(time.Millisecond, id, func() sim.Message { return g.viewChange(2, id, 0, nil) })
	}
	g.sendMarked(5*time.Millisecond, 3, func() sim.Message { return g.prepare(2, 1, Digest{1}, 3) })
	rx := g.run(50 * time.Millisecond)
	if !rx.before.InViewChange || rx.before.View != 2 {
		t.Fatalf("target not changing to view 2: %v", rx.before)
	}
	if rx.after.Buffered != rx.before.Buffered+1 || len(rx.after.Log) != len(rx.before.Log) {
		t.Fatalf("PREPARE of the view being changed to not buffered\n%v", rx)
	}
}

// TestCommitsBeforePrePrepareCount: COMMITs and PREPAREs that arrive before
// the PRE-PREPARE count once it comes: the replica prepares and commits at
// its delivery.
func TestCommitsBeforePrePrepareCount(t *testing.T) {
	g := newRig(t, rigOpts{puppets: []sim.NodeID{0, 2, 3}})
	d := g.prePrepare(0, 1, "x").Digest
	for _, id := range []sim.NodeID{2, 3} {
		g.send(time.Millisecond, id, func() sim.Message { return g.prepare(0, 1, d, id) })
	}
	for _, id := range []sim.NodeID{0, 2} {
		g.send(2*time.Millisecond, id, func() sim.Message { return g.commit(0, 1, d, id) })
	}
	g.sendMarked(3*time.Millisecond, 0, func() sim.Message { return g.prePrepare(0, 1, "x") })
	rx := g.run(50 * time.Millisecond)
	if !rx.reported("prepared") || !rx.reported("committed") || !rx.reported("executed") {
		t.Fatalf("PRE-PREPARE after 2f PREPAREs and 2f COMMITs: want prepared, committed and executed at once\n%v", rx)
	}
}

// sentOf returns the target's sends of type T, in order.
func sentOf[T any](g *rig) []*T {
	var out []*T
	for _, s := range g.sent {
		if m, ok := any(s.Msg).(*T); ok {
			out = append(out, m)
		}
	}
	return out
}

// TestLaggingAskOncePerView: the lagging replica's FETCH-STATE names the
// view it entered and the seq after its last executed, and it asks once
// per view however many more future-view messages come.
func TestLaggingAskOncePerView(t *testing.T) {
	T := 100 * time.Millisecond
	g := newRig(t, rigOpts{puppets: []sim.NodeID{2, 3}, timeout: T})
	for i, id := range []sim.NodeID{2, 3} {
		g.script(time.Millisecond*time.Duration(1+i), id, rigTarget, func() sim.Message { return g.prepare(1, 1, Digest{1}, id) }, false)
		g.script(T+time.Millisecond*time.Duration(1+i), id, rigTarget, func() sim.Message { return g.prepare(2, 1, Digest{1}, id) }, false)
	}
	g.run(3 * T)
	var fs []*FetchState
	for _, m := range sentOf[FetchState](g) {
		if len(fs) == 0 || fs[len(fs)-1] != m {
			fs = append(fs, m) // one multicast
		}
	}
	if len(fs) != 1 || fs[0].View != 0 || fs[0].Seq != 1 || fs[0].Replica != rigTarget {
		t.Fatalf("FETCH-STATEs %+v: want one, for view 0 and seq 1", fs)
	}
	// in a view change to view 2 (not entered), the entered view it names is 1
	g = newRig(t, rigOpts{puppets: []sim.NodeID{2, 3}, timeout: T})
	for i, id := range []sim.NodeID{2, 3} {
		g.send(time.Millisecond, id, func() sim.Message { return g.viewChange(2, id, 0, nil) })
		g.script(2*time.Millisecond+time.Duration(i)*time.Millisecond, id, rigTarget, func() sim.Message { return g.prepare(5, 1, Digest{1}, id) }, false)
	}
	g.run(T)
	fs = sentOf[FetchState](g)
	if len(fs) == 0 || fs[0].View != 1 {
		t.Fatalf("FETCH-STATEs %+v: want the one of a replica changing to view 2 to name view 1", fs)
	}
}

// TestNewPrimaryOrdersPendingRequests: a new primary proposes the requests
// pending at it in the order they arrived there.
func TestNewPrimaryOrdersPendingRequests(t *testing.T) {
	g := newRig(t, rigOpts{puppets: []sim.NodeID{2, 3}, clients: 3})
	n := sim.NodeID(g.n)
	// requests reach the target (a backup of view 0, whose primary 0 is
	// honest but gets nothing: the relays are the target's own sends)
	for i, c := range []sim.NodeID{n + 2, n, n + 1} {
		g.script(time.Millisecond*time.Duration(1+i), c, rigTarget, func() sim.Message { return g.request(c, 1, fmt.Sprintf("c%d", c)) }, false)
	}
	for _, id := range []sim.NodeID{2, 3} { // view 1: the target is its primary
		g.send(10*time.Millisecond, id, func() sim.Message { return g.viewChange(1, id, 0, nil) })
	}
	g.run(50 * time.Millisecond)
	var order []sim.NodeID
	var last *PrePrepare
	for _, pp := range sentOf[PrePrepare](g) {
		if pp != last && pp.View == 1 && len(pp.Batch) == 1 {
			order = append(order, pp.Batch[0].Client)
		}
		last = pp
	}
	if want := []sim.NodeID{n + 2, n, n + 1}; !slices.Equal(order, want) { // arrival order
		t.Fatalf("new primary proposed requests of clients %v, want %v", order, want)
	}
}

// TestViewChangeKeepsBufferedMessagesOfTargetView: messages of view v
// buffered before the replica starts changing to v are kept (and replayed
// when it enters v); older ones are dropped.
func TestViewChangeKeepsBufferedMessagesOfTargetView(t *testing.T) {
	g := newRig(t, rigOpts{puppets: []sim.NodeID{2, 3}})
	g.send(time.Millisecond, 3, func() sim.Message { return g.prepare(2, 1, Digest{1}, 3) })
	g.send(time.Millisecond, 3, func() sim.Message { return g.prepare(1, 1, Digest{1}, 3) })
	for _, id := range []sim.NodeID{2, 3} {
		g.send(5*time.Millisecond, id, func() sim.Message { return g.viewChange(2, id, 0, nil) })
	}
	g.run(50 * time.Millisecond)
	if s := g.target().Inspect(); !s.InViewChange || s.View != 2 || s.Buffered != 1 {
		t.Fatalf("after joining view 2: %v; want the view-2 PREPARE still buffered, the view-1 one dropped", s)
	}
}

// TestInvalidNewViewOfCurrentView: a replica waiting for the NEW-VIEW of
// view v that gets an invalid one from v's primary moves on to v+1.
func TestInvalidNewViewOfCurrentView(t *testing.T) {
	g := newRig(t, rigOpts{puppets: []sim.NodeID{2, 3}})
	for _, id := range []sim.NodeID{2, 3} { // f+1: the target joins view 3 (primary: puppet 3)
		g.send(time.Millisecond, id, func() sim.Message { return g.viewChange(3, id, 0, nil) })
	}
	g.sendMarked(5*time.Millisecond, 3, func() sim.Message {
		V := nvV(g, 3)
		return g.newView(3, V[:len(V)-1], nil) // 2f VIEW-CHANGEs
	})
	rx := g.run(6 * time.Millisecond)
	if rx.before.View != 3 || !rx.before.InViewChange || rx.after.View != 4 || !rx.after.InViewChange {
		t.Fatalf("invalid NEW-VIEW of the view being changed to: want a change to view 4\n%v", rx)
	}
}

// TestHighCheckpointKeepsHighest: of one sender's CHECKPOINTs above the
// window, the highest is kept (a lower one sent later does not replace it).
func TestHighCheckpointKeepsHighest(t *testing.T) {
	g := newRig(t, rigOpts{puppets: []sim.NodeID{2, 3}})
	g.send(time.Millisecond, 2, func() sim.Message { return g.checkpoint(5*g.k, stateD, 2) })
	g.send(2*time.Millisecond, 2, func() sim.Message { return g.checkpoint(3*g.k, stateD, 2) })
	g.send(3*time.Millisecond, 3, func() sim.Message { return g.checkpoint(5*g.k, stateD, 3) })
	g.run(10 * time.Millisecond)
	if s := g.target().Inspect(); !s.Fetching || s.FetchSeq != 5*g.k {
		t.Fatalf("fetching %v up to %d, want up to %d (both senders' highest)", s.Fetching, s.FetchSeq, 5*g.k)
	}
}

// TestSignerOutsideKeyring: a signer for an id the keyring has no key for
// signs nothing that verifies (and does not panic).
func TestSignerOutsideKeyring(t *testing.T) {
	kr := NewKeyring(1, 5)
	for _, id := range []sim.NodeID{5, 6, -1} {
		p := &Prepare{Replica: id}
		p.Sig = kr.Signer(id).Sign(p)
		if kr.Verify(p) {
			t.Errorf("signature of id %d verifies", id)
		}
	}
	if kr := NewKeyring(1, 0); kr.Nodes() != 0 {
		t.Errorf("empty keyring has %d keys", kr.Nodes())
	}
}

// TestFetchEndsAtTarget: state transfer stops as soon as the installed state
// reaches the fetch target (here the (f+1)-th highest above-window
// checkpoint, L+K).
func TestFetchEndsAtTarget(t *testing.T) {
	g := newRig(t, rigOpts{puppets: []sim.NodeID{2, 3}})
	target := g.l + g.k
	for _, id := range []sim.NodeID{2, 3} {
		g.send(time.Millisecond, id, func() sim.Message { return g.checkpoint(target, stateD, id) })
	}
	g.sendMarked(5*time.Millisecond, 3, func() sim.Message {
		snap, d := snapshotOf(g, "x")
		return &State{Seq: target, StateDigest: d, Snapshot: snap, Proof: g.proof(target, d), Replica: 3}
	})
	rx := g.run(20 * time.Millisecond)
	if !rx.before.Fetching || rx.before.FetchSeq != target {
		t.Fatalf("before the STATE: want fetching up to %d: %v", target, rx.before)
	}
	if !rx.reported("state-transfer") || rx.after.LastExecuted != target || rx.after.Fetching {
		t.Fatalf("after installing state %d: want fetching over\n%v", target, rx)
	}
}

// TestEnterViewReplaysBuffered: entering view v processes the buffered
// messages of v and keeps only those of later views.
func TestEnterViewReplaysBuffered(t *testing.T) {
	g := newRig(t, rigOpts{puppets: []sim.NodeID{2, 3}})
	g.send(time.Millisecond, 3, func() sim.Message { return g.prepare(2, 1, Digest{1}, 3) })
	g.send(time.Millisecond, 3, func() sim.Message { return g.prepare(6, 1, Digest{1}, 3) })
	g.sendMarked(5*time.Millisecond, 2, func() sim.Message {
		V := []*ViewChange{g.viewChange(2, 0, 0, nil), g.viewChange(2, 2, 0, nil), g.viewChange(2, 3, 0, nil)}
		return g.newView(2, V, nil)
	})
	rx := g.run(10 * time.Millisecond)
	if !rx.reported("new-view") || rx.before.Buffered != 2 || rx.after.Buffered != 1 {
		t.Fatalf("entering view 2 with PREPAREs of views 2 and 6 buffered: want the view-6 one left\n%v", rx)
	}
	held := false
	for _, e := range rx.after.Log {
		held = held || e.View == 2 && e.Seq == 1 && len(e.Prepares) == 1
	}
	if !held {
		t.Fatalf("the buffered view-2 PREPARE was not processed\n%v", rx)
	}
}

// TestFetchStateAnsweredAtStableCheckpoint: a replica whose stable
// checkpoint is exactly the seq asked for sends its state.
func TestFetchStateAnsweredAtStableCheckpoint(t *testing.T) {
	g := newRig(t, rigOpts{})
	c := sim.NodeID(g.n)
	for i := 1; i <= int(g.k); i++ {
		ts := uint64(i)
		g.script(time.Duration(i)*time.Millisecond, c, 0, func() sim.Message { return g.request(c, ts, fmt.Sprintf("op%d", ts)) }, false)
	}
	g.sendMarked(50*time.Millisecond, 3, func() sim.Message { return &FetchState{Seq: g.k, View: 0, Replica: 3} })
	rx := g.run(60 * time.Millisecond)
	if rx.before.StableCheckpoint != g.k || rx.before.StableDigest == "" {
		t.Fatalf("target's stable checkpoint %d (digest %q), want %d", rx.before.StableCheckpoint, rx.before.StableDigest, g.k)
	}
	if len(rx.before.Checkpoints) == 0 || rx.before.Checkpoints[0].Seq != g.k || !rx.before.Checkpoints[0].Mine {
		t.Fatalf("Inspect must show the replica's own checkpoint at h = %d: %+v", g.k, rx.before.Checkpoints)
	}
	if sts := sentOf[State](g); rx.sent(TypeState) != 1 || len(sts) != 1 || sts[0].Seq != g.k {
		t.Fatalf("FETCH-STATE for seq %d at a replica stable at %d: want its STATE\n%v", g.k, g.k, rx)
	}
}

// probesOf returns the probe paths the target reported, in order.
func probesOf(g *rig) []string {
	var out []string
	for _, e := range g.events {
		if p, ok := e.(*Probe); ok {
			out = append(out, p.Path)
		}
	}
	return out
}

// TestProbes: the coverage probes fire on their paths and only there: a
// NEW-VIEW whose O re-proposes a request and fills a gap with the null
// request, one with an empty O, a view change that skips a view and one
// that does not, the primary stopped by its high watermark.
func TestProbes(t *testing.T) {
	nvWith := func(certs func(g *rig) []PreparedCert) []string {
		g := newRig(t, rigOpts{})
		v := uint64(g.n - 1)
		g.send(time.Millisecond, sim.NodeID(g.n-1), func() sim.Message {
			V := nvV(g, v, certs(g)...)
			return g.newView(v, V, g.expectedO(V, v))
		})
		g.run(5 * time.Millisecond)
		return probesOf(g)
	}
	for _, c := range []struct {
		name      string
		certs     func(g *rig) []PreparedCert
		req, null bool
	}{
		{"a re-proposal and a null request", func(g *rig) []PreparedCert {
			return []PreparedCert{g.cert(g.prePrepare(0, g.k+1, "a")), g.cert(g.prePrepare(0, g.k+3, "c"))}
		}, true, true},
		{"a re-proposal only", func(g *rig) []PreparedCert { return []PreparedCert{g.cert(g.prePrepare(0, g.k+1, "a"))} }, true, false},
		{"a prepared null request only", func(g *rig) []PreparedCert { return []PreparedCert{g.cert(g.prePrepareOf(0, g.k+1, 0))} }, false, true},
		{"an empty O", func(g *rig) []PreparedCert { return nil }, false, false},
	} {
		got := nvWith(c.certs)
		if slices.Contains(got, ProbeNVReproposal) != c.req || slices.Contains(got, ProbeNVNull) != c.null {
			t.Errorf("NEW-VIEW with %s: probes %v", c.name, got)
		}
	}
	viewChangeTo := func(v uint64) []string {
		g := newRig(t, rigOpts{puppets: []sim.NodeID{2, 3}})
		for _, id := range []sim.NodeID{2, 3} {
			g.send(time.Millisecond, id, func() sim.Message { return g.viewChange(v, id, 0, nil) })
		}
		g.run(5 * time.Millisecond)
		return probesOf(g)
	}
	if got := viewChangeTo(2); !slices.Contains(got, ProbeSkipView) {
		t.Errorf("view change 0 -> 2: probes %v", got)
	}
	if got := viewChangeTo(1); slices.Contains(got, ProbeSkipView) {
		t.Errorf("view change 0 -> 1: probes %v", got)
	}
}
