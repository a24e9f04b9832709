package main

// run_print.go prints the summary of pbftsim run (text and --json).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

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
		fmt.Fprintf(w, "properties: ok (safety and liveness judged%s)\n", o.VacuousNote())
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
				if c.Kind != "" && c.Kind != "keep" {
					w += " (" + c.Kind + ")"
				}
				if c.Recover > 0 {
					w += ", recovered at " + c.Recover.String()
				}
				if c.Kind == "wipe" && c.Recover > 0 {
					w += caughtUp(r, rs.ID, c.At)
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
		why := fmt.Sprintf("more than f=%d replicas faulty at once", r.F)
		if _, w, _ := properties.JudgeFaultIntervals(r.FaultIntervals, r.F); w != "" {
			why = w
		}
		model = fmt.Sprintf("OUTSIDE the fault model (%s; a crashed replica counts as faulty while down, a wiped one until it caught up): liveness is not expected", why)
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

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printHuman(w io.Writer, o *properties.Outcome, scenario string, wall time.Duration, trace string, checked bool) {
	// One write at the end, not one per line: a run prints a line per
	// payment, and 100,000 unbuffered writes to a terminal or pipe cost
	// 0.1-0.2 s of system time.
	bw := bufio.NewWriterSize(w, 64<<10)
	defer bw.Flush()
	w = bw
	r := o.Result
	if r.Protocol != "" {
		scenario += ", protocol " + r.Protocol
	}
	fmt.Fprintf(w, "pbftsim run: scenario %s, n=%d f=%d, seed %d\n", scenario, r.N, r.F, r.Seed)
	if r.Variant != "" && r.Variant != "correct" {
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
	if e := r.Messages.Egress; e != nil {
		fmt.Fprintf(w, "egress queues: wait mean %v, max %v; busiest sender node %d at %.0f bytes/s\n",
			time.Duration(e.QueueWaitMeanNs), time.Duration(e.QueueWaitMaxNs), e.MaxSender, e.MaxBytesPerSec)
		if e.IngressWaitMeanNs > 0 || e.IngressWaitMaxNs > 0 {
			fmt.Fprintf(w, "ingress queues: wait mean %v, max %v\n", time.Duration(e.IngressWaitMeanNs), time.Duration(e.IngressWaitMaxNs))
		}
	}
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
	printStores(w, r)
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
	for id, state := range r.Payments.All() { // in id order (a line per payment: no fmt)
		bw.WriteString("Consensus on ")
		bw.WriteString(id)
		bw.WriteString(": ")
		bw.WriteString(state)
		bw.WriteByte('\n')
	}
	fmt.Fprintf(w, "seed %d, trace hash %s\n", r.Seed, r.TraceHash)
}

// caughtUp says when wiped replica id (crashed at at) caught up by state
// transfer, as the run's checker saw it.
func caughtUp(r *cluster.Result, id sim.NodeID, at time.Duration) string {
	for _, iv := range r.FaultIntervals {
		if iv.Replica == id && iv.UntilCaughtUp && iv.From == sim.Time(at) {
			if iv.To > 0 {
				return ", caught up at " + iv.To.String()
			}
			return ", never caught up"
		}
	}
	return ""
}

// printStores prints the activity of the replicas' modelled stable stores
// (only replicas with a crash of a kind other than keep have one).
func printStores(w io.Writer, r *cluster.Result) {
	var parts []string
	for _, rs := range r.Replicas {
		if st := rs.Store; st != nil {
			parts = append(parts, fmt.Sprintf("r%d %d writes, %d syncs, %d unsynced writes lost, %d records at the end", rs.ID, st.Writes, st.Syncs, st.LostWrites, st.Records))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "stable stores: %s\n", strings.Join(parts, "; "))
	}
}
