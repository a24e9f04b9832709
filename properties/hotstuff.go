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

// hotstuffCase turns a generated scenario into a HotStuff one: the same n,
// f, workload, network, partitions, crashes and timeouts; adversary rules
// on the HotStuff message types of the same role (without view or sequence
// matchers, which only PBFT messages carry); each Byzantine replica gets a
// HotStuff strategy drawn from r with a random split of the others into
// two groups.
func hotstuffCase(sc scenarios.Scenario, r *rand.Rand) scenarios.Scenario {
	sc = clone(sc)
	sc.Protocol.Name = cluster.ProtocolHotStuff
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
		if b.Strategy == "equivocate" || b.Strategy == "fork" {
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
	sc.Description += " protocol=hotstuff"
	if len(used) > 0 {
		sc.Description += " hotstuff_strategies=" + strings.Join(used, ",")
	}
	return sc
}

// HotStuffVariantNames lists the broken HotStuff variants, sorted.
func HotStuffVariantNames() []string { return hotstuff.Variants() }

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

// HotStuffTargeted returns the targeted scenarios of a HotStuff variant
// (all of them for "").
func HotStuffTargeted(variant string) []scenarios.Scenario {
	var out []scenarios.Scenario
	for _, v := range hotstuff.Variants() {
		if variant != "" && v != variant {
			continue
		}
		sc, err := scenarios.Parse("hotstuff-"+v+".yaml", []byte(hotstuffTargets[v]))
		if err != nil {
			panic("properties: invalid HotStuff targeted scenario " + v + ": " + err.Error())
		}
		out = append(out, *sc)
	}
	return out
}
