package byzantine

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

const (
	testN       = 4
	testF       = 1
	testClient  = sim.NodeID(4)
	testNodes   = 6 // 4 replicas + 2 clients
	testKeySeed = 7
)

var testKeys = pbft.NewKeyring(testKeySeed, testNodes)

func signed[T any](m *T) *T {
	switch x := any(m).(type) {
	case *pbft.Request:
		sign(testKeys.Signer(x.Client), x)
	default:
		id, _ := claimedID(any(m).(sim.Message))
		sign(testKeys.Signer(id), m)
	}
	return m
}

func testEnv(id sim.NodeID, seed uint64) Env {
	return Env{ID: id, N: testN, F: testF, Signer: testKeys.Signer(id), Rand: rand.New(rand.NewPCG(seed, 99))}
}

func multicast(out *sim.Output, self sim.NodeID, m sim.Message, withSelf bool) {
	for i := 0; i < testN; i++ {
		if sim.NodeID(i) != self || withSelf {
			out.Send(sim.NodeID(i), m)
		}
	}
}

// script is a stub honest replica: step k (Start is step 0) emits steps[k].
type script struct {
	id     sim.NodeID
	steps  []func(out *sim.Output)
	k      int
	inputs []sim.Input // what it was given
}

func (s *script) Start(now sim.Time, out *sim.Output) { s.next(out) }
func (s *script) Step(now sim.Time, in sim.Input, out *sim.Output) {
	s.inputs = append(s.inputs, in)
	s.next(out)
}
func (s *script) next(out *sim.Output) {
	if s.k < len(s.steps) {
		s.steps[s.k](out)
	}
	s.k++
}

// req is a client request.
func req(ts uint64, op string) *pbft.Request {
	return signed(&pbft.Request{Op: op, Timestamp: ts, Client: testClient})
}

func pp(id sim.NodeID, v, n uint64, batch ...*pbft.Request) *pbft.PrePrepare {
	return signed(&pbft.PrePrepare{View: v, Seq: n, Digest: pbft.BatchDigest(batch), Batch: batch, Replica: id})
}

func prep(id sim.NodeID, v, n uint64, d pbft.Digest) *pbft.Prepare {
	return signed(&pbft.Prepare{View: v, Seq: n, Digest: d, Replica: id})
}

func commit(id sim.NodeID, v, n uint64, d pbft.Digest) *pbft.Commit {
	return signed(&pbft.Commit{View: v, Seq: n, Digest: d, Replica: id})
}

func ckpt(id sim.NodeID, n uint64) *pbft.Checkpoint {
	return signed(&pbft.Checkpoint{Seq: n, StateDigest: pbft.Digest{byte(n), 0xcc}, Replica: id})
}

func viewChange(id sim.NodeID, v uint64) *pbft.ViewChange {
	p2 := pp(0, 0, 2, req(2, "authorize PAY002 200"))
	cert := pbft.PreparedCert{PrePrepare: p2, Prepares: []*pbft.Prepare{prep(1, 0, 2, p2.Digest), prep(2, 0, 2, p2.Digest)}}
	return signed(&pbft.ViewChange{NewView: v, StableSeq: 1,
		Checkpoints: []*pbft.Checkpoint{ckpt(0, 1), ckpt(1, 1), ckpt(2, 1)},
		Prepared:    []pbft.PreparedCert{cert}, Replica: id})
}

// fullScript returns a stub replica id that, step by step, sends one of
// each kind of message a replica sends, all in its own name. It is the
// primary of views 0 and 4 (n = 4). Every call gives a new stub sending the
// same message values, so outputs of two stubs compare by pointer.
func fullScript(id sim.NodeID) *script {
	return &script{id: id, steps: fullSteps(id)}
}

var fullStepsMemo = map[sim.NodeID][]func(*sim.Output){}

func fullSteps(id sim.NodeID) []func(*sim.Output) {
	if s, ok := fullStepsMemo[id]; ok {
		return s
	}
	r1, r2, r3 := req(1, "authorize PAY001 100"), req(2, "authorize PAY002 200"), req(3, "confirm PAY001")
	p1 := pp(id, 0, 1, r1, r3)
	p3 := pp(id, 0, 3, r2)
	p3b := pp(id, 0, 3, r2) // a retransmission (a new value)
	prep1, commit1, commit3 := prep(id, 0, 1, p1.Digest), commit(id, 0, 1, p1.Digest), commit(id, 0, 3, p3.Digest)
	reply1 := &pbft.Reply{View: 0, Timestamp: 1, Client: testClient, Replica: id, Result: "ok"}
	reply2 := &pbft.Reply{View: 4, Timestamp: 2, Client: testClient, Replica: id, Result: "ok"}
	reply3 := &pbft.Reply{View: 4, Timestamp: 1, Client: testClient + 1, Replica: id, Result: "declined"}
	ck := ckpt(id, 2)
	vc := viewChange(id, 4)
	nv := signed(&pbft.NewView{View: 4, ViewChanges: []*pbft.ViewChange{vc, viewChange(1, 4), viewChange(2, 4)},
		PrePrepares: []*pbft.PrePrepare{pp(id, 4, 2, r2), pp(id, 4, 3)}, Replica: id})
	s := []func(*sim.Output){
		func(out *sim.Output) { out.SetTimer(1, time.Second) },
		func(out *sim.Output) { multicast(out, id, p1, false) },
		func(out *sim.Output) { multicast(out, id, prep1, true) },
		func(out *sim.Output) { multicast(out, id, commit1, true) },
		func(out *sim.Output) { out.Send(testClient, reply1) },
		func(out *sim.Output) { multicast(out, id, p3, false); multicast(out, id, p3b, false) },
		func(out *sim.Output) { multicast(out, id, commit3, true) },
		func(out *sim.Output) { multicast(out, id, ck, true) },
		func(out *sim.Output) { out.Send(1, r2) }, // relays a client request to the primary
		func(out *sim.Output) { multicast(out, id, vc, true) },
		func(out *sim.Output) { multicast(out, id, nv, false) },
		func(out *sim.Output) { out.Send(testClient, reply2); out.Send(testClient+1, reply3) },
	}
	fullStepsMemo[id] = s
	return s
}

// fullInputs are the inputs fed to the stub after Start: a message from
// another replica carrying another digest for (0, 1) (what a colluder sees
// when the primary equivocates), then timers.
func fullInputs() []sim.Input {
	other := pp(0, 0, 1, req(9, "refund PAY009"))
	ins := []sim.Input{
		{Kind: sim.InputMessage, From: 2, Msg: prep(2, 0, 1, other.Digest)},
		{Kind: sim.InputMessage, From: 0, Msg: other},
	}
	for i := 0; i < 12; i++ {
		ins = append(ins, sim.Input{Kind: sim.InputTimer, Timer: sim.TimerID(i)})
	}
	return ins
}

// step is one step's sends.
type step []sim.Send

// drive starts n and feeds it ins, returning each step's sends (Start first).
func drive(n sim.Node, ins []sim.Input) []step {
	var out sim.Output
	var steps []step
	n.Start(0, &out)
	steps = append(steps, append(step(nil), out.Sends...))
	for i, in := range ins {
		out.Reset()
		n.Step(sim.Time(i+1)*sim.Time(time.Millisecond), in, &out)
		steps = append(steps, append(step(nil), out.Sends...))
	}
	return steps
}

func encode(s sim.Send) string {
	return fmt.Sprintf("%d:%s", s.To, hex.EncodeToString(s.Msg.AppendCanonical(nil)))
}

func encodeAll(steps []step) []string {
	var out []string
	for i, st := range steps {
		for _, s := range st {
			out = append(out, fmt.Sprintf("%d/%s", i, encode(s)))
		}
	}
	return out
}

// walk calls fn on m and every message nested in it.
func walk(m sim.Message, fn func(sim.Message)) {
	fn(m)
	switch m := m.(type) {
	case *pbft.PrePrepare:
		for _, r := range m.Batch {
			walk(r, fn)
		}
	case *pbft.ViewChange:
		for _, c := range m.Checkpoints {
			walk(c, fn)
		}
		for _, pc := range m.Prepared {
			walk(pc.PrePrepare, fn)
			for _, p := range pc.Prepares {
				walk(p, fn)
			}
		}
	case *pbft.NewView:
		for _, v := range m.ViewChanges {
			walk(v, fn)
		}
		for _, p := range m.PrePrepares {
			walk(p, fn)
		}
	}
}

// checkOwnName fails t if byz contains, at any depth, a message that claims
// another node as its author and that the honest replica did not send
// itself (same value), or a message in id's name with a bad signature.
func checkOwnName(t *testing.T, id sim.NodeID, honest, byz []step) {
	t.Helper()
	seen := map[sim.Message]bool{}
	for _, st := range honest {
		for _, s := range st {
			walk(s.Msg, func(m sim.Message) { seen[m] = true })
		}
	}
	for _, st := range byz {
		for _, s := range st {
			walk(s.Msg, func(m sim.Message) {
				if l, ok := m.(*twinLocal); ok {
					m = l.msg
				}
				if seen[m] {
					return
				}
				author, ok := claimedID(m)
				if !ok {
					t.Errorf("unknown message %T sent to %d", m, s.To)
					return
				}
				if author != id {
					t.Errorf("replica %d sent a %s in the name of %d it did not receive from its honest code: %+v", id, typeName(m), author, m)
				}
				if sg, ok := m.(pbft.Signable); ok && !testKeys.Verify(sg) {
					t.Errorf("replica %d sent a %s with a bad signature: %+v", id, typeName(m), m)
				}
			})
		}
	}
}

// msgsOf returns the messages of type typ sent to to, over all steps.
func msgsOf[T any](steps []step, to sim.NodeID) []*T {
	var out []*T
	for _, st := range steps {
		for _, s := range st {
			if m, ok := any(s.Msg).(*T); ok && s.To == to {
				out = append(out, m)
			}
		}
	}
	return out
}
