package sweep

import (
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/internal/shquote"
)

// MaxListedFailures bounds the failing seeds an Aggregate keeps (all are
// counted; the file has every one).
const MaxListedFailures = 1000

// Aggregate summarises the records of a sweep (or of a prefix of it).
// Distributions use log-linear histograms (relative error below 1/64), so
// an aggregate of millions of seeds takes constant memory.
type Aggregate struct {
	Header      Header
	Planned     uint64 // seeds the file should hold
	Done        uint64 // records aggregated
	Interrupted bool
	Verdicts    map[string]uint64
	Failures    uint64
	// Expected counts the failing seeds whose violation happened outside
	// the fault model (part of Failures): expected, not a failure of the
	// sweep (see Unexpected).
	Expected uint64
	// Failing lists the first MaxListedFailures failing seeds in seed order
	// with their verdicts.
	Failing   []Failing
	Completed uint64 // records whose run accepted every request
	// NotJudged counts, per property, the records whose run could not
	// judge it (see Record.NotJudged).
	NotJudged map[string]uint64

	LatencyP50 Dist // the per-seed client latency p50, ns
	LatencyP99 Dist // the per-seed client latency p99, ns
	Messages   Dist // network messages per seed
	Views      Dist // view changes per seed

	// Knobs counts, per swarm knob and value, the seeds and the failing
	// seeds (swarm sweeps only).
	Knobs map[string]map[string]*KnobCount
	// Probes counts, per coverage probe, the reports and the seeds that
	// reported it.
	Probes map[string]*ProbeCount
}

// ProbeCount counts one probe's reports and the seeds that reported it.
type ProbeCount struct{ Reports, Seeds uint64 }

// KnobCount counts the seeds that drew one knob value and how many failed.
type KnobCount struct{ Seeds, Failures uint64 }

// Failing is one failing seed.
type Failing struct {
	Seed    uint64
	Verdict string
	Detail  string
}

// NewAggregate returns an empty aggregate of the file described by h.
func NewAggregate(h Header) *Aggregate {
	return &Aggregate{Header: h, Planned: h.Shard.Len(h.Seeds), Verdicts: map[string]uint64{}}
}

// Add aggregates one record.
func (a *Aggregate) Add(r *Record) {
	a.Done++
	a.Verdicts[r.Verdict]++
	if r.Failed() {
		a.Failures++
		if !r.Unexpected() {
			a.Expected++
		}
		if len(a.Failing) < MaxListedFailures {
			a.Failing = append(a.Failing, Failing{Seed: r.Seed, Verdict: r.Verdict, Detail: r.Detail})
		}
	}
	if r.Completed {
		a.Completed++
	}
	for _, p := range r.NotJudged {
		if a.NotJudged == nil {
			a.NotJudged = map[string]uint64{}
		}
		a.NotJudged[p]++
	}
	for p, n := range r.Probes { // counting only: the order does not matter
		if a.Probes == nil {
			a.Probes = map[string]*ProbeCount{}
		}
		c := a.Probes[p]
		if c == nil {
			c = &ProbeCount{}
			a.Probes[p] = c
		}
		c.Seeds++
		c.Reports += n
	}
	for k, v := range r.Knobs { // counting only: the order does not matter
		if a.Knobs == nil {
			a.Knobs = map[string]map[string]*KnobCount{}
		}
		if a.Knobs[k] == nil {
			a.Knobs[k] = map[string]*KnobCount{}
		}
		c := a.Knobs[k][v]
		if c == nil {
			c = &KnobCount{}
			a.Knobs[k][v] = c
		}
		c.Seeds++
		if r.Failed() {
			c.Failures++
		}
	}
	a.LatencyP50.Add(max(r.LatencyP50Ns, 0))
	a.LatencyP99.Add(max(r.LatencyP99Ns, 0))
	a.Messages.Add(int64(min(r.Messages, math.MaxInt64)))
	a.Views.Add(int64(max(r.ViewChanges, 0)))
}

// Unexpected is the number of seeds that make the sweep exit 1: violations
// within the fault model, errors and panics (the same rule as pbftsim run).
func (a *Aggregate) Unexpected() uint64 { return a.Failures - a.Expected }

// trailer returns the trailer of a file holding exactly the aggregated records.
func (a *Aggregate) trailer() Trailer {
	return Trailer{Kind: "trailer", Records: a.Done, Verdicts: a.Verdicts}
}

// ReplayCommand returns the command that reruns one seed of the sweep.
func (a *Aggregate) ReplayCommand(seed uint64) string {
	if a.Header.Swarm {
		return fmt.Sprintf("pbftsim sweep --swarm --seeds %d --out swarm-%d.jsonl", seed, seed)
	}
	return fmt.Sprintf("pbftsim run --scenario %s --seed %d", shquote.Quote(a.Header.Scenario), seed)
}

// Write prints the aggregate for people: verdict counts, failing seeds with
// the commands that replay them (at most listMax; <= 0 means 20), and the
// latency and message distributions.
func (a *Aggregate) Write(w io.Writer, listMax int) {
	if listMax <= 0 {
		listMax = 20
	}
	h := a.Header
	shard := ""
	if h.Shard.norm() != Whole {
		shard = fmt.Sprintf(", shard %s", h.Shard)
	}
	fmt.Fprintf(w, "sweep of scenario %s, seeds %s%s: %d of %d seeds ran", h.Scenario, h.Seeds, shard, a.Done, a.Planned)
	if a.Interrupted {
		fmt.Fprint(w, " - INTERRUPTED: the records of the seeds that ran are complete, the rest did not run")
	}
	fmt.Fprintln(w)
	names := make([]string, 0, len(a.Verdicts))
	for v := range a.Verdicts {
		names = append(names, v)
	}
	slices.Sort(names)
	var parts []string
	for _, v := range names {
		parts = append(parts, fmt.Sprintf("%s %d", v, a.Verdicts[v]))
	}
	if len(parts) == 0 {
		parts = []string{"none"}
	}
	expected := ""
	if a.Expected > 0 {
		expected = fmt.Sprintf(" (%d of them outside the fault model, as expected there)", a.Expected)
	}
	fmt.Fprintf(w, "verdicts: %s; %d failing%s; %d of %d runs accepted every request\n", strings.Join(parts, ", "), a.Failures, expected, a.Completed, a.Done)
	if len(a.NotJudged) > 0 {
		props := make([]string, 0, len(a.NotJudged))
		for p := range a.NotJudged {
			props = append(props, p)
		}
		slices.Sort(props)
		var nj []string
		for _, p := range props {
			nj = append(nj, fmt.Sprintf("%s in %d", p, a.NotJudged[p]))
		}
		fmt.Fprintf(w, "not judged: %s of %d seeds (not_judged in the records; pbftsim run --seed S says why)\n", strings.Join(nj, ", "), a.Done)
	}
	for i, f := range a.Failing {
		if i == listMax {
			fmt.Fprintf(w, "  ... and %d more failing seeds (verdict != \"ok\" in the records)\n", a.Failures-uint64(listMax))
			break
		}
		detail := f.Detail
		if len(detail) > 120 {
			detail = detail[:117] + "..."
		}
		fmt.Fprintf(w, "  seed %d: %s: %s\n    replay: %s\n", f.Seed, f.Verdict, detail, a.ReplayCommand(f.Seed))
	}
	if a.Done == 0 {
		return
	}
	dur := func(v int64) string { return time.Duration(v).String() }
	num := func(v int64) string { return fmt.Sprint(v) }
	fmt.Fprintf(w, "latency p50 per seed: %s\n", a.LatencyP50.Format(dur))
	fmt.Fprintf(w, "latency p99 per seed: %s\n", a.LatencyP99.Format(dur))
	fmt.Fprintf(w, "messages per seed:    %s\n", a.Messages.Format(num))
	fmt.Fprintf(w, "view changes per seed: %s\n", a.Views.Format(num))
	a.writeKnobs(w)
	a.writeProbes(w)
}

// writeProbes prints the coverage probes reached, in name order: reports
// and seeds.
func (a *Aggregate) writeProbes(w io.Writer) {
	if len(a.Probes) == 0 {
		return
	}
	names := make([]string, 0, len(a.Probes))
	for p := range a.Probes {
		names = append(names, p)
	}
	slices.Sort(names)
	fmt.Fprintln(w, "coverage probes (reports, seeds):")
	for _, p := range names {
		fmt.Fprintf(w, "  %-40s %9d %7d\n", p, a.Probes[p].Reports, a.Probes[p].Seeds)
	}
}

// knobRows is how many knob values the summary lists.
const knobRows = 25

// writeKnobs prints, for a swarm sweep with failures, the failure rate of
// each knob value against the overall rate: the knobs over-represented
// among failing seeds come first.
func (a *Aggregate) writeKnobs(w io.Writer) {
	if len(a.Knobs) == 0 || a.Failures == 0 || a.Done == 0 {
		return
	}
	type row struct {
		knob, value string
		c           KnobCount
		lift        float64
	}
	base := float64(a.Failures) / float64(a.Done)
	support := max(5, a.Done/100) // fewer seeds than this say little
	var rows []row
	for k, vs := range a.Knobs {
		for v, c := range vs {
			if c.Seeds < support {
				continue
			}
			rows = append(rows, row{k, v, *c, float64(c.Failures) / float64(c.Seeds) / base})
		}
	}
	slices.SortFunc(rows, func(x, y row) int {
		switch {
		case x.lift != y.lift:
			if x.lift > y.lift {
				return -1
			}
			return 1
		case x.knob != y.knob:
			return strings.Compare(x.knob, y.knob)
		}
		return strings.Compare(x.value, y.value)
	})
	fmt.Fprintf(w, "failures per knob value, values drawn by at least %d seeds, top %d (overall %.1f%% of seeds fail; lift = the value's failure rate / overall):\n",
		support, knobRows, 100*base)
	fmt.Fprintf(w, "  %-16s %-28s %8s %8s %6s %6s\n", "knob", "value", "seeds", "failing", "rate", "lift")
	for i, r := range rows {
		if i == knobRows {
			break
		}
		fmt.Fprintf(w, "  %-16s %-28s %8d %8d %5.1f%% %6.2f\n", r.knob, r.value, r.c.Seeds, r.c.Failures,
			100*float64(r.c.Failures)/float64(r.c.Seeds), r.lift)
	}
}

// Dist is a distribution of non-negative values: exact count, min, max and
// mean, and quantiles from a log-linear histogram.
type Dist struct {
	N        uint64
	Min, Max int64
	sum      float64
	buckets  map[int]uint64 // read only by index, never iterated
	top      int            // highest bucket used
}

const subBits = 6 // 64 linear sub-buckets per power of two

func bucketOf(v uint64) int {
	if v < 1<<subBits {
		return int(v)
	}
	e := bits.Len64(v) - subBits - 1
	return (e+1)<<subBits + int(v>>uint(e)) - 1<<subBits
}

// bucketLow returns the smallest value of bucket b.
func bucketLow(b int) int64 {
	if b < 1<<subBits {
		return int64(b)
	}
	e := b>>subBits - 1
	m := b&(1<<subBits-1) + 1<<subBits
	return int64(m) << uint(e)
}

// Add adds one value (negative values count as 0).
func (d *Dist) Add(v int64) {
	v = max(v, 0)
	if d.N == 0 || v < d.Min {
		d.Min = v
	}
	if d.N == 0 || v > d.Max {
		d.Max = v
	}
	d.N++
	d.sum += float64(v)
	if d.buckets == nil {
		d.buckets = map[int]uint64{}
	}
	b := bucketOf(uint64(v))
	d.buckets[b]++
	d.top = max(d.top, b)
}

// Mean returns the mean value (0 when empty).
func (d *Dist) Mean() float64 {
	if d.N == 0 {
		return 0
	}
	return d.sum / float64(d.N)
}

// Quantile returns the q-quantile (0 < q <= 1), to within the histogram's
// resolution, clamped to [Min, Max].
func (d *Dist) Quantile(q float64) int64 {
	if d.N == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(d.N)))
	rank = min(max(rank, 1), d.N)
	var seen uint64
	for b := 0; b <= d.top; b++ {
		seen += d.buckets[b]
		if seen >= rank {
			return min(max(bucketLow(b), d.Min), d.Max)
		}
	}
	return d.Max
}

// Format prints "min X, p50 X, p90 X, p99 X, max X, mean X" with f
// formatting the values.
func (d *Dist) Format(f func(int64) string) string {
	if d.N == 0 {
		return "no data"
	}
	return fmt.Sprintf("min %s, p50 %s, p90 %s, p99 %s, max %s, mean %s",
		f(d.Min), f(d.Quantile(0.5)), f(d.Quantile(0.9)), f(d.Quantile(0.99)), f(d.Max), f(int64(math.Round(d.Mean()))))
}
