package pbft

import (
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// TestClientWithoutOperationsSendsNothing: a client with an empty workload
// is done at once and sends no request when it starts.
func TestClientWithoutOperationsSendsNothing(t *testing.T) {
	kr := NewKeyring(1, 5)
	c, err := NewClient(ClientConfig{ID: 4, N: 4, F: 1, Ops: []string{}, Timeout: time.Second, Keyring: kr})
	if err != nil {
		t.Skipf("an empty workload is rejected: %v", err)
	}
	var out sim.Output
	c.Start(0, &out)
	if len(out.Sends) != 0 || len(out.Timers) != 0 || !c.Done() {
		t.Fatalf("a client without operations sent %d messages, armed %d timers, done=%v", len(out.Sends), len(out.Timers), c.Done())
	}
}

// TestClientIgnoresRepliesFromNonReplicas: a REPLY from a node that is not
// a replica (id n, the first client) is ignored, even if it names itself
// as the replica.
func TestClientIgnoresRepliesFromNonReplicas(t *testing.T) {
	kr := NewKeyring(1, 6)
	c, err := NewClient(ClientConfig{ID: 5, N: 4, F: 1, Ops: []string{"x"}, Timeout: time.Second, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	var out sim.Output
	c.Start(0, &out)
	for _, from := range []sim.NodeID{4, 4, 0} {
		out = sim.Output{}
		c.Step(sim.Time(time.Millisecond), sim.Input{Kind: sim.InputMessage, From: from,
			Msg: &Reply{View: 0, Timestamp: 1, Client: 5, Replica: from, Result: "r"}}, &out)
	}
	if c.Completed() != 0 {
		t.Fatalf("the client accepted a result from one replica and a non-replica")
	}
}
