package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/experiment"
)

// runFlags are the flags of `pbftsim run`. Their names are a stable interface.
type runFlags struct {
	scenario, trace, variant  string
	protocol                  string
	seed                      uint64
	asJSON                    bool
	nodes                     nodesValue
	requests, clients         int
	payments                  int
	batch, checkpointInterval int
	delay                     string
	drop, duplicate           float64
	gst, delta, maxTime       time.Duration
	maxEvents                 uint64
	crashPrimaryAt            time.Duration
	partitions, crashes       []string
	check, stopOnViolation    bool
	pipeline                  bool
	pipelineChecker           bool
	out                       string
	env                       envFlags
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
Crash spec: NODE@TIME[:RECOVER][:KIND], e.g. 0@1s:3s or 0@1s:3s:amnesia; KIND
is keep (default: all state kept), amnesia (volatile state lost, the stable
store kept), lose-unsynced (also the writes after the last sync lost) or
wipe (a new disk: the replica catches up by state transfer).

Run length: the scenario's run.max_time (60s if unset), or --max-time. With
--requests N and no --max-time the run has no time limit: it ends when the N
requests are accepted (plus 1s to drain), or when none has been accepted for
a stall window (the liveness bound, plus the think time and 1s) after GST;
the summary then says the run stalled, and liveness is judged at that time.
A run cut by --max-time (or the scenario's max_time) before the workload
completed says so in the verdict. --payments sets the distinct payment ids;
with --requests and without --payments they follow the requests.

JSON keys (--json): seed, n, f, trace_hash, events, sim_time_ns, ended
("completed", "stall", "max-time", "max-events", "stopped", "idle"), messages.total,
messages.by_type, messages.dropped, messages.egress (rate-limited runs:
queue_wait_mean_ns, queue_wait_max_ns, max_sender_bytes_per_sec, max_sender,
ingress_wait_mean_ns, ingress_wait_max_ns), requests.submitted, requests.committed,
payments, latency_ns.p50, latency_ns.p99, views.final, views.changes,
scenario, faulty (Byzantine and crashed replicas), byzantine, crashed,
within_fault_model (at most f faulty at any time: a crashed replica
while down, a wiped one until it caught up; fault_intervals says when), budget_exceeded, verdict ("ok", "violation",
"budget-exceeded", "unchecked"), properties[] (property, judged, violated,
reason: why it was not judged, or what qualifies the judgement),
fully_judged (every property judged in full, not vacuously),
violations[] (property, replicas, view, seq, time_ns, detail), accused[].

The verdict says what was judged: "properties: ok" only when every property
was judged in full (liveness for every request) and something was executed;
otherwise the lines "not judged:" and "partly judged:" say why.

Exit status: 0 the run completed (violations outside the fault model are
expected and reported; a run stopped by its budget says so), 1 a property
was violated within the fault model, 2 bad input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRun(cmd, &fl)
		},
	}
	f := cmd.Flags()
	addScenarioFlag(f, &fl.scenario, "fault-free")
	f.StringVar(&fl.protocol, "protocol", "", "replication protocol: pbft, hotstuff or chained-hotstuff (default: the scenario's, else pbft)")
	addSeedFlag(f, &fl.seed, 0, "default: the scenario's own seed (1 if it has none); an explicit --seed always beats the scenario's")
	addJSONFlag(f, &fl.asJSON, "one object")
	f.StringVar(&fl.trace, "trace", "", "write the trace to `FILE`; the name picks the format: .jsonl (JSON Lines), .jsonl.zst (zstd-compressed), .pbt (binary), .pbt.zst (binary, zstd-compressed: the most compact)")
	addNodesFlag(f, &fl.nodes, nil, "run takes one n")
	f.IntVar(&fl.requests, "requests", 0, "payment operations issued in total, >= 1 (default: the scenario's); without --max-time the run then ends when they complete or stall (see --help)")
	f.IntVar(&fl.payments, "payments", 0, "distinct payment ids (default: follows --requests, ceil(requests/2), when --requests is given)")
	f.IntVar(&fl.clients, "clients", 0, "number of clients, >= 1 (default: the scenario's)")
	f.IntVar(&fl.batch, "batch", 0, "requests per PRE-PREPARE, >= 1 (default: the scenario's)")
	f.IntVar(&fl.checkpointInterval, "checkpoint-interval", 0, "checkpoint every K sequence numbers, K >= 1 (default: the scenario's)")
	f.StringVar(&fl.variant, "variant", "", "a deliberately BROKEN protocol variant, by `NAME` (list them with pbftsim hunt --list)")
	f.StringVar(&fl.delay, "delay", "", "default link delay `SPEC`")
	f.Float64Var(&fl.drop, "drop", 0, "probability that a network message is lost, in [0,1]")
	f.Float64Var(&fl.duplicate, "duplicate", 0, "probability that a network message is delivered twice, in [0,1]")
	f.DurationVar(&fl.gst, "gst", 0, "global stabilisation time: after it, no loss and delays <= --delta between correct nodes")
	f.DurationVar(&fl.delta, "delta", 0, "delay bound after GST (default 10ms when --gst is set)")
	f.StringArrayVar(&fl.partitions, "partition", nil, "partition `SPEC` (repeatable)")
	f.StringArrayVar(&fl.crashes, "crash", nil, "crash `NODE@TIME[:RECOVER][:KIND]` (repeatable; KIND keep, amnesia, lose-unsynced or wipe)")
	f.DurationVar(&fl.crashPrimaryAt, "crash-primary-at", 0, "crash the initial primary (replica 0) at this virtual time")
	addEnvFlags(f, &fl.env)
	f.DurationVar(&fl.maxTime, "max-time", 0, "stop the run at this virtual time, > 0")
	f.Uint64Var(&fl.maxEvents, "max-events", 0, "event budget: stop the run after this many events with the verdict budget-exceeded (default: derived from the workload)")
	f.BoolVar(&fl.check, "check", true, "run the safety, liveness and accountability checkers online")
	f.BoolVar(&fl.stopOnViolation, "stop-on-violation", false, "stop the run at the first safety violation (default: run to the end and report every violation)")
	f.BoolVar(&fl.pipeline, "pipeline", true, "compress and write the trace on a goroutine of its own, beside the run's, when GOMAXPROCS > 1; every output is the same either way")
	f.BoolVar(&fl.pipelineChecker, "pipeline-checker", false, "also run the online checker on a goroutine of its own, fed copies of the run's records, when GOMAXPROCS > 1 (not with --stop-on-violation); every output is the same either way, but on a quiet 2-core machine it took more wall-clock and CPU time than the checker inline (README, Performance)")
	addOutFlag(f, &fl.out, "", "the replay file written on a violation, with its trace and diagram beside it (default "+outDir+"/SCENARIO-seedN.replay.yaml; --out '' writes none)")
	f.StringVar(&fl.out, "replay-out", "", "old name of --out")
	_ = f.MarkDeprecated("replay-out", "use --out")
	return cmd
}

func runRun(cmd *cobra.Command, fl *runFlags) error {
	defer startGCPolicy(os.Getenv("GOGC"), defaultGOGC)() // gcpolicy.go
	sc, err := runScenario(cmd, fl)
	if err != nil {
		return err
	}
	replayPath := fl.out
	if !cmd.Flags().Changed("out") && !cmd.Flags().Changed("replay-out") {
		replayPath = filepath.Join(outDir, fmt.Sprintf("%s-seed%d.replay.yaml", fileSafe(sc.Name), sc.Seed))
	}
	// Ctrl-C stops the run between two events; the trace's temporary file
	// is then removed and the exit status is 130.
	_, interrupted, release := stopOnSignal(cmd)
	defer release()
	r, err := experiment.Run(sc, experiment.Options{Check: fl.check, StopOnViolation: fl.stopOnViolation,
		Trace: fl.trace, Out: replayPath, Version: version, Inputs: []string{fl.scenario}, Stop: interrupted,
		Pipeline: fl.pipeline && runtime.GOMAXPROCS(0) > 1, PipelineChecker: fl.pipelineChecker && runtime.GOMAXPROCS(0) > 1})
	if r == nil || r.Interrupted {
		return exitStatus(err)
	}
	out := cmd.OutOrStdout()
	if fl.asJSON {
		if jerr := printJSON(out, experiment.NewSummary(r.Outcome, sc.Name, fl.check)); jerr != nil {
			return jerr
		}
	} else {
		printHuman(out, r.Outcome, sc.Name, r.Wall, fl.trace, fl.check)
	}
	if s := r.Saved; s != nil {
		// Artifacts go to stderr under --json so stdout stays one JSON object.
		w := out
		if fl.asJSON {
			w = cmd.ErrOrStderr()
		}
		fmt.Fprintf(w, "replay file: %s (pbftsim replay %s)\n", s.Replay, s.Replay)
		printCounterexample(w, s.Counterexample)
	}
	return exitStatus(err)
}
