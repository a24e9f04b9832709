package properties

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/scenarios"
)

// envKnobNames are the swarm knobs of the world around the replicas (issue
// 20), drawn by drawEnvKnobs after the others.
var envKnobNames = []string{"clocks", "bandwidth", "ingress", "regions"}

// envDrifts are the clock drifts drawn (parts per million): real quartz,
// a bad oscillator, a VM under load, and far beyond anything real.
var envDrifts = []float64{100, 10000, 100000, 500000}

// envRates are the link rates drawn, fastest first.
var envRates = []string{"1Gbit", "100Mbit", "10Mbit", "1Mbit"}

// drawRate draws a link rate into *field when on, and returns the knob's
// value: a rate, or "off". A drawn rate too slow for the case's VIEW-CHANGE
// retransmissions (linkOverload: the queues could grow without bound, which
// leaves the fault model) is replaced by the slowest faster one that fits;
// when none fits the knob is off.
func drawRate(r *rand.Rand, on bool, sc *scenarios.Scenario, field *string) string {
	if !on {
		return "off"
	}
	for i := r.IntN(len(envRates)); i >= 0; i-- {
		*field = envRates[i]
		if cfg, err := sc.Config(); err == nil && linkOverload(cfg.WithDefaults()) == "" {
			return envRates[i]
		}
	}
	*field = ""
	return "off"
}

// drawEnvKnobs draws the environment knobs of one swarm case into sc:
// clocks (off, or every node's drift within ±P and an offset of up to a
// minute, plus, for "jumps", up to three forward or backward steps of up
// to 5s per node before GST or 2s), egress and ingress bandwidth (off or a
// rate the case's retransmissions fit, see drawRate), and regions (off, or the replicas placed over 2 to 5 of the
// built-in regions, with or without jitter). They draw from their own
// stream of seed, so switching them on or off changes no other knob; the
// scenario stays within the fault model (clocks, bandwidth and regions are
// not faults: the protocol must stay safe and, after GST, live).
func drawEnvKnobs(seed uint64, sc *scenarios.Scenario, knob func(string, any)) {
	r := rand.New(rand.NewPCG(seed, 0x454e5652)) // "ENVR"
	on := func(p float64) bool { return r.Float64() < p }
	nodes := sc.N + sc.Workload.Clients
	if sc.Workload.Clients == 0 {
		nodes = sc.N + 2 // the default
	}
	if on(0.4) {
		ppm := envDrifts[r.IntN(len(envDrifts))]
		jumps := on(0.4)
		horizon := sc.Network.GST
		if horizon == 0 {
			horizon = 2 * time.Second
		}
		for id := 0; id < nodes; id++ {
			c := scenarios.Clock{Node: id, DriftPPM: float64(int(ppm*(2*r.Float64()-1)*1000)) / 1000,
				Offset: time.Duration(r.Int64N(int64(2*time.Minute))) - time.Minute}
			if jumps && on(0.5) {
				at := time.Duration(0)
				for range 1 + r.IntN(3) {
					at += 1 + time.Duration(r.Int64N(int64(horizon/3)))
					by := (time.Duration(r.Int64N(int64(10*time.Second))) - 5*time.Second).Round(time.Millisecond)
					if by == 0 {
						by = time.Millisecond
					}
					c.Jumps = append(c.Jumps, scenarios.ClockJump{At: at, By: by})
				}
			}
			sc.Clocks = append(sc.Clocks, c)
		}
		v := fmt.Sprintf("drift:%gppm", ppm)
		if jumps {
			v += "+jumps"
		}
		knob("clocks", v)
	} else {
		knob("clocks", "off")
	}
	knob("bandwidth", drawRate(r, on(0.3), sc, &sc.Network.Bandwidth))
	knob("ingress", drawRate(r, on(0.15), sc, &sc.Network.IngressBandwidth))
	m, err := scenarios.BuiltinRTT()
	if err == nil && on(0.25) {
		k := 2 + r.IntN(min(4, len(m.Names)-1))
		perm := r.Perm(len(m.Names))[:k]
		names := make([]string, k)
		for i, j := range perm {
			names[i] = m.Names[j]
		}
		reg := &scenarios.Regions{Replicas: names}
		if on(0.5) {
			reg.Jitter = 5 * time.Millisecond
		}
		sc.Network.Regions = reg
		rescaleTimeouts(sc, m, names)
		knob("regions", strings.Join(names, "+")+fmt.Sprintf("/jitter:%v", reg.Jitter))
	} else {
		knob("regions", "off")
	}
}

// rescaleTimeouts keeps the case's timeouts at the round-trip multiples
// they were drawn at (the knobs vc_timeout and client_timeout are in round
// trips of the drawn delay) once regions replace the drawn delay: they are
// scaled by the mean round trip between the replicas' regions (plus two
// jitters) over the drawn delay's typical round trip, and never shortened.
func rescaleTimeouts(sc *scenarios.Scenario, m *scenarios.Matrix, names []string) {
	var typical time.Duration
	for _, d := range swarmDelays {
		if d.spec == sc.Network.Delay {
			typical = d.typical
		}
	}
	if typical <= 0 {
		return
	}
	idx := map[string]int{}
	for i, n := range m.Names {
		idx[n] = i
	}
	var sum time.Duration
	for _, a := range names {
		for _, b := range names {
			sum += m.RTT[idx[a]][idx[b]]
		}
	}
	rtt := sum/time.Duration(len(names)*len(names)) + 2*sc.Network.Regions.Jitter
	x := max(float64(rtt)/float64(2*typical), 1)
	sc.Protocol.ViewChangeTimeout = time.Duration(float64(sc.Protocol.ViewChangeTimeout) * x).Round(time.Millisecond)
	sc.Protocol.ClientTimeout = time.Duration(float64(sc.Protocol.ClientTimeout) * x).Round(time.Millisecond)
}
