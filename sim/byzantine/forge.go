package byzantine

import (
	"slices"
	"strings"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// ---- forge --------------------------------------------------------------

// forgeKinds are the forgeries of the "forge" strategy.
var forgeKinds = []string{"short-proof", "wrong-digest", "dup-signer", "short-cert", "replay"}

func init() {
	strategy(Info{
		Name: "forge",
		Doc: "forges certificates and checkpoint proofs in its own name, from the signed messages it received: " +
			"its VIEW-CHANGEs (and the one in its NEW-VIEW as primary) carry a forged proof or certificate, and after each of its " +
			"CHECKPOINTs it sends an unprompted forged VIEW-CHANGE for the next view; correct replicas must reject every one",
		Params: []Param{
			{Name: "kind", Doc: `forgery, or a comma list of them to draw one per forged message (default all): ` +
				`"short-proof" (a checkpoint proof of 2f CHECKPOINTs), ` +
				`"wrong-digest" (a proof or certificate mixing in a message it signed for another digest), ` +
				`"dup-signer" (a proof or certificate naming one signer twice), ` +
				`"short-cert" (a prepared certificate of 2f-1 PREPAREs), ` +
				`"replay" (relays the CHECKPOINTs, PREPAREs, COMMITs and VIEW-CHANGEs other replicas sent it to the rest, in its own network name)`,
				Allowed: forgeKinds},
		},
	}, newForge)
}

// forgeKeep bounds what forge remembers of the messages it received.
const forgeKeep = 64

type forge struct {
	kinds []string
	view  uint64 // highest view seen in a message it sent or received
	// received signed messages of other replicas, newest last (bounded)
	ckpts    []*pbft.Checkpoint
	prepares []*pbft.Prepare
	pps      []*pbft.PrePrepare
	// its own CHECKPOINTs, newest last, and the seqs it already forged a
	// VIEW-CHANGE after
	mine   []*pbft.Checkpoint
	forged map[uint64]bool
	done   map[*pbft.ViewChange]*pbft.ViewChange // honest VIEW-CHANGE -> forged (a NEW-VIEW reuses it)
}

func newForge(p params, env *Env) (rewriter, error) {
	fg := &forge{kinds: forgeKinds, forged: map[uint64]bool{}, done: map[*pbft.ViewChange]*pbft.ViewChange{}}
	if v, ok := p.vals["kind"]; ok {
		fg.kinds = nil
		for _, k := range strings.Split(v, ",") {
			k = strings.TrimSpace(k)
			if !slices.Contains(forgeKinds, k) {
				return nil, p.errf("kind", "unknown forgery %q; allowed: %s (or a comma list)", k, strings.Join(forgeKinds, ", "))
			}
			fg.kinds = append(fg.kinds, k)
		}
	}
	return fg, nil
}

func keep[T any](l []T, m T) []T {
	if len(l) >= forgeKeep {
		l = slices.Delete(l, 0, 1)
	}
	return append(l, m)
}

// learn remembers a signed message another replica sent.
func (fg *forge) learn(env *Env, from sim.NodeID, m sim.Message) {
	if from == env.ID || from < 0 || int(from) >= env.N {
		return
	}
	switch m := m.(type) {
	case *pbft.Checkpoint:
		fg.ckpts = keep(fg.ckpts, m)
	case *pbft.Prepare:
		fg.prepares = keep(fg.prepares, m)
		fg.view = max(fg.view, m.View)
	case *pbft.PrePrepare:
		fg.pps = keep(fg.pps, m)
		fg.view = max(fg.view, m.View)
	case *pbft.Commit:
		fg.view = max(fg.view, m.View)
	case *pbft.NewView:
		fg.view = max(fg.view, m.View)
	}
}

func (fg *forge) kind(env *Env) string {
	if len(fg.kinds) == 1 {
		return fg.kinds[0]
	}
	return fg.kinds[env.Rand.IntN(len(fg.kinds))]
}

func (fg *forge) rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send {
	env := c.env
	kind := fg.kind(env)
	if c.in != nil && c.in.Kind == sim.InputMessage {
		fg.learn(env, c.in.From, c.in.Msg)
		if kind == "replay" {
			out = fg.replay(env, c.in.From, c.in.Msg, out)
		}
	}
	var extra *pbft.ViewChange
	for _, s := range sends {
		if s.To == env.ID || !own(s.Msg, env.ID) || kind == "replay" {
			out = append(out, s)
			continue
		}
		switch m := any(s.Msg).(type) {
		case *pbft.ViewChange:
			fg.view = max(fg.view, m.NewView)
			s.Msg = sim.Message(fg.alter(env, m, kind))
		case *pbft.NewView:
			fg.view = max(fg.view, m.View)
			for i, v := range m.ViewChanges {
				if v.Replica == env.ID {
					nv := *m
					nv.ViewChanges = slices.Clone(m.ViewChanges)
					nv.ViewChanges[i] = fg.alter(env, v, kind)
					sign(env.Signer, &nv)
					s.Msg = sim.Message(&nv)
					break
				}
			}
		case *pbft.Checkpoint:
			if !fg.forged[m.Seq] {
				fg.forged[m.Seq] = true
				fg.mine = keep(fg.mine, m)
				extra = fg.unprompted(env, m, kind)
			}
		}
		out = append(out, s)
	}
	if extra != nil {
		for i := 0; i < env.N; i++ {
			if id := sim.NodeID(i); id != env.ID {
				out = append(out, sim.Send{To: id, Msg: extra})
			}
		}
	}
	return out
}

// replay relays m, a message of another replica, to the replicas other
// than its author and itself.
func (fg *forge) replay(env *Env, from sim.NodeID, m sim.Message, out []sim.Send) []sim.Send {
	switch m.(type) {
	case *pbft.Checkpoint, *pbft.Prepare, *pbft.Commit, *pbft.ViewChange:
	default:
		return out
	}
	if from == env.ID || from < 0 || int(from) >= env.N {
		return out
	}
	for i := 0; i < env.N; i++ {
		if id := sim.NodeID(i); id != env.ID && id != from {
			out = append(out, sim.Send{To: id, Msg: m})
		}
	}
	return out
}

// alter returns the forged version of its own VIEW-CHANGE vc (the same one
// for the same vc).
func (fg *forge) alter(env *Env, vc *pbft.ViewChange, kind string) *pbft.ViewChange {
	if a, ok := fg.done[vc]; ok {
		return a
	}
	c := fg.forgeVC(env, *vc, kind)
	fg.done[vc] = c
	if len(fg.done) > forgeKeep {
		clear(fg.done)
		fg.done[vc] = c
	}
	return c
}

// unprompted is a VIEW-CHANGE for the view after the highest it saw,
// claiming its checkpoint ck stable, forged by kind; nil when it has
// nothing to forge with.
func (fg *forge) unprompted(env *Env, ck *pbft.Checkpoint, kind string) *pbft.ViewChange {
	vc := pbft.ViewChange{NewView: fg.view + 1, StableSeq: ck.Seq, Replica: env.ID}
	vc.Checkpoints = append(vc.Checkpoints, ck)
	for _, o := range fg.ckpts {
		if o.Seq == ck.Seq && o.StateDigest == ck.StateDigest && len(vc.Checkpoints) < 2*env.F+1 &&
			!slices.ContainsFunc(vc.Checkpoints, func(x *pbft.Checkpoint) bool { return x.Replica == o.Replica }) {
			vc.Checkpoints = append(vc.Checkpoints, o)
		}
	}
	// a certificate for the first seq above the checkpoint it saw ordered
	for _, pp := range fg.pps {
		if pp.Seq > ck.Seq && pp.View <= fg.view {
			pc := pbft.PreparedCert{PrePrepare: pp}
			for _, p := range fg.prepares {
				if p.View == pp.View && p.Seq == pp.Seq && p.Digest == pp.Digest && len(pc.Prepares) < 2*env.F &&
					!slices.ContainsFunc(pc.Prepares, func(x *pbft.Prepare) bool { return x.Replica == p.Replica }) {
					pc.Prepares = append(pc.Prepares, p)
				}
			}
			vc.Prepared = []pbft.PreparedCert{pc}
			break
		}
	}
	f := fg.forgeVC(env, vc, kind)
	if f == nil || !fg.isForged(env, f) {
		return nil
	}
	return f
}

// forgeVC applies forgery kind to a copy of vc and signs it.
func (fg *forge) forgeVC(env *Env, vc pbft.ViewChange, kind string) *pbft.ViewChange {
	q := 2*env.F + 1
	vc.Checkpoints = slices.Clone(vc.Checkpoints)
	vc.Prepared = slices.Clone(vc.Prepared)
	for i := range vc.Prepared {
		vc.Prepared[i].Prepares = slices.Clone(vc.Prepared[i].Prepares)
	}
	if vc.StableSeq == 0 && len(fg.mine) > 0 && (kind == "short-proof" || len(vc.Prepared) == 0) {
		// claim its last checkpoint stable, with what it has as proof
		ck := fg.mine[len(fg.mine)-1]
		vc.StableSeq, vc.Checkpoints = ck.Seq, []*pbft.Checkpoint{ck}
		for _, o := range fg.ckpts {
			if o.Seq == ck.Seq && o.StateDigest == ck.StateDigest && len(vc.Checkpoints) < q {
				vc.Checkpoints = append(vc.Checkpoints, o)
			}
		}
		vc.Prepared = slices.DeleteFunc(vc.Prepared, func(pc pbft.PreparedCert) bool { return pc.PrePrepare.Seq <= ck.Seq })
	}
	switch kind {
	case "short-proof":
		if len(vc.Checkpoints) > 2*env.F {
			vc.Checkpoints = vc.Checkpoints[:2*env.F]
		}
	case "dup-signer":
		if n := len(vc.Checkpoints); n > 0 {
			if n >= q {
				vc.Checkpoints[n-1] = vc.Checkpoints[0]
			} else {
				for len(vc.Checkpoints) < q {
					vc.Checkpoints = append(vc.Checkpoints, vc.Checkpoints[0])
				}
			}
		}
		for i := range vc.Prepared {
			ps := vc.Prepared[i].Prepares
			if len(ps) > 0 {
				vc.Prepared[i].Prepares = append(ps[:max(len(ps)-1, 1)], ps[0])
			}
		}
	case "wrong-digest":
		if len(vc.Checkpoints) > 0 {
			ck := *vc.Checkpoints[0]
			ck.Replica, ck.StateDigest = env.ID, flip(ck.StateDigest)
			sign(env.Signer, &ck)
			vc.Checkpoints = slices.DeleteFunc(vc.Checkpoints, func(c *pbft.Checkpoint) bool { return c.Replica == env.ID })
			vc.Checkpoints = append(vc.Checkpoints, &ck)
		}
		for i := range vc.Prepared {
			pp := vc.Prepared[i].PrePrepare
			p := &pbft.Prepare{View: pp.View, Seq: pp.Seq, Digest: flip(pp.Digest), Replica: env.ID}
			sign(env.Signer, p)
			ps := slices.DeleteFunc(vc.Prepared[i].Prepares, func(x *pbft.Prepare) bool { return x.Replica == env.ID })
			vc.Prepared[i].Prepares = append(ps, p)
		}
	case "short-cert":
		for i := range vc.Prepared {
			if ps := vc.Prepared[i].Prepares; len(ps) > 2*env.F-1 {
				vc.Prepared[i].Prepares = ps[:2*env.F-1]
			}
		}
	}
	sign(env.Signer, &vc)
	return &vc
}

// isForged reports whether vc breaks a rule a correct replica checks (so an
// unprompted VIEW-CHANGE is never a valid one).
func (fg *forge) isForged(env *Env, vc *pbft.ViewChange) bool {
	q := 2*env.F + 1
	if vc.StableSeq > 0 {
		seen := map[sim.NodeID]bool{}
		for _, c := range vc.Checkpoints {
			if seen[c.Replica] || c.StateDigest != vc.Checkpoints[0].StateDigest || c.Seq != vc.StableSeq {
				return true
			}
			seen[c.Replica] = true
		}
		if len(vc.Checkpoints) < q {
			return true
		}
	}
	for _, pc := range vc.Prepared {
		seen := map[sim.NodeID]bool{}
		for _, p := range pc.Prepares {
			if seen[p.Replica] || p.Digest != pc.PrePrepare.Digest {
				return true
			}
			seen[p.Replica] = true
		}
		if len(pc.Prepares) < 2*env.F {
			return true
		}
	}
	return false
}

// flip returns a digest that differs from d.
func flip(d pbft.Digest) pbft.Digest {
	d[0] ^= 0xff
	return d
}
