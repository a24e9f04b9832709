package experiment

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// ReplayCheck compares a rerun with its replay record.
type ReplayCheck struct {
	// Problems are the mismatches (trace hash, verdict, property).
	Problems []string
	// HashCompared is true when the file records a trace hash.
	HashCompared bool
	// Reproduced is true when nothing differs and the trace hash was
	// compared: only then is the run the recorded one.
	Reproduced bool
	// Notes say what was not compared and name another version's file.
	Notes []string
}

// CheckReplay compares the rerun o of rp with its record; version is this
// pbftsim's version.
func CheckReplay(rp *scenarios.Replay, o *properties.Outcome, version string) ReplayCheck {
	c := ReplayCheck{HashCompared: rp.TraceHash != ""}
	if rp.TraceHash != "" && o.TraceHash() != rp.TraceHash {
		c.Problems = append(c.Problems, fmt.Sprintf("trace hash %s, recorded %s", o.TraceHash(), rp.TraceHash))
	}
	if rp.Verdict != "" && o.Verdict() != rp.Verdict {
		c.Problems = append(c.Problems, fmt.Sprintf("verdict %s, recorded %s", o.Verdict(), rp.Verdict))
	}
	if rp.Property != "" && o.Property() != rp.Property {
		c.Problems = append(c.Problems, fmt.Sprintf("property %q, recorded %q", o.Property(), rp.Property))
	}
	if !c.HashCompared {
		c.Notes = append(c.Notes, fmt.Sprintf("the replay file records no trace hash: the trace was NOT compared, only the verdict (this run's trace hash is %s)", o.TraceHash()))
	}
	switch {
	case rp.Version == "":
		c.Notes = append(c.Notes, fmt.Sprintf("the replay file does not say which pbftsim version wrote it (this is %s): if the simulation or the checkers changed since, the trace hash or verdict may differ without the run being non-deterministic", version))
	case rp.Version != version:
		c.Notes = append(c.Notes, fmt.Sprintf("the replay file was written by pbftsim %s, this is %s: if the simulation or the checkers changed between them, the trace hash or verdict may differ without the run being non-deterministic", rp.Version, version))
	}
	c.Reproduced = len(c.Problems) == 0 && c.HashCompared
	return c
}

// Err is the verdict of the check of the replay file file: an error when
// the rerun differs from its record (nil when it matches, even if the
// trace hash was not recorded: Reproduced says whether it was compared).
func (c ReplayCheck) Err(file string) error {
	if len(c.Problems) > 0 {
		return notReproduced(file)
	}
	return nil
}

// notReproduced is the error of a rerun that differs from its record.
func notReproduced(file string) error {
	return fmt.Errorf("replay of %s does not reproduce the recorded run", file)
}

// Err is the verdict of a stepped replay: an error when the run, judged at
// its end, differs from its record, or ended before the target.
func (r *StopReport) Err() error {
	switch {
	case len(r.Mismatches) > 0:
		return notReproduced(r.File)
	case !r.Reached:
		return fmt.Errorf("the run ended (%s) at %v before --until %s was reached", r.Ended, r.Time, r.Until)
	}
	return nil
}

// Replay reruns rp (properties.Rerun: the recorded run, stopped at its
// first violation when that is how it was recorded) and checks it.
func Replay(rp *scenarios.Replay, version string) (*properties.Outcome, ReplayCheck, error) {
	o, err := properties.Rerun(rp)
	if err != nil {
		return nil, ReplayCheck{}, err
	}
	return o, CheckReplay(rp, o, version), nil
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

// Until is a parsed --until value: where a stepped replay stops.
type Until struct {
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
func ParseUntil(s string) (Until, error) {
	bad := func(why string) (Until, error) {
		if why != "" {
			why += "; "
		}
		return Until{}, fmt.Errorf("--until %q: %s%s", s, why, untilForms())
	}
	sp := Until{raw: s}
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

// String returns the --until value as given.
func (u Until) String() string { return u.raw }

// IsSet reports whether u is a parsed target (the zero Until is not).
func (u Until) IsSet() bool { return u.kind != 0 }

// ErrNotDeterministic is returned (wrapped) by ReplayUntil when the two
// passes of a stepped replay disagree.
var ErrNotDeterministic = errors.New("replay is not deterministic")

// ReplayUntil reruns the replay file's scenario to the target u and
// returns the report of where it stopped. The run goes twice,
// deterministically: once to find the stop (and the record after it), once
// to stop there and read the state. With the target "end", or when the
// run ended before the target, the run is judged and checked against the
// record (Reproduced, Mismatches). version is this pbftsim's version.
func ReplayUntil(file string, rp *scenarios.Replay, u Until, showState bool, version string) (*StopReport, error) {
	sp, first, err := findStop(rp, u)
	if err != nil {
		return nil, err
	}
	var outcome *properties.Outcome
	var check *ReplayCheck
	if sp.endReason != "" && (!sp.reached || u.kind == untilEnd) {
		// The run went to its end: judge it and check it against the record.
		outcome = first.finish(sp.stoppedRun)
		c := CheckReplay(rp, outcome, version)
		check = &c
		if u.kind == untilViolation && !sp.reached && outcome.Failed() {
			// Only the end-of-run checks (liveness, accountability) failed:
			// the end of the run is where the violation is known.
			sp.reached, sp.atEnd = true, true
		}
	}
	// Second pass: the same run, stopped exactly at the target.
	run, err := newStepRun(rp, u)
	if err != nil {
		return nil, err
	}
	for run.steps < sp.steps && run.step() {
	}
	if got := run.cl.Kernel().Stats().HashHex(); run.steps != sp.steps || got != sp.hash {
		return nil, fmt.Errorf("%w: %s after %d steps has trace hash %s, the first pass %s", ErrNotDeterministic, file, sp.steps, got, sp.hash)
	}
	return buildReport(file, rp, u, sp, run, outcome, check, showState), nil
}
