package cluster

import (
	"fmt"
	"math/rand/v2"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/ledger"
)

// protocolNodes is what a protocol contributes to a cluster: how to build
// one honest replica (with its ledger), how to wrap one in a Byzantine
// strategy, and how to build one client. buildNodes does the rest, the
// same for every protocol.
type protocolNodes[R interface {
	sim.Node
	replicaState
}] struct {
	// replica builds the honest replica id; each call builds a new one
	// (a twin strategy asks for a second).
	replica func(id sim.NodeID) (R, *ledger.Ledger, error)
	// byzantine wraps replica r as b says; rnd is the replica's adversary
	// stream and newHonest builds another honest replica of the same id.
	byzantine func(b ByzantineSpec, r R, rnd *rand.Rand, newHonest func() (R, error)) (sim.Node, error)
	// client builds client j (node id).
	client func(j int, id sim.NodeID) (sim.Node, error)
}

// buildNodes builds cl's replicas r0.. (wrapping the Byzantine ones, each
// with its stream "adversary/i") and clients cN.., records their states
// and ledgers, makes the kernel, and returns the honest replicas.
func buildNodes[R interface {
	sim.Node
	replicaState
}](cl *Cluster, streams sim.Streams, p protocolNodes[R]) ([]R, error) {
	c := cl.cfg
	nodes := make([]sim.Node, 0, c.N+c.Clients)
	names := make([]string, 0, c.N+c.Clients)
	honest := make([]R, 0, c.N)
	for i := 0; i < c.N; i++ {
		id := sim.NodeID(i)
		r, l, err := p.replica(id)
		if err != nil {
			return nil, fmt.Errorf("replica %d: %w", i, err)
		}
		honest = append(honest, r)
		cl.states = append(cl.states, r)
		cl.ledgers = append(cl.ledgers, l)
		var node sim.Node = r
		for _, b := range c.Byzantine {
			if b.Replica != id {
				continue
			}
			node, err = p.byzantine(b, r, streams.Stream(fmt.Sprintf("adversary/%d", i)), func() (R, error) {
				r, _, err := p.replica(id)
				return r, err
			})
			if err != nil {
				return nil, fmt.Errorf("byzantine replica %d (%s): %w", i, b.Strategy, err)
			}
		}
		nodes = append(nodes, node)
		names = append(names, fmt.Sprintf("r%d", i))
	}
	for j := 0; j < c.Clients; j++ {
		id := sim.NodeID(c.N + j)
		cli, err := p.client(j, id)
		if err != nil {
			return nil, fmt.Errorf("client %d: %w", id, err)
		}
		nodes = append(nodes, cli)
		names = append(names, fmt.Sprintf("c%d", id))
	}
	return honest, cl.build(nodes, names, streams)
}
