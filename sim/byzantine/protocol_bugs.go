package byzantine

import (
	"slices"

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
			"mode all sends the three, self-proof, digest, snapshot, one after the other (a correct replica ignores the first two, whose proofs fail, and rejects the third); " +
			"mode replies keeps the true snapshot, digest and proof and forges the last-reply table instead (every client's last " +
			"timestamp moved 1000 ahead, its result replaced), caught by a replica whose state digest covers that table; " +
			"mode mix (default) forges the snapshot and the replies in turn, one STATE after the other",
		Params: []Param{
			{Name: "mode", Doc: `"mix" (default: snapshot and replies in turn), "snapshot" (the true digest), "digest" (the forged state's digest, no last replies), "self-proof" (as digest, with a proof of its own CHECKPOINT only), "all" (self-proof, digest and snapshot for each STATE) or "replies" (the true snapshot, digest and proof, forged last replies)`,
				Allowed: []string{"mix", "snapshot", "digest", "self-proof", "all", "replies"}},
		},
	}, func(p params, env *Env) (rewriter, error) {
		mode, err := p.oneOf("mode", "mix")
		if err != nil {
			return nil, err
		}
		l := ledger.New()
		modes := []string{mode}
		if mode == "all" {
			modes = []string{"self-proof", "digest", "snapshot"}
		}
		return &forgeState{forged: l.Snapshot(), modes: modes, mix: mode == "mix", forgedDigest: pbft.StateDigestOf(l, nil)}, nil
	})
}

// mixModes are the forgeries that mode mix sends in turn, one per STATE.
var mixModes = []string{"snapshot", "replies"}

type forgeState struct {
	forged       []byte
	modes        []string // the forgeries sent for each STATE, in order
	mix          bool     // mode mix: one of mixModes per STATE, in turn
	sent         int      // STATEs forged so far (mix)
	forgedDigest pbft.Digest
}

func (f *forgeState) rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send {
	for _, s := range sends {
		m, ok := any(s.Msg).(*pbft.State)
		if !ok || s.To == c.env.ID || m.Replica != c.env.ID || m.Seq == 0 {
			out = append(out, s)
			continue
		}
		modes := f.modes
		if f.mix {
			i := f.sent % len(mixModes)
			modes = mixModes[i : i+1]
			f.sent++
		}
		for _, mode := range modes {
			st := *m
			if mode == "replies" {
				if len(m.LastReplies) == 0 {
					out = append(out, s) // nothing to forge: the true STATE
					continue
				}
				st.LastReplies = make([]pbft.Reply, len(m.LastReplies))
				for i, rep := range m.LastReplies {
					rep.Timestamp += 1000
					rep.Result = "forged"
					st.LastReplies[i] = rep
				}
				fs := s
				fs.Msg = sim.Message(&st)
				out = append(out, fs)
				continue
			}
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
			"another batch (the null request): a backup that does not check d = D(m) prepares d and executes the wrong batch; " +
			"batch=reorder, drop-first or repeat-first keep d over the batch reversed, without its first request, or with its " +
			"last request replaced by its first (same length and first request: a digest that does not bind the batch's order " +
			"or every request it holds), batch=forge-client sends every backup a batch whose first " +
			"request has an altered operation in its correct client's name (the client's signature no longer matches) " +
			"with d recomputed over it (a backup that does not verify the requests of a PRE-PREPARE executes it); " +
			"batch=mix (default) takes them in turn by sequence number (null, reorder, drop-first, forge-client, repeat-first)",
		Params: []Param{splitParam,
			{Name: "batch", Doc: `the other batch: "mix" (default: by sequence number n, the (n mod 5)-th of the others), "null", "reorder", "drop-first", "forge-client" or "repeat-first" (see above); "reorder", "drop-first" and "repeat-first" need two requests and leave a one-request batch alone`,
				Allowed: []string{"mix", "null", "reorder", "drop-first", "forge-client", "repeat-first"}}},
	}, func(p params, env *Env) (rewriter, error) {
		split, err := splitSet(p, env)
		if err != nil {
			return nil, err
		}
		batch, err := p.oneOf("batch", "mix")
		if err != nil {
			return nil, err
		}
		return &ppBatchMismatch{split: split, batch: batch}, nil
	})
}

type ppBatchMismatch struct {
	split nodeSet
	batch string
}

func (b *ppBatchMismatch) rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send {
	for _, s := range sends {
		if m, ok := any(s.Msg).(*pbft.PrePrepare); ok && s.To != c.env.ID && m.Replica == c.env.ID && len(m.Batch) > 0 {
			kind := b.batch
			if kind == "mix" {
				kind = batchKinds[m.Seq%uint64(len(batchKinds))]
			}
			if !b.split[s.To] && kind != "forge-client" {
				out = append(out, s)
				continue
			}
			if pp := other(c, m, kind); pp != nil {
				s.Msg = sim.Message(pp)
			}
		}
		out = append(out, s)
	}
	return out
}

// batchKinds are the other batches that batch=mix takes in turn.
var batchKinds = []string{"null", "reorder", "drop-first", "forge-client", "repeat-first"}

// other returns the PRE-PREPARE of kind that replaces m (nil: m is sent
// unchanged).
func other(c *stepCtx, m *pbft.PrePrepare, kind string) *pbft.PrePrepare {
	pp := *m
	switch kind {
	case "reorder", "drop-first", "repeat-first":
		if len(m.Batch) < 2 {
			return nil
		}
		if kind == "drop-first" {
			pp.Batch = m.Batch[1:]
			break
		}
		if kind == "repeat-first" {
			pp.Batch = append(slices.Clone(m.Batch[:len(m.Batch)-1]), m.Batch[0])
			break
		}
		pp.Batch = make([]*pbft.Request, len(m.Batch))
		for i, q := range m.Batch {
			pp.Batch[len(m.Batch)-1-i] = q
		}
	case "forge-client":
		forged := *m.Batch[0] // the client's signature is kept: it does not sign the altered op
		forged.Op = alterOp(forged.Op)
		pp.Batch = append([]*pbft.Request{&forged}, m.Batch[1:]...)
		pp.Digest = batchDigest(pp.Batch)
	default:
		pp.Batch = nil // the digest stays that of m.Batch
	}
	sign(c.env.Signer, &pp)
	return &pp
}
