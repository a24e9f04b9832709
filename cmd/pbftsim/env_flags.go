package main

import (
	"fmt"
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
	regions   string
	jitter    time.Duration
	drift     float64
}

// addEnvFlags registers the environment flags on f.
func addEnvFlags(f *pflag.FlagSet, fl *envFlags) {
	f.StringVar(&fl.regions, "regions", "", "place replica i in region `LIST`[i mod len] (comma-separated, e.g. eastus,northeurope,japaneast; clients in the first) with the built-in inter-region RTTs (Azure's published P95 figures, scenarios/regions/rtt.csv): link delay = RTT/2 (+ --jitter)")
	f.DurationVar(&fl.jitter, "jitter", 0, "with --regions: mean of the exponential extra one-way delay (default: the scenario's; 0)")
	f.Float64Var(&fl.drift, "clock-drift", 0, "clock drift in `PPM`: replicas and clients alternate +PPM (even ids) and -PPM (odd ids), so timers fire early or late by local time; |PPM| <= 500000 (replaces the scenario's clocks)")
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
	if changed("regions") {
		names := strings.Split(fl.regions, ",")
		r := &scenarios.Regions{Replicas: names}
		if old := sc.Network.Regions; old != nil {
			r.Jitter, r.Matrix = old.Jitter, old.Matrix
		}
		sc.Network.Regions = r
	}
	if changed("clock-drift") {
		n, clients := sc.N, sc.Workload.Clients
		if n == 0 {
			n = cluster.DefaultN
		}
		if clients == 0 {
			clients = cluster.DefaultClients
		}
		sc.Clocks = nil
		for id := 0; id < n+clients; id++ {
			d := fl.drift
			if id%2 == 1 {
				d = -d
			}
			sc.Clocks = append(sc.Clocks, scenarios.Clock{Node: id, DriftPPM: d})
		}
	}
	if changed("jitter") {
		if sc.Network.Regions == nil {
			return usage(fmt.Errorf("--jitter: needs --regions (or a scenario with network.regions)"))
		}
		sc.Network.Regions.Jitter = fl.jitter
	}
	return nil
}
