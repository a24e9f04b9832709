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
		Doc: "answers FETCH-STATE with a forged snapshot (the empty ledger) for its true seq: " +
			"with the true digest and 2f+1 CHECKPOINT proof (mode snapshot), caught by a replica that checks the snapshot against the proven digest; " +
			"with the forged state's own digest and the true proof (mode digest), caught by a replica that checks the proof's digests; " +
			"with the forged state's digest and, as its proof, the one CHECKPOINT a lone faulty replica can sign for it, its own " +
			"(mode self-proof), caught by a replica that counts a quorum of distinct signers in the proof; " +
			"mode all sends the three, self-proof, digest, snapshot, one after the other (a correct replica ignores the first two, whose proofs fail, and rejects the third)",
		Params: []Param{
			{Name: "mode", Doc: `"snapshot" (default: the true digest), "digest" (the forged state's digest, no last replies), "self-proof" (as digest, with a proof of its own CHECKPOINT only) or "all" (the three in turn)`,
				Allowed: []string{"snapshot", "digest", "self-proof", "all"}},
		},
	}, func(p params, env *Env) (rewriter, error) {
		mode, err := p.oneOf("mode", "snapshot")
		if err != nil {
			return nil, err
		}
		l := ledger.New()
		modes := []string{mode}
		if mode == "all" {
			modes = []string{"self-proof", "digest", "snapshot"}
		}
		return &forgeState{forged: l.Snapshot(), modes: modes, forgedDigest: pbft.StateDigestOf(l, nil)}, nil
	})
}

type forgeState struct {
	forged       []byte
	modes        []string // the forgeries sent for each STATE, in order
	forgedDigest pbft.Digest
}

func (f *forgeState) rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send {
	for _, s := range sends {
		m, ok := any(s.Msg).(*pbft.State)
		if !ok || s.To == c.env.ID || m.Replica != c.env.ID || m.Seq == 0 {
			out = append(out, s)
			continue
		}
		for _, mode := range f.modes {
			st := *m
			st.Snapshot = f.forged
			if mode != "snapshot" {
				st.StateDigest, st.LastReplies = f.forgedDigest, nil
			}
			if mode == "self-proof" {
				own := &pbft.Checkpoint{Seq: st.Seq, StateDigest: f.forgedDigest, Replica: c.env.ID}
				sign(c.env.Signer, own)
				st.Proof = []*pbft.Checkpoint{own}
			}
			fs := s
			fs.Msg = sim.Message(&st)
			out = append(out, fs)
		}
	}
	return out
}

// ---- censor -------------------------------------------------------------

func init() {
	strategy(Info{
		Name: "censor",
		Role: RolePrimary,
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

// ---- pp-batch-mismatch --------------------------------------------------

func init() {
	strategy(Info{
		Name: "pp-batch-mismatch",
		Role: RolePrimary,
		Doc: "as primary, sends part of the backups PRE-PREPAREs that keep the digest d of the batch but carry " +
			"another batch (the null request): a backup that does not check d = D(m) prepares d and executes the wrong batch",
		Params: []Param{splitParam},
	}, func(p params, env *Env) (rewriter, error) {
		split, err := splitSet(p, env)
		if err != nil {
			return nil, err
		}
		return &ppBatchMismatch{split: split}, nil
	})
}

type ppBatchMismatch struct{ split nodeSet }

func (b *ppBatchMismatch) rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send {
	for _, s := range sends {
		if m, ok := any(s.Msg).(*pbft.PrePrepare); ok && s.To != c.env.ID && m.Replica == c.env.ID && b.split[s.To] && len(m.Batch) > 0 {
			pp := *m
			pp.Batch = nil // the digest stays that of m.Batch
			sign(c.env.Signer, &pp)
			s.Msg = sim.Message(&pp)
		}
		out = append(out, s)
	}
	return out
}
