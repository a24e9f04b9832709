package hotstuff

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/crypto"
)

// HotStuff's Byzantine strategies wrap an honest Replica and rewrite what
// it sends, only in its own name (they sign with its key alone):
//
//   - silent: sends nothing at all (a crash from time 0 that still
//     receives).
//
//   - conflicting-votes: with each vote to another leader, a second vote of
//     the same phase and view for a block of its own making.
//
//   - equivocate: as leader, proposes its block to group A and a different
//     block of the same height (another batch) to group B, and drives both
//     through the phases with the honest leader code (which forms a QC for
//     any block that reaches the quorum), voting for both itself.
//
//   - fork: attacks the lock. In the first view it leads it sends DECIDE
//     only to group A; it sends its NEW-VIEWs to every replica but never
//     votes for another leader's block, so views it does not lead time
//     out; in every later view it leads it proposes, instead of the honest block, a block of the same
//     batch extending the genesis block, justified by the genesis QC (lower
//     than the lock of every replica that voted COMMIT). Together with a
//     network that isolates group A for a while, correct replicas refuse
//     the fork (safeNode); replicas without the lock check commit it.
//
//   - twins: two honest replicas with its one key (Twins, Bano et al.):
//     one talks only to group A, the other only to group B (clients hear
//     both), so each half of the network sees a correct-looking replica
//     that votes and proposes independently of the other.
//
//   - stale-fork: a lock attack on both sides of a split network. In each
//     view it leads it draws (from its adversary stream) one of: the
//     honest proposal to every replica; a block on an older QC it has seen
//     (1 to 3 QCs below the honest proposal's justify, extending that QC's
//     block with the same requests) to every replica; or the honest
//     proposal to group A and the older-QC block to group B. How often
//     each (a quarter, half or three quarters of its views honest, of the
//     others split) and how far back (up to 1, 2 or 3 QCs) is drawn once
//     per run, as swarm testing draws its knobs.
//     It votes for every block it proposed, to whichever leader collects
//     the votes. A correct replica votes for the older-QC block only when
//     safeNode allows it (it extends its lock, or the QC is newer than the
//     lock), so it forks only replicas whose lock is below what another
//     group has committed: the schedule that a commit rule firing one QC
//     early, or on a chain whose views are not consecutive, permits.
//
//   - mutate: sends each message to another replica altered at random
//     half of the time (a vote for another view or block, a NEW-VIEW with
//     the genesis QC, a proposal with another justify QC or without its
//     requests, a phase message with a QC of another view), signed with
//     its own key where a signature covers the change.
//
// Parameter (equivocate, fork, twins, stale-fork): groups "A|B", two comma lists of
// replica ids; the default is A = the f lowest other replicas, B = the rest.
var strategyDocs = map[string]string{
	"silent":            "sends nothing (receives and computes as an honest replica)",
	"conflicting-votes": "votes, to other leaders, for a block of its own making (a random digest) besides the proposed one, in every phase",
	"equivocate":        "as leader, proposes one block to group A and a conflicting block to group B and drives both",
	"fork":              "DECIDE of its first leader view only to group A; NEW-VIEWs to all, no votes for other leaders; later proposals extend the genesis block with the genesis QC",
	"twins":             "two honest replicas with its one key, one talking to group A, the other to group B",
	"stale-fork":        "as leader, per view: the honest proposal to all, a block on an older QC it saw to all, or the honest one to group A and the older one to group B; votes for both",
	"mutate":            "alters half of its messages to other replicas at random (view, block, QC, requests), re-signed with its own key",
}

// Strategies returns the HotStuff strategy names, sorted.
func Strategies() []string {
	out := make([]string, 0, len(strategyDocs))
	for n := range strategyDocs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// StrategyDoc returns the description of a strategy.
func StrategyDoc(name string) string { return strategyDocs[name] }

// ByzantineEnv is what a strategy gets besides the honest replica.
type ByzantineEnv struct {
	ID      sim.NodeID
	N, F    int
	Keyring *crypto.Keyring // signs in ID's name only
	Rand    *rand.Rand
	// NewTwin returns another honest replica with ID's identity (twins).
	NewTwin func() (*Replica, error)
}

// CheckStrategy validates a strategy name and parameters for n replicas.
func CheckStrategy(name string, params map[string]string, n int) error {
	if _, ok := strategyDocs[name]; !ok {
		return fmt.Errorf("unknown HotStuff strategy %q", name)
	}
	for k := range params {
		if k != "groups" || name == "silent" || name == "conflicting-votes" || name == "mutate" {
			return fmt.Errorf("strategy %s: unknown parameter %q", name, k)
		}
	}
	if g, ok := params["groups"]; ok {
		if _, _, err := parseGroups(g, n); err != nil {
			return err
		}
	}
	return nil
}

func parseGroups(s string, n int) (a, b []sim.NodeID, err error) {
	parts := strings.Split(s, "|")
	if len(parts) != 2 {
		return nil, nil, fmt.Errorf("groups %q: want two comma lists separated by |, e.g. \"1|2,3\"", s)
	}
	var out [2][]sim.NodeID
	for i, p := range parts {
		for _, f := range strings.Split(p, ",") {
			id, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || id < 0 || id >= n {
				return nil, nil, fmt.Errorf("groups %q: %q is not a replica id in [0, %d)", s, f, n)
			}
			if slices.Contains(out[0], sim.NodeID(id)) || slices.Contains(out[1], sim.NodeID(id)) {
				return nil, nil, fmt.Errorf("groups %q: replica %d listed twice", s, id)
			}
			out[i] = append(out[i], sim.NodeID(id))
		}
	}
	return out[0], out[1], nil
}

// NewByzantine wraps honest in the named strategy.
func NewByzantine(name string, params map[string]string, honest *Replica, env ByzantineEnv) (sim.Node, error) {
	if err := CheckStrategy(name, params, env.N); err != nil {
		return nil, err
	}
	b := &byzNode{inner: honest, mode: name, env: env, inA: make([]bool, env.N), inB: make([]bool, env.N),
		twin: map[Digest]Digest{}, group: map[Digest]uint8{}}
	if g, ok := params["groups"]; ok {
		a, bb, _ := parseGroups(g, env.N)
		for _, id := range a {
			b.inA[id] = true
		}
		for _, id := range bb {
			b.inB[id] = true
		}
	} else {
		k := 0
		for i := 0; i < env.N; i++ {
			if sim.NodeID(i) == env.ID {
				continue
			}
			if k < env.F {
				b.inA[i] = true
			} else {
				b.inB[i] = true
			}
			k++
		}
	}
	if name == "twins" {
		return newTwins(b, honest, env)
	}
	if name == "stale-fork" {
		// swarm-style: each run draws its own mix (how often it is honest,
		// how often it splits the network, how far back it goes), so that
		// across runs rare sequences of choices become likely in some
		mix := [3]int{1, 2, 3}
		b.pHonest, b.pSplit, b.maxDepth = mix[env.Rand.IntN(3)], mix[env.Rand.IntN(3)], mix[env.Rand.IntN(3)]
	}
	return b, nil
}

type byzNode struct {
	inner    *Replica
	mode     string
	env      ByzantineEnv
	inA, inB []bool
	twin     map[Digest]Digest // block -> the conflicting block proposed with it
	group    map[Digest]uint8  // block -> 1: group A only, 2: group B only
	firstLed uint64            // the first view it led (fork)
	lastProp *Proposal
	held     *PhaseMsg // its own DECIDE of one block, held until the twin decides
	lastNV   *NewView  // the last NEW-VIEW it broadcast (fork)
	split    bool      // stale-fork: the current twin goes to group B only (else to all)
	qcs      []*QC     // stale-fork: the distinct QCs it saw, ascending by view (at most maxStaleQCs)
	// stale-fork's mix, drawn per run: honest in pHonest/4 of its views,
	// else split in pSplit/4 of them; 1 to maxDepth QCs back
	pHonest, pSplit, maxDepth int
	scratch                   sim.Output
}

func (b *byzNode) Start(now sim.Time, out *sim.Output) {
	b.inner.Start(now, &b.scratch)
	b.rewrite(out)
}

func (b *byzNode) Step(now sim.Time, in sim.Input, out *sim.Output) {
	b.inner.Step(now, in, &b.scratch)
	if b.mode == "stale-fork" {
		if m, ok := in.Msg.(*Proposal); ok && in.Kind == sim.InputMessage && m.Justify != nil && b.inner.verified[m.Justify] {
			b.seeQC(m.Justify)
		}
		b.seeQC(b.inner.prepareQC)
	}
	b.rewrite(out)
}

// maxStaleQCs bounds the QCs stale-fork remembers.
const maxStaleQCs = 8

// seeQC records a valid QC the strategy may later propose on (stale-fork).
func (b *byzNode) seeQC(qc *QC) {
	if qc == nil {
		return
	}
	i := len(b.qcs)
	for i > 0 && b.qcs[i-1].View >= qc.View {
		if o := b.qcs[i-1]; o.View == qc.View && o.Block == qc.Block {
			return
		}
		i--
	}
	b.qcs = slices.Insert(b.qcs, i, qc)
	if len(b.qcs) > maxStaleQCs {
		b.qcs = slices.Delete(b.qcs, 0, 1)
	}
}

// staleQC returns the QC depth places below the highest one it saw of a
// view lower than justify's (the lowest one if it saw fewer), or nil.
func (b *byzNode) staleQC(justify *QC, depth int) *QC {
	var below []*QC
	for _, qc := range b.qcs {
		if qc.View < justify.View && b.inner.blocks[qc.Block] != nil {
			below = append(below, qc)
		}
	}
	if len(below) == 0 {
		return nil
	}
	return below[max(0, len(below)-depth)]
}

// rewrite passes the honest replica's effects through the strategy.
func (b *byzNode) rewrite(out *sim.Output) {
	s := &b.scratch
	out.Timers = append(out.Timers, s.Timers...)
	out.Events = append(out.Events, s.Events...)
	self := b.env.ID
	for _, snd := range s.Sends {
		if b.mode == "silent" {
			if snd.To == self {
				out.Send(snd.To, snd.Msg)
			}
			continue
		}
		if b.mode == "mutate" && snd.To != self {
			if _, vote := snd.Msg.(*Vote); !vote {
				out.Send(snd.To, b.mutate(snd.Msg))
				continue
			}
		}
		switch m := snd.Msg.(type) {
		case *NewView:
			if b.mode == "fork" && snd.To != self {
				// every NEW-VIEW to every replica: the views it does not
				// lead change quickly (it never votes in them)
				if m != b.lastNV {
					b.lastNV = m
					for i := 0; i < b.env.N; i++ {
						if id := sim.NodeID(i); id != self {
							out.Send(id, m)
						}
					}
				}
				continue
			}
		case *Proposal:
			if snd.To == self {
				break
			}
			if t := b.conflicting(m); t != nil && (b.mode == "fork" || b.inB[snd.To] || b.mode == "stale-fork" && !b.split) {
				out.Send(snd.To, t)
				continue
			}
			if b.mode == "equivocate" && !b.inA[snd.To] && !b.inB[snd.To] {
				continue
			}
		case *PhaseMsg:
			if snd.To == self {
				// Equivocating: stay in the view (its own DECIDE would move it
				// on) until both blocks decided, so that it drives both.
				if t, ok := b.twin[m.QC.Block]; ok && b.mode == "equivocate" && m.QC.Phase == PhaseCommit {
					if b.held == nil || b.held.QC.Block != t {
						b.held = m
						continue
					}
					out.Send(self, b.held)
					b.held = nil
				}
				break
			}
			g := b.group[m.QC.Block]
			if g == 1 && !b.inA[snd.To] || g == 2 && !b.inB[snd.To] {
				continue
			}
			if b.mode == "fork" && m.QC.Phase == PhaseCommit && m.View == b.firstLed && !b.inA[snd.To] {
				continue
			}
		case *Vote:
			if b.mode == "mutate" && snd.To != self {
				out.Send(snd.To, b.mutate(m))
				continue
			}
			if b.mode == "fork" && b.inner.leader(m.View) != self {
				continue
			}
			if b.mode == "conflicting-votes" && snd.To != self {
				// a second vote of the same phase and view for another block
				v := &Vote{Phase: m.Phase, View: m.View, Replica: self}
				for i := range v.Block {
					v.Block[i] = byte(b.env.Rand.Uint32())
				}
				v.Sig = b.env.Keyring.Signer(self).Sign(v)
				out.Send(snd.To, v)
			}
			if t, ok := b.twin[m.Block]; ok && b.mode == "stale-fork" {
				v := &Vote{Phase: m.Phase, View: m.View, Block: t, Replica: self}
				v.Sig = b.env.Keyring.Signer(self).Sign(v)
				out.Send(snd.To, v)
			} else if ok && snd.To == self && b.inner.leader(m.View) == self {
				v := &Vote{Phase: m.Phase, View: m.View, Block: t, Replica: self}
				v.Sig = b.env.Keyring.Signer(self).Sign(v)
				out.Send(self, v)
			}
		}
		out.Send(snd.To, snd.Msg)
	}
	s.Reset()
}

// block makes a block of the wrapped replica's protocol: in chained
// HotStuff it carries its justify QC.
func (b *byzNode) block(parent Digest, height, view uint64, cmds []*Request, justify *QC) *Block {
	if b.inner.cfg.Chained {
		return newBlockQC(parent, height, view, cmds, justify)
	}
	return NewBlock(parent, height, view, cmds)
}

// conflicting returns the block the strategy proposes instead of (or
// besides) honest proposal p, or nil to send p unchanged.
func (b *byzNode) conflicting(p *Proposal) *Proposal {
	if b.mode == "stale-fork" && b.lastProp != nil && p.View < b.lastProp.View {
		return nil // an older proposal handed to a replica behind
	}
	if b.lastProp != nil && b.lastProp.View == p.View {
		if t, ok := b.twin[p.Block.Hash]; ok {
			return &Proposal{View: p.View, Block: b.inner.blocks[t], Justify: b.lastProp.Justify, Cert: p.Cert, Leader: p.Leader}
		}
		return nil
	}
	var t *Proposal
	switch b.mode {
	case "equivocate":
		cmds := slices.Clone(p.Block.Cmds)
		if len(cmds) > 1 {
			slices.Reverse(cmds)
		} else {
			cmds = nil
		}
		blk := b.block(p.Block.Parent, p.Block.Height, p.View, cmds, p.Justify)
		t = &Proposal{View: p.View, Block: blk, Justify: p.Justify, Cert: p.Cert, Leader: p.Leader}
		b.group[p.Block.Hash], b.group[blk.Hash] = 1, 2
	case "stale-fork":
		r := b.env.Rand
		honest, split, depth := r.IntN(4) < b.pHonest, r.IntN(4) < b.pSplit, 1+r.IntN(b.maxDepth)
		var qc *QC
		if !honest && p.Justify != nil {
			qc = b.staleQC(p.Justify, depth)
		}
		if qc == nil {
			b.lastProp = &Proposal{View: p.View}
			return nil
		}
		parent := b.inner.blocks[qc.Block]
		blk := b.block(qc.Block, parent.Height+1, p.View, p.Block.Cmds, qc)
		t = &Proposal{View: p.View, Block: blk, Justify: qc, Cert: p.Cert, Leader: p.Leader}
		b.split = split
	case "fork":
		if b.firstLed == 0 {
			b.firstLed = p.View
			b.lastProp = p
			return nil
		}
		blk := b.block(Genesis.Hash, 1, p.View, p.Block.Cmds, GenesisQC)
		t = &Proposal{View: p.View, Block: blk, Justify: GenesisQC, Cert: p.Cert, Leader: p.Leader}
	default:
		return nil
	}
	b.inner.blocks[t.Block.Hash] = t.Block
	b.twin[p.Block.Hash], b.twin[t.Block.Hash] = t.Block.Hash, p.Block.Hash
	b.lastProp = &Proposal{View: p.View, Justify: t.Justify}
	return t
}

// mutate returns m altered at random half of the time (strategy mutate),
// re-signed with the strategy's own key where a signature covers the
// change; otherwise m unchanged.
func (b *byzNode) mutate(m sim.Message) sim.Message {
	r := b.env.Rand
	if r.IntN(2) == 0 {
		return m
	}
	signer := b.env.Keyring.Signer(b.env.ID)
	switch m := m.(type) {
	case *Vote:
		v := *m
		if r.IntN(2) == 0 {
			v.View++
		} else {
			for i := range v.Block {
				v.Block[i] = byte(r.Uint32())
			}
		}
		v.Sig = signer.Sign(&v)
		return &v
	case *NewView:
		nv := *m
		nv.PrepareQC = GenesisQC
		nv.Sig = signer.Sign(&nv)
		return &nv
	case *Proposal:
		p := *m
		if r.IntN(2) == 0 || m.Block == nil {
			p.Justify = GenesisQC
		} else {
			p.Block = b.block(m.Block.Parent, m.Block.Height, m.Block.View, nil, m.Block.Justify)
		}
		return &p
	case *PhaseMsg:
		if m.QC == nil {
			return m
		}
		qc := *m.QC
		qc.View++
		return &PhaseMsg{View: m.View, QC: &qc, Leader: m.Leader}
	}
	return m
}
