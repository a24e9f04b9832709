package byzantine

import (
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/ledger"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// Strategies that exercise the protocol bugs of the state-transfer and
// timer rules (the variants state-transfer-unverified and
// timer-restart-any-execution of package pbft). Slow links, which the
// timeout-growth rule is about, need no strategy: a network delay above the
// view-change timeout (network.delay "const:60ms" with view_change_timeout
// 100ms) is enough.

// inputFilter is a strategy that also withholds inputs from the honest code
// (the wrapper drops an input when any strategy of the chain ignores it).
type inputFilter interface {
	ignore(in *sim.Input) bool
}

// ignores reports whether a strategy of the chain withholds in.
func (w *node) ignores(in *sim.Input) bool {
	for _, r := range w.chain {
		if f, ok := r.(inputFilter); ok && f.ignore(in) {
			return true
		}
	}
	return false
}

// ---- forge-state --------------------------------------------------------

func init() {
	strategy(Info{
		Name: "forge-state",
		Doc: "answers FETCH-STATE with its true (seq, digest, 2f+1 CHECKPOINT proof) but a forged snapshot " +
			"(the empty ledger), so a replica that does not check the snapshot against the proven digest installs a wrong state",
	}, func(p params, env *Env) (rewriter, error) {
		return &forgeState{forged: ledger.New().Snapshot()}, nil
	})
}

type forgeState struct{ forged []byte }

func (f *forgeState) rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send {
	for _, s := range sends {
		if m, ok := any(s.Msg).(*pbft.State); ok && s.To != c.env.ID && m.Replica == c.env.ID && m.Seq > 0 {
			st := *m
			st.Snapshot = f.forged
			s.Msg = sim.Message(&st)
		}
		out = append(out, s)
	}
	return out
}

// ---- censor -------------------------------------------------------------

func init() {
	strategy(Info{
		Name: "censor",
		Doc: "ignores every REQUEST of the censored clients (from the client or relayed by a backup) while following the " +
			"protocol otherwise: as primary it orders the other clients' requests and never the censored ones",
		Params: []Param{
			{Name: "clients", Doc: "comma list of client ids to censor (default the first client, id n)"},
		},
	}, func(p params, env *Env) (rewriter, error) {
		cl, err := p.nodes("clients")
		if err != nil {
			return nil, err
		}
		if cl == nil {
			cl = []sim.NodeID{sim.NodeID(env.N)}
		}
		return &censor{clients: setOf(cl)}, nil
	})
}

type censor struct{ clients nodeSet }

func (c *censor) rewrite(_ *stepCtx, sends, out []sim.Send) []sim.Send { return append(out, sends...) }

func (c *censor) ignore(in *sim.Input) bool {
	if in.Kind != sim.InputMessage {
		return false
	}
	q, ok := any(in.Msg).(*pbft.Request)
	return ok && c.clients[q.Client]
}
