package properties

import (
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/ledger"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// stream builds synthetic trace records.
type stream struct {
	recs []sim.Record
	now  sim.Time
}

func (s *stream) at(t time.Duration) *stream { s.now = sim.Time(t); return s }

func (s *stream) ev(from sim.NodeID, e sim.Event) *stream {
	s.recs = append(s.recs, sim.Record{Seq: uint64(len(s.recs)), Time: s.now, Kind: sim.RecEvent, From: from, Event: e})
	return s
}

func (s *stream) send(from, to sim.NodeID, m sim.Message) *stream {
	s.recs = append(s.recs, sim.Record{Seq: uint64(len(s.recs)), Time: s.now, Kind: sim.RecSend, From: from, To: to, Msg: m})
	return s
}

func (s *stream) deliver(from, to sim.NodeID, m sim.Message) *stream {
	s.recs = append(s.recs, sim.Record{Seq: uint64(len(s.recs)), Time: s.now, Kind: sim.RecDeliver, From: from, To: to, Msg: m})
	return s
}

// acceptNV delivers a NEW-VIEW for view 1 from replica 1 to replica 2 with
// a certificate for (0, 1, d(7)) in V and O proposing o at seq 1, and has
// replica 2 report entering the view.
func acceptNV(o ...pbft.Digest) *stream {
	s := &stream{}
	var O []*pbft.PrePrepare
	for i, dg := range o {
		O = append(O, &pbft.PrePrepare{Replica: 1, View: 1, Seq: uint64(i + 1), Digest: dg})
	}
	s.deliver(1, 2, &pbft.NewView{View: 1, Replica: 1, ViewChanges: vcs(1, cert(0, 1, d(7))), PrePrepares: O})
	return s.ev(2, &pbft.NewViewEntered{Replica: 2, View: 1, Primary: 1, Recomputed: true, OMatches: true})
}

func d(b byte) pbft.Digest { return pbft.Digest{b} }

// submit reports a client submission.
func (s *stream) submit(c sim.NodeID, ts uint64, op string) *stream {
	return s.ev(c, &pbft.Submitted{Client: c, Timestamp: ts, Op: op, At: s.now})
}

func (s *stream) exec(r sim.NodeID, seq uint64, dg pbft.Digest, c sim.NodeID, ts uint64, op, result string) *stream {
	return s.ev(r, &pbft.Executed{Replica: r, Seq: seq, Digest: dg, Client: c, Timestamp: ts, Op: op, Result: result})
}

func (s *stream) accept(c sim.NodeID, ts uint64, op, result string) *stream {
	return s.ev(c, &pbft.Accepted{Client: c, Timestamp: ts, Op: op, Result: result, At: s.now})
}

// results returns the ledger results of ops applied in order.
func results(ops ...string) []string {
	l := ledger.New()
	out := make([]string, len(ops))
	for i, op := range ops {
		out[i] = l.Execute(op)
	}
	return out
}

const client = sim.NodeID(4)

var (
	opA = ledger.Authorize("PAY001", 100)
	opC = ledger.Confirm("PAY001")
	res = results(opA, opC, opC)
)

// happy: 4 replicas execute authorize then confirm; the client accepts both.
func happy(exclude ...sim.NodeID) *stream {
	s := &stream{}
	s.submit(client, 1, opA)
	for r := sim.NodeID(0); r < 4; r++ {
		if !containsID(exclude, r) {
			s.ev(r, &pbft.Prepared{Replica: r, Seq: 1, Digest: d(1)})
			s.ev(r, &pbft.Committed{Replica: r, Seq: 1, Digest: d(1)})
			s.exec(r, 1, d(1), client, 1, opA, res[0])
		}
	}
	s.at(time.Millisecond).accept(client, 1, opA, res[0])
	s.submit(client, 2, opC)
	for r := sim.NodeID(0); r < 4; r++ {
		if !containsID(exclude, r) {
			s.exec(r, 2, d(2), client, 2, opC, res[1])
		}
	}
	s.at(2*time.Millisecond).accept(client, 2, opC, res[1])
	return s
}

func containsID(ids []sim.NodeID, id sim.NodeID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func opts() Options { return Options{N: 4, F: 1} }

func TestCheckers(t *testing.T) {
	tests := []struct {
		name  string
		opts  func(*Options)
		build func() *stream
		want  string // violated property, "" for none
	}{
		{"happy run passes", nil, func() *stream { return happy() }, ""},
		{"agreement: different digests executed at one seq", nil, func() *stream {
			s := happy()
			return s.exec(0, 3, d(3), client, 3, opC, res[2]).exec(1, 3, d(4), client, 3, opC, res[2])
		}, Agreement},
		{"agreement: different digests committed across views", nil, func() *stream {
			s := happy()
			s.ev(0, &pbft.Committed{Replica: 0, View: 0, Seq: 3, Digest: d(3)})
			return s.ev(1, &pbft.Committed{Replica: 1, View: 1, Seq: 3, Digest: d(4)})
		}, Agreement},
		{"agreement: faulty replica's divergence is not judged", func(o *Options) { o.Faulty = []sim.NodeID{1} }, func() *stream {
			s := happy()
			s.submit(client, 3, opC)
			return s.exec(0, 3, d(3), client, 3, opC, res[2]).exec(1, 3, d(4), client, 3, opC, res[2])
		}, ""},
		{"total order: gap", nil, func() *stream {
			s := &stream{}
			s.submit(client, 1, opA).submit(client, 2, opC)
			return s.exec(0, 1, d(1), client, 1, opA, res[0]).exec(0, 3, d(3), client, 2, opC, res[1])
		}, TotalOrder},
		{"total order: state transfer may skip", nil, func() *stream {
			s := &stream{}
			s.submit(client, 1, opA).submit(client, 2, opC)
			s.exec(1, 1, d(1), client, 1, opA, res[0]).exec(1, 2, d(2), client, 2, opC, res[1])
			s.ev(0, &pbft.StateTransferred{Replica: 0, Seq: 2})
			return s.ev(0, &pbft.Executed{Replica: 0, Seq: 3, Digest: d(3), Null: true}).ev(1, &pbft.Executed{Replica: 1, Seq: 3, Digest: d(3), Null: true})
		}, ""},
		{"agreement: null request against a request at one seq", nil, func() *stream {
			s := happy()
			s.submit(client, 3, opC)
			return s.exec(0, 3, d(3), client, 3, opC, res[2]).ev(1, &pbft.Executed{Replica: 1, Seq: 3, Digest: d(3), Null: true})
		}, Agreement},
		{"total order: a committed seq of duplicates may be skipped", nil, func() *stream {
			s := happy()
			s.ev(0, &pbft.Committed{Replica: 0, Seq: 3, Digest: d(9)})
			s.submit(client, 3, "get PAY001")
			return s.exec(0, 4, d(4), client, 3, "get PAY001", results(opA, opC, "get PAY001")[2])
		}, ""},
		{"total order: an uncommitted seq may not be skipped", nil, func() *stream {
			s := happy()
			s.submit(client, 3, "get PAY001")
			return s.exec(0, 4, d(4), client, 3, "get PAY001", results(opA, opC, "get PAY001")[2])
		}, TotalOrder},
		{"integrity: request executed twice", nil, func() *stream {
			s := happy()
			return s.exec(0, 3, d(3), client, 2, opC, res[2])
		}, Integrity},
		{"validity: request never issued", nil, func() *stream {
			s := happy()
			return s.exec(0, 3, d(3), client, 9, "cancel PAY001", "x")
		}, Validity},
		{"validity: a faulty replica may issue requests in its own name", func(o *Options) { o.Faulty = []sim.NodeID{3} }, func() *stream {
			s := happy()
			return s.exec(0, 3, d(3), 3, 1, "cancel PAY001", results(opA, opC, "cancel PAY001")[2])
		}, ""},
		{"validity: a correct replica's name is not a client", nil, func() *stream {
			s := happy()
			return s.exec(0, 3, d(3), 3, 1, "cancel PAY001", results(opA, opC, "cancel PAY001")[2])
		}, Validity},
		{"validity: declared request set", func(o *Options) { o.Requests = []Request{{client, 1, opA}} }, func() *stream {
			return happy()
		}, Validity},
		{"client view: accepted result differs from the log", nil, func() *stream {
			s := &stream{}
			s.submit(client, 1, opA)
			s.exec(0, 1, d(1), client, 1, opA, res[0])
			return s.accept(client, 1, opA, "ok PAY001 refunded authorized=100 captured=100 refunded=100")
		}, ClientView},
		{"client view: accepted before execution (lying reply) is checked at the end", nil, func() *stream {
			s := &stream{}
			s.submit(client, 1, opA)
			s.accept(client, 1, opA, "error PAY001 duplicate-authorize state=none authorized=0 captured=0 refunded=0")
			return s.exec(0, 1, d(1), client, 1, opA, res[0])
		}, ClientView},
		{"client view: replica result differs from replay", nil, func() *stream {
			s := &stream{}
			s.submit(client, 1, opA)
			return s.exec(0, 1, d(1), client, 1, opA, "ok PAY001 confirmed authorized=100 captured=100 refunded=0")
		}, ClientView},
		{"ledger: a payment confirmed twice", nil, func() *stream {
			s := happy()
			s.submit(client, 3, opC)
			return s.exec(0, 3, d(3), client, 3, opC, res[1]) // replica claims a second successful confirm
		}, LedgerInvariant},
		{"prepared-unique: two digests prepared for (v, n)", nil, func() *stream {
			s := &stream{}
			s.ev(0, &pbft.Prepared{Replica: 0, View: 2, Seq: 5, Digest: d(1)})
			return s.ev(3, &pbft.Prepared{Replica: 3, View: 2, Seq: 5, Digest: d(2)})
		}, PreparedUnique},
		{"prepared-unique: same digest in different views is fine", nil, func() *stream {
			s := &stream{}
			s.ev(0, &pbft.Prepared{Replica: 0, View: 1, Seq: 5, Digest: d(1)})
			return s.ev(3, &pbft.Prepared{Replica: 3, View: 2, Seq: 5, Digest: d(2)})
		}, ""},
		{"prepare-once: SentPrepare events", nil, func() *stream {
			s := &stream{}
			s.ev(2, &pbft.SentPrepare{Replica: 2, View: 0, Seq: 1, Digest: d(1)})
			return s.ev(2, &pbft.SentPrepare{Replica: 2, View: 0, Seq: 1, Digest: d(2)})
		}, PrepareOnce},
		{"prepare-once: PREPARE messages", nil, func() *stream {
			s := &stream{}
			s.send(2, 1, &pbft.Prepare{Replica: 2, View: 0, Seq: 1, Digest: d(1)})
			s.send(2, 3, &pbft.Prepare{Replica: 2, View: 0, Seq: 1, Digest: d(1)})
			return s.send(2, 0, &pbft.Prepare{Replica: 2, View: 0, Seq: 1, Digest: d(2)})
		}, PrepareOnce},
		{"prepare-once: one PREPARE multicast passes", nil, func() *stream {
			s := &stream{}
			for to := sim.NodeID(0); to < 4; to++ {
				s.send(2, to, &pbft.Prepare{Replica: 2, View: 0, Seq: 1, Digest: d(1)})
			}
			return s
		}, ""},
		{"view-monotonic: entered a lower view", nil, func() *stream {
			s := &stream{}
			s.ev(1, &pbft.NewViewEntered{Replica: 1, View: 3, Primary: 3, OMatches: true})
			return s.ev(1, &pbft.NewViewEntered{Replica: 1, View: 2, Primary: 2, OMatches: true})
		}, ViewMonotonic},
		{"view-monotonic: view change then new view passes", nil, func() *stream {
			s := &stream{}
			s.ev(1, &pbft.ViewChangeStarted{Replica: 1, From: 0, To: 1})
			s.ev(1, &pbft.ViewChangeStarted{Replica: 1, From: 0, To: 2})
			return s.ev(1, &pbft.NewViewEntered{Replica: 1, View: 2, Primary: 2, OMatches: true})
		}, ""},
		{"view-monotonic: entered a view below its view change", nil, func() *stream {
			s := &stream{}
			s.ev(1, &pbft.ViewChangeStarted{Replica: 1, From: 0, To: 2})
			return s.ev(1, &pbft.NewViewEntered{Replica: 1, View: 1, Primary: 1, OMatches: true})
		}, ViewMonotonic},
		{"newview-o: accepted O differs", nil, func() *stream {
			s := &stream{}
			return s.ev(1, &pbft.NewViewEntered{Replica: 1, View: 1, Primary: 1, Recomputed: false, OMatches: false})
		}, NewViewO},
		{"newview-o: accepted O matches the recomputation", nil, func() *stream { return acceptNV(d(7)) }, ""},
		{"newview-o: accepted O drops a prepared request", nil, func() *stream { return acceptNV(nullDigest) }, NewViewO},
		{"newview-o: judged on the primary's NEW-VIEW forwarded by another, not on a faulty replica's own", nil, func() *stream {
			s := &stream{}
			bogus := &pbft.NewView{View: 1, Replica: 3, ViewChanges: vcs(1, cert(0, 1, d(7))),
				PrePrepares: []*pbft.PrePrepare{{Replica: 3, View: 1, Seq: 1, Digest: nullDigest}}}
			s.deliver(3, 2, bogus)
			s.deliver(0, 2, &pbft.NewView{View: 1, Replica: 1, ViewChanges: vcs(1, cert(0, 1, d(7))),
				PrePrepares: []*pbft.PrePrepare{{Replica: 1, View: 1, Seq: 1, Digest: d(7)}}})
			return s.ev(2, &pbft.NewViewEntered{Replica: 2, View: 1, Primary: 1, Recomputed: true, OMatches: true})
		}, ""},
		{"newview-o: a forwarded NEW-VIEW dropping a prepared request", nil, func() *stream {
			s := &stream{}
			s.deliver(0, 2, &pbft.NewView{View: 1, Replica: 1, ViewChanges: vcs(1, cert(0, 1, d(7))),
				PrePrepares: []*pbft.PrePrepare{{Replica: 1, View: 1, Seq: 1, Digest: nullDigest}}})
			return s.ev(2, &pbft.NewViewEntered{Replica: 2, View: 1, Primary: 1, Recomputed: true, OMatches: true})
		}, NewViewO},
		{"newview-o: accepted O is missing a slot", nil, func() *stream { return acceptNV() }, NewViewO},
		{"newview-o: accepted O proposes another request", nil, func() *stream { return acceptNV(d(8)) }, NewViewO},
		{"liveness: request never completes after GST", func(o *Options) { o.LivenessBound = time.Second; o.GST = sim.Time(time.Second) }, func() *stream {
			s := &stream{}
			s.submit(client, 1, opA)
			return s.at(3*time.Second).ev(0, &pbft.StableCheckpoint{Replica: 0})
		}, Liveness},
		{"liveness: run ended before the bound", func(o *Options) { o.LivenessBound = time.Second; o.GST = sim.Time(time.Second) }, func() *stream {
			s := &stream{}
			s.submit(client, 1, opA)
			return s.at(1500*time.Millisecond).ev(0, &pbft.StableCheckpoint{Replica: 0})
		}, ""},
		{"liveness: completed late", func(o *Options) { o.LivenessBound = time.Second }, func() *stream {
			s := &stream{}
			s.submit(client, 1, opA)
			s.exec(0, 1, d(1), client, 1, opA, res[0])
			return s.at(1500*time.Millisecond).accept(client, 1, opA, res[0])
		}, Liveness},
		{"liveness: completed in time", func(o *Options) { o.LivenessBound = time.Second }, func() *stream { return happy() }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := opts()
			if tc.opts != nil {
				tc.opts(&o)
			}
			c := Check(o, tc.build().recs)
			vs := c.Violations()
			if tc.want == "" {
				if len(vs) != 0 {
					t.Fatalf("want no violation, got %v", vs)
				}
				return
			}
			found := false
			for _, v := range vs {
				if v.Property == tc.want {
					found = true
					if v.Detail == "" || v.String() == "" {
						t.Errorf("violation without detail: %+v", v)
					}
				}
			}
			if !found {
				t.Fatalf("want a %s violation, got %v", tc.want, vs)
			}
		})
	}
}

func TestLinearizability(t *testing.T) {
	unknown := ledger.New().Execute("get PAY001")
	tests := []struct {
		name string
		ops  func(s *stream)
		bad  bool
	}{
		{"read after completed write sees it", func(s *stream) {
			s.at(0).submit(client, 1, opA)
			s.at(time.Millisecond).accept(client, 1, opA, res[0])
			s.at(2*time.Millisecond).submit(client+1, 1, "get PAY001")
			s.at(3*time.Millisecond).accept(client+1, 1, "get PAY001", results(opA, "get PAY001")[1])
		}, false},
		{"concurrent read may miss the write", func(s *stream) {
			s.at(0).submit(client, 1, opA)
			s.at(time.Millisecond).submit(client+1, 1, "get PAY001")
			s.at(2*time.Millisecond).accept(client+1, 1, "get PAY001", unknown)
			s.at(3*time.Millisecond).accept(client, 1, opA, res[0])
		}, false},
		{"a faulty node's request explains a result", func(s *stream) {
			s.at(0).submit(client, 1, opA)
			s.at(time.Millisecond).accept(client, 1, opA, res[0])
			s.exec(0, 2, d(2), 3, 1, "cancel PAY001", results(opA, "cancel PAY001")[1]) // replica 3 is faulty
			s.at(2*time.Millisecond).submit(client+1, 1, "get PAY001")
			s.at(3*time.Millisecond).accept(client+1, 1, "get PAY001", results(opA, "cancel PAY001", "get PAY001")[2])
		}, false},
		{"stale read after completed write", func(s *stream) {
			s.at(0).submit(client, 1, opA)
			s.at(time.Millisecond).accept(client, 1, opA, res[0])
			s.at(2*time.Millisecond).submit(client+1, 1, "get PAY001")
			s.at(3*time.Millisecond).accept(client+1, 1, "get PAY001", unknown)
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &stream{}
			tc.ops(s)
			o := opts()
			o.Faulty = []sim.NodeID{3}
			c := New(o)
			for i := range s.recs {
				c.Record(&s.recs[i])
			}
			c.linearizable()
			got := false
			for _, v := range c.Violations() {
				got = got || v.Property == Linearizability
			}
			if got != tc.bad {
				t.Fatalf("linearizability violation = %v, want %v: %v", got, tc.bad, c.Violations())
			}
		})
	}
}

func TestStopOnViolation(t *testing.T) {
	s := happy()
	s.exec(0, 3, d(3), client, 3, opC, res[2]).exec(1, 3, d(4), client, 3, opC, res[2])
	for _, stop := range []bool{false, true} {
		o := opts()
		o.StopOnViolation = stop
		c := New(o)
		for i := range s.recs {
			c.Record(&s.recs[i])
		}
		if c.Stopped() != stop {
			t.Errorf("StopOnViolation=%v: Stopped()=%v", stop, c.Stopped())
		}
		if c.Safe() {
			t.Errorf("Safe() = true after an agreement violation")
		}
	}
}

func prep(r sim.NodeID, v, n uint64, dg pbft.Digest) *pbft.Prepare {
	return &pbft.Prepare{Replica: r, View: v, Seq: n, Digest: dg}
}

// cert returns a prepared certificate for (v, n, d) in a 4-replica system.
func cert(v, n uint64, dg pbft.Digest) pbft.PreparedCert {
	p := sim.NodeID(v % 4)
	var ps []*pbft.Prepare
	for r := sim.NodeID(0); r < 4 && len(ps) < 2; r++ {
		if r != p {
			ps = append(ps, prep(r, v, n, dg))
		}
	}
	return pbft.PreparedCert{PrePrepare: &pbft.PrePrepare{Replica: p, View: v, Seq: n, Digest: dg}, Prepares: ps}
}

// sendCert puts a certificate's messages on the network (as their authors).
func (s *stream) sendCert(pc pbft.PreparedCert) *stream {
	s.send(pc.PrePrepare.Replica, 9, pc.PrePrepare)
	for _, p := range pc.Prepares {
		s.send(p.Replica, 9, p)
	}
	return s
}

func vcs(view uint64, certs ...pbft.PreparedCert) []*pbft.ViewChange {
	var out []*pbft.ViewChange
	for r := sim.NodeID(1); r < 4; r++ {
		vc := &pbft.ViewChange{NewView: view, Replica: r}
		if r == 1 {
			vc.Prepared = certs
		}
		out = append(out, vc)
	}
	return out
}

func TestAccountability(t *testing.T) {
	good := cert(0, 1, d(7))
	tests := []struct {
		name  string
		build func() *stream
		want  []sim.NodeID
		why   string
	}{
		{"correct run names nobody", func() *stream {
			s := happy()
			s.sendCert(good)
			s.send(3, 0, &pbft.Commit{Replica: 3, View: 0, Seq: 1, Digest: d(7)})
			s.send(3, 1, &pbft.Commit{Replica: 3, View: 0, Seq: 1, Digest: d(7)})
			return s
		}, nil, ""},
		{"equivocating primary", func() *stream {
			s := &stream{}
			s.send(0, 1, &pbft.PrePrepare{Replica: 0, View: 0, Seq: 1, Digest: d(1)})
			return s.send(0, 2, &pbft.PrePrepare{Replica: 0, View: 0, Seq: 1, Digest: d(2)})
		}, []sim.NodeID{0}, "PRE-PREPARE"},
		{"conflicting commits", func() *stream {
			s := &stream{}
			s.send(3, 1, &pbft.Commit{Replica: 3, View: 0, Seq: 1, Digest: d(1)})
			return s.send(3, 2, &pbft.Commit{Replica: 3, View: 0, Seq: 1, Digest: d(2)})
		}, []sim.NodeID{3}, "COMMIT"},
		{"prepare and commit for different digests", func() *stream {
			s := &stream{}
			s.send(3, 1, prep(3, 0, 1, d(1)))
			return s.send(3, 2, &pbft.Commit{Replica: 3, View: 0, Seq: 1, Digest: d(2)})
		}, []sim.NodeID{3}, "PREPARE for"},
		{"prepare and commit for one digest pass", func() *stream {
			s := &stream{}
			s.send(3, 1, prep(3, 0, 1, d(1)))
			return s.send(3, 2, &pbft.Commit{Replica: 3, View: 0, Seq: 1, Digest: d(1)})
		}, nil, ""},
		{"view change omitting a certificate its commit proves", func() *stream {
			s := &stream{}
			s.send(2, 1, &pbft.Commit{Replica: 2, View: 0, Seq: 1, Digest: d(7)})
			return s.send(2, 1, &pbft.ViewChange{NewView: 1, Replica: 2})
		}, []sim.NodeID{2}, "omits the certificate"},
		{"view change keeping the certificate its commit proves passes", func() *stream {
			s := &stream{}
			s.send(2, 1, &pbft.Commit{Replica: 2, View: 0, Seq: 1, Digest: d(7)})
			return s.send(2, 1, &pbft.ViewChange{NewView: 1, Replica: 2, Prepared: []pbft.PreparedCert{cert(0, 1, d(7))}})
		}, nil, ""},
		{"view change past a stable checkpoint may drop certificates", func() *stream {
			s := &stream{}
			cp := func(r sim.NodeID) *pbft.Checkpoint { return &pbft.Checkpoint{Seq: 2, StateDigest: d(5), Replica: r} }
			s.send(2, 1, &pbft.Commit{Replica: 2, View: 0, Seq: 1, Digest: d(7)})
			return s.send(2, 1, &pbft.ViewChange{NewView: 1, Replica: 2, StableSeq: 2, Checkpoints: []*pbft.Checkpoint{cp(0), cp(1), cp(2)}})
		}, nil, ""},
		{"a message in another's name is not evidence against it", func() *stream {
			s := &stream{}
			s.send(3, 1, prep(2, 0, 1, d(1)))
			s.send(2, 1, prep(2, 0, 1, d(2)))
			return s
		}, nil, ""},
		{"view change with a certificate short of 2f prepares", func() *stream {
			s := &stream{}
			bad := cert(0, 1, d(1))
			bad.Prepares = bad.Prepares[:1]
			return s.send(2, 1, &pbft.ViewChange{NewView: 1, Replica: 2, Prepared: []pbft.PreparedCert{bad}})
		}, []sim.NodeID{2}, "distinct backups"},
		{"view change with mismatched prepares", func() *stream {
			s := &stream{}
			bad := cert(0, 1, d(1))
			bad.Prepares[1] = prep(bad.Prepares[1].Replica, 0, 1, d(9))
			return s.send(2, 1, &pbft.ViewChange{NewView: 1, Replica: 2, Prepared: []pbft.PreparedCert{bad}})
		}, []sim.NodeID{2}, "PREPARE for"},
		{"view change with a checkpoint proof short of 2f+1", func() *stream {
			s := &stream{}
			cp := func(r sim.NodeID) *pbft.Checkpoint { return &pbft.Checkpoint{Seq: 16, StateDigest: d(5), Replica: r} }
			return s.send(2, 1, &pbft.ViewChange{NewView: 1, Replica: 2, StableSeq: 16, Checkpoints: []*pbft.Checkpoint{cp(2), cp(3)}})
		}, []sim.NodeID{2}, "checkpoint proof"},
		{"view change with a valid checkpoint proof passes", func() *stream {
			s := &stream{}
			cp := func(r sim.NodeID) *pbft.Checkpoint { return &pbft.Checkpoint{Seq: 16, StateDigest: d(5), Replica: r} }
			return s.send(2, 1, &pbft.ViewChange{NewView: 1, Replica: 2, StableSeq: 16, Checkpoints: []*pbft.Checkpoint{cp(1), cp(2), cp(3)}})
		}, nil, ""},
		{"new view whose V holds an invalid view change", func() *stream {
			s := &stream{}
			bad := cert(0, 1, d(1))
			bad.Prepares = bad.Prepares[:1]
			v := vcs(1)
			v[2] = &pbft.ViewChange{NewView: 1, Replica: 3, Prepared: []pbft.PreparedCert{bad}}
			return s.send(1, 2, &pbft.NewView{View: 1, Replica: 1, ViewChanges: v})
		}, []sim.NodeID{1}, "V holds a VIEW-CHANGE of replica 3"},
		{"new view keeping the prepared request passes", func() *stream {
			s := &stream{}
			s.sendCert(good)
			nv := &pbft.NewView{View: 1, Replica: 1, ViewChanges: vcs(1, good),
				PrePrepares: []*pbft.PrePrepare{{Replica: 1, View: 1, Seq: 1, Digest: d(7)}}}
			return s.send(1, 2, nv)
		}, nil, ""},
		{"new view dropping a proven prepared request", func() *stream {
			s := &stream{}
			s.sendCert(good)
			nv := &pbft.NewView{View: 1, Replica: 1, ViewChanges: vcs(1, good),
				PrePrepares: []*pbft.PrePrepare{{Replica: 1, View: 1, Seq: 1, Digest: d(8)}}}
			return s.send(1, 2, nv)
		}, []sim.NodeID{1}, "highest-view certificate"},
		{"new view ignoring an unverifiable certificate is not accused", func() *stream {
			s := &stream{} // the certificate's messages never appeared on the network
			nv := &pbft.NewView{View: 1, Replica: 1, ViewChanges: vcs(1, good),
				PrePrepares: []*pbft.PrePrepare{{Replica: 1, View: 1, Seq: 1, Digest: d(8)}}}
			return s.send(1, 2, nv)
		}, nil, ""},
		{"new view with too few view changes", func() *stream {
			s := &stream{}
			nv := &pbft.NewView{View: 1, Replica: 1, ViewChanges: vcs(1)[:2]}
			return s.send(1, 2, nv)
		}, []sim.NodeID{1}, "2f+1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Check(opts(), tc.build().recs)
			acc := c.Accused()
			var got []sim.NodeID
			for _, a := range acc {
				got = append(got, a.Replica)
				if len(a.Evidence) == 0 || !strings.Contains(a.Reason, tc.why) {
					t.Errorf("accusation %v: want evidence and a reason mentioning %q", a, tc.why)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("accused %v, want %v (%v)", got, tc.want, acc)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("accused %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// TestProposalValidity: a correct primary that proposes a request its
// client never issued fails validity when it proposes it (the variant
// primary-unverified-requests on its targeted scenario: the backups reject
// the PRE-PREPARE, so nothing wrong executes), and the correct primary,
// which discards the tampered relay, passes.
func TestProposalValidity(t *testing.T) {
	sc := targetYAML[pbft.VariantPrimaryUnverified][0]
	for _, variant := range []string{"", string(pbft.VariantPrimaryUnverified)} {
		o := runYAML(t, "tamper.yaml", sc, variant, RunOptions{Liveness: true})
		proposed := false
		for _, v := range o.Violations {
			proposed = proposed || v.Property == Validity && strings.Contains(v.Detail, "proposed")
		}
		if want := variant != ""; proposed != want || (!want && o.Failed()) {
			t.Fatalf("variant %q: a proposal judged invalid %v, want %v: %s", variant, proposed, want, o.Summary())
		}
	}
}
