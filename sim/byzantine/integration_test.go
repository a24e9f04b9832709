package byzantine

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// Integration tests: strategies wrapped around the real pbft.Replica, run
// by the real kernel.

// opLog is a deterministic state machine that logs the operations.
type opLog struct{ ops []string }

func (s *opLog) Execute(op string) string {
	s.ops = append(s.ops, op)
	return op + "#" + strconv.Itoa(len(s.ops))
}
func (s *opLog) Digest() [32]byte { return sha256.Sum256([]byte(strings.Join(s.ops, "\n"))) }
func (s *opLog) Freeze() pbft.Frozen {
	return pbft.EncodedState(strings.Join(s.ops, "\n"))
}
func (s *opLog) Thaw(f pbft.Frozen) error { return s.Restore(f.Encode()) }
func (s *opLog) Restore(b []byte) error {
	s.ops = nil
	if len(b) > 0 {
		s.ops = strings.Split(string(b), "\n")
	}
	return nil
}

// tap records the sends of the node it wraps, step by step.
type tap struct {
	inner sim.Node
	steps []step
}

func (t *tap) Start(now sim.Time, out *sim.Output) {
	base := len(out.Sends)
	t.inner.Start(now, out)
	t.steps = append(t.steps, append(step(nil), out.Sends[base:]...))
}

func (t *tap) Step(now sim.Time, in sim.Input, out *sim.Output) {
	base := len(out.Sends)
	t.inner.Step(now, in, out)
	t.steps = append(t.steps, append(step(nil), out.Sends[base:]...))
}

// runLog collects what a run's nodes reported.
type runLog struct {
	executed map[sim.NodeID][]string // per replica: "seq:digest" in execution order
	accepted map[sim.NodeID][]string // per client: accepted results
	views    map[sim.NodeID]uint64   // highest view entered
	prepared map[sim.NodeID][]pbft.Digest
}

func (l *runLog) Record(r *sim.Record) {
	if r.Kind != sim.RecEvent {
		return
	}
	switch e := r.Event.(type) {
	case *pbft.Executed:
		l.executed[e.Replica] = append(l.executed[e.Replica], fmt.Sprintf("%d:%d:%v:%s", e.Seq, e.Index, e.Digest, e.Op))
	case *pbft.Accepted:
		l.accepted[e.Client] = append(l.accepted[e.Client], e.Result)
	case *pbft.Prepared:
		l.prepared[e.Replica] = append(l.prepared[e.Replica], e.Digest)
	case *pbft.NewViewEntered:
		l.views[e.Replica] = max(l.views[e.Replica], e.View)
	}
}

type faulty struct {
	id       sim.NodeID
	strategy string
	params   map[string]string
}

type clusterRun struct {
	log    *runLog
	honest map[sim.NodeID][]*tap // per faulty replica: its honest instances
	byz    map[sim.NodeID]*tap   // per faulty replica: what it sent
	hash   uint64
}

const (
	itClients = 2
	itOps     = 4
)

// runCluster runs 4 replicas and 2 clients (4 operations each) with the
// given faulty replicas and network rules.
func runCluster(t *testing.T, seed uint64, faults []faulty, rules []NetRule) *clusterRun {
	t.Helper()
	const n, f = testN, testF
	kr := pbft.NewKeyring(testKeySeed, n+itClients)
	newReplica := func(id sim.NodeID) *tap {
		r, err := pbft.NewReplica(pbft.Config{ID: id, N: n, F: f, CheckpointInterval: 4, Window: 8, Batch: 1,
			ViewChangeTimeout: 50 * time.Millisecond, Keyring: kr, SM: &opLog{}})
		if err != nil {
			t.Fatal(err)
		}
		return &tap{inner: r}
	}
	streams := sim.Streams{Seed: seed}
	cr := &clusterRun{log: &runLog{executed: map[sim.NodeID][]string{}, accepted: map[sim.NodeID][]string{}, views: map[sim.NodeID]uint64{},
		prepared: map[sim.NodeID][]pbft.Digest{}},
		honest: map[sim.NodeID][]*tap{}, byz: map[sim.NodeID]*tap{}}
	nodes := make([]sim.Node, n+itClients)
	for i := 0; i < n; i++ {
		id := sim.NodeID(i)
		h := newReplica(id)
		nodes[i] = h
		for _, fl := range faults {
			if fl.id != id {
				continue
			}
			cr.honest[id] = []*tap{h}
			env := Env{ID: id, N: n, F: f, Signer: kr.Signer(id), Rand: streams.Stream(fmt.Sprintf("byzantine/%d", id)),
				NewHonest: func() (sim.Node, error) {
					h2 := newReplica(id)
					cr.honest[id] = append(cr.honest[id], h2)
					return h2, nil
				}}
			b, err := New(fl.strategy, fl.params, h, env)
			if err != nil {
				t.Fatal(err)
			}
			cr.byz[id] = &tap{inner: b}
			nodes[i] = cr.byz[id]
		}
	}
	for c := 0; c < itClients; c++ {
		id := sim.NodeID(n + c)
		var ops []string
		for k := 0; k < itOps; k++ {
			ops = append(ops, fmt.Sprintf("op c%d-%d", c, k))
		}
		cl, err := pbft.NewClient(pbft.ClientConfig{ID: id, N: n, F: f, Ops: ops, Timeout: 100 * time.Millisecond, Keyring: kr})
		if err != nil {
			t.Fatal(err)
		}
		nodes[n+c] = cl
	}
	cfg := sim.Config{Seed: seed, Nodes: nodes, MaxTime: sim.Time(20 * time.Second), Sinks: []sim.Sink{cr.log},
		Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: sim.Delay{Kind: sim.DelayUniform, Min: time.Millisecond, Max: 3 * time.Millisecond}}}}
	if len(rules) > 0 {
		cfg.Network.Filters = []sim.Filter{NewRuleFilter(rules, streams.Stream("adversary"))}
	}
	k, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := k.Run()
	if k.Err() != nil {
		t.Fatal(k.Err())
	}
	cr.hash = st.TraceHash
	return cr
}

// agree reports whether the honest replicas never executed different
// requests at the same (sequence number, batch index). Logs are keyed by
// position because a replica that catches up by state transfer does not
// execute (nor report) the sequence numbers it skipped.
func (cr *clusterRun) agree(honest []sim.NodeID) bool {
	at := map[string]string{}
	for _, r := range honest {
		for _, e := range cr.log.executed[r] {
			i := strings.Index(e, ":")
			i += strings.Index(e[i+1:], ":") + 1
			key, val := e[:i], e[i+1:]
			if prev, ok := at[key]; ok && prev != val {
				return false
			}
			at[key] = val
		}
	}
	return true
}

func (cr *clusterRun) completed() bool {
	for c := 0; c < itClients; c++ {
		if len(cr.log.accepted[sim.NodeID(testN+c)]) != itOps {
			return false
		}
	}
	return true
}

var commitsOfView0 = []NetRule{{Types: []string{"COMMIT"}, View: u64(0), Drop: 1}}

// TestRealReplica wraps the real replica in each strategy with one faulty
// replica (within the fault model): the faulty replica's sends differ from
// its honest code's, it never speaks for anyone else, and the honest
// replicas agree and finish the workload.
func TestRealReplica(t *testing.T) {
	cases := []struct {
		name  string
		fault faulty
		rules []NetRule
		live  bool // the clients are expected to finish
	}{
		{"silent", faulty{3, "silent", nil}, nil, true},
		{"silent primary", faulty{0, "silent", nil}, nil, true},
		{"selective-silent", faulty{1, "selective-silent", map[string]string{"types": "COMMIT,REPLY"}}, nil, true},
		{"equivocate", faulty{0, "equivocate", nil}, nil, true},
		{"equivocate forge-op", faulty{0, "equivocate", map[string]string{"alt": "forge-op", "split": "alternate"}}, nil, true},
		{"conflicting-votes", faulty{1, "conflicting-votes", nil}, nil, true},
		{"conflicting-votes split", faulty{1, "conflicting-votes", map[string]string{"mode": "split"}}, nil, true},
		{"conflicting-votes mirror", faulty{1, "conflicting-votes", map[string]string{"mode": "mirror"}}, nil, true},
		{"mutate", faulty{2, "mutate", map[string]string{"kind": "view+1,view-1,seq+1,seq-1,digest,replay", "prob": "0.5"}}, nil, true},
		{"mutate primary", faulty{0, "mutate", map[string]string{"kind": "digest", "prob": "0.3"}}, nil, true},
		{"vc-stale", faulty{2, "vc-stale", nil}, commitsOfView0, false},
		{"newview-drop", faulty{1, "newview-drop", nil}, commitsOfView0, false},
		{"lying-reply", faulty{3, "lying-reply", nil}, nil, true},
		{"twins", faulty{2, "twins", map[string]string{"groups": "0|1,3"}}, nil, true},
		{"twins primary", faulty{0, "twins", map[string]string{"groups": "1|2,3"}}, nil, true},
		{"composed", faulty{0, "equivocate+lying-reply", nil}, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cr := runCluster(t, 1, []faulty{c.fault}, c.rules)
			var honestSteps []step
			for _, h := range cr.honest[c.fault.id] {
				honestSteps = append(honestSteps, h.steps...)
			}
			byzSteps := cr.byz[c.fault.id].steps
			if slices.Equal(encodeAll(honestSteps), encodeAll(byzSteps)) {
				t.Fatal("faulty replica sent exactly what its honest code sent")
			}
			checkOwnName(t, c.fault.id, honestSteps, byzSteps)
			var honest []sim.NodeID
			for i := 0; i < testN; i++ {
				if sim.NodeID(i) != c.fault.id {
					honest = append(honest, sim.NodeID(i))
				}
			}
			if !cr.agree(honest) {
				t.Errorf("honest replicas disagree with one faulty replica: %v", cr.log.executed)
			}
			if c.live && !cr.completed() {
				t.Errorf("clients did not finish: accepted %v", cr.log.accepted)
			}
			for c, res := range cr.log.accepted {
				for _, r := range res {
					if strings.HasPrefix(r, "lie:") {
						t.Errorf("client %d accepted a lie %q from one liar", c, r)
					}
				}
			}
			again := runCluster(t, 1, []faulty{c.fault}, c.rules)
			if again.hash != cr.hash {
				t.Errorf("same seed, different trace hash: %x vs %x", cr.hash, again.hash)
			}
		})
	}
}

// TestViewChangeAttacksAct checks the view-change strategies had something
// to attack: under the rule that blocks view-0 COMMITs, the view changes
// carry prepared certificates, which the faulty replica altered.
func TestViewChangeAttacksAct(t *testing.T) {
	cr := runCluster(t, 1, []faulty{{2, "vc-stale", nil}}, commitsOfView0)
	hadP := false
	for _, h := range cr.honest[2] {
		for _, m := range msgsOf[pbft.ViewChange](h.steps, 0) {
			hadP = hadP || len(m.Prepared) > 0
		}
	}
	if !hadP {
		t.Fatal("honest VIEW-CHANGE of replica 2 carried no prepared certificate")
	}
	for _, m := range msgsOf[pbft.ViewChange](cr.byz[2].steps, 0) {
		if len(m.Prepared) > 0 {
			t.Errorf("vc-stale sent a VIEW-CHANGE with prepared certificates")
		}
	}

	cr = runCluster(t, 1, []faulty{{1, "newview-drop", nil}}, commitsOfView0)
	nvs := msgsOf[pbft.NewView](cr.byz[1].steps, 2)
	if len(nvs) == 0 {
		t.Fatal("replica 1 sent no NEW-VIEW")
	}
	for _, m := range nvs {
		for _, p := range m.PrePrepares {
			if len(p.Batch) != 0 {
				t.Errorf("NEW-VIEW O still orders a request at %d", p.Seq)
			}
		}
	}
	if cr.log.views[2] < 2 {
		t.Errorf("honest replica 2 reached view %d; it should reject replica 1's NEW-VIEW and move past view 1", cr.log.views[2])
	}
}

// TestEquivocationTakes: the alternative PRE-PREPARE of an equivocating
// primary is accepted: honest backups prepare the null request.
func TestEquivocationTakes(t *testing.T) {
	cr := runCluster(t, 1, []faulty{{0, "equivocate", nil}}, nil)
	null := pbft.BatchDigest(nil)
	for _, r := range []sim.NodeID{2, 3} {
		if !slices.Contains(cr.log.prepared[r], null) {
			t.Errorf("replica %d never prepared the null request: %v", r, cr.log.prepared[r])
		}
	}
}

// TestBeyondF: f+1 colluding replicas break safety. An equivocating primary
// (replica 0, sending a null request to replica 3 only) and a backup voting
// to each replica for the digest that replica voted for (replica 1) make
// replicas 2 and 3 execute different requests at the same sequence number,
// whatever the seed.
func TestBeyondF(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		cr := runCluster(t, seed, []faulty{
			{0, "equivocate", map[string]string{"split": "3"}},
			{1, "conflicting-votes", map[string]string{"mode": "mirror"}},
		}, nil)
		if cr.agree([]sim.NodeID{2, 3}) {
			t.Fatalf("seed %d: replicas 2 and 3 agree although f+1 replicas collude: %v", seed, cr.log.executed)
		}
	}
	// Within f, the same equivocation alone is harmless.
	cr := runCluster(t, 1, []faulty{{0, "equivocate", map[string]string{"split": "3"}}}, nil)
	if !cr.agree([]sim.NodeID{1, 2, 3}) {
		t.Fatalf("one equivocating primary broke agreement: %v", cr.log.executed)
	}
}

// TestLyingBeyondF: f+1 replicas telling the same lie make a client accept it.
func TestLyingBeyondF(t *testing.T) {
	cr := runCluster(t, 1, []faulty{{2, "lying-reply", nil}, {3, "lying-reply", nil}}, nil)
	lies := 0
	for _, res := range cr.log.accepted {
		for _, r := range res {
			if strings.HasPrefix(r, "lie:") {
				lies++
			}
		}
	}
	if lies == 0 {
		t.Fatalf("no lie accepted with two liars: %v", cr.log.accepted)
	}
}
