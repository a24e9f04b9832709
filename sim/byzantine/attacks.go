package byzantine

import (
	"slices"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// Attacks on the message types the other strategies leave alone, so that
// every PBFT message can be forged or mutated by some strategy, always in
// the faulty replica's own name (re-signed with its own signer; other
// replicas' messages nested in certificates are only omitted or repeated,
// never altered):
//
//	REQUEST      request-relay (replayed and flooded relays of clients' requests)
//	PRE-PREPARE  preprepare-forge (a second PRE-PREPARE for (v, n) to the same backup; a batch that does not match the digest)
//	PREPARE      conflicting-votes, mutate
//	COMMIT       conflicting-votes, mutate
//	CHECKPOINT   checkpoint-forge (wrong digest, wrong sequence number)
//	VIEW-CHANGE  viewchange-forge (a repeated PREPARE in a certificate, a stable checkpoint it cannot prove, skipping a view), vc-stale
//	NEW-VIEW     newview-forge (a repeated VIEW-CHANGE in V, an O entry whose batch does not match its digest), newview-drop
//	STATE        state-forge (a stale state, a proof with a repeated CHECKPOINT), forge-state
//	REPLY        lying-reply
//
// vote-replay repeats PREPAREs, COMMITs and CHECKPOINTs, its own and other
// replicas' (signed, unaltered), against counters that do not dedupe.

// ---- preprepare-forge ---------------------------------------------------

func init() {
	strategy(Info{
		Name: "preprepare-forge",
		Role: RolePrimary,
		Doc: "as primary, forges its PRE-PREPAREs: \"double\" sends each backup a second, conflicting PRE-PREPARE for the same (v, n) " +
			"right after the first; \"mismatch\" sends PRE-PREPAREs whose batch does not match their digest (the digest of the true batch, the null batch); " +
			"\"both\" (default) draws one per PRE-PREPARE",
		Params: []Param{{Name: "mode", Doc: "double, mismatch or both", Allowed: []string{"double", "mismatch", "both"}}},
	}, func(p params, env *Env) (rewriter, error) {
		mode, err := p.oneOf("mode", "both")
		if err != nil {
			return nil, err
		}
		return &ppForge{mode: mode}, nil
	})
}

type ppForge struct{ mode string }

func (f *ppForge) rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send {
	for _, s := range sends {
		pp, ok := any(s.Msg).(*pbft.PrePrepare)
		if !ok || s.To == c.env.ID || pp.Replica != c.env.ID {
			out = append(out, s)
			continue
		}
		mode := f.mode
		if mode == "both" {
			mode = []string{"double", "mismatch"}[c.env.Rand.IntN(2)]
		}
		alt := *pp
		if len(pp.Batch) > 0 {
			alt.Batch = nil
		} else {
			forged := &pbft.Request{Op: "forged", Timestamp: pp.Seq, Client: c.env.ID}
			sign(c.env.Signer, forged)
			alt.Batch = []*pbft.Request{forged}
		}
		switch mode {
		case "double":
			alt.Digest = batchDigest(alt.Batch)
			sign(c.env.Signer, &alt)
			out = append(out, s, sim.Send{To: s.To, Msg: sim.Message(&alt)})
		default: // mismatch: the true digest over another batch
			sign(c.env.Signer, &alt)
			out = append(out, sim.Send{To: s.To, Msg: sim.Message(&alt)})
		}
	}
	return out
}

// ---- checkpoint-forge ---------------------------------------------------

func init() {
	strategy(Info{
		Name: "checkpoint-forge",
		Doc: "its CHECKPOINTs lie: \"digest\" claims another state digest for the sequence number, \"seq\" claims the digest " +
			"for a later sequence number (one checkpoint interval ahead, which it has not executed), \"both\" (default) draws one per message",
		Params: []Param{
			{Name: "mode", Doc: "digest, seq or both", Allowed: []string{"digest", "seq", "both"}},
			{Name: "prob", Doc: "probability in [0,1] that a CHECKPOINT is forged (default 1)"},
		},
	}, func(p params, env *Env) (rewriter, error) {
		mode, err := p.oneOf("mode", "both")
		if err != nil {
			return nil, err
		}
		prob, err := p.prob("prob", 1)
		if err != nil {
			return nil, err
		}
		return &ckptForge{mode: mode, prob: prob}, nil
	})
}

type ckptForge struct {
	mode string
	prob float64
	last uint64 // the previous checkpoint's sequence number (its interval)
}

func (f *ckptForge) rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send {
	for _, s := range sends {
		ck, ok := any(s.Msg).(*pbft.Checkpoint)
		if !ok || s.To == c.env.ID || ck.Replica != c.env.ID || (f.prob < 1 && c.env.Rand.Float64() >= f.prob) {
			out = append(out, s)
			continue
		}
		mode := f.mode
		if mode == "both" {
			mode = []string{"digest", "seq"}[c.env.Rand.IntN(2)]
		}
		alt := *ck
		if mode == "digest" {
			alt.StateDigest[0] ^= 0xff
		} else {
			k := uint64(1)
			if f.last > 0 && ck.Seq > f.last {
				k = ck.Seq - f.last
			}
			alt.Seq = ck.Seq + k
		}
		sign(c.env.Signer, &alt)
		out = append(out, sim.Send{To: s.To, Msg: sim.Message(&alt)})
	}
	for _, s := range sends {
		if ck, ok := any(s.Msg).(*pbft.Checkpoint); ok && ck.Replica == c.env.ID && ck.Seq > f.last {
			f.last = ck.Seq
		}
	}
	return out
}

// ---- viewchange-forge ---------------------------------------------------

func init() {
	strategy(Info{
		Name: "viewchange-forge",
		Doc: "its VIEW-CHANGEs lie: \"dup-prepares\" fills each prepared certificate with one PREPARE repeated (a quorum of one sender), " +
			"\"stable-lie\" claims a stable checkpoint one interval past the one its proof shows, \"skip\" asks for a view one further than " +
			"the honest code would (v+2), \"any\" (default) draws one per message; \"early\" sends, besides, a VIEW-CHANGE for v+1 " +
			"(no stable checkpoint, no certificate) as soon as its replica signs a message of view v: a lone replica voting every view out, " +
			"which the f+1 rule ignores",
		Params: []Param{{Name: "mode", Doc: "dup-prepares, stable-lie, skip, any or early", Allowed: []string{"dup-prepares", "stable-lie", "skip", "any", "early"}}},
	}, func(p params, env *Env) (rewriter, error) {
		mode, err := p.oneOf("mode", "any")
		if err != nil {
			return nil, err
		}
		return &vcForge{mode: mode}, nil
	})
}

type vcForge struct {
	mode  string
	voted uint64 // early: the highest view it sent a VIEW-CHANGE for
}

// earlyView returns the view of a normal-case message m signed by self, and
// whether m is one.
func earlyView(m sim.Message, self sim.NodeID) (uint64, bool) {
	switch m := any(m).(type) {
	case *pbft.PrePrepare:
		return m.View, m.Replica == self
	case *pbft.Prepare:
		return m.View, m.Replica == self
	case *pbft.Commit:
		return m.View, m.Replica == self
	}
	return 0, false
}

func (f *vcForge) rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send {
	if f.mode == "early" {
		out = append(out, sends...)
		for _, s := range sends {
			v, ok := earlyView(s.Msg, c.env.ID)
			if !ok || v+1 <= f.voted {
				continue
			}
			f.voted = v + 1
			vc := &pbft.ViewChange{NewView: v + 1, Replica: c.env.ID}
			sign(c.env.Signer, vc)
			for i := 0; i < c.env.N; i++ {
				if sim.NodeID(i) != c.env.ID {
					out = append(out, sim.Send{To: sim.NodeID(i), Msg: sim.Message(vc)})
				}
			}
		}
		return out
	}
	for _, s := range sends {
		vc, ok := any(s.Msg).(*pbft.ViewChange)
		if !ok || s.To == c.env.ID || vc.Replica != c.env.ID {
			out = append(out, s)
			continue
		}
		mode := f.mode
		if mode == "any" {
			mode = []string{"dup-prepares", "stable-lie", "skip"}[c.env.Rand.IntN(3)]
		}
		alt := *vc
		switch mode {
		case "dup-prepares":
			alt.Prepared = make([]pbft.PreparedCert, len(vc.Prepared))
			for i, pc := range vc.Prepared {
				alt.Prepared[i] = pbft.PreparedCert{PrePrepare: pc.PrePrepare}
				if len(pc.Prepares) > 0 {
					ps := make([]*pbft.Prepare, len(pc.Prepares))
					for j := range ps {
						ps[j] = pc.Prepares[0]
					}
					alt.Prepared[i].Prepares = ps
				}
			}
		case "stable-lie":
			alt.StableSeq = vc.StableSeq + uint64(max(1, len(vc.Prepared)))
		default: // skip
			alt.NewView = vc.NewView + 1
		}
		sign(c.env.Signer, &alt)
		out = append(out, sim.Send{To: s.To, Msg: sim.Message(&alt)})
	}
	return out
}

// ---- newview-forge ------------------------------------------------------

func init() {
	strategy(Info{
		Name: "newview-forge",
		Role: RoleNewPrimary,
		Doc: "as new primary, its NEW-VIEWs lie: \"dup-vc\" replaces one VIEW-CHANGE of V by a copy of another (a quorum with a " +
			"repeated sender), \"mismatch\" gives an entry of O a batch that does not match its digest, \"both\" (default) draws one per message",
		Params: []Param{{Name: "mode", Doc: "dup-vc, mismatch or both", Allowed: []string{"dup-vc", "mismatch", "both"}}},
	}, func(p params, env *Env) (rewriter, error) {
		mode, err := p.oneOf("mode", "both")
		if err != nil {
			return nil, err
		}
		return &nvForge{mode: mode}, nil
	})
}

type nvForge struct{ mode string }

func (f *nvForge) rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send {
	for _, s := range sends {
		nv, ok := any(s.Msg).(*pbft.NewView)
		if !ok || s.To == c.env.ID || nv.Replica != c.env.ID {
			out = append(out, s)
			continue
		}
		mode := f.mode
		if mode == "both" {
			mode = []string{"dup-vc", "mismatch"}[c.env.Rand.IntN(2)]
		}
		alt := *nv
		switch {
		case mode == "dup-vc" && len(nv.ViewChanges) >= 2:
			alt.ViewChanges = append([]*pbft.ViewChange(nil), nv.ViewChanges...)
			alt.ViewChanges[len(alt.ViewChanges)-1] = alt.ViewChanges[0]
		case len(nv.PrePrepares) > 0:
			alt.PrePrepares = append([]*pbft.PrePrepare(nil), nv.PrePrepares...)
			pp := *alt.PrePrepares[0]
			if len(pp.Batch) > 0 {
				pp.Batch = nil
			} else {
				forged := &pbft.Request{Op: "forged", Timestamp: pp.Seq, Client: c.env.ID}
				sign(c.env.Signer, forged)
				pp.Batch = []*pbft.Request{forged}
			}
			sign(c.env.Signer, &pp) // the digest stays: it no longer matches the batch
			alt.PrePrepares[0] = &pp
		}
		sign(c.env.Signer, &alt)
		out = append(out, sim.Send{To: s.To, Msg: sim.Message(&alt)})
	}
	return out
}

// ---- state-forge --------------------------------------------------------

func init() {
	strategy(Info{
		Name: "state-forge",
		Doc: "its STATE replies (state transfer) lie: \"stale\" answers with the oldest state it sent before (a stale sequence number, " +
			"with that state's own proof), \"dup-proof\" repeats one CHECKPOINT of the proof in place of the others (a quorum of one sender), " +
			"\"both\" (default) draws one per message",
		Params: []Param{{Name: "mode", Doc: "stale, dup-proof or both", Allowed: []string{"stale", "dup-proof", "both"}}},
	}, func(p params, env *Env) (rewriter, error) {
		mode, err := p.oneOf("mode", "both")
		if err != nil {
			return nil, err
		}
		return &stateForge{mode: mode}, nil
	})
}

type stateForge struct {
	mode  string
	first *pbft.State // the first state it sent
}

func (f *stateForge) rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send {
	for _, s := range sends {
		st, ok := any(s.Msg).(*pbft.State)
		if !ok || s.To == c.env.ID || st.Replica != c.env.ID {
			out = append(out, s)
			continue
		}
		if f.first == nil {
			f.first = st
		}
		mode := f.mode
		if mode == "both" {
			mode = []string{"stale", "dup-proof"}[c.env.Rand.IntN(2)]
		}
		switch {
		case mode == "stale" && f.first.Seq < st.Seq:
			alt := *f.first
			alt.NewView = st.NewView
			out = append(out, sim.Send{To: s.To, Msg: sim.Message(&alt)})
		case mode == "dup-proof" && len(st.Proof) >= 2:
			alt := *st
			alt.Proof = make([]*pbft.Checkpoint, len(st.Proof))
			for i := range alt.Proof {
				alt.Proof[i] = st.Proof[0]
			}
			out = append(out, sim.Send{To: s.To, Msg: sim.Message(&alt)})
		default:
			out = append(out, s)
		}
	}
	return out
}

// ---- request-relay ------------------------------------------------------

func init() {
	strategy(Info{
		Name: "request-relay",
		Doc: "abuses request relays (clients' own signed REQUESTs): \"replay\" relays, with every request it " +
			"receives from a client, the oldest requests it has seen again to every replica (duplicates of executed requests); \"flood\" relays " +
			"every request it receives from a client to every replica twice; \"both\" (default) does both; \"tamper\" relays every request " +
			"it receives from a client to every replica (instead of its own relay) with its operation altered and the client's signature kept, which no longer " +
			"matches (Aardvark's faulty client: a request with a bad authenticator, which every replica, the primary too, must discard)",
		Params: []Param{{Name: "mode", Doc: "replay, flood, both or tamper", Allowed: []string{"replay", "flood", "both", "tamper"}}},
	}, func(p params, env *Env) (rewriter, error) {
		mode, err := p.oneOf("mode", "both")
		if err != nil {
			return nil, err
		}
		return &relayForge{mode: mode}, nil
	})
}

// relayHistory is how many requests request-relay keeps for replays.
const relayHistory = 8

type relayForge struct {
	mode string
	seen []*pbft.Request
}

func (f *relayForge) rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send {
	out = append(out, sends...)
	if c.in == nil || c.in.Kind != sim.InputMessage {
		return out
	}
	q, ok := any(c.in.Msg).(*pbft.Request)
	if !ok || c.in.From != q.Client {
		return out // only a client's own transmissions: relays of relays would echo forever
	}
	relay := func(r *pbft.Request) {
		for i := 0; i < c.env.N; i++ {
			if sim.NodeID(i) != c.env.ID {
				out = append(out, sim.Send{To: sim.NodeID(i), Msg: sim.Message(r)})
			}
		}
	}
	if f.mode == "tamper" {
		// its own relays of q are replaced by the tampered ones
		out = slices.DeleteFunc(out, func(s sim.Send) bool { return s.Msg == sim.Message(q) })
		bad := *q // the client's signature is kept: it does not sign the altered op
		bad.Op = alterOp(q.Op)
		relay(&bad)
		return out
	}
	if f.mode != "replay" {
		relay(q)
		relay(q)
	}
	if f.mode != "flood" {
		for _, old := range f.seen {
			if old != q {
				relay(old)
			}
		}
	}
	if len(f.seen) < relayHistory {
		f.seen = append(f.seen, q)
	}
	return out
}

// ---- vote-replay --------------------------------------------------------

func init() {
	strategy(Info{
		Name: "vote-replay",
		Doc: "replays signed votes, unaltered (a generic attack on any vote counter that does not count each sender once): " +
			"\"own\" sends each of its PREPAREs, COMMITs and CHECKPOINTs twice and, with each new vote, its oldest kept votes again " +
			"(so replays also arrive late, after a view change or a checkpoint); \"others\" relays every PREPARE, COMMIT and CHECKPOINT " +
			"it receives from its author to every other replica (a second copy of a correct replica's vote, by another path); \"both\" (default) does both",
		Params: []Param{{Name: "mode", Doc: "own, others or both", Allowed: []string{"own", "others", "both"}}},
	}, func(p params, env *Env) (rewriter, error) {
		mode, err := p.oneOf("mode", "both")
		if err != nil {
			return nil, err
		}
		return &voteReplay{mode: mode}, nil
	})
}

// replayHistory is how many of its own votes vote-replay keeps for late
// replays.
const replayHistory = 8

type voteReplay struct {
	mode string
	kept []sim.Message // own votes, oldest first
	next int           // the kept vote replayed next
}

// isVote reports whether m is a PREPARE, COMMIT or CHECKPOINT and returns
// its author.
func isVote(m sim.Message) (sim.NodeID, bool) {
	switch x := any(m).(type) {
	case *pbft.Prepare:
		return x.Replica, true
	case *pbft.Commit:
		return x.Replica, true
	case *pbft.Checkpoint:
		return x.Replica, true
	}
	return 0, false
}

func (f *voteReplay) rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send {
	out = append(out, sends...)
	if f.mode != "others" {
		var last sim.Message
		for _, s := range sends {
			author, ok := isVote(s.Msg)
			if !ok || author != c.env.ID || s.To == c.env.ID {
				continue
			}
			out = append(out, s) // the same signed vote again
			if s.Msg != last {
				last = s.Msg
				// A new vote: replay a kept one to every replica, then
				// keep this one.
				if len(f.kept) > 0 {
					old := f.kept[f.next%len(f.kept)]
					f.next++
					for i := 0; i < c.env.N; i++ {
						if sim.NodeID(i) != c.env.ID {
							out = append(out, sim.Send{To: sim.NodeID(i), Msg: old})
						}
					}
				}
				if len(f.kept) < replayHistory {
					f.kept = append(f.kept, s.Msg)
				} else {
					f.kept[f.next%replayHistory] = s.Msg
				}
			}
		}
	}
	if f.mode != "own" && c.in != nil && c.in.Kind == sim.InputMessage {
		// Only votes received from their author: relays of relays would
		// echo between two replayers forever.
		if author, ok := isVote(c.in.Msg); ok && author == c.in.From && author != c.env.ID {
			for i := 0; i < c.env.N; i++ {
				if id := sim.NodeID(i); id != c.env.ID && id != author {
					out = append(out, sim.Send{To: id, Msg: c.in.Msg})
				}
			}
		}
	}
	return out
}
