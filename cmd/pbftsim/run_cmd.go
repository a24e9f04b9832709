package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// runFlags are the flags of `pbftsim run`. Their names are a stable interface.
type runFlags struct {
	scenario, trace, variant  string
	seed                      uint64
	asJSON                    bool
	nodes, requests, clients  int
	batch, checkpointInterval int
	delay                     string
	drop, duplicate           float64
	gst, delta, maxTime       time.Duration
	crashPrimaryAt            time.Duration
	partitions, crashes       []string
}

func newRunCmd() *cobra.Command {
	var fl runFlags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run one simulation and print its summary",
		Long: `Run one PBFT simulation and print a summary that always ends with the seed
and the trace hash. With no flags it runs the built-in "fault-free" scenario:
n=4 replicas, two clients and a handful of payments on a network that delivers
every message. Flags override the scenario's settings.

Delay specs: const:2ms | uniform:1ms:20ms | exp:MEAN[:MIN] |
lognormal:MEDIAN:SIGMA[:MIN] | pareto:SCALE:ALPHA[:MIN].
Partition spec: GROUP|GROUP@FROM[-TO], e.g. 0,1|2,3@100ms-2s.
Crash spec: NODE@TIME[:RECOVER], e.g. 0@1s:3s.

JSON keys (--json): seed, n, f, trace_hash, events, sim_time_ns, messages.total,
messages.by_type, messages.dropped, requests.submitted, requests.committed,
payments, latency_ns.p50, latency_ns.p99, views.final, views.changes,
scenario, faulty, within_fault_model.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRun(cmd, &fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.scenario, "scenario", "fault-free", "built-in scenario name or scenario file")
	f.Uint64Var(&fl.seed, "seed", 1, "run seed (overrides the scenario's)")
	f.BoolVar(&fl.asJSON, "json", false, "print one JSON object instead of the human summary")
	f.StringVar(&fl.trace, "trace", "", "write the trace as JSON Lines to `FILE`")
	f.IntVar(&fl.nodes, "nodes", 0, "number of replicas n (>= 4)")
	f.IntVar(&fl.requests, "requests", 0, "payment operations issued in total")
	f.IntVar(&fl.clients, "clients", 0, "number of clients")
	f.IntVar(&fl.batch, "batch", 0, "requests per PRE-PREPARE")
	f.IntVar(&fl.checkpointInterval, "checkpoint-interval", 0, "checkpoint every K sequence numbers")
	f.StringVar(&fl.variant, "variant", "", "a deliberately BROKEN protocol variant (see `pbftsim hunt --list`)")
	f.StringVar(&fl.delay, "delay", "", "default link delay `SPEC`")
	f.Float64Var(&fl.drop, "drop", 0, "probability that a network message is lost, in [0,1]")
	f.Float64Var(&fl.duplicate, "duplicate", 0, "probability that a network message is delivered twice, in [0,1]")
	f.DurationVar(&fl.gst, "gst", 0, "global stabilisation time: after it, no loss and delays <= --delta between correct nodes")
	f.DurationVar(&fl.delta, "delta", 0, "delay bound after GST (default 10ms when --gst is set)")
	f.StringArrayVar(&fl.partitions, "partition", nil, "partition `SPEC` (repeatable)")
	f.StringArrayVar(&fl.crashes, "crash", nil, "crash `NODE@TIME[:RECOVER]` (repeatable)")
	f.DurationVar(&fl.crashPrimaryAt, "crash-primary-at", 0, "crash the initial primary (replica 0) at this virtual time")
	f.DurationVar(&fl.maxTime, "max-time", 0, "stop the run at this virtual time")
	return cmd
}

// runConfig builds the run's configuration: the scenario, then the flags
// that were set.
func runConfig(cmd *cobra.Command, fl *runFlags) (cluster.Config, string, error) {
	sc, err := scenarios.Load(fl.scenario)
	if err != nil {
		return cluster.Config{}, "", usage(err)
	}
	cfg, err := sc.Config()
	if err != nil {
		return cluster.Config{}, "", usage(err)
	}
	changed := cmd.Flags().Changed
	if changed("seed") || cfg.Seed == 0 {
		cfg.Seed = fl.seed
	}
	if changed("nodes") {
		cfg.N, cfg.F = fl.nodes, 0
	}
	setInt := func(name string, dst *int, v int) {
		if changed(name) {
			*dst = v
		}
	}
	setInt("requests", &cfg.Requests, fl.requests)
	setInt("clients", &cfg.Clients, fl.clients)
	setInt("batch", &cfg.Batch, fl.batch)
	if changed("checkpoint-interval") {
		cfg.CheckpointInterval, cfg.Window = fl.checkpointInterval, 0
	}
	if changed("variant") {
		cfg.Variant = fl.variant
	}
	nw := &cfg.Network
	if changed("delay") {
		d, err := sim.ParseDelay(fl.delay)
		if err != nil {
			return cfg, "", usage(fmt.Errorf("--delay: %w", err))
		}
		nw.Default.Delay = d
	}
	if changed("drop") {
		nw.Default.Drop = fl.drop
	}
	if changed("duplicate") {
		nw.Default.Duplicate = fl.duplicate
	}
	if changed("gst") {
		nw.GST = sim.Time(fl.gst)
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
			return cfg, "", usage(fmt.Errorf("--partition %q: %w", p, err))
		}
		nw.Partitions = append(nw.Partitions, part)
	}
	for _, c := range fl.crashes {
		cr, err := sim.ParseCrash(c)
		if err != nil {
			return cfg, "", usage(fmt.Errorf("--crash %q: %w", c, err))
		}
		cfg.Crashes = append(cfg.Crashes, cr)
	}
	if changed("crash-primary-at") {
		if fl.crashPrimaryAt < 0 {
			return cfg, "", usage(fmt.Errorf("--crash-primary-at: %v is out of range: want a duration >= 0", fl.crashPrimaryAt))
		}
		cfg.Crashes = append(cfg.Crashes, sim.Crash{Node: 0, At: sim.Time(fl.crashPrimaryAt)})
	}
	if changed("max-time") {
		cfg.MaxTime = sim.Time(fl.maxTime)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, "", usage(err)
	}
	if err := cfg.Network.Validate(cfg.WithDefaults().N + cfg.WithDefaults().Clients); err != nil {
		return cfg, "", usage(err)
	}
	return cfg, sc.Name, nil
}

func runRun(cmd *cobra.Command, fl *runFlags) error {
	cfg, name, err := runConfig(cmd, fl)
	if err != nil {
		return err
	}
	var trace *atomicFile
	var sink *sim.JSONLSink
	if fl.trace != "" {
		if trace, err = createAtomic(fl.trace); err != nil {
			return usage(err)
		}
		defer trace.Abort()
		sink = sim.NewJSONLSink(trace)
		cfg.Sinks = append(cfg.Sinks, sink)
	}
	start := time.Now() // wall clock, outside the simulation: for the speed ratio only
	res, err := cluster.Run(cfg)
	if err != nil {
		return usage(err)
	}
	wall := time.Since(start)
	if trace != nil {
		if err := sink.Flush(); err != nil {
			return fmt.Errorf("writing trace %s: %w", fl.trace, err)
		}
		if err := trace.Commit(); err != nil {
			return fmt.Errorf("writing trace %s: %w", fl.trace, err)
		}
	}
	out := cmd.OutOrStdout()
	if fl.asJSON {
		return printJSON(out, jsonSummary{Result: res, Scenario: name})
	}
	printHuman(out, res, name, wall, fl.trace)
	return nil
}

// jsonSummary is `run --json`'s object: the cluster result plus the scenario.
type jsonSummary struct {
	*cluster.Result
	Scenario string `json:"scenario"`
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printHuman(w io.Writer, r *cluster.Result, scenario string, wall time.Duration, trace string) {
	fmt.Fprintf(w, "pbftsim run: scenario %s, n=%d f=%d, seed %d\n", scenario, r.N, r.F, r.Seed)
	if r.Variant != "" {
		fmt.Fprintf(w, "protocol variant: %s (DELIBERATELY BROKEN)\n", r.Variant)
	}
	if len(r.Faulty) == 0 {
		fmt.Fprintln(w, "faulty replicas: none")
	} else {
		var parts []string
		for _, rs := range r.Replicas {
			if rs.Faulty {
				parts = append(parts, fmt.Sprintf("r%d (%s)", rs.ID, rs.Strategy))
			}
		}
		model := "within the fault model"
		if !r.WithinFaultModel {
			model = fmt.Sprintf("OUTSIDE the fault model (%d faulty > f=%d): safety is not expected", len(r.Faulty), r.F)
		}
		fmt.Fprintf(w, "faulty replicas: %s, %s\n", strings.Join(parts, ", "), model)
	}
	simTime := time.Duration(r.SimTimeNs)
	fmt.Fprintf(w, "committed %d of %d requests in %v simulated (%d events)", r.Requests.Committed, r.Requests.Submitted, simTime, r.Events)
	if !r.Completed {
		fmt.Fprint(w, " - NOT all requests completed")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "latency p50 %v, p99 %v\n", time.Duration(r.LatencyNs.P50), time.Duration(r.LatencyNs.P99))
	fmt.Fprintf(w, "messages %d on the network (%.1f per committed request), %d dropped, %d duplicated, %d bytes\n",
		r.Messages.Total, r.Messages.PerCommitted, r.Messages.Dropped, r.Messages.Duplicated, r.Messages.Bytes)
	types := make([]string, 0, len(r.Messages.ByType))
	for t := range r.Messages.ByType {
		types = append(types, t)
	}
	sort.Strings(types)
	var parts []string
	for _, t := range types {
		parts = append(parts, fmt.Sprintf("%s %d", t, r.Messages.ByType[t]))
	}
	fmt.Fprintf(w, "  by type: %s\n", strings.Join(parts, ", "))
	fmt.Fprintf(w, "views: final %d, view changes %d, longest time without progress %v\n",
		r.Views.Final, r.Views.Changes, time.Duration(r.Views.NoProgress))
	if wall > 0 {
		ratio := float64(r.SimTimeNs) / float64(wall.Nanoseconds())
		if !math.IsInf(ratio, 0) {
			fmt.Fprintf(w, "simulated/wall-clock time: %.1fx (wall %v)\n", ratio, wall.Round(time.Microsecond))
		}
	}
	if trace != "" {
		fmt.Fprintf(w, "trace written to %s\n", trace)
	}
	ids := make([]string, 0, len(r.Payments))
	for id := range r.Payments {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		fmt.Fprintf(w, "Consensus on %s: %s\n", id, r.Payments[id])
	}
	fmt.Fprintf(w, "seed %d, trace hash %s\n", r.Seed, r.TraceHash)
}

// atomicFile writes to a temporary file beside its destination and renames
// it into place on Commit, so a reader never sees a half-written output.
type atomicFile struct {
	*os.File
	dest string
	done bool
}

func createAtomic(dest string) (*atomicFile, error) {
	f, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", dest, err)
	}
	return &atomicFile{File: f, dest: dest}, nil
}

// Commit flushes the file to disk and renames it to its destination.
func (a *atomicFile) Commit() error {
	if err := a.Sync(); err != nil {
		return err
	}
	if err := a.Close(); err != nil {
		return err
	}
	a.done = true
	return os.Rename(a.Name(), a.dest)
}

// Abort removes the temporary file unless Commit succeeded.
func (a *atomicFile) Abort() {
	if !a.done {
		a.Close()
		os.Remove(a.Name())
	}
}
