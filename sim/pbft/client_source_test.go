package pbft

import (
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// sliceSource is an OpSource over a slice that counts Op calls.
type sliceSource struct {
	ops   []string
	calls int
}

func (s *sliceSource) Len() int        { return len(s.ops) }
func (s *sliceSource) Op(i int) string { s.calls++; return s.ops[i] }

// TestClientSource checks that a client fed by an OpSource submits the same
// requests, in order, as one given the same operations in Ops, asking the
// source once per operation, and that setting both is rejected.
func TestClientSource(t *testing.T) {
	ops := []string{"authorize PAY001 100", "confirm PAY001", "get PAY001"}
	kr := NewKeyring(1, 5)
	run := func(c ClientConfig) []string {
		t.Helper()
		cl, err := NewClient(c)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		var out sim.Output
		cl.Start(0, &out)
		for step := 0; step < 10 && !cl.Done(); step++ {
			var q *Request
			for _, s := range out.Sends {
				if m, ok := s.Msg.(*Request); ok {
					q = m
				}
			}
			if q == nil {
				t.Fatalf("step %d: no request sent", step)
			}
			got = append(got, q.Op)
			out.Reset()
			for i := 0; i < 2; i++ { // f+1 matching replies
				rep := &Reply{View: 0, Timestamp: q.Timestamp, Client: q.Client, Replica: sim.NodeID(i), Result: "ok"}
				cl.Step(sim.Time(step+1), sim.Input{Kind: sim.InputMessage, From: sim.NodeID(i), Msg: rep}, &out)
			}
		}
		if !cl.Done() {
			t.Fatalf("client not done after %d operations", len(got))
		}
		return got
	}
	base := ClientConfig{ID: 4, N: 4, F: 1, Timeout: time.Second, Keyring: kr}
	withOps := base
	withOps.Ops = ops
	src := &sliceSource{ops: ops}
	withSrc := base
	withSrc.Source = src
	a, b := run(withOps), run(withSrc)
	if strings.Join(a, "|") != strings.Join(ops, "|") || strings.Join(b, "|") != strings.Join(a, "|") {
		t.Fatalf("submitted %q with Ops and %q with Source, want %q", a, b, ops)
	}
	if src.calls != len(ops) {
		t.Errorf("Source.Op called %d times, want once per operation (%d)", src.calls, len(ops))
	}
	both := withOps
	both.Source = src
	if _, err := NewClient(both); err == nil || !strings.Contains(err.Error(), "Source") {
		t.Errorf("Ops and Source both set: error %v, want one naming Source", err)
	}
}
