package properties

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim/cluster"
	"github.com/pbftsim/pbftsim/sim/hotstuff"
)

// hotstuffTypes maps the PBFT message types of generated adversary rules to
// the HotStuff types of the same role (leader proposal, votes, the phase
// messages, view synchronisation).
var hotstuffTypes = map[string]string{
	"PRE-PREPARE": "PREPARE", "PREPARE": "PREPARE-VOTE", "COMMIT": "COMMIT-VOTE",
	"CHECKPOINT": "DECIDE", "VIEW-CHANGE": "TIMEOUT", "NEW-VIEW": "NEW-VIEW",
	"REPLY": "REPLY", "REQUEST": "REQUEST",
}

// hotstuffCase turns a generated scenario into one of protocol (Basic or
// chained HotStuff): the same n,
// f, workload, network, partitions, crashes and timeouts; adversary rules
// on the HotStuff message types of the same role (without view or sequence
// matchers, which only PBFT messages carry); each Byzantine replica gets a
// HotStuff strategy drawn from r with a random split of the others into
// two groups.
func hotstuffCase(sc scenarios.Scenario, r *rand.Rand, protocol string) scenarios.Scenario {
	sc = clone(sc)
	sc.Protocol.Name = protocol
	sc.Protocol.CheckpointInterval, sc.Protocol.Window = 0, 0
	for i := range sc.Crashes {
		sc.Crashes[i].Kind = "" // only PBFT models a stable store
	}
	for i := range sc.Adversary {
		a := &sc.Adversary[i]
		for j, t := range a.Types {
			a.Types[j] = hotstuffTypes[t]
		}
		a.View, a.Seq, a.StartView = nil, nil, 0
	}
	n := sc.N
	if n == 0 {
		n = cluster.DefaultN
	}
	names := hotstuff.Strategies()
	var used []string
	for i := range sc.Byzantine {
		b := &sc.Byzantine[i]
		b.Strategy = names[r.IntN(len(names))]
		b.Params = nil
		if b.Strategy == "equivocate" || b.Strategy == "fork" || b.Strategy == "twins" || b.Strategy == "stale-fork" {
			var others []string
			for id := range n {
				if id != b.Replica {
					others = append(others, strconv.Itoa(id))
				}
			}
			r.Shuffle(len(others), func(i, j int) { others[i], others[j] = others[j], others[i] })
			k := 1 + r.IntN(len(others)-1)
			a, bb := others[:k], others[k:]
			slices.Sort(a)
			slices.Sort(bb)
			b.Params = map[string]string{"groups": strings.Join(a, ",") + "|" + strings.Join(bb, ",")}
		}
		used = append(used, b.Strategy)
	}
	sc.Description += " protocol=" + protocol
	if len(used) > 0 {
		sc.Description += " hotstuff_strategies=" + strings.Join(used, ",")
	}
	return sc
}

// HotStuffVariantNames lists the broken variants of a HotStuff protocol
// (hotstuff or chained-hotstuff), sorted.
func HotStuffVariantNames(protocol string) []string {
	return hotstuff.Variants(protocol == cluster.ProtocolChainedHotStuff)
}

// hotstuffTargets are the scenarios written for the HotStuff variants
// (the hunt runs them first unless it is generic).
var hotstuffTargets = map[string]string{
	// replica 0 proposes conflicting blocks of one height to replica 1 and
	// to replicas 2, 3, and drives both
	"small-qc": `
protocol: hotstuff
n: 4
workload: {clients: 2, requests: 8, payments: 4}
network: {delay: "uniform:1ms:5ms"}
byzantine:
  - {replica: 0, strategy: equivocate, params: {groups: "1|2,3"}}
run: {max_time: 10s}
`,
	// replica 0 decides its view-1 block only at replica 1, which the
	// network isolates until GST; leading again (view 5) it proposes a
	// block at height 1 conflicting with the lock of replicas 2 and 3
	"no-safenode":  hsForkAttack,
	"unlock-lower": hsForkAttack,
	// every message takes 40ms: a view needs about 320ms, more than the
	// 200ms base view timeout
	"fixed-timeout": `
protocol: hotstuff
n: 4
workload: {clients: 1, requests: 4, payments: 2}
network: {delay: "const:40ms"}
run: {max_time: 30s}
`,
}

// chainedTargets are the scenarios written for the chained HotStuff
// variants: the generic search's shrunk findings (hunt --protocol
// chained-hotstuff --generic, seed 1), kept as regression scenarios. The
// targets of Basic HotStuff do not catch chained HotStuff's variants: its
// leader keeps a span of views and its votes go to the next leader.
var chainedTargets = map[string]string{
	// replica 1 cut off from 2 and 3 for 145ms: QCs of n−f−1 = 2 votes
	// certify conflicting blocks on both sides
	"small-qc": `
protocol: {name: chained-hotstuff, batch: 2, view_change_timeout: 3s, client_timeout: 600ms}
seed: 1000303
n: 4
workload: {clients: 1, requests: 2}
network: {delay: "pareto:5ms:1.5:1ms", drop: 0.05, gst: 200ms, delta: 30ms}
adversary:
  - {from: [1], to: [2, 3], drop: 1, start: 11.163216ms, end: 156.046891ms}
run: {max_time: 3.2s}
`,
	// replica 5's later proposals extend the genesis block with the
	// genesis QC; replicas 2 and 5 cut off for a while
	"no-safenode":  chainedFork,
	"unlock-lower": chainedFork,
	// views of 2 message delays against a 2ms base timeout
	"fixed-timeout": `
protocol: {name: chained-hotstuff, batch: 1, view_change_timeout: 2ms, client_timeout: 10ms}
seed: 1000200
n: 4
workload: {clients: 1, requests: 1}
network: {delay: "const:1ms"}
run: {max_time: 2s}
`,
	"gap-commit":       chainedGap,
	"two-chain-commit": chainedTwoChain,
}

// The chained targets below are the generic search's shrunk findings
// (hunt --generic --protocol chained-hotstuff --seed 1, clocks removed) on
// the generator with the stale-fork strategy and chained view
// synchronization. Replica 0 (stale-fork) proposes, in some views it
// leads, a block on an older QC to some replicas: correct replicas vote
// for it only as safeNode allows, which forks the variants.

// n = 8 over three regions, replica 7 fork (its later proposals extend
// the genesis block), replica 0 crashed for about a second
const chainedFork = `
protocol: {name: chained-hotstuff, batch: 1, view_change_timeout: 41ms, client_timeout: 166ms}
seed: 1001260
n: 8
workload: {clients: 1, requests: 2}
network:
  delay: "const:1ms"
  regions: {replicas: [northeurope, brazilsouth, eastus]}
crashes:
  - {node: 0, at: 121.765114ms, recover: 1.158765114s}
byzantine:
  - {replica: 7, strategy: fork}
run: {max_time: 3s}
`

// n = 4, replica 1 stale-fork: a chain whose views are not consecutive
// commits at one replica a block the others, locked lower, abandon for
// replica 1's older-QC fork
const chainedGap = `
protocol: {name: chained-hotstuff, batch: 1, view_change_timeout: 120ms, client_timeout: 600ms}
seed: 1005103
n: 4
workload: {clients: 1, requests: 2}
network: {delay: "const:1ms"}
byzantine:
  - {replica: 1, strategy: stale-fork}
run: {max_time: 2s}
`

// n = 4: replica 1 sends the proposal carrying a two-chain's second QC
// to part of the replicas (which commit one QC early) and a block on an
// older QC to the others, locked lower, which vote for it
const chainedTwoChain = `
protocol: {name: chained-hotstuff, batch: 1, view_change_timeout: 12ms, client_timeout: 30ms}
seed: 1000994
n: 4
workload: {clients: 1, requests: 2}
network: {delay: "const:1ms"}
byzantine:
  - {replica: 1, strategy: stale-fork}
run: {max_time: 2s}
`

const hsForkAttack = `
protocol: hotstuff
n: 4
workload: {clients: 1, requests: 4, payments: 2}
network: {delay: "const:1ms", gst: 5s, delta: 10ms}
byzantine:
  - {replica: 0, strategy: fork, params: {groups: "1|2,3"}}
adversary:
  - {from: [1], drop: 1, start: 30ms}
  - {to: [1], drop: 1, start: 30ms}
run: {max_time: 30s}
`

// HotStuffTargeted returns the targeted scenarios of a variant of a
// HotStuff protocol (all of them for ""): hotstuffTargets or
// chainedTargets, run under that protocol.
func HotStuffTargeted(variant, protocol string) []scenarios.Scenario {
	var out []scenarios.Scenario
	targets := hotstuffTargets
	if protocol == cluster.ProtocolChainedHotStuff {
		targets = chainedTargets
	}
	for _, v := range HotStuffVariantNames(protocol) {
		src, ok := targets[v]
		if variant != "" && v != variant || !ok {
			continue
		}
		sc, err := scenarios.Parse("hotstuff-"+v+".yaml", []byte(src))
		if err != nil {
			panic("properties: invalid HotStuff targeted scenario " + v + ": " + err.Error())
		}
		sc.Protocol.Name = protocol
		out = append(out, *sc)
	}
	return out
}
