package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/experiment"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/spf13/cobra"
)

// runScenario builds the run's scenario: the named or given scenario, then
// the flags that were set. Flags edit the scenario (not the derived
// configuration) so that a replay file of the run reproduces it.
func runScenario(cmd *cobra.Command, fl *runFlags) (*scenarios.Scenario, error) {
	sc, err := scenarios.Load(fl.scenario)
	if err != nil {
		return nil, usage(err)
	}
	changed := cmd.Flags().Changed
	switch {
	case changed("seed"):
		sc.Seed = fl.seed
	case sc.Seed == 0:
		sc.Seed = 1
	}
	if changed("nodes") {
		if len(fl.nodes.ns) != 1 {
			return nil, usage(fmt.Errorf("--nodes %s: run takes one n", fl.nodes.String()))
		}
		sc.N, sc.F = fl.nodes.ns[0], 0
	}
	var bad error
	setInt := func(name string, dst *int, v int) {
		if !changed(name) {
			return
		}
		if v < 1 && bad == nil {
			bad = usage(fmt.Errorf("--%s %d is out of range: want >= 1 (omit the flag for the scenario's value)", name, v))
		}
		*dst = v
	}
	setInt("requests", &sc.Workload.Requests, fl.requests)
	if changed("requests") && !changed("payments") {
		sc.Workload.Payments = 0 // follows the requests
	}
	if changed("payments") {
		if fl.payments < 1 {
			return nil, usage(fmt.Errorf("--payments: %d is out of range: want at least 1 payment id", fl.payments))
		}
		sc.Workload.Payments = fl.payments
	}
	setInt("clients", &sc.Workload.Clients, fl.clients)
	setInt("batch", &sc.Protocol.Batch, fl.batch)
	if changed("checkpoint-interval") {
		setInt("checkpoint-interval", &sc.Protocol.CheckpointInterval, fl.checkpointInterval)
		sc.Protocol.Window = 0
	}
	if bad != nil {
		return nil, bad
	}
	if changed("protocol") {
		if err := setProtocol(sc, fl.protocol); err != nil {
			return nil, err
		}
	}
	if changed("variant") {
		sc.Protocol.Variant = fl.variant
	}
	nw := &sc.Network
	if changed("delay") {
		if _, err := sim.ParseDelay(fl.delay); err != nil {
			return nil, usage(fmt.Errorf("--delay: %w", err))
		}
		nw.Delay = fl.delay
	}
	if changed("drop") {
		nw.Drop = fl.drop
	}
	if changed("duplicate") {
		nw.Duplicate = fl.duplicate
	}
	if changed("gst") {
		nw.GST = fl.gst
		if nw.Delta == 0 && !changed("delta") {
			nw.Delta = 10 * time.Millisecond
		}
	}
	if changed("delta") {
		nw.Delta = fl.delta
	}
	for _, p := range fl.partitions {
		part, err := sim.ParsePartition(p)
		if err != nil {
			return nil, usage(fmt.Errorf("--partition %q: %w", p, err))
		}
		sp := scenarios.Partition{From: part.From.Duration(), To: part.To.Duration()}
		for _, g := range part.Groups {
			ids := make([]int, len(g))
			for i, id := range g {
				ids[i] = int(id)
			}
			sp.Groups = append(sp.Groups, ids)
		}
		nw.Partitions = append(nw.Partitions, sp)
	}
	for _, c := range fl.crashes {
		cr, err := sim.ParseCrash(c)
		if err != nil {
			return nil, usage(fmt.Errorf("--crash %q: %w", c, err))
		}
		sc.Crashes = append(sc.Crashes, scenarios.Crash{Node: int(cr.Node), At: cr.At.Duration(), Recover: cr.Recover.Duration(), Kind: crashKindName(cr.Kind)})
	}
	if changed("crash-primary-at") {
		if fl.crashPrimaryAt < 0 {
			return nil, usage(fmt.Errorf("--crash-primary-at: %v is out of range: want a duration >= 0", fl.crashPrimaryAt))
		}
		sc.Crashes = append(sc.Crashes, scenarios.Crash{Node: 0, At: fl.crashPrimaryAt})
	}
	if err := applyEnvFlags(changed, sc, &fl.env); err != nil {
		return nil, err
	}
	if changed("max-time") {
		if fl.maxTime <= 0 {
			return nil, usage(fmt.Errorf("--max-time %v is out of range: want a virtual time > 0", fl.maxTime))
		}
		sc.Run.MaxTime = fl.maxTime
	}
	if changed("max-events") {
		sc.Run.MaxEvents = fl.maxEvents
	}
	if err := sc.Validate(); err != nil {
		return nil, usage(err)
	}
	if changed("requests") && !changed("max-time") {
		if err := experiment.UntilDone(sc); err != nil {
			return nil, cliError(err)
		}
	}
	return sc, nil
}

// setProtocol sets the scenario's protocol from a --protocol flag.
func setProtocol(sc *scenarios.Scenario, name string) error {
	return cliError(experiment.SetProtocol(sc, name))
}

// fileSafe makes a scenario name usable in a file name.
func fileSafe(name string) string {
	if name == "" {
		return "scenario"
	}
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == ' ' {
			return '_'
		}
		return r
	}, name)
}

// crashKindName is the scenario spelling of k ("" for the default, keep).
func crashKindName(k sim.CrashKind) string {
	if k == sim.CrashKeep {
		return ""
	}
	return k.String()
}
