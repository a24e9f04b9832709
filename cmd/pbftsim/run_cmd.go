package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/experiment"
	"github.com/pbftsim/pbftsim/internal/outfile"
	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
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
	out                       string
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
messages.by_type, messages.dropped, requests.submitted, requests.committed,
payments, latency_ns.p50, latency_ns.p99, views.final, views.changes,
scenario, faulty (Byzantine and crashed replicas), byzantine, crashed,
within_fault_model (at most f faulty; a replica that crashes counts as
faulty for the whole run), budget_exceeded, verdict ("ok", "violation",
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
	f.StringVar(&fl.protocol, "protocol", "", "replication protocol: pbft or hotstuff (default: the scenario's, else pbft)")
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
	f.StringArrayVar(&fl.crashes, "crash", nil, "crash `NODE@TIME[:RECOVER]` (repeatable)")
	f.DurationVar(&fl.crashPrimaryAt, "crash-primary-at", 0, "crash the initial primary (replica 0) at this virtual time")
	f.DurationVar(&fl.maxTime, "max-time", 0, "stop the run at this virtual time, > 0")
	f.Uint64Var(&fl.maxEvents, "max-events", 0, "event budget: stop the run after this many events with the verdict budget-exceeded (default: derived from the workload)")
	f.BoolVar(&fl.check, "check", true, "run the safety, liveness and accountability checkers online")
	f.BoolVar(&fl.stopOnViolation, "stop-on-violation", false, "stop the run at the first safety violation (default: run to the end and report every violation)")
	addOutFlag(f, &fl.out, "", "the replay file written on a violation, with its trace and diagram beside it (default "+outDir+"/SCENARIO-seedN.replay.yaml; --out '' writes none)")
	f.StringVar(&fl.out, "replay-out", "", "old name of --out")
	_ = f.MarkDeprecated("replay-out", "use --out")
	return cmd
}

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
		sc.Crashes = append(sc.Crashes, scenarios.Crash{Node: int(cr.Node), At: cr.At.Duration(), Recover: cr.Recover.Duration()})
	}
	if changed("crash-primary-at") {
		if fl.crashPrimaryAt < 0 {
			return nil, usage(fmt.Errorf("--crash-primary-at: %v is out of range: want a duration >= 0", fl.crashPrimaryAt))
		}
		sc.Crashes = append(sc.Crashes, scenarios.Crash{Node: 0, At: fl.crashPrimaryAt})
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
		// --requests N runs N: no time limit; the run ends when the
		// workload completes, or stalls for longer than the liveness bound
		// (plus the think time and a second) after GST.
		cfg, err := sc.Config()
		if err != nil {
			return nil, usage(err)
		}
		cfg = cfg.WithDefaults()
		sc.Run.MaxTime = 0
		if sc.Run.Stall == 0 {
			sc.Run.Stall = properties.DefaultLivenessBound(cfg) + cfg.Interval + time.Second
		}
	}
	return sc, nil
}

// setProtocol sets the scenario's protocol from a --protocol flag.
func setProtocol(sc *scenarios.Scenario, name string) error {
	if !slices.Contains(cluster.Protocols, name) {
		return usage(fmt.Errorf("--protocol: unknown protocol %q: want one of %s", name, strings.Join(cluster.Protocols, ", ")))
	}
	if name == cluster.ProtocolPBFT {
		name = ""
	}
	if sc.Protocol.Name != name {
		// Another protocol's strategies and variant do not carry over.
		sc.Protocol.Name = name
	}
	return nil
}

func runRun(cmd *cobra.Command, fl *runFlags) error {
	sc, err := runScenario(cmd, fl)
	if err != nil {
		return err
	}
	replayPath := fl.out
	if !cmd.Flags().Changed("out") && !cmd.Flags().Changed("replay-out") {
		replayPath = filepath.Join(outDir, fmt.Sprintf("%s-seed%d.replay.yaml", fileSafe(sc.Name), sc.Seed))
	}
	inputs := []string{fl.scenario}
	if replayPath != "" {
		if err := outfile.CheckDistinct(replayPath, append(inputs, fl.trace)...); err != nil {
			return usage(fmt.Errorf("--out: %w", err))
		}
	}
	// Ctrl-C stops the run between two events; the trace's temporary file
	// is then removed and the exit status is 130.
	_, interrupted, release := stopOnSignal(cmd)
	defer release()
	r, err := experiment.Run(sc, experiment.Options{Check: fl.check, StopOnViolation: fl.stopOnViolation,
		Trace: fl.trace, Inputs: inputs, Stop: interrupted})
	if err != nil {
		return cliError(err)
	}
	if r.Interrupted {
		return errInterrupted("run", "no summary and no trace written")
	}
	o := r.Outcome
	out := cmd.OutOrStdout()
	if fl.asJSON {
		if err := printJSON(out, newJSONSummary(o, sc.Name, fl.check)); err != nil {
			return err
		}
	} else {
		printHuman(out, o, sc.Name, r.Wall, fl.trace, fl.check)
	}
	if !o.Failed() {
		return nil
	}
	if replayPath != "" {
		if err := writeReplayFile(o, replayPath, inputs...); err != nil {
			return err
		}
		// Artifacts go to stderr under --json so stdout stays one JSON object.
		w := out
		if fl.asJSON {
			w = cmd.ErrOrStderr()
		}
		fmt.Fprintf(w, "replay file: %s (pbftsim replay %s)\n", replayPath, replayPath)
		if err := writeCounterexample(w, o, r.RunOptions(), replayPath); err != nil {
			return err
		}
	}
	if o.Result.WithinFaultModel {
		return &exitError{code: 1, err: fmt.Errorf("property %s violated within the fault model", o.Property())}
	}
	return nil
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

// printVerdict prints what the checkers found and what they judged.
func printVerdict(w io.Writer, o *properties.Outcome, checked bool) {
	if !checked {
		fmt.Fprintln(w, "properties: not checked (--check=false)")
		return
	}
	notJudged := o.NotJudged()
	switch {
	case o.Failed() && o.Result.WithinFaultModel:
		fmt.Fprintf(w, "properties: VIOLATED within the fault model\n")
	case o.Failed():
		fmt.Fprintf(w, "properties: violated, as expected outside the fault model\n")
	case o.BudgetExceeded() != "":
		fmt.Fprintf(w, "properties: %s; no violation before it\n", strings.ToUpper(o.BudgetExceeded()[:1])+o.BudgetExceeded()[1:])
	case o.Vacuous():
		fmt.Fprintf(w, "properties: no violation, but only vacuously: no correct replica executed a request\n")
	case !o.FullyJudged():
		fmt.Fprintf(w, "properties: no violation among those judged (%d of %d not judged, %d in part)\n", len(notJudged), len(o.Judgements), o.PartlyJudged())
	default:
		fmt.Fprintf(w, "properties: ok (safety and liveness judged)\n")
	}
	if n := cutNote(o.Result); n != "" && o.BudgetExceeded() == "" {
		fmt.Fprintf(w, "  %s\n", strings.TrimPrefix(n, "; "))
	}
	if !o.FullyJudged() || o.Failed() || o.BudgetExceeded() != "" {
		printJudgements(w, o)
	}
	for i, v := range o.Violations {
		if i == 5 {
			fmt.Fprintf(w, "  ... and %d more violations\n", len(o.Violations)-5)
			break
		}
		fmt.Fprintf(w, "  VIOLATION %s\n", v)
	}
	for _, a := range o.Accused {
		fmt.Fprintf(w, "  accused %s\n", a)
	}
}

// printJudgements lists what was judged (with any qualification) and what
// was not, and why.
func printJudgements(w io.Writer, o *properties.Outcome) {
	var judged []string
	for _, j := range o.Judgements {
		if j.Judged {
			judged = append(judged, j.Property)
		}
	}
	fmt.Fprintf(w, "  judged: %s\n", strings.Join(judged, ", "))
	for _, j := range o.Judgements {
		switch {
		case !j.Judged:
			fmt.Fprintf(w, "  not judged: %s: %s\n", j.Property, j.Reason)
		case j.Partial():
			fmt.Fprintf(w, "  partly judged: %s: %s\n", j.Property, j.Reason)
		}
	}
}

// printFaulty prints the faulty replicas (Byzantine and crashed) and
// whether the run is within the fault model.
func printFaulty(w io.Writer, o *properties.Outcome) {
	r := o.Result
	if len(r.Faulty) == 0 {
		fmt.Fprintln(w, "faulty replicas: none")
		return
	}
	var parts []string
	for _, rs := range r.Replicas {
		if rs.Faulty {
			parts = append(parts, fmt.Sprintf("r%d (%s)", rs.ID, rs.Strategy))
			continue
		}
		if !rs.Crashed {
			continue
		}
		var when []string
		for _, c := range o.Scenario.Crashes {
			if c.Node == int(rs.ID) {
				w := "crashed at " + c.At.String()
				if c.Recover > 0 {
					w += ", recovered at " + c.Recover.String()
				}
				when = append(when, w)
			}
		}
		parts = append(parts, fmt.Sprintf("r%d (%s)", rs.ID, strings.Join(when, "; ")))
	}
	model := "within the fault model"
	switch {
	case r.WithinFaultModel:
	case len(r.Byzantine) > r.F:
		model = fmt.Sprintf("OUTSIDE the fault model (%d faulty > f=%d): neither safety nor liveness is expected", len(r.Faulty), r.F)
	default:
		model = fmt.Sprintf("OUTSIDE the fault model (%d faulty > f=%d, crashed replicas count as faulty for the whole run): liveness is not expected", len(r.Faulty), r.F)
	}
	fmt.Fprintf(w, "faulty replicas: %s, %s\n", strings.Join(parts, ", "), model)
}

// cutNote says when the run did not end with its workload complete: cut by
// the time or event limit, or stalled (then liveness was judged at the stall
// deadline).
func cutNote(r *cluster.Result) string {
	if r.Completed {
		return ""
	}
	left := r.Requests.Submitted - r.Requests.Committed
	switch r.Ended {
	case cluster.EndMaxTime:
		return fmt.Sprintf("; the run was CUT by --max-time/run.max_time at %v with the workload incomplete: liveness judged only for requests due before the cut", time.Duration(r.SimTimeNs))
	case cluster.EndMaxEvents:
		return "; the run was CUT by run.max_events with the workload incomplete: liveness judged only for requests due before the cut"
	case cluster.EndStall:
		return fmt.Sprintf("; the run STALLED: no request accepted from GST or the last acceptance to %v, %d submitted requests outstanding", time.Duration(r.StalledAtNs), left)
	}
	return ""
}

// jsonSummary is `run --json`'s object: the cluster result plus the
// scenario and the checkers' verdict.
type jsonSummary struct {
	*cluster.Result
	Scenario   string                 `json:"scenario"`
	Verdict    string                 `json:"verdict"`
	Properties []properties.Judgement `json:"properties"`
	// FullyJudged is true when every property was judged in full and not
	// vacuously (the only case "properties: ok" is printed).
	FullyJudged bool            `json:"fully_judged"`
	Violations  []jsonViolation `json:"violations"`
	Accused     []jsonAccused   `json:"accused"`
}

type jsonViolation = experiment.JSONViolation

func toJSONViolation(v properties.Violation) jsonViolation { return experiment.NewJSONViolation(v) }

type jsonAccused struct {
	Replica sim.NodeID `json:"replica"`
	View    uint64     `json:"view"`
	Seq     uint64     `json:"seq"`
	TimeNs  int64      `json:"time_ns"`
	Reason  string     `json:"reason"`
}

func newJSONSummary(o *properties.Outcome, scenario string, checked bool) jsonSummary {
	s := jsonSummary{Result: o.Result, Scenario: scenario, Verdict: o.Verdict(), Properties: o.Judgements,
		Violations: []jsonViolation{}, Accused: []jsonAccused{}}
	s.FullyJudged = o.FullyJudged()
	if s.Properties == nil {
		s.Properties = []properties.Judgement{}
	}
	if !checked {
		s.Verdict = "unchecked"
	}
	for _, v := range o.Violations {
		s.Violations = append(s.Violations, toJSONViolation(v))
	}
	for _, a := range o.Accused {
		s.Accused = append(s.Accused, jsonAccused{a.Replica, a.View, a.Seq, int64(a.Time), a.Reason})
	}
	return s
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printHuman(w io.Writer, o *properties.Outcome, scenario string, wall time.Duration, trace string, checked bool) {
	r := o.Result
	if r.Protocol != "" {
		scenario += ", protocol " + r.Protocol
	}
	fmt.Fprintf(w, "pbftsim run: scenario %s, n=%d f=%d, seed %d\n", scenario, r.N, r.F, r.Seed)
	if r.Variant != "" {
		fmt.Fprintf(w, "protocol variant: %s (DELIBERATELY BROKEN)\n", r.Variant)
	}
	printFaulty(w, o)
	simTime := time.Duration(r.SimTimeNs)
	fmt.Fprintf(w, "committed %d of %d requests in %v simulated (%d events)", r.Requests.Committed, r.Requests.Submitted, simTime, r.Events)
	if !r.Completed {
		fmt.Fprint(w, " - NOT all requests completed")
		switch r.Ended {
		case cluster.EndMaxTime:
			fmt.Fprint(w, " (cut by --max-time/run.max_time)")
		case cluster.EndMaxEvents:
			fmt.Fprint(w, " (cut by run.max_events)")
		case cluster.EndStall:
			fmt.Fprintf(w, " (stalled: nothing accepted for the stall window, until %v)", time.Duration(r.StalledAtNs))
		case cluster.EndStopped:
			fmt.Fprint(w, " (stopped at the first violation)")
		}
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
	printVerdict(w, o, checked)
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
