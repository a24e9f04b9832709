package properties

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim/byzantine"
)

// GenConfig shapes the scenarios Generate draws. The zero value is the
// default generator: small scenarios within the fault model.
type GenConfig struct {
	// Protocol is the protocol every scenario runs ("" PBFT, or
	// "hotstuff" or "chained-hotstuff": CaseScenario converts the drawn
	// scenario, see hotstuffCase).
	Protocol string
	// Variant is the protocol variant every scenario runs ("" correct).
	Variant string
	// MaxN bounds the number of replicas (4..13; default 13, with small n
	// much more likely).
	MaxN int
	// OnlyOptimalN draws only n = 3f+1 (4, 7, 10, 13). By default n is
	// any of 4..13: with n > 3f+1 quorums are ceil((n+f+1)/2), not 2f+1
	// (two quorums of 2f+1 among 3f+2 replicas can meet only in one
	// Byzantine replica), and the generator is what found that bug.
	OnlyOptimalN bool
	// MaxRequests bounds the workload (default 6).
	MaxRequests int
	// Strategies restricts the Byzantine strategies drawn (default all of
	// byzantine.Names()).
	Strategies []string
	// ByzantineBias is the probability that a scenario has as many
	// Byzantine replicas as it may (default 0.3).
	ByzantineBias float64
	// PrimaryBias is the probability that the first faulty replica is the
	// primary of view 0 (default 0.5).
	PrimaryBias float64
	// ViewChangeBias is the probability of a crashed or silent primary, to
	// force view changes (default 0.2).
	ViewChangeBias float64
	// DuplicateBias is the probability of a network that duplicates
	// messages (default 0.2).
	DuplicateBias float64
	// TargetedDropBias is the probability of adversarial rules that drop
	// one phase's messages (PREPARE, COMMIT or VIEW-CHANGE) of a low
	// sequence number to some replicas before GST (default 0), so that a
	// request prepares or commits at only part of the replicas.
	TargetedDropBias float64
	// Clients draws at least this many clients (default 1).
	MinClients int
	// ReplicaFaults forces exactly this many faulty replicas when > 0
	// (capped at f).
	ReplicaFaults int
	// Swarm draws swarm scenarios (GenerateSwarm): every fault family
	// switched on or off per case with a drawn strength. The biases above
	// do not apply to it.
	Swarm bool
	// MinTimeoutRTT, with Swarm, draws only timeouts of at least this
	// many round trips of the typical delay (0: all, including below one
	// round trip).
	MinTimeoutRTT float64
}

func (g GenConfig) withDefaults() GenConfig {
	if g.MaxN < 4 || g.MaxN > 13 {
		g.MaxN = 13
	}
	if g.MaxRequests <= 0 {
		g.MaxRequests = 6
	}
	if len(g.Strategies) == 0 {
		g.Strategies = byzantine.Names()
	}
	if g.ByzantineBias == 0 {
		g.ByzantineBias = 0.3
	}
	if g.PrimaryBias == 0 {
		g.PrimaryBias = 0.5
	}
	if g.ViewChangeBias == 0 {
		g.ViewChangeBias = 0.2
	}
	if g.DuplicateBias == 0 {
		g.DuplicateBias = 0.2
	}
	if g.MinClients <= 0 {
		g.MinClients = 1
	}
	return g
}

// Generate draws one scenario within the fault model from r: n in 4..MaxN
// (small n likelier; any n unless OnlyOptimalN), at most f faulty replicas (Byzantine strategies with
// drawn parameters, crashes), a payments workload, network delays, losses
// and duplicates, partitions healed before GST and adversarial network
// rules active before GST. seed becomes the scenario's seed.
func Generate(r *rand.Rand, seed uint64, g GenConfig) scenarios.Scenario {
	if g.Swarm {
		sc, _ := GenerateSwarm(r, seed, g)
		return sc
	}
	g = g.withDefaults()
	n := 4
	switch x := r.IntN(100); {
	case x < 65:
	case x < 85:
		n = 5 + r.IntN(3)
	default:
		n = 4 + r.IntN(10)
	}
	n = min(n, g.MaxN)
	if g.OnlyOptimalN {
		n = 3*((n-1)/3) + 1
	}
	f := (n - 1) / 3
	sc := scenarios.Scenario{Name: "generated", Seed: seed, N: n}
	if g.Variant != "" {
		sc.Protocol.Variant = g.Variant
	}
	sc.Protocol.CheckpointInterval = []int{2, 4, 16}[r.IntN(3)]
	sc.Protocol.ViewChangeTimeout = time.Duration(100+50*r.IntN(4)) * time.Millisecond
	sc.Protocol.ClientTimeout = time.Duration(150+50*r.IntN(4)) * time.Millisecond
	clients := g.MinClients + r.IntN(3)
	sc.Workload = scenarios.Workload{Clients: clients, Requests: 1 + r.IntN(g.MaxRequests)}
	if sc.Workload.Requests < clients {
		sc.Workload.Requests = clients
	}
	if r.IntN(3) == 0 {
		sc.Workload.Interval = time.Duration(r.IntN(20)) * time.Millisecond
	}

	// Network.
	sc.Network.Delay = []string{"const:1ms", "uniform:1ms:5ms", "uniform:1ms:20ms", "exp:3ms:1ms"}[r.IntN(4)]
	lossy := false
	if r.IntN(3) == 0 {
		sc.Network.Drop = []float64{0.02, 0.05, 0.1, 0.2}[r.IntN(4)]
		lossy = true
	}
	if r.Float64() < g.DuplicateBias {
		sc.Network.Duplicate = []float64{0.05, 0.1, 0.3}[r.IntN(3)]
	}
	gst := time.Duration(0)
	if lossy || r.IntN(3) == 0 {
		gst = time.Duration(100+100*r.IntN(8)) * time.Millisecond
		sc.Network.GST = gst
		sc.Network.Delta = time.Duration(10+10*r.IntN(3)) * time.Millisecond
	}
	if gst > 0 && r.IntN(4) == 0 {
		// A partition before GST, healed at or before it.
		var a, b []int
		for i := 0; i < n; i++ {
			if r.IntN(2) == 0 {
				a = append(a, i)
			} else {
				b = append(b, i)
			}
		}
		if len(a) > 0 && len(b) > 0 {
			from := time.Duration(r.Int64N(int64(gst / 2)))
			sc.Network.Partitions = []scenarios.Partition{{Groups: [][]int{a, b}, From: from, To: from + time.Duration(r.Int64N(int64(gst-from)))}}
			if sc.Network.Partitions[0].To <= from {
				sc.Network.Partitions[0].To = gst
			}
		}
	}
	if gst > 0 && r.IntN(4) == 0 {
		types := []string{"PRE-PREPARE", "PREPARE", "COMMIT", "VIEW-CHANGE", "NEW-VIEW"}
		sc.Adversary = []scenarios.NetRule{{Types: []string{types[r.IntN(len(types))]},
			Drop: []float64{0, 0.5, 1}[r.IntN(3)], Delay: time.Duration(1+r.IntN(50)) * time.Millisecond}}
	}

	if r.Float64() < g.TargetedDropBias {
		if gst == 0 {
			gst = time.Duration(500+100*r.IntN(10)) * time.Millisecond
			sc.Network.GST, sc.Network.Delta = gst, 10*time.Millisecond
		}
		for k := 1 + r.IntN(2); k > 0; k-- {
			types := []string{"PREPARE", "COMMIT", "VIEW-CHANGE", "PRE-PREPARE"}
			rule := scenarios.NetRule{Types: []string{types[r.IntN(len(types))]}, Drop: 1}
			o := r.Perm(n)[:1+r.IntN(n-1)]
			slices.Sort(o)
			if r.IntN(2) == 0 {
				rule.To = o
			} else {
				rule.From = o
			}
			if r.IntN(3) > 0 {
				q := uint64(1 + r.IntN(2))
				rule.Seq = &q
			}
			if r.IntN(3) == 0 {
				v := uint64(r.IntN(2))
				rule.View = &v
			}
			sc.Adversary = append(sc.Adversary, rule)
		}
	}

	// Faults: at most f replicas, Byzantine or crashed.
	faults := r.IntN(f + 1)
	if r.Float64() < g.ByzantineBias {
		faults = f
	}
	if g.ReplicaFaults > 0 {
		faults = min(g.ReplicaFaults, f)
	}
	ids := r.Perm(n)
	if r.Float64() < g.PrimaryBias {
		i := slices.Index(ids, 0)
		ids[0], ids[i] = ids[i], ids[0]
	}
	viewChange := faults > 0 && ids[0] == 0 && r.Float64() < g.ViewChangeBias
	for k := 0; k < faults; k++ {
		id := ids[k]
		switch {
		case viewChange && k == 0 && r.IntN(2) == 0:
			sc.Crashes = append(sc.Crashes, scenarios.Crash{Node: id, At: time.Duration(r.IntN(50)) * time.Millisecond})
		case viewChange && k == 0:
			sc.Byzantine = append(sc.Byzantine, scenarios.Byzantine{Replica: id, Strategy: "silent"})
		case r.IntN(4) == 0:
			cr := scenarios.Crash{Node: id, At: time.Duration(r.IntN(2000)) * time.Millisecond}
			if r.IntN(2) == 0 {
				cr.Recover = cr.At + time.Duration(1+r.IntN(1000))*time.Millisecond
			}
			sc.Crashes = append(sc.Crashes, cr)
		default:
			name := g.Strategies[r.IntN(len(g.Strategies))]
			sc.Byzantine = append(sc.Byzantine, scenarios.Byzantine{Replica: id, Strategy: name, Params: drawParams(r, name, id, n, clients)})
		}
	}
	slices.SortFunc(sc.Byzantine, func(a, b scenarios.Byzantine) int { return a.Replica - b.Replica })
	slices.SortFunc(sc.Crashes, func(a, b scenarios.Crash) int { return a.Node - b.Node })
	sc.Run.MaxTime = gst + time.Duration(10+r.IntN(10))*time.Second
	return sc
}

// drawParams draws parameters for a strategy from its registry entry.
func drawParams(r *rand.Rand, name string, self, n, clients int) map[string]string {
	info, ok := byzantine.Lookup(name)
	if !ok {
		return nil
	}
	others := func() []int {
		var out []int
		for i := 0; i < n; i++ {
			if i != self {
				out = append(out, i)
			}
		}
		return out
	}
	list := func(xs []int) string {
		s := make([]string, len(xs))
		for i, x := range xs {
			s[i] = strconv.Itoa(x)
		}
		return strings.Join(s, ",")
	}
	p := map[string]string{}
	for _, prm := range info.Params {
		switch {
		case prm.Name == "groups":
			o := others()
			k := 1 + r.IntN(len(o)-1)
			p["groups"] = list(o[:k]) + "|" + list(o[k:])
		case prm.Name == "to":
			o := others()
			r.Shuffle(len(o), func(i, j int) { o[i], o[j] = o[j], o[i] })
			o = o[:1+r.IntN(len(o))]
			slices.Sort(o)
			p["to"] = list(o)
		case prm.Name == "split" && r.IntN(2) == 0:
			p["split"] = []string{"half", "alternate"}[r.IntN(2)]
		case prm.Name == "prob" && r.IntN(2) == 0:
			p["prob"] = fmt.Sprint([]float64{0.1, 0.5, 1}[r.IntN(3)])
		case len(prm.Allowed) > 0 && r.IntN(2) == 0:
			p[prm.Name] = prm.Allowed[r.IntN(len(prm.Allowed))]
		}
	}
	if name == "conflicting-votes" && p["mode"] != "split" {
		delete(p, "split")
	}
	if name == "selective-silent" && p["to"] == "" && p["types"] == "" {
		p["types"] = "COMMIT"
	}
	if len(p) == 0 {
		return nil
	}
	return p
}
