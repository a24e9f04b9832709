package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/reports/spacetime"
	"github.com/pbftsim/pbftsim/sim"
)

// counterexampleWindow is how much simulated time before a violation its
// diagram shows.
const counterexampleWindow = sim.Time(300 * time.Millisecond)

// writeCounterexample writes, next to the replay file replayPath, the
// counterexample's trace (.trace.jsonl) and a space-time diagram zoomed to
// the events leading to the violation (.svg, .html), with the violated
// property annotated. It reruns the scenario with a trace sink: the run is
// deterministic, so the rerun is the same run, which it checks by the trace
// hash. ro must be the options of the original run.
func writeCounterexample(w io.Writer, o *properties.Outcome, ro properties.RunOptions, replayPath string) error {
	if len(o.Violations) == 0 {
		return nil
	}
	base := strings.TrimSuffix(strings.TrimSuffix(replayPath, ".yaml"), ".replay")
	tracePath := base + ".trace.jsonl"
	f, err := spacetime.CreateAtomic(tracePath)
	if err != nil {
		return err
	}
	defer f.Abort()
	sink := sim.NewJSONLSink(f)
	ro.Sinks = append(ro.Sinks[:len(ro.Sinks):len(ro.Sinks)], sink)
	again, err := properties.RunScenario(o.Scenario, ro)
	if err != nil {
		return fmt.Errorf("rerunning the counterexample for its trace: %w", err)
	}
	if again.TraceHash() != o.TraceHash() {
		return fmt.Errorf("rerunning the counterexample gave trace hash %s, not %s: the run is not deterministic", again.TraceHash(), o.TraceHash())
	}
	if err := sink.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", tracePath, err)
	}
	if err := f.Commit(); err != nil {
		return fmt.Errorf("writing %s: %w", tracePath, err)
	}
	v := o.Violations[0]
	opts := spacetime.Options{
		From: max(0, v.Time-counterexampleWindow), HasFrom: true,
		To: v.Time + sim.Time(time.Millisecond), HasTo: true,
		Faulty: o.Result.Faulty, Replicas: o.Result.N,
		Title: fmt.Sprintf("%s violated (seed %d)", v.Property, o.Scenario.Seed),
	}
	node := sim.NodeID(-1)
	if len(v.Replicas) > 0 {
		node = v.Replicas[0]
	}
	opts.Annotations = []spacetime.Annotation{{T: v.Time, Node: node, Text: v.Property + " violated"}}
	out := spacetime.Outputs{SVG: base + ".svg", HTML: base + ".html"}
	if _, err := spacetime.RenderFile(tracePath, opts, out); err != nil {
		return fmt.Errorf("drawing the counterexample: %w", err)
	}
	fmt.Fprintf(w, "counterexample trace: %s\ndiagram: %s, %s\n", tracePath, out.SVG, out.HTML)
	return nil
}
