package properties

import (
	"math/rand/v2"
	"strings"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
)

// crashKindWeights are how often the swarm draws each crash kind, in
// sim.CrashKindNames order (keep, amnesia, lose-unsynced, wipe). Keep stays
// the likeliest: most of the swarm's strength against crashes (timing,
// repeated recoveries, recoveries during a view change) needs no store.
var crashKindWeights = []int{40, 25, 15, 20}

// drawCrashKinds gives each crash of sc a kind, drawn from a stream of its
// own (split off seed), so that the rest of the swarm case is drawn as
// without kinds. It returns the knob's value: the kinds in crash order, or
// "off" without crashes. Repeated crashes of one replica draw their kinds
// independently (an amnesia crash after a wipe, a wipe after a keep, ...).
func drawCrashKinds(sc *scenarios.Scenario, seed uint64) string {
	if len(sc.Crashes) == 0 {
		return "off"
	}
	r := rand.New(rand.NewPCG(seed, 0x4b494e44)) // "KIND"
	total := 0
	for _, w := range crashKindWeights {
		total += w
	}
	kinds := make([]string, len(sc.Crashes))
	for i := range sc.Crashes {
		x, k := r.IntN(total), 0
		for x >= crashKindWeights[k] {
			x -= crashKindWeights[k]
			k++
		}
		kinds[i] = sim.CrashKindNames[k]
		if sc.Crashes[i].Node < sc.N && k != int(sim.CrashKeep) {
			sc.Crashes[i].Kind = kinds[i]
		} else {
			kinds[i] = sim.CrashKeep.String()
		}
	}
	return strings.Join(kinds, ",")
}
