package properties

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/byzantine"
)

// Knob is one drawn swarm knob: a fault family or protocol setting and the
// strength drawn for it ("off" when the family is switched off).
type Knob struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Knobs are the knobs drawn for one swarm case, in a fixed order.
type Knobs []Knob

// String formats the knobs as "name=value name=value ...".
func (k Knobs) String() string {
	s := make([]string, len(k))
	for i, x := range k {
		s[i] = x.Name + "=" + x.Value
	}
	return strings.Join(s, " ")
}

// Map returns the knobs as a map (for JSON records; encoding/json sorts
// the keys).
func (k Knobs) Map() map[string]string {
	m := make(map[string]string, len(k))
	for _, x := range k {
		m[x.Name] = x.Value
	}
	return m
}

// KnobsPrefix starts the description of a swarm scenario; the knobs follow.
const KnobsPrefix = "swarm knobs: "

// ParseKnobs reads the knobs back from a swarm scenario's description (nil
// when it has none).
func ParseKnobs(description string) Knobs {
	i := strings.Index(description, KnobsPrefix)
	if i < 0 {
		return nil
	}
	rest := description[i+len(KnobsPrefix):]
	var out Knobs
	for _, f := range strings.Fields(rest) {
		if n, v, ok := strings.Cut(f, "="); ok {
			out = append(out, Knob{n, v})
		}
	}
	return out
}

// KnobNames lists every knob a swarm case draws, in order.
var KnobNames = []string{"n", "f", "vc_timeout", "client_timeout", "checkpoint", "window", "batch", "workload", "think", "delay",
	"calm", "drop", "duplicate", "gst", "partition", "oneway", "clog", "crashes", "primary_crash", "recover_in_vc",
	"crash_kinds", "targeted", "leader_delay", "byzantine", "strategies", "roles", "clocks", "bandwidth", "ingress", "regions"} // the last four: envKnobNames

// swarmDelay is a delay distribution with its typical (mean-ish) delay.
type swarmDelay struct {
	spec    string
	typical time.Duration
}

var swarmDelays = []swarmDelay{
	{"const:1ms", time.Millisecond},
	{"uniform:1ms:5ms", 3 * time.Millisecond},
	{"uniform:1ms:20ms", 10 * time.Millisecond},
	{"exp:3ms:1ms", 4 * time.Millisecond},
	{"lognormal:20ms:1:1ms", 30 * time.Millisecond},
	{"pareto:5ms:1.5:1ms", 15 * time.Millisecond},
	{"uniform:10ms:100ms", 55 * time.Millisecond},
	{"uniform:100ms:1s", 550 * time.Millisecond},
	{"uniform:500ms:3s", 1750 * time.Millisecond},
}

// timeoutFactors are the timeouts drawn, in round trips of the typical
// delay ("0.5rtt" is below one round trip).
var timeoutFactors = []struct {
	name string
	x    float64
}{{"0.5rtt", 0.5}, {"1rtt", 1}, {"2rtt", 2}, {"5rtt", 5}, {"20rtt", 20}, {"100rtt", 100}}

// GenerateSwarm draws one swarm scenario (TigerBeetle's VOPR, FoundationDB's
// BUGGIFY): each fault family is switched on or off and, when on, its
// strength is drawn; the knobs drawn are returned and recorded in the
// scenario's description (so in its replay file). The scenario stays
// within the fault model (at most f faulty replicas; losses, partitions
// and targeted rules end by GST), so the correct protocol must pass it.
// g's Variant, Strategies, MaxN, OnlyOptimalN and MaxRequests apply.
func GenerateSwarm(r *rand.Rand, seed uint64, g GenConfig) (scenarios.Scenario, Knobs) {
	g = g.withDefaults()
	var k Knobs
	knob := func(name string, v any) { k = append(k, Knob{name, fmt.Sprint(v)}) }
	on := func(p float64) bool { return r.Float64() < p }

	n := 4
	switch x := r.IntN(100); {
	case x < 50:
	case x < 80:
		n = 5 + r.IntN(3)
	default:
		n = 4 + r.IntN(10)
	}
	n = min(n, g.MaxN)
	if g.OnlyOptimalN {
		n = 3*((n-1)/3) + 1
	}
	fmax := (n - 1) / 3
	f := fmax
	if fmax > 1 && on(0.25) {
		f = 1 + r.IntN(fmax) // n > 3f+1 with a smaller f
	}
	knob("n", n)
	knob("f", f)
	sc := scenarios.Scenario{Name: "swarm", Seed: seed, N: n}
	if f != fmax {
		sc.F = f
	}
	sc.Protocol.Variant = g.Variant

	// Network delay first: timeouts are drawn relative to it.
	d := swarmDelays[r.IntN(len(swarmDelays))]
	if on(0.4) {
		d = swarmDelays[r.IntN(3)] // the fast ones, most of the time
	}
	sc.Network.Delay = d.spec
	knob("delay", d.spec)
	rtt := 2 * d.typical
	timeout := func(name string) time.Duration {
		tf := timeoutFactors[r.IntN(len(timeoutFactors))]
		for tf.x < g.MinTimeoutRTT {
			tf = timeoutFactors[r.IntN(len(timeoutFactors))]
		}
		knob(name, tf.name)
		return max(time.Millisecond, min(time.Duration(tf.x*float64(rtt)), 20*time.Second).Round(time.Millisecond))
	}
	sc.Protocol.ViewChangeTimeout = timeout("vc_timeout")
	sc.Protocol.ClientTimeout = timeout("client_timeout")
	ck := []int{1, 2, 4, 16}[r.IntN(4)]
	sc.Protocol.CheckpointInterval = ck
	knob("checkpoint", ck)
	wm := []int{1, 2, 4}[r.IntN(3)]
	sc.Protocol.Window = wm * ck
	knob("window", fmt.Sprintf("%dK", wm))
	b := []int{1, 1, 2, 4}[r.IntN(4)]
	sc.Protocol.Batch = b
	knob("batch", b)

	clients := g.MinClients + r.IntN(3)
	sc.Workload = scenarios.Workload{Clients: clients, Requests: max(clients, 1+r.IntN(g.MaxRequests))}
	workload := "short"
	if on(0.15) {
		// A long workload: requests keep executing for a while (what a
		// censored client's timer must not be fooled by).
		sc.Workload.Requests = 30 + r.IntN(120)
		workload = "long"
	}
	think := "off"
	if on(0.3) {
		sc.Workload.Interval = []time.Duration{time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond}[r.IntN(3)]
		think = fmt.Sprint(sc.Workload.Interval)
	}
	// A steady workload (its own stream, swarm_load.go) replaces them: the
	// most requests it may issue now, fewer once the run length is known.
	steady := drawSteady(seed, n, sc.Protocol.ViewChangeTimeout, rtt)
	if steady != nil {
		workload, think = steady.knob(), steady.name
		clients = steady.clients
		sc.Workload = scenarios.Workload{Clients: clients, Requests: steady.total}
	}
	knob("workload", workload)
	knob("think", think)

	// Losses and duplicates; a GST whenever anything is lossy or slow.
	// A calm network (its own stream, swarm_load.go) switches every
	// network fault family off at once: a combination the independent
	// switches below draw rarely (about one case in nine).
	calm := drawCalm(seed)
	if calm {
		knob("calm", "on")
	} else {
		knob("calm", "off")
	}
	lossy := false
	if on(0.35) && !calm {
		sc.Network.Drop = []float64{0.02, 0.05, 0.1, 0.3}[r.IntN(4)]
		lossy = true
		knob("drop", sc.Network.Drop)
	} else {
		knob("drop", "off")
	}
	if on(0.25) && !calm {
		sc.Network.Duplicate = []float64{0.05, 0.1, 0.3}[r.IntN(3)]
		knob("duplicate", sc.Network.Duplicate)
	} else {
		knob("duplicate", "off")
	}
	partition, oneway, clog, targeted, leader := on(0.2), on(0.2), on(0.2), on(0.3), on(0.2)
	if calm {
		partition, oneway, clog, targeted, leader = false, false, false, false, false
	}
	slow := d.typical >= 50*time.Millisecond
	var gst time.Duration
	if lossy || slow || partition || oneway || clog || targeted || leader || on(0.2) {
		gst = time.Duration(200+200*r.IntN(10)) * time.Millisecond
		if slow {
			gst += 10 * d.typical
		}
		sc.Network.GST = gst
		sc.Network.Delta = []time.Duration{5, 10, 30, 100}[r.IntN(4)] * time.Millisecond
		knob("gst", gst)
	} else {
		knob("gst", "off")
	}
	window := func() (time.Duration, time.Duration) {
		from := time.Duration(r.Int64N(int64(gst/2) + 1))
		to := from + 1 + time.Duration(r.Int64N(int64(gst-from)))
		return from, min(to, gst)
	}
	subset := func(lo int) []int {
		o := r.Perm(n)[:lo+r.IntN(n-lo)]
		slices.Sort(o)
		return o
	}
	if partition {
		var a, bb []int
		for i := 0; i < n; i++ {
			if r.IntN(2) == 0 {
				a = append(a, i)
			} else {
				bb = append(bb, i)
			}
		}
		if len(a) > 0 && len(bb) > 0 {
			from, to := window()
			sc.Network.Partitions = []scenarios.Partition{{Groups: [][]int{a, bb}, From: from, To: to}}
		}
		knob("partition", len(sc.Network.Partitions))
	} else {
		knob("partition", "off")
	}
	if oneway {
		// Asymmetric cuts: messages from A to B are lost, B to A flow.
		c := 1 + r.IntN(2)
		for i := 0; i < c; i++ {
			from, to := window()
			src := subset(1)
			var dst []int
			for j := 0; j < n; j++ {
				if !slices.Contains(src, j) && r.IntN(2) == 0 {
					dst = append(dst, j)
				}
			}
			if len(dst) == 0 {
				continue
			}
			sc.Adversary = append(sc.Adversary, scenarios.NetRule{From: src, To: dst, Drop: 1, Start: from, End: to})
		}
		knob("oneway", c)
	} else {
		knob("oneway", "off")
	}
	if clog {
		// A clogged link: long extra delay on one direction for a window.
		delay := []time.Duration{50 * time.Millisecond, 300 * time.Millisecond, time.Second, 3 * time.Second}[r.IntN(4)]
		from, to := window()
		a := r.IntN(n)
		bb := (a + 1 + r.IntN(n-1)) % n
		sc.Adversary = append(sc.Adversary, scenarios.NetRule{From: []int{a}, To: []int{bb}, Delay: delay, Start: from, End: to})
		knob("clog", delay)
	} else {
		knob("clog", "off")
	}
	if targeted {
		// Drops or delays of one phase's messages, by view and sequence number.
		types := []string{"PRE-PREPARE", "PREPARE", "COMMIT", "CHECKPOINT", "VIEW-CHANGE", "NEW-VIEW", "REPLY", "REQUEST"}
		c := 1 + r.IntN(3)
		var names []string
		for i := 0; i < c; i++ {
			t := types[r.IntN(len(types))]
			names = append(names, t)
			rule := scenarios.NetRule{Types: []string{t}}
			if on(0.6) {
				rule.Drop = []float64{0.5, 1}[r.IntN(2)]
			} else {
				rule.Delay = []time.Duration{5 * time.Millisecond, 50 * time.Millisecond, 500 * time.Millisecond}[r.IntN(3)]
			}
			if on(0.5) {
				if on(0.5) {
					rule.To = subset(1)
				} else {
					rule.From = subset(1)
				}
			}
			if on(0.5) {
				q := uint64(1 + r.IntN(3))
				rule.Seq = &q
			}
			if on(0.3) {
				v := uint64(r.IntN(3))
				rule.View = &v
			}
			sc.Adversary = append(sc.Adversary, rule)
		}
		slices.Sort(names)
		knob("targeted", strings.Join(slices.Compact(names), ","))
	} else {
		knob("targeted", "off")
	}
	if leader {
		// Delay the leader's PRE-PREPAREs (of view 0 or 1) by about a timeout.
		v := uint64(r.IntN(2))
		p := int(v) % n
		delay := max(time.Millisecond, sc.Protocol.ViewChangeTimeout*time.Duration(1+r.IntN(2))/2)
		sc.Adversary = append(sc.Adversary, scenarios.NetRule{Types: []string{"PRE-PREPARE"}, From: []int{p}, View: &v, Delay: delay})
		knob("leader_delay", fmt.Sprintf("v%d", v))
	} else {
		knob("leader_delay", "off")
	}

	// Faulty replicas: crashes (several, the primary, recoveries during a
	// view change) and Byzantine strategy sets, at most f in all.
	faults := r.IntN(f + 1)
	if on(0.4) {
		faults = f
	}
	if g.ReplicaFaults > 0 {
		faults = min(g.ReplicaFaults, f)
	}
	ids := r.Perm(n)
	primaryCrash := faults > 0 && on(0.3)
	if primaryCrash || on(g.PrimaryBias) {
		i := slices.Index(ids, 0)
		ids[0], ids[i] = ids[i], ids[0]
	}
	crashes := 0
	if faults > 0 && on(0.4) {
		crashes = 1 + r.IntN(faults)
	}
	if primaryCrash && crashes == 0 {
		crashes = 1
	}
	recoverInVC := false
	vc := sc.Protocol.ViewChangeTimeout
	for c := 0; c < crashes; c++ {
		id := ids[c]
		times := 1 + r.IntN(3) // crashed and recovered up to 3 times
		at := time.Duration(r.IntN(300)) * time.Millisecond
		for t := 0; t < times; t++ {
			cr := scenarios.Crash{Node: id, At: at}
			if t < times-1 || on(0.6) {
				if on(0.4) {
					// Back while the others change view: about one
					// view-change timeout after the crash.
					cr.Recover = at + vc + time.Duration(r.Int64N(int64(vc)+1))
					recoverInVC = true
				} else {
					cr.Recover = at + time.Duration(1+r.IntN(1500))*time.Millisecond
				}
				at = cr.Recover + time.Duration(1+r.IntN(500))*time.Millisecond
			}
			sc.Crashes = append(sc.Crashes, cr)
			if cr.Recover == 0 {
				break
			}
		}
	}
	knob("crashes", crashes)
	knob("primary_crash", primaryCrash && crashes > 0 && ids[0] == 0)
	knob("recover_in_vc", recoverInVC)
	knob("crash_kinds", drawCrashKinds(&sc, seed)) // see swarm_storage.go
	var used []string
	roles := drawRoles(seed)
	placed := 0
	for c := crashes; c < faults; c++ {
		id := ids[c]
		name := g.Strategies[r.IntN(len(g.Strategies))]
		if roles {
			// A strategy that acts in a role (the primary's) goes to the
			// replica that has it, unless that one is faulty already.
			if info, ok := byzantine.Lookup(name); ok {
				if want, ok := byzantine.RoleReplica(info.Role, n); ok && int(want) != id {
					if j := slices.Index(ids, int(want)); j > c {
						ids[c], ids[j] = ids[j], ids[c]
						id = ids[c]
						placed++
					}
				}
			}
		}
		params := drawParams(r, name, id, n, clients)
		if on(0.3) {
			// A strategy set: two strategies composed.
			other := g.Strategies[r.IntN(len(g.Strategies))]
			if other != name && other != "twins" {
				p2 := drawParams(r, other, id, n, clients)
				merged := map[string]string{}
				for key, v := range params {
					merged[name+"."+key] = v
				}
				for key, v := range p2 {
					merged[other+"."+key] = v
				}
				if len(merged) == 0 {
					merged = nil
				}
				if byzantine.Check(name+byzantine.ComposeSep+other, merged, sim.NodeID(id), n) == nil {
					name, params = name+byzantine.ComposeSep+other, merged
				}
			}
		}
		sc.Byzantine = append(sc.Byzantine, scenarios.Byzantine{Replica: id, Strategy: name, Params: params})
		used = append(used, name)
	}
	knob("byzantine", faults-crashes)
	if len(used) == 0 {
		knob("strategies", "off")
	} else {
		slices.Sort(used)
		knob("strategies", strings.Join(used, ","))
	}
	if roles {
		knob("roles", fmt.Sprintf("placed:%d", placed))
	} else {
		knob("roles", "off")
	}
	slices.SortFunc(sc.Byzantine, func(a, b scenarios.Byzantine) int { return a.Replica - b.Replica })
	slices.SortStableFunc(sc.Crashes, func(a, b scenarios.Crash) int { return a.Node - b.Node })

	drawEnvKnobs(seed, &sc, knob) // clocks, bandwidth, regions (swarm_env.go)

	// Long enough to judge liveness once after GST (a request late past
	// the bound is a violation), short enough to keep cases cheap.
	sc.Run.MaxTime = gst + 3*time.Second
	if cfg, err := sc.Config(); err == nil {
		sc.Run.MaxTime = gst + min(DefaultLivenessBound(cfg)+time.Second+time.Duration(r.IntN(3))*time.Second, 120*time.Second)
	}
	if steady != nil {
		steady.apply(&sc, rtt)
	}
	// Reorder the knobs as KnobNames.
	slices.SortStableFunc(k, func(a, b Knob) int { return slices.Index(KnobNames, a.Name) - slices.Index(KnobNames, b.Name) })
	sc.Description = KnobsPrefix + k.String()
	return sc, k
}

// SwarmVersion names the swarm generator: sweep files record it, so that
// merging parts of sweeps made with different generators fails.
const SwarmVersion = "pbftsim-swarm/5" // 3: crash kinds; 4: clock, bandwidth and region knobs; 5: steady workloads

// SwarmCase is the swarm case of a sweep seed: the same seed always gives
// the same scenario (with its knobs in the description).
func SwarmCase(seed uint64) scenarios.Scenario {
	r := rand.New(rand.NewPCG(seed, 0x5357524d)) // "SWRM"
	sc, _ := GenerateSwarm(r, seed, SearchConfig())
	return sc
}
