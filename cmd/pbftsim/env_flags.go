package main

import (
	"fmt"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/spf13/pflag"
)

// envFlags are run's flags for the world around the replicas: bandwidth,
// regions and clocks (issue 20). They edit the scenario.
type envFlags struct {
	bandwidth string
}

// addEnvFlags registers the environment flags on f.
func addEnvFlags(f *pflag.FlagSet, fl *envFlags) {
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
	return nil
}
