package main

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
	"github.com/spf13/pflag"
)

// envFlags are run's flags for the world around the replicas: bandwidth,
// regions and clocks (issue 20). They edit the scenario.
type envFlags struct {
	bandwidth string
	ingress   string
	regions   string
	matrix    string
	jitter    time.Duration
	drift     float64
	skew      time.Duration
	jumps     []string
}

// addEnvFlags registers the environment flags on f.
func addEnvFlags(f *pflag.FlagSet, fl *envFlags) {
	f.StringVar(&fl.regions, "regions", "", "place replica i in region `LIST`[i mod len] (comma-separated, e.g. eastus,northeurope,japaneast; clients in the first) with the built-in inter-region RTTs (Azure's published P95 figures, scenarios/regions/rtt.csv): link delay = RTT/2 (+ --jitter)")
	f.StringVar(&fl.matrix, "region-matrix", "", "with --regions (or a scenario's network.regions): read the inter-region round-trip times from this CSV `FILE` instead of the built-in ones (the format of scenarios/regions/rtt.csv: a header \"region,NAME,...\", then one row per region in that order with one RTT in ms per region)")
	f.DurationVar(&fl.jitter, "jitter", 0, "with --regions: mean of the exponential extra one-way delay (default: the scenario's; 0)")
	f.Float64Var(&fl.drift, "clock-drift", 0, "clock drift in `PPM`: replicas and clients alternate +PPM (even ids) and -PPM (odd ids), so timers fire early or late by local time; |PPM| <= 500000 (replaces the scenario's clocks)")
	f.DurationVar(&fl.skew, "clock-skew", 0, "clock skew `D`: replicas and clients alternate offsets +D/2 (even ids) and -D/2 (odd ids), so two clocks differ by up to D; no node reads an absolute clock, so it shows only in the trace's local times (combines with --clock-drift; |D/2| <= 24h)")
	f.StringArrayVar(&fl.jumps, "clock-jump", nil, "step node NODE's clock by BY at simulated time T: `NODE@T:BY`, e.g. 2@1s:+500ms or 0@3s:-2s (repeatable; pending timers whose deadline a forward jump skips fire at once, a backward jump delays them)")
	f.StringVar(&fl.ingress, "ingress-bandwidth", "", "every node's ingress `RATE` (same syntax as --bandwidth): a message that reaches its receiver occupies the receiver's link for size/rate, queued in arrival order (default: the scenario's; unlimited)")
	f.StringVar(&fl.bandwidth, "bandwidth", "", "every node's egress `RATE` (e.g. 100Mbit, 1Gbit/s, 500Kbit): a message occupies its sender's link for size/rate, queued FIFO per sender (default: the scenario's; unlimited)")
}

// applyEnvFlags copies the environment flags that were set into sc.
func applyEnvFlags(changed func(string) bool, sc *scenarios.Scenario, fl *envFlags) error {
	if changed("bandwidth") {
		if _, err := sim.ParseBandwidth(fl.bandwidth); err != nil {
			return usage(fmt.Errorf("--bandwidth: %w", err))
		}
		sc.Network.Bandwidth = fl.bandwidth
	}
	if changed("ingress-bandwidth") {
		if _, err := sim.ParseBandwidth(fl.ingress); err != nil {
			return usage(fmt.Errorf("--ingress-bandwidth: %w", err))
		}
		sc.Network.IngressBandwidth = fl.ingress
	}
	if changed("regions") {
		names := strings.Split(fl.regions, ",")
		r := &scenarios.Regions{Replicas: names}
		if old := sc.Network.Regions; old != nil {
			r.Jitter, r.Matrix = old.Jitter, old.Matrix
		}
		sc.Network.Regions = r
	}
	if changed("clock-drift") || changed("clock-skew") || changed("clock-jump") {
		if err := applyClockFlags(changed, sc, fl); err != nil {
			return err
		}
	}
	if changed("region-matrix") {
		if sc.Network.Regions == nil {
			return usage(fmt.Errorf("--region-matrix: needs --regions (or a scenario with network.regions)"))
		}
		m, err := scenarios.LoadMatrixFile(fl.matrix)
		if err != nil {
			return usage(fmt.Errorf("--region-matrix: %w", err))
		}
		sc.Network.Regions.Matrix = m
	}
	if changed("jitter") {
		if sc.Network.Regions == nil {
			return usage(fmt.Errorf("--jitter: needs --regions (or a scenario with network.regions)"))
		}
		sc.Network.Regions.Jitter = fl.jitter
	}
	return nil
}

// applyClockFlags edits sc's clocks: --clock-drift and --clock-skew set
// every node's drift and offset (alternating signs by id), --clock-jump adds
// jumps; what a flag does not set keeps the scenario's value.
func applyClockFlags(changed func(string) bool, sc *scenarios.Scenario, fl *envFlags) error {
	n, clients := sc.N, sc.Workload.Clients
	if n == 0 {
		n = cluster.DefaultN
	}
	if clients == 0 {
		clients = cluster.DefaultClients
	}
	nodes := n + clients
	byNode := make([]*scenarios.Clock, nodes)
	for i := range sc.Clocks {
		if c := &sc.Clocks[i]; c.Node >= 0 && c.Node < nodes && byNode[c.Node] == nil {
			byNode[c.Node] = c
		}
	}
	clocks := make([]scenarios.Clock, nodes)
	for id := range clocks {
		if byNode[id] != nil {
			clocks[id] = *byNode[id]
		}
		clocks[id].Node = id
		sign := 1.0
		if id%2 == 1 {
			sign = -1
		}
		if changed("clock-drift") {
			clocks[id].DriftPPM = sign * fl.drift
		}
		if changed("clock-skew") {
			clocks[id].Offset = time.Duration(sign) * (fl.skew / 2)
		}
	}
	for _, spec := range fl.jumps {
		node, j, err := parseClockJump(spec, nodes)
		if err != nil {
			return usage(fmt.Errorf("--clock-jump %q: %w", spec, err))
		}
		c := &clocks[node]
		c.Jumps = append(c.Jumps, j)
		slices.SortStableFunc(c.Jumps, func(a, b scenarios.ClockJump) int { return cmp.Compare(a.At, b.At) })
	}
	sc.Clocks = sc.Clocks[:0]
	for _, c := range clocks {
		if c.DriftPPM != 0 || c.Offset != 0 || len(c.Jumps) > 0 {
			sc.Clocks = append(sc.Clocks, c)
		}
	}
	return nil
}

// parseClockJump parses NODE@T:BY (BY may carry a sign).
func parseClockJump(s string, nodes int) (int, scenarios.ClockJump, error) {
	const want = "want NODE@T:BY with NODE a node id, T a time >= 0 and BY a non-zero step, e.g. 2@1s:+500ms or 0@3s:-2s"
	node, rest, ok := strings.Cut(s, "@")
	at, by, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		return 0, scenarios.ClockJump{}, errors.New(want)
	}
	id, err := strconv.Atoi(node)
	if err != nil || id < 0 || id >= nodes {
		return 0, scenarios.ClockJump{}, fmt.Errorf("node %q: want a node id in [0, %d)", node, nodes)
	}
	t, err := time.ParseDuration(at)
	if err != nil || t < 0 {
		return 0, scenarios.ClockJump{}, fmt.Errorf("time %q: %s", at, want)
	}
	d, err := time.ParseDuration(strings.TrimPrefix(by, "+"))
	if err != nil || d == 0 {
		return 0, scenarios.ClockJump{}, fmt.Errorf("step %q: %s", by, want)
	}
	return id, scenarios.ClockJump{At: t, By: d}, nil
}
