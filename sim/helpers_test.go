package sim_test

import (
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/echo"
)

// collect is a sink that keeps a copy of every record.
type collect struct{ recs []sim.Record }

func (c *collect) Record(r *sim.Record) { c.recs = append(c.recs, *r) }

// count returns the number of records of kind k (and reason why, if non-zero).
func (c *collect) count(k sim.RecordKind, why sim.DropReason) int {
	n := 0
	for _, r := range c.recs {
		if r.Kind == k && (why == sim.DropNone || r.Reason == why) {
			n++
		}
	}
	return n
}

// transit pairs every network send with its deliveries and drops.
type transit struct {
	from, to  sim.NodeID
	sent      sim.Time
	delivered []sim.Time
	dropped   sim.DropReason
	dropAt    sim.Time
}

// transits returns one entry per network send, in send order. Messages must be
// distinct pointers (echo makes a new one per send).
func (c *collect) transits(t *testing.T) []*transit {
	t.Helper()
	by := map[sim.Message]*transit{}
	var out []*transit
	for _, r := range c.recs {
		switch r.Kind {
		case sim.RecSend:
			if by[r.Msg] != nil {
				t.Fatalf("message %p sent twice", r.Msg)
			}
			tr := &transit{from: r.From, to: r.To, sent: r.Time}
			by[r.Msg] = tr
			out = append(out, tr)
		case sim.RecDeliver:
			tr := by[r.Msg]
			if tr == nil {
				t.Fatalf("delivery of unsent message at %v", r.Time)
			}
			tr.delivered = append(tr.delivered, r.Time)
		case sim.RecDrop:
			if tr := by[r.Msg]; tr != nil {
				tr.dropped, tr.dropAt = r.Reason, r.Time
			}
		}
	}
	return out
}

// pingPong returns nodes: node 0 pings nodes 1..peers every interval for
// rounds rounds; the others are pongers.
func pingPong(peers int, interval time.Duration, rounds int) []sim.Node {
	ids := make([]sim.NodeID, peers)
	nodes := []sim.Node{nil}
	for i := range ids {
		ids[i] = sim.NodeID(i + 1)
		nodes = append(nodes, echo.NewPonger(ids[i]))
	}
	nodes[0] = echo.NewPinger(0, ids, interval, rounds)
	return nodes
}

// mustRun builds and runs a kernel, failing the test on a config error.
func mustRun(t testing.TB, cfg sim.Config) (*sim.Kernel, *sim.Stats) {
	t.Helper()
	k, err := sim.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	st := k.Run()
	if err := k.Err(); err != nil {
		t.Fatalf("run error: %v", err)
	}
	return k, st
}

func mustDelay(t testing.TB, s string) sim.Delay {
	t.Helper()
	d, err := sim.ParseDelay(s)
	if err != nil {
		t.Fatalf("ParseDelay(%q): %v", s, err)
	}
	return d
}

// script is a test node driven by functions.
type script struct {
	start func(now sim.Time, out *sim.Output)
	step  func(now sim.Time, in sim.Input, out *sim.Output)
}

func (s *script) Start(now sim.Time, out *sim.Output) {
	if s.start != nil {
		s.start(now, out)
	}
}

func (s *script) Step(now sim.Time, in sim.Input, out *sim.Output) {
	if s.step != nil {
		s.step(now, in, out)
	}
}

// note is a test message carrying a label.
type note struct{ label string }

var typeNote = sim.NewProtocol("sim-test").MsgType("NOTE")

func (*note) Type() sim.MsgType                 { return typeNote }
func (n *note) Size() int                       { return len(n.label) }
func (n *note) AppendCanonical(b []byte) []byte { return append(b, n.label...) }
