package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/experiment"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
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
			var u experiment.Until
			if until != "" || showState || asJSON {
				if until == "" {
					until = "end"
				}
				var err error
				if u, err = experiment.ParseUntil(until); err != nil {
					return usage(err)
				}
			}
			rp, err := scenarios.LoadReplay(args[0])
			if err != nil {
				return usage(err)
			}
			w := cmd.OutOrStdout()
			if u.IsSet() {
				return replayUntil(w, args[0], rp, u, showState, asJSON)
			}
			o, check, err := experiment.Replay(rp, version)
			if err != nil {
				return usage(err)
			}
			fmt.Fprintf(w, "replayed %s: seed %d, %s\n", args[0], rp.Seed, o.Summary())
			return printCheck(w, args[0], check)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&until, "until", "", "stop at a virtual time (120ms), a trace record (#N), an event (event:committed[@r2]), the first violation (violation) or the end (end)")
	fl.BoolVar(&showState, "state", false, "print every replica's state and ledger where the run stopped")
	addJSONFlag(fl, &asJSON, "one object")
	return cmd
}

// printCheck prints how a rerun compares with its replay file and returns
// the exit-1 error of a mismatch.
func printCheck(w io.Writer, file string, c experiment.ReplayCheck) error {
	for _, n := range c.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	for _, p := range c.Problems {
		fmt.Fprintln(w, "MISMATCH:", p)
	}
	switch {
	case len(c.Problems) > 0:
		return exitStatus(c.Err(file))
	case c.Reproduced:
		fmt.Fprintln(w, "reproduced: same trace hash and verdict")
	default:
		fmt.Fprintln(w, "verdict reproduced; the run itself NOT verified (no trace hash recorded)")
	}
	return nil
}

// replayUntil runs the replay file's scenario to the --until target and
// prints where it stopped.
func replayUntil(w io.Writer, file string, rp *scenarios.Replay, u experiment.Until, showState, asJSON bool) error {
	rep, err := experiment.ReplayUntil(file, rp, u, showState, version)
	switch {
	case errors.Is(err, experiment.ErrNotDeterministic):
		return &exitError{code: 1, err: err}
	case err != nil:
		return usage(err)
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		writeStopText(w, rep)
	}
	return exitStatus(rep.Err())
}

// writeStopText prints a stepped replay's report for people.
func writeStopText(w io.Writer, rep *experiment.StopReport) {
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
		_ = printCheck(&b, rep.File, experiment.ReplayCheck{Problems: rep.Mismatches, HashCompared: rep.HashCompared, Reproduced: *rep.Reproduced, Notes: rep.Notes})
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
