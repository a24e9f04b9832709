package explore

import (
	"cmp"
	"fmt"
	"time"

	"github.com/pbftsim/pbftsim/properties"
	engine "github.com/pbftsim/pbftsim/sim/explore"
)

// VariantName is the name of c's variant in messages and file names:
// "correct" for the correct protocol.
func (c Config) VariantName() string {
	if c.Variant == "" {
		return "correct"
	}
	return c.Variant
}

// Describe says which configuration and bounds an exploration of c covers.
func (c Config) Describe() string {
	name := c.VariantName()
	byz := "none"
	for i, b := range c.Byzantine {
		if i == 0 {
			byz = ""
		} else {
			byz += ","
		}
		byz += fmt.Sprintf("%d:%s", b.Replica, b.Strategy)
	}
	depth := "unbounded"
	if c.Depth > 0 {
		depth = fmt.Sprint(c.Depth)
	}
	timers := "unbounded"
	if c.TimerLimit {
		timers = fmt.Sprint(c.Timers)
	}
	if c.QuietTimers {
		timers += " (only with no message in flight)"
	}
	inert := ""
	if c.Inert {
		inert = ", inert messages discarded"
	}
	if c.ExactTimers {
		inert += ", exact timer deadlines"
	}
	if c.AsyncTimers {
		inert += ", " + cmp.Or(c.AsyncText(), "asynchronous timers (none expires)")
	}
	if c.Symmetry {
		inert += ", symmetry reduction (full certificates)"
	} else if c.FullCertificates {
		inert += ", full certificates"
	}
	if c.SubsumeBudgets {
		inert += ", budget subsumption (a state reached again with no less of every budget used is skipped)"
	}
	if n := c.DropsNote(); n != "" {
		inert += "; " + n
	}
	return fmt.Sprintf("variant %s: n=%d, %d request(s), drops %d, duplicates %d, crashes %d, byzantine %s, views <= %d, timer expirations %s, depth %s%s",
		name, c.Nodes, c.Requests, c.Drops, c.Duplicates, c.Crashes, byz, c.Views, timers, depth, inert)
}

// StatsLine formats the counters of an exploration of c.
func StatsLine(c Config, s engine.Stats) string {
	if c.Inert {
		cc := c
		cc.Inert = false
		return fmt.Sprintf("%s, %d inert messages discarded", StatsLine(cc, s), s.Inert)
	}
	if c.NoopsSubsumed() {
		cc := c
		cc.ExplicitNoops = true
		return fmt.Sprintf("%s, %d no-op transitions skipped", StatsLine(cc, s), s.Noops)
	}
	el := s.Elapsed.Round(time.Millisecond)
	switch {
	case c.DPOR:
		return fmt.Sprintf("DPOR: %d distinct states, %d transitions (%.0f/s), longest path %d, every class of maximal paths to causal depth %d explored, %d pruned beyond --views, %d fallbacks, fingerprint table %d KB, %v",
			s.States, s.Transitions, s.PerSecond(), s.Depth, s.Checked, s.Pruned, s.Fallbacks, s.FPBytes>>10, el)
	case c.onePass() && c.SubsumeBudgets:
		return fmt.Sprintf("depth-first (one pass): %d states (without their budgets used), %d transitions (%.0f/s), longest first-visit path %d, %d revisits, %d re-expanded with less of a budget used, %d pruned beyond --views, fingerprint table %d KB, %v",
			s.States, s.Transitions, s.PerSecond(), s.Depth, s.Revisits, s.Reexpanded, s.Pruned, s.FPBytes>>10, el)
	case c.onePass():
		return fmt.Sprintf("depth-first (one pass): %d states, %d transitions (%.0f/s), longest first-visit path %d, %d revisits, %d pruned beyond --views, fingerprint table %d KB, %v",
			s.States, s.Transitions, s.PerSecond(), s.Depth, s.Revisits, s.Pruned, s.FPBytes>>10, el)
	case c.DFS:
		return fmt.Sprintf("depth-first: %d states (within the last depth limit), %d transitions over all limits (%.0f/s), depth %d (all states to depth %d checked), %d revisits, %d pruned beyond --views, fingerprint table %d KB, %v",
			s.States, s.Transitions, s.PerSecond(), s.Depth, s.Checked, s.Revisits, s.Pruned, s.FPBytes>>10, el)
	}
	return fmt.Sprintf("%d states, %d transitions (%.0f/s), depth %d (all states to depth %d checked), %d revisits, %d slept, %d pruned beyond --views, %v",
		s.States, s.Transitions, s.PerSecond(), s.Depth, s.Checked, s.Revisits, s.Slept, s.Pruned, el)
}

// Coverage says what an exploration of c covered, given Stats.Checked.
func (c Config) Coverage(checked int) string {
	if c.onePass() {
		// One depth-first pass judges every state it reaches but covers
		// no depth completely before it ends.
		return "every state reached judged (one depth-first pass: no depth bound covered completely)"
	}
	if c.DPOR {
		if checked == 0 {
			return "no causal depth bound completed"
		}
		return fmt.Sprintf("every class of maximal paths to causal depth %d explored", checked)
	}
	return fmt.Sprintf("every state up to depth %d checked", checked)
}

// quietCaveat ends a verdict or a table row of a --quiet-timers exploration
// that found nothing: the schedules explored are not all those within the
// bounds.
const quietCaveat = "; only schedules whose timers expired with no message in flight (--quiet-timers)"

// timeCaveat ends a verdict or a table row of an exploration that found
// nothing, when timers could fire and states were merged by the order of
// their timers only (not --exact-timers): the schedules explored below a
// merged state are those its first path allowed.
const timeCaveat = "; states differing only in the time left before their timers' deadlines were merged (--exact-timers keeps them apart)"

// AsyncDescription says what the asynchronous timer semantics explores
// (in descriptions, verdicts and the --all-variants footer).
const AsyncDescription = "timers may fire at any moment (asynchronous)"

// AsyncText says what c's asynchronous timers let happen, "" without them
// or when no timer may expire (--timers 0): AsyncDescription, or with
// --quiet-timers (which fire only with no message in flight, as
// quietCaveat says) that they fire in any order.
func (c Config) AsyncText() string {
	switch {
	case !c.AsyncTimers || c.TimerLimit && c.Timers == 0:
		return ""
	case c.QuietTimers:
		return "asynchronous timers (in any order)"
	}
	return AsyncDescription
}

// asyncNote ends a verdict or a table row of an exploration with
// asynchronous timers that found nothing: what was judged, and its
// over-approximation of timed runs ("" when no timer could expire).
func (c Config) asyncNote() string {
	t := c.AsyncText()
	if t == "" {
		return ""
	}
	return "; " + t + ", whatever their deadlines"
}

// TimersMerged reports whether c's states were merged by the order of
// their pending timers only while timers could fire (see timeCaveat);
// never with asynchronous timers (their hash holds every pending timer,
// and no deadline matters).
func (c Config) TimersMerged() bool {
	return !c.AsyncTimers && !c.ExactTimers && (!c.TimerLimit || c.Timers > 0)
}

// Verdict says what an exploration that found no violation judged.
func (r *Result) Verdict() string {
	v := r.verdict()
	if r.Config.QuietTimers {
		// The schedules explored are not all those within the bounds.
		v += quietCaveat
	}
	if r.Config.TimersMerged() {
		v += timeCaveat
	}
	v += r.Config.asyncNote()
	if n := r.Config.DropsNote(); n != "" {
		v += "; " + n
	}
	return v
}

func (r *Result) verdict() string {
	c := r.Config
	switch {
	case r.Complete && c.DPOR:
		return "no violation within these bounds (safety checked on every state reached; every class of maximal paths within the bounds explored)"
	case r.Complete:
		return "no violation within these bounds (safety checked on every reached state)"
	case r.Interrupted:
		return fmt.Sprintf("stopped (--budget or Ctrl-C): no violation in the states explored so far, %s; the bounds were NOT exhausted", c.Coverage(r.Checked))
	case c.DFS && !c.DPOR && r.Checked >= engine.MaxDFSDepth:
		return fmt.Sprintf("stopped at depth limit %d: no violation in the states explored so far, %s; the bounds were NOT exhausted", engine.MaxDFSDepth, c.Coverage(r.Checked))
	}
	return fmt.Sprintf("stopped at --max-states %d: no violation in the states explored so far, %s; the bounds were NOT exhausted", c.MaxStates, c.Coverage(r.Checked))
}

// LivenessLine says what the liveness check judged ("" when it was off).
func (r *Result) LivenessLine() string {
	if r.Config.LivenessSteps <= 0 {
		return "liveness: not checked (--liveness-steps 0)"
	}
	return fmt.Sprintf("liveness: from each of %d reached states a fair fault-free continuation completed the requests within %d transitions", r.Liveness, r.Config.LivenessSteps)
}

// Note says how a counterexample was found and whether it is known to be a
// shortest one.
func (r *Result) Note() string {
	c := r.Config
	at := "found depth-first (one pass)"
	if c.DPOR {
		at = fmt.Sprintf("found within causal depth %d", c.Depth)
		if c.DFS {
			at = fmt.Sprintf("found at causal depth %d (the smallest)", r.Checked+1)
		}
	}
	switch {
	case r.Shortest && !c.DPOR && !(c.DFS && c.TimerLimit && c.Depth == 0):
		return "shortest counterexample"
	case r.Shortest:
		return at + "; a shortest counterexample (breadth-first to one transition less found none shorter, or found this one)"
	}
	if c.DPOR {
		at += ", shrunk"
	}
	return at + "; a shorter counterexample is not ruled out"
}

// VariantRow is one row of an exploration of every variant.
type VariantRow struct {
	Variant  string // "correct" or a broken variant
	Found    string // "yes", "no" (bounds exhausted), "no*" (not exhausted)
	Property string // the violated property ("-" when none)
	Depth    string // length of the counterexample ("-" when none)
	States   int
	Seconds  float64
	Note     string
	Result   *Result
}

// AllVariants explores the correct protocol and then every broken variant
// with c's bounds (c.Variant is ignored), calling row after each. It stops
// early when c.Stop reports true.
func AllVariants(c Config, row func(VariantRow)) error {
	for _, v := range append([]string{"correct"}, properties.VariantNames()...) {
		cv := c
		cv.Variant = v
		if v == "correct" {
			cv.Variant = ""
		}
		res, err := Explore(cv)
		if err != nil {
			return err
		}
		r := VariantRow{Variant: v, Found: "no", Property: "-", Depth: "-", States: res.States,
			Seconds: res.Elapsed.Seconds(), Note: "no violation within the bounds", Result: res}
		switch {
		case res.Found():
			r.Found, r.Property, r.Depth, r.Note = "yes", res.Property, fmt.Sprint(len(res.Path)), res.Note()
			if res.ReplayErr != nil {
				r.Note = "not replayable: " + res.ReplayErr.Error()
			}
		case !res.Complete:
			r.Found = "no*"
			r.Note = fmt.Sprintf("bounds not exhausted: %s, no violation", cv.Coverage(res.Checked))
			if !cv.onePass() && (!cv.DPOR || res.Checked > 0) {
				// A depth was covered completely (one pass and DPOR
				// before its first bound cover none).
				r.Note += " (a counterexample would be deeper)"
			}
		}
		if cv.QuietTimers && !res.Found() {
			// Not every schedule within the bounds was explored.
			r.Note += quietCaveat
		}
		if cv.TimersMerged() && !res.Found() {
			r.Note += timeCaveat
		}
		if !res.Found() {
			r.Note += cv.asyncNote()
			if n := cv.DropsNote(); n != "" {
				r.Note += "; " + n
			}
		}
		row(r)
		if res.Interrupted && c.Stop != nil && c.Stop() {
			break
		}
	}
	return nil
}

// onePass reports whether c explores with one depth-first pass (--dfs
// --timers K without --depth: a finite space, no iterative deepening).
func (c Config) onePass() bool { return c.DFS && !c.DPOR && c.TimerLimit && c.Depth == 0 }
