package explore

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
	engine "github.com/pbftsim/pbftsim/sim/explore"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// MaxSymmetric bounds the replicas permuted by symmetry reduction: all
// permutations of at most 4 interchangeable replicas (24) are used; of more,
// those of the 4 lowest ids (a subgroup, still sound).
const MaxSymmetric = 4

// Interchangeable returns the replicas of c that symmetry reduction may
// permute: those that are correct (not Byzantine) and not the primary of
// any view explored (view v's primary is v mod n). Crashes do not tell
// replicas apart (every replica may crash), and there is one client (its
// renaming is trivial). The engine keeps only the permutations that fix
// the initial world, so a per-replica difference this list misses (a
// Byzantine strategy's target set, say) removes them.
func (c Config) Interchangeable() []sim.NodeID {
	var out []sim.NodeID
	for i := 0; i < c.Nodes; i++ {
		id := sim.NodeID(i)
		if slices.ContainsFunc(c.Byzantine, func(b cluster.ByzantineSpec) bool { return b.Replica == id }) {
			continue
		}
		if i <= c.Views { // primary of view i (i < n: views <= 3 < n)
			continue
		}
		out = append(out, id)
	}
	if len(out) > MaxSymmetric {
		out = out[:MaxSymmetric]
	}
	return out
}

// symmetry returns the symmetry declaration of c's cluster (cfg), with
// every permutation of the interchangeable replicas.
func (c Config) symmetry(cfg cluster.Config) *engine.Symmetry {
	ids := c.Interchangeable()
	nodes := cfg.N + cfg.Clients
	var perms [][]sim.NodeID
	for _, p := range permutations(ids) {
		perm := make([]sim.NodeID, nodes)
		for i := range perm {
			perm[i] = sim.NodeID(i)
		}
		for i, id := range ids {
			perm[id] = p[i]
		}
		perms = append(perms, perm)
	}
	kr := pbft.NewKeyring(cfg.Seed, nodes)
	return &engine.Symmetry{
		Perms: perms,
		// Per-replica slices (indexed by replica id).
		Indexed: symIndexed(),
		Sets:    symSets(),
		SigType: reflect.TypeFor[pbft.Sig](),
		// A valid signature stands for a valid signature of the renamed
		// author over the renamed content (re-signed): replicas use
		// signatures only through the keyring's verification. An invalid
		// one (forged by a Byzantine replica) keeps its bytes.
		SigKey: func(m sim.Message) uint64 {
			s, ok := m.(pbft.Signable)
			if !ok {
				return 0
			}
			if kr.Verify(s) {
				return 1
			}
			return 2 ^ uint64(s.Signature())<<2
		},
	}
}

// symIndexed names PBFT's slices indexed by replica id.
func symIndexed() map[string]bool {
	return map[string]bool{
		"Replica.high": true, "Replica.badState": true, "Replica.vcs": true, "Replica.futureFrom": true,
		"Replica.lateVC": true, "Replica.futureCount": true,
		"entry.prepares": true, "entry.commits": true, "ckptState.votes": true,
		"Client.replies": true, "Client.views": true,
	}
}

// symSets names PBFT's slices whose order carries no meaning.
func symSets() map[string]bool {
	return map[string]bool{
		// A prepared certificate's PREPAREs (kept in replica order).
		"PreparedCert.Prepares": true, "entry.certPrep": true,
		// A NEW-VIEW's VIEW-CHANGEs (the primary's first, then in replica order).
		"NewView.ViewChanges": true,
	}
}

// permutations returns every ordering of ids (ids' own first).
func permutations(ids []sim.NodeID) [][]sim.NodeID {
	if len(ids) <= 1 {
		return [][]sim.NodeID{slices.Clone(ids)}
	}
	var out [][]sim.NodeID
	for i := range ids {
		rest := slices.Concat(ids[:i], ids[i+1:])
		for _, p := range permutations(rest) {
			out = append(out, append([]sim.NodeID{ids[i]}, p...))
		}
	}
	return out
}

// SymmetryLine describes the group an exploration identified states under.
func SymmetryLine(group [][]sim.NodeID) string {
	if len(group) == 0 {
		return "symmetry: off"
	}
	var moved []string
	for i := range group[0] {
		if slices.ContainsFunc(group, func(p []sim.NodeID) bool { return p[i] != sim.NodeID(i) }) {
			moved = append(moved, fmt.Sprint(i))
		}
	}
	if len(moved) == 0 {
		return "symmetry: on, but no replicas are interchangeable (1 permutation)"
	}
	return fmt.Sprintf("symmetry: replicas {%s} interchangeable (%d permutations)", strings.Join(moved, ","), len(group))
}
