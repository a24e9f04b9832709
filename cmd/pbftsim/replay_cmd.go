package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
	"github.com/pbftsim/pbftsim/sim/ledger"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

func newReplayCmd() *cobra.Command {
	var (
		until     string
		showState bool
		asJSON    bool
	)
	cmd := &cobra.Command{
		Use:   "replay FILE [--until EVENT|TIME] [--state] [--json]",
		Short: "Rerun a replay file and confirm the same trace hash and verdict, or stop it at a step and show every replica's state",
		Long: `replay reruns the scenario of a replay file (written by check, hunt or a
property test) with its seed and every checker attached, and confirms that
the run produces the recorded trace hash and the recorded verdict (and
violated property).

--until stops the rerun at a step, like a debugger, and prints where it
stopped: the virtual time, the trace record and the record after it. The
state shown is the state between two kernel steps (one step may emit several
records: a delivery and the sends it causes; the first step also holds what
nodes send when they start, at time 0). Forms:

  120ms, 1.5s, 250us     a virtual time: the last step at or before it
  #N                     the step that emits trace record number N (from 0)
  event:NAME[@NODE]      the first record of a node event: NAME is one of
                         the event names (committed, executed, new-view,
                         view-change, ...) or crash, recover; NODE (r2, c5
                         or 2) restricts it to one node
  violation              the record on which a checker first finds a
                         violation (the end of the run when only the
                         end-of-run checks, liveness and accountability,
                         find one)
  end                    the end of the run (then the trace hash and verdict
                         are checked as without --until)

--state also prints every replica's state: view, watermarks, log entries with
their PRE-PREPARE, PREPARE and COMMIT holders and prepared certificate,
checkpoints, VIEW-CHANGEs held, last replies, and its ledger. A Byzantine
replica shows the honest core its strategy wraps (marked as such). --json
prints one JSON object instead of text (--state adds "replicas"). --state or
--json without --until means --until end.

The scenario runs twice, deterministically: once to find the stop (and the
record after it), once to stop there and read the state. The run is the one
the replay file recorded: with the checkers attached, it
ends at the first violation when that gives the recorded trace hash (or no
hash is recorded), otherwise it goes on to its normal end.

Exit status: 0 same hash and verdict (or --until reached), 1 a mismatch or
--until never reached before the run ended, 2 bad input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var spec untilSpec
			if until != "" || showState || asJSON {
				if until == "" {
					until = "end"
				}
				var err error
				if spec, err = parseUntil(until); err != nil {
					return usage(err)
				}
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return usage(err)
			}
			rp, err := scenarios.ParseReplay(args[0], data)
			if err != nil {
				return usage(err)
			}
			w := cmd.OutOrStdout()
			if until != "" {
				return replayUntil(w, args[0], rp, spec, showState, asJSON)
			}
			o, err := properties.Rerun(rp)
			if err != nil {
				return usage(err)
			}
			fmt.Fprintf(w, "replayed %s: seed %d, %s\n", args[0], rp.Seed, o.Summary())
			if problems := replayMismatches(rp, o); len(problems) > 0 {
				for _, p := range problems {
					fmt.Fprintln(w, "MISMATCH:", p)
				}
				return &exitError{code: 1, err: fmt.Errorf("replay of %s does not reproduce the recorded run", args[0])}
			}
			fmt.Fprintln(w, "reproduced: same trace hash and verdict")
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&until, "until", "", "stop at a virtual time (120ms), a trace record (#N), an event (event:committed[@r2]), the first violation (violation) or the end (end)")
	fl.BoolVar(&showState, "state", false, "print every replica's state and ledger where the run stopped")
	addJSONFlag(fl, &asJSON, "one object")
	return cmd
}

// replayMismatches compares a rerun with its replay record.
func replayMismatches(rp *scenarios.Replay, o *properties.Outcome) []string {
	var problems []string
	if rp.TraceHash != "" && o.TraceHash() != rp.TraceHash {
		problems = append(problems, fmt.Sprintf("trace hash %s, recorded %s", o.TraceHash(), rp.TraceHash))
	}
	if rp.Verdict != "" && o.Verdict() != rp.Verdict {
		problems = append(problems, fmt.Sprintf("verdict %s, recorded %s", o.Verdict(), rp.Verdict))
	}
	if rp.Property != "" && o.Property() != rp.Property {
		problems = append(problems, fmt.Sprintf("property %q, recorded %q", o.Property(), rp.Property))
	}
	return problems
}

// untilKind is the kind of an --until target.
type untilKind uint8

const (
	untilTime untilKind = iota + 1
	untilRecord
	untilEvent
	untilViolation
	untilEnd
)

// untilSpec is a parsed --until value.
type untilSpec struct {
	raw     string
	kind    untilKind
	time    sim.Time
	record  uint64
	event   string // event name, or "crash" / "recover"
	node    sim.NodeID
	hasNode bool
}

// untilForms lists the accepted --until forms for error messages.
func untilForms() string {
	return fmt.Sprintf("want a virtual time (120ms, 1.5s, 250us), #N (trace record number N, from 0), "+
		"event:NAME or event:NAME@NODE (NAME one of %s, crash, recover; NODE like r2, c5 or 2), violation, or end",
		strings.Join(pbft.EventNames(), ", "))
}

// parseUntil parses an --until value.
func parseUntil(s string) (untilSpec, error) {
	bad := func(why string) (untilSpec, error) {
		if why != "" {
			why += "; "
		}
		return untilSpec{}, fmt.Errorf("--until %q: %s%s", s, why, untilForms())
	}
	sp := untilSpec{raw: s}
	switch {
	case s == "violation":
		sp.kind = untilViolation
	case s == "end":
		sp.kind = untilEnd
	case strings.HasPrefix(s, "#"):
		n, err := strconv.ParseUint(s[1:], 10, 64)
		if err != nil {
			return bad("record number is not a non-negative integer")
		}
		sp.kind, sp.record = untilRecord, n
	case strings.HasPrefix(s, "event:"):
		name, node, hasNode := strings.Cut(s[len("event:"):], "@")
		if name != "crash" && name != "recover" && !slices.Contains(pbft.EventNames(), name) {
			return bad(fmt.Sprintf("unknown event %q", name))
		}
		sp.kind, sp.event = untilEvent, name
		if hasNode {
			id, err := parseNode(node)
			if err != nil {
				return bad(err.Error())
			}
			sp.node, sp.hasNode = id, true
		}
	default:
		if _, err := strconv.ParseUint(s, 10, 64); err == nil {
			return bad(fmt.Sprintf("a bare number is ambiguous: write %sns for a time or #%s for a trace record", s, s))
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return bad("")
		}
		if d < 0 {
			return bad("a time must not be negative")
		}
		sp.kind, sp.time = untilTime, sim.Time(d)
	}
	return sp, nil
}

// parseNode parses a node name: r2 and c5 (as traces name nodes) or 2.
func parseNode(s string) (sim.NodeID, error) {
	t := strings.TrimLeft(s, "rc")
	if len(s)-len(t) > 1 {
		t = s
	}
	n, err := strconv.ParseInt(t, 10, 32)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("node %q: want a node id like r2, c5 or 2", s)
	}
	return sim.NodeID(n), nil
}

// stepSink follows the trace of a stepped run: it counts records and
// Accepted events, keeps the first and last record of the current step,
// and catches the first record that matches the --until target.
type stepSink struct {
	spec     untilSpec
	chk      *properties.Checker
	records  uint64
	accepted int
	first    *sim.Record // first record of the current step
	last     *sim.Record // last record so far
	hit      *sim.Record // first record matching spec
}

// Record implements sim.Sink.
func (s *stepSink) Record(r *sim.Record) {
	s.records++
	cp := *r
	if s.first == nil {
		s.first = &cp
	}
	s.last = &cp
	if _, ok := r.Event.(*pbft.Accepted); ok && r.Kind == sim.RecEvent {
		s.accepted++ // as the cluster's own observer counts acceptances
	}
	if s.hit != nil {
		return
	}
	match := false
	switch s.spec.kind {
	case untilRecord:
		match = r.Seq == s.spec.record
	case untilViolation:
		match = s.chk.Stopped() // the checker saw this record first
	case untilEvent:
		switch s.spec.event {
		case "crash":
			match = r.Kind == sim.RecCrash
		case "recover":
			match = r.Kind == sim.RecRecover
		default:
			match = r.Kind == sim.RecEvent && r.Event != nil && r.Event.Name() == s.spec.event
		}
		match = match && (!s.spec.hasNode || r.From == s.spec.node)
	}
	if match {
		s.hit = &cp
	}
}

// stepRun is one stepped rerun of a replay file's scenario.
type stepRun struct {
	cl    *cluster.Cluster
	sc    scenarios.Scenario
	cfg   cluster.Config
	chk   *properties.Checker
	sink  *stepSink
	steps uint64
	// judged is set once the first violation was compared with the record.
	judged bool
}

// newStepRun builds the run the way properties.Rerun does: the scenario with
// the replay's seed and variant, the checkers attached with liveness on and
// stop-on-violation (the stepping loop decides where the run ends).
func newStepRun(rp *scenarios.Replay, spec untilSpec) (*stepRun, error) {
	sc := rp.Scenario
	sc.Seed = rp.Seed
	if sc.Protocol.Variant == "" && rp.Variant != "" {
		sc.Protocol.Variant = rp.Variant
	}
	cfg, err := sc.Config()
	if err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	chk := properties.Attach(&cfg, properties.RunOptions{Liveness: true, StopOnViolation: true})
	sink := &stepSink{spec: spec, chk: chk}
	cfg.Sinks = append(cfg.Sinks, sink)
	cl, err := cluster.New(cfg)
	if err != nil {
		return nil, err
	}
	return &stepRun{cl: cl, sc: sc, cfg: cl.Config(), chk: chk, sink: sink}, nil
}

// step processes one kernel step; false when the kernel has nothing left.
func (s *stepRun) step() bool {
	s.sink.first = nil
	if !s.cl.Step() {
		return false
	}
	s.steps++
	return true
}

// ended applies cluster.Run's end rule after a step (all requests accepted
// and DrainTime passed) and the first-violation end of a checked rerun
// (when that run is the recorded one). It returns why the run ended, or "".
func (s *stepRun) ended(recorded string) string {
	k := s.cl.Kernel()
	if s.chk.Stopped() && !s.judged {
		// The first violation: the recorded run ends here if it was
		// recorded stopping there (the hash tells), else it goes on.
		s.judged = true
		if recorded == "" || k.Stats().HashHex() == recorded {
			return "violation"
		}
	}
	if s.cl.Ended() == cluster.EndCompleted {
		return "drained"
	}
	return ""
}

// endReasons words cluster.Cluster.Ended for the report.
var endReasons = map[string]string{
	cluster.EndCompleted: "drained",
	cluster.EndIdle:      "no more events",
	cluster.EndMaxTime:   "run.max_time reached",
	cluster.EndMaxEvents: "run.max_events reached",
	cluster.EndStall:     "stalled: no request accepted for run.stall after GST",
}

// stopPoint is where pass 1 found the --until target.
type stopPoint struct {
	reached bool
	steps   uint64      // kernel steps to run to get there
	at      *sim.Record // the record it stopped at (nil: before the first)
	next    *sim.Record // the first record after the stop (nil: none)
	hash    string      // trace hash after steps
	records uint64      // trace records emitted after steps
	// endReason is set when the run ended at or before the stop.
	endReason string
	// stoppedRun is true when the run ended at the first violation.
	stoppedRun bool
	// atEnd is true for --until violation when only the end-of-run checks
	// (liveness, accountability) found one.
	atEnd bool
}

// findStop steps a first run to the --until target and one step past it
// (to show the next record); the second run stops exactly there.
func findStop(rp *scenarios.Replay, spec untilSpec) (*stopPoint, *stepRun, error) {
	run, err := newStepRun(rp, spec)
	if err != nil {
		return nil, nil, err
	}
	sp := &stopPoint{}
	var prevLast *sim.Record
	prevHash, prevRecords := run.cl.Kernel().Stats().HashHex(), uint64(0)
	for {
		if !run.step() {
			sp.endReason = endReasons[run.cl.Ended()]
			if sp.endReason == "" {
				sp.endReason = run.cl.Ended()
			}
			break
		}
		k := run.cl.Kernel()
		if spec.kind == untilTime && k.Now() > spec.time {
			sp.reached, sp.steps, sp.at, sp.next = true, run.steps-1, prevLast, run.sink.first
			sp.hash, sp.records = prevHash, prevRecords
			return sp, run, nil
		}
		if run.sink.hit != nil && !sp.reached {
			sp.reached, sp.steps, sp.at = true, run.steps, run.sink.hit
			sp.hash, sp.records = k.Stats().HashHex(), run.sink.records
		}
		if why := run.ended(rp.TraceHash); why != "" {
			sp.endReason, sp.stoppedRun = why, why == "violation"
			break
		}
		if sp.reached {
			if run.step() {
				sp.next = run.sink.first
			}
			return sp, run, nil
		}
		prevLast, prevHash, prevRecords = run.sink.last, k.Stats().HashHex(), run.sink.records
	}
	// The run ended.
	if !sp.reached {
		sp.steps, sp.at = run.steps, run.sink.last
		sp.hash, sp.records = run.cl.Kernel().Stats().HashHex(), run.sink.records
		sp.reached = spec.kind == untilEnd
	}
	return sp, run, nil
}

// finish judges a run that ended with properties.Judge, as
// properties.RunConfig does, and returns its outcome.
func (s *stepRun) finish(stoppedRun bool) *properties.Outcome {
	return properties.Judge(s.sc, s.cl, s.chk, properties.RunOptions{Liveness: true, StopOnViolation: true}, stoppedRun)
}

// replayUntil runs the replay file's scenario to the --until target and
// reports the state there.
func replayUntil(w io.Writer, file string, rp *scenarios.Replay, spec untilSpec, showState, asJSON bool) error {
	sp, first, err := findStop(rp, spec)
	if err != nil {
		return usage(err)
	}
	var outcome *properties.Outcome
	var problems []string
	if sp.endReason != "" && (!sp.reached || spec.kind == untilEnd) {
		// The run went to its end: judge it and check it against the record.
		outcome = first.finish(sp.stoppedRun)
		problems = replayMismatches(rp, outcome)
		if spec.kind == untilViolation && !sp.reached && outcome.Failed() {
			// Only the end-of-run checks (liveness, accountability) failed:
			// the end of the run is where the violation is known.
			sp.reached, sp.atEnd = true, true
		}
	}
	// Second pass: the same run, stopped exactly at the target.
	run, err := newStepRun(rp, spec)
	if err != nil {
		return usage(err)
	}
	for run.steps < sp.steps && run.step() {
	}
	if got := run.cl.Kernel().Stats().HashHex(); run.steps != sp.steps || got != sp.hash {
		return &exitError{code: 1, err: fmt.Errorf("replay of %s is not deterministic: after %d steps trace hash %s, first pass %s", file, sp.steps, got, sp.hash)}
	}
	rep := buildReport(file, rp, spec, sp, run, outcome, problems, showState)
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		rep.writeText(w, run)
	}
	switch {
	case len(problems) > 0:
		return &exitError{code: 1, err: fmt.Errorf("replay of %s does not reproduce the recorded run", file)}
	case !sp.reached:
		return &exitError{code: 1, err: fmt.Errorf("the run ended (%s) at %v before --until %s was reached", sp.endReason, run.cl.Kernel().Now(), spec.raw)}
	}
	return nil
}

// replayReport is the JSON form of a stopped replay.
type replayReport struct {
	File    string `json:"file"`
	Seed    uint64 `json:"seed"`
	Variant string `json:"variant,omitempty"`
	Until   string `json:"until"`
	Reached bool   `json:"reached"`
	// Ended says why the run ended at or before the stop ("" if it did not).
	Ended string `json:"ended,omitempty"`
	// FoundAtEnd is true for --until violation when only the end-of-run
	// checks (liveness, accountability) found a violation.
	FoundAtEnd bool            `json:"found_at_end,omitempty"`
	Steps      uint64          `json:"steps"`
	TimeNs     int64           `json:"time_ns"`
	Time       string          `json:"time"`
	Records    uint64          `json:"records"`
	TraceHash  string          `json:"trace_hash"`
	Record     json.RawMessage `json:"record"`
	Line       string          `json:"line"`
	Next       json.RawMessage `json:"next"`
	NextLine   string          `json:"next_line,omitempty"`
	// Violations are those the checkers found up to the stop.
	Violations []jsonViolation `json:"violations"`
	// Verdict, Reproduced and Mismatches are set when the run went to its
	// end and was checked against the replay file.
	Verdict string `json:"verdict,omitempty"`
	// Judged says what the verdict judged; Properties, property by property.
	Judged     string                 `json:"judged,omitempty"`
	Properties []properties.Judgement `json:"properties,omitempty"`
	Reproduced *bool                  `json:"reproduced,omitempty"`
	Mismatches []string               `json:"mismatches,omitempty"`
	Replicas   []replicaReport        `json:"replicas,omitempty"`
}

// replicaReport is one replica's state where the run stopped.
type replicaReport struct {
	// Byzantine is the replica's strategy ("" for a correct replica): the
	// state shown is then the honest core the strategy wraps.
	Byzantine string            `json:"byzantine,omitempty"`
	Down      bool              `json:"down"`
	State     pbft.ReplicaState `json:"state"`
	Ledger    []ledger.Payment  `json:"ledger"`
}

func buildReport(file string, rp *scenarios.Replay, spec untilSpec, sp *stopPoint, run *stepRun, o *properties.Outcome, problems []string, showState bool) *replayReport {
	k := run.cl.Kernel()
	cfg := run.cfg
	rep := &replayReport{File: file, Seed: rp.Seed, Variant: cfg.Variant, Until: spec.raw, Reached: sp.reached, Ended: sp.endReason, FoundAtEnd: sp.atEnd,
		Steps: sp.steps, TimeNs: int64(k.Now()), Time: k.Now().String(), Records: run.sink.records, TraceHash: k.Stats().HashHex(),
		Record: json.RawMessage("null"), Next: json.RawMessage("null"), Violations: []jsonViolation{}}
	if sp.at != nil {
		rep.Record, rep.Line = recordJSON(sp.at), recordLine(sp.at, cfg.N)
	}
	if sp.next != nil {
		rep.Next, rep.NextLine = recordJSON(sp.next), recordLine(sp.next, cfg.N)
	}
	vs := run.chk.Violations()
	if o != nil {
		vs = o.Violations
		rep.Verdict, rep.Judged, rep.Properties = o.Verdict(), o.JudgedSummary(), o.Judgements
		ok := len(problems) == 0
		rep.Reproduced, rep.Mismatches = &ok, problems
	}
	for _, v := range vs {
		rep.Violations = append(rep.Violations, toJSONViolation(v))
	}
	if showState {
		strategy := map[sim.NodeID]string{}
		for _, b := range cfg.Byzantine {
			strategy[b.Replica] = b.Strategy
		}
		for i := 0; i < cfg.N; i++ {
			id := sim.NodeID(i)
			rep.Replicas = append(rep.Replicas, replicaReport{Byzantine: strategy[id], Down: k.Down(id),
				State: run.cl.Replica(i).Inspect(), Ledger: run.cl.Ledger(i).Payments()})
		}
	}
	return rep
}

// writeText prints the report for people.
func (rep *replayReport) writeText(w io.Writer, run *stepRun) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "replay %s: seed %d", rep.File, rep.Seed)
	if rep.Variant != "" {
		fmt.Fprintf(&b, ", variant %s", rep.Variant)
	}
	b.WriteByte('\n')
	switch {
	case rep.FoundAtEnd:
		fmt.Fprintf(&b, "stopped at --until violation: only the end-of-run checks found one; the run ended (%s) at %s after %d steps, %d trace records\n", rep.Ended, rep.Time, rep.Steps, rep.Records)
	case rep.Reached && rep.Until == "end":
		fmt.Fprintf(&b, "run ended (%s) at %s after %d steps, %d trace records\n", rep.Ended, rep.Time, rep.Steps, rep.Records)
	case rep.Reached:
		fmt.Fprintf(&b, "stopped at --until %s: time %s, step %d, %d trace records emitted\n", rep.Until, rep.Time, rep.Steps, rep.Records)
	default:
		fmt.Fprintf(&b, "NOT REACHED: the run ended (%s) at %s after %d steps, %d trace records, before --until %s\n", rep.Ended, rep.Time, rep.Steps, rep.Records, rep.Until)
	}
	if rep.Line != "" {
		fmt.Fprintf(&b, "  at:   %s\n", rep.Line)
	} else {
		b.WriteString("  at:   (before the first record)\n")
	}
	switch {
	case rep.NextLine != "":
		fmt.Fprintf(&b, "  next: %s\n", rep.NextLine)
	case rep.Ended == "violation":
		b.WriteString("  next: (none: the recorded run ends at its first violation)\n")
	default:
		fmt.Fprintf(&b, "  next: (none: the run ends here, %s)\n", rep.Ended)
	}
	fmt.Fprintf(&b, "trace hash so far %s\n", rep.TraceHash)
	if len(rep.Violations) == 0 {
		b.WriteString("violations so far: none\n")
	} else {
		fmt.Fprintf(&b, "violations so far: %d\n", len(rep.Violations))
		for _, v := range rep.Violations {
			fmt.Fprintf(&b, "  %s at %v (view %d, seq %d, nodes %v): %s\n", v.Property, sim.Time(v.TimeNs), v.View, v.Seq, v.Replicas, v.Detail)
		}
	}
	if rep.Reproduced != nil {
		fmt.Fprintf(&b, "verdict %s (%s)\n", rep.Verdict, rep.Judged)
		for _, p := range rep.Mismatches {
			fmt.Fprintln(&b, "MISMATCH:", p)
		}
		if *rep.Reproduced {
			b.WriteString("reproduced: same trace hash and verdict\n")
		}
	}
	for _, r := range rep.Replicas {
		b.WriteByte('\n')
		var tags []string
		if r.Byzantine != "" {
			tags = append(tags, fmt.Sprintf("BYZANTINE (%s): honest core shown, not what it sends", r.Byzantine))
		}
		if r.Down {
			tags = append(tags, "CRASHED (down)")
		}
		if len(tags) > 0 {
			fmt.Fprintf(&b, "[r%d %s]\n", r.State.ID, strings.Join(tags, "; "))
		}
		_ = r.State.Format(&b)
		fmt.Fprintf(&b, "  ledger: %d payments\n", len(r.Ledger))
		for _, p := range r.Ledger {
			fmt.Fprintf(&b, "    %s %s authorized=%d captured=%d refunded=%d\n", p.ID, p.State, p.Authorized, p.Captured, p.Refunded)
		}
	}
	_, _ = w.Write(b.Bytes())
}

// recordJSON renders a record as its JSON Lines trace object.
func recordJSON(r *sim.Record) json.RawMessage {
	var b bytes.Buffer
	s := sim.NewJSONLSink(&b)
	s.Record(r)
	if err := s.Flush(); err != nil {
		return json.RawMessage("null")
	}
	return json.RawMessage(bytes.TrimSpace(b.Bytes()))
}

// nodeName names a node as traces do: r0.. for replicas, c4.. for clients.
func nodeName(id sim.NodeID, n int) string {
	if int(id) < n {
		return "r" + strconv.Itoa(int(id))
	}
	return "c" + strconv.Itoa(int(id))
}

// recordLine formats a record on one line: "#seq time kind nodes what".
func recordLine(r *sim.Record, n int) string {
	name := func(id sim.NodeID) string { return nodeName(id, n) }
	head := fmt.Sprintf("#%d %v %s", r.Seq, r.Time, r.Kind)
	switch r.Kind {
	case sim.RecSend, sim.RecDeliver, sim.RecDrop, sim.RecDuplicate, sim.RecLocal:
		s := fmt.Sprintf("%s %s -> %s %s", head, name(r.From), name(r.To), msgLine(r.Msg, n))
		if r.Reason != sim.DropNone {
			s += " (" + r.Reason.String() + ")"
		}
		return s
	case sim.RecTimer:
		return fmt.Sprintf("%s %s timer %d", head, name(r.To), r.Timer)
	case sim.RecEvent:
		if r.Event == nil {
			return fmt.Sprintf("%s %s", head, name(r.From))
		}
		data, err := json.Marshal(r.Event)
		if err != nil {
			data = []byte("?")
		}
		data = longDigest.ReplaceAll(data, []byte(`"$1"`))
		return fmt.Sprintf("%s %s %s %s", head, name(r.From), r.Event.Name(), data)
	}
	return fmt.Sprintf("%s %s", head, name(r.From))
}

// longDigest matches a full hex digest in JSON, to shorten it to 8 digits
// as the rest of the line prints digests.
var longDigest = regexp.MustCompile(`"([0-9a-f]{8})[0-9a-f]{56}"`)

// msgLine summarises a message in a few fields.
func msgLine(m sim.Message, n int) string {
	name := func(id sim.NodeID) string { return nodeName(id, n) }
	switch m := m.(type) {
	case nil:
		return "(no message)"
	case *pbft.Request:
		return fmt.Sprintf("REQUEST %s t%d %q", name(m.Client), m.Timestamp, m.Op)
	case *pbft.PrePrepare:
		return fmt.Sprintf("PRE-PREPARE v%d n%d d=%s by %s, %d requests", m.View, m.Seq, m.Digest, name(m.Replica), len(m.Batch))
	case *pbft.Prepare:
		return fmt.Sprintf("PREPARE v%d n%d d=%s by %s", m.View, m.Seq, m.Digest, name(m.Replica))
	case *pbft.Commit:
		return fmt.Sprintf("COMMIT v%d n%d d=%s by %s", m.View, m.Seq, m.Digest, name(m.Replica))
	case *pbft.Reply:
		return fmt.Sprintf("REPLY v%d %s t%d by %s %q", m.View, name(m.Client), m.Timestamp, name(m.Replica), m.Result)
	case *pbft.Checkpoint:
		return fmt.Sprintf("CHECKPOINT n%d d=%s by %s", m.Seq, m.StateDigest, name(m.Replica))
	case *pbft.ViewChange:
		seqs := make([]string, len(m.Prepared))
		for i, pc := range m.Prepared {
			if pc.PrePrepare != nil {
				seqs[i] = fmt.Sprintf("n%d", pc.PrePrepare.Seq)
			}
		}
		return fmt.Sprintf("VIEW-CHANGE to v%d stable n%d prepared [%s] by %s", m.NewView, m.StableSeq, strings.Join(seqs, " "), name(m.Replica))
	case *pbft.NewView:
		seqs := make([]string, len(m.PrePrepares))
		for i, pp := range m.PrePrepares {
			seqs[i] = fmt.Sprintf("n%d", pp.Seq)
		}
		return fmt.Sprintf("NEW-VIEW v%d by %s with %d VIEW-CHANGEs, O=[%s]", m.View, name(m.Replica), len(m.ViewChanges), strings.Join(seqs, " "))
	case *pbft.FetchState:
		return fmt.Sprintf("FETCH-STATE n%d v%d by %s", m.Seq, m.View, name(m.Replica))
	case *pbft.State:
		s := fmt.Sprintf("STATE n%d d=%s by %s", m.Seq, m.StateDigest, name(m.Replica))
		if m.NewView != nil {
			s += fmt.Sprintf(" with NEW-VIEW v%d", m.NewView.View)
		}
		return s
	}
	return m.Type().String()
}
