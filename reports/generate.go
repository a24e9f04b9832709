package reports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pbftsim/pbftsim/sim/cluster"
)

// Summary is everything a report states. Its JSON form (without Runs) is
// summary.json; Runs are results.json.
type Summary struct {
	Version   string   `json:"version"`
	Scenario  string   `json:"scenario"`
	Command   string   `json:"command"`
	Nodes     []int    `json:"nodes"`
	Seeds     []uint64 `json:"seeds"`
	Requests  int      `json:"requests"`
	Batch     int      `json:"batch"`
	K         int      `json:"checkpoint_interval"`
	Tolerance float64  `json:"tolerance"`

	// Fit is the log-log fit of normal-case messages per committed request vs n.
	Fit PowerFit `json:"fit"`
	// Quadratic is the fit of normal-case messages per request as a·n²+b·n+c.
	Quadratic QuadFit `json:"quadratic"`
	// ClosedForm compares the measurements with the closed-form counts.
	ClosedForm Comparison `json:"closed_form"`
	// BytesFit is the log-log fit of all bytes per committed request vs n.
	BytesFit *PowerFit `json:"bytes_fit,omitempty"`
	// ViewChange fits messages and bytes per view change vs n (nil when fewer
	// than 3 values of n had view changes).
	ViewChange *ViewChangeFit `json:"view_change,omitempty"`

	// WithinBound says whether messages per request grow within O(n²):
	// the same rule as OrderN2, which decides the headline, the table and
	// the CLI's summary line alike. Constants above the closed form (losses,
	// retransmissions, view changes) do not change the order of growth; they
	// are ConstantsWithin, reported beside it.
	WithinBound bool `json:"within_bound"`
	// ConstantsWithin: at every n, measured/closed-form <= 1+Tolerance for
	// normal-case messages per request, checkpoint messages per round and
	// view-change messages per view change.
	ConstantsWithin bool `json:"constants_within"`
	// OrderN2: the exponent's CI contains 2, or the exponent is at most
	// max(2, ClosedForm.Exponent) + ExponentSlack.
	OrderN2 bool `json:"order_n2"`
	// Exact: normal-case (and checkpoint, view-change) counts equal the closed
	// form at every n and seed.
	Exact bool `json:"exact"`
	// Verdict is the one-paragraph conclusion.
	Verdict string `json:"verdict"`
	// Deviations says where measured counts exceed the closed form and why.
	Deviations []Deviation `json:"deviations"`
	// Excluded lists n whose runs committed nothing (left out of the fits).
	Excluded []int `json:"excluded,omitempty"`
	// Diverged lists the n at which some run ended with honest replicas
	// disagreeing on a payment; DivergedRuns counts those runs.
	Diverged     []int `json:"diverged,omitempty"`
	DivergedRuns int   `json:"diverged_runs,omitempty"`
	// OutsideFaultModel is true when the scenario's runs are outside the
	// fault model.
	OutsideFaultModel bool `json:"outside_fault_model,omitempty"`
	// Bandwidth is set when the scenario's links are rate-limited.
	Bandwidth *BandwidthReport `json:"bandwidth,omitempty"`

	Points []Point `json:"points"`

	// Wall is wall-clock information; it is the only part that differs between
	// identical sweeps.
	Wall Wall `json:"wall"`

	// Runs are the individual runs, in (n, seed) order (results.json).
	Runs []Run `json:"-"`
	// Out is where the report was written.
	Out string `json:"-"`
}

// Comparison is the closed-form comparison.
type Comparison struct {
	// Formula is the normal-case closed form used.
	Formula string `json:"formula"`
	// Exponent is the log-log slope of the closed form itself over the same
	// n (above 2 at small n because of the lower-order terms).
	Exponent float64 `json:"exponent"`
	// MaxRatio and MinRatio are the extreme measured/closed-form ratios of
	// normal-case messages per request; MaxRatioN is where the max is.
	MaxRatio  float64   `json:"max_ratio"`
	MinRatio  float64   `json:"min_ratio"`
	MaxRatioN int       `json:"max_ratio_n"`
	PerN      []Compare `json:"per_n"`
}

// Compare is the comparison at one n (means over seeds; 0 when not measured).
type Compare struct {
	N                    int     `json:"n"`
	NormalMeasured       float64 `json:"normal_per_request"`
	NormalClosedForm     float64 `json:"normal_closed_form"`
	NormalRatio          float64 `json:"normal_ratio"`
	CheckpointPerRound   float64 `json:"checkpoint_per_round"`
	CheckpointClosedForm float64 `json:"checkpoint_closed_form"`
	CheckpointRatio      float64 `json:"checkpoint_ratio"`
	ViewChangeMessages   float64 `json:"messages_per_view_change"`
	ViewChangeClosedForm float64 `json:"view_change_closed_form"`
	ViewChangeRatio      float64 `json:"view_change_ratio"`
	Exact                bool    `json:"exact"`
}

// ViewChangeFit fits the cost of one view change against n.
type ViewChangeFit struct {
	Messages PowerFit `json:"messages"`
	Bytes    PowerFit `json:"bytes"`
	Nodes    []int    `json:"nodes"`
}

// Deviation explains where measured counts exceed the closed form at one n.
type Deviation struct {
	N      int     `json:"n"`
	Phase  string  `json:"phase"`
	Ratio  float64 `json:"ratio"`
	Excess float64 `json:"excess"` // messages above the closed form (per request, per round or per view change)
	// Types lists the message types above their closed form (normal phase).
	Types       []TypeExcess `json:"types,omitempty"`
	Dropped     float64      `json:"dropped_mean"`
	Duplicated  float64      `json:"duplicated_mean"`
	ViewChanges float64      `json:"view_changes_mean"`
	Why         string       `json:"why"`
}

// TypeExcess is one message type's excess per committed request.
type TypeExcess struct {
	Type       string  `json:"type"`
	Measured   float64 `json:"measured"`
	ClosedForm float64 `json:"closed_form"`
}

// Wall is wall-clock time measured around the runs (outside the simulation).
type Wall struct {
	TotalNs int64       `json:"total_ns"`
	Workers int         `json:"workers"`
	PerN    []WallPoint `json:"per_n"`
}

// WallPoint compares simulated and wall-clock time at one n.
type WallPoint struct {
	N       int     `json:"n"`
	SimS    float64 `json:"sim_time_s"`
	WallS   float64 `json:"wall_time_s"`
	Speedup float64 `json:"sim_per_wall"`
}

// Generate runs the sweep described by opt with run (cluster.Run when nil),
// analyses it and writes the report folder opt.Out atomically. Bad options,
// including an output folder that cannot be written, give an *InputError
// before any simulation runs; a failing run gives an error naming n and seed.
// On any error an existing opt.Out is left untouched.
func Generate(ctx context.Context, opt Options, run Runner) (*Summary, error) {
	if run == nil {
		return nil, errors.New("report: no runner")
	}
	p, err := newPlan(opt, runtime.NumCPU())
	if err != nil {
		return nil, err
	}
	if err := checkWritable(p.opt.Out); err != nil {
		return nil, err
	}
	j, done, err := openJournal(p)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	runs, err := sweep(ctx, p, run, j, done)
	if errors.Is(err, ErrInterrupted) {
		if kerr := j.keep(); kerr != nil {
			return nil, errors.Join(err, kerr)
		}
		return nil, err
	}
	if err != nil {
		j.abort()
		return nil, err
	}
	s := analyse(p, runs)
	s.Wall.TotalNs = time.Since(start).Nanoseconds()
	if err := write(s, p.opt.Out); err != nil {
		j.abort()
		return nil, err
	}
	j.abort() // the report holds every run now
	s.Out = p.opt.Out
	return s, nil
}

// sweep runs every point on a pool of p.workers goroutines and returns the
// runs in point order.
func sweep(parent context.Context, p *plan, run Runner, j *journal, done map[int]Run) ([]Run, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	pts := p.points()
	runs := make([]Run, len(pts))
	errs := make([]error, len(pts))
	for i, r := range done {
		runs[i] = r
	}
	var stop atomic.Bool
	go func() { <-ctx.Done(); stop.Store(true) }()

	jobs := make(chan int)
	finished := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(p.workers, len(pts)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				cfg := p.config(pts[i])
				cfg.StopWhen = stop.Load
				res, wall, err := runOne(ctx, run, cfg)
				switch {
				case err != nil:
					errs[i] = fmt.Errorf("report: run n=%d seed=%d: %w", pts[i].n, pts[i].seed, err)
				case res == nil:
					errs[i] = fmt.Errorf("report: run n=%d seed=%d: runner returned no result", pts[i].n, pts[i].seed)
				default:
					runs[i] = newRun(pts[i].n, pts[i].seed, p.k, res)
					runs[i].WallTimeNs = wall.Nanoseconds()
					if !stop.Load() { // a run cut short by Ctrl-C is not finished
						j.add(runs[i])
					}
				}
				if errs[i] != nil {
					cancel()
				}
				finished <- i
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range pts {
			if _, ok := done[i]; ok {
				continue
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(finished) }()

	bar := newProgress(p.opt.Progress, len(pts))
	bar.n = len(done)
	for i := range finished {
		bar.step(pts[i])
	}
	bar.finish()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
	}
	if err := parent.Err(); err != nil {
		if j == nil {
			return nil, fmt.Errorf("%w: %w", ErrInterrupted, err)
		}
		return nil, fmt.Errorf("%w: %d of %d runs finished and kept in %s (rerun with --resume to continue): %w",
			ErrInterrupted, j.runs, len(pts), j.path, err)
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return runs, nil
}

// progress draws a one-line progress bar.
type progress struct {
	w     io.Writer
	total int
	n     int
}

func newProgress(w io.Writer, total int) *progress { return &progress{w: w, total: total} }

func (b *progress) step(pt point) {
	b.n++
	if b.w == nil {
		return
	}
	const width = 30
	fill := b.n * width / b.total
	fmt.Fprintf(b.w, "\rreport [%s%s] %d/%d runs (last n=%d seed=%d)", strings.Repeat("#", fill),
		strings.Repeat(".", width-fill), b.n, b.total, pt.n, pt.seed)
}

func (b *progress) finish() {
	if b.w != nil && b.n > 0 {
		fmt.Fprintln(b.w)
	}
}

// analyse aggregates runs into points, fits and the verdict.
func analyse(p *plan, runs []Run) *Summary {
	s := &Summary{
		Version: p.opt.Version, Scenario: p.opt.Scenario, Command: p.opt.Command,
		Nodes: p.nodes, Seeds: p.seeds, Requests: p.base.Requests, Batch: p.batch, K: p.k,
		Tolerance: p.tolerance, Runs: runs, Deviations: []Deviation{},
	}
	if s.Scenario == "" {
		s.Scenario = "fault-free"
	}
	s.Bandwidth = newBandwidthReport(p.base) // bandwidth.go
	types := typesOf(runs, false)
	byN := map[int][]Run{}
	for _, r := range runs {
		byN[r.N] = append(byN[r.N], r)
	}
	s.Wall.Workers = p.workers
	var fn, fy, fb, vcN, vcMsgs, vcBytes, cn, cy []float64
	var vcNodes []int
	for _, n := range p.nodes {
		pt := aggregate(n, byN[n], types, p.batch, p.k)
		if s.Bandwidth != nil {
			var x []float64
			for _, r := range byN[n] {
				if r.ViewChanges > 0 {
					x = append(x, linkMs(r.BytesPerViewChange, n, s.Bandwidth.Egress))
				}
			}
			pt.LinkMs = Summarize(x)
		}
		s.Points = append(s.Points, pt)
		var wall []float64
		for _, r := range byN[n] {
			wall = append(wall, float64(r.WallTimeNs)/1e9)
		}
		ws := Summarize(wall).Mean
		wp := WallPoint{N: n, SimS: pt.SimTimeS.Mean, WallS: ws}
		if ws > 0 {
			wp.Speedup = wp.SimS / ws
		}
		s.Wall.PerN = append(s.Wall.PerN, wp)
		cn = append(cn, float64(n))
		cy = append(cy, pt.ClosedForm.NormalPerRequest)
		if pt.CommittedRuns == 0 {
			s.Excluded = append(s.Excluded, n)
			continue
		}
		fn = append(fn, float64(n))
		fy = append(fy, pt.NormalPerRequest.Mean)
		fb = append(fb, pt.BytesPerRequest.Mean)
		if pt.MessagesPerViewChange.N > 0 && pt.BytesPerViewChange.Mean > 0 {
			vcNodes = append(vcNodes, n)
			vcN = append(vcN, float64(n))
			vcMsgs = append(vcMsgs, pt.MessagesPerViewChange.Mean)
			vcBytes = append(vcBytes, pt.BytesPerViewChange.Mean)
		}
	}
	cf, _ := FitPower(cn, cy)
	s.ClosedForm.Exponent = cf.Exponent
	s.ClosedForm.Formula = "2n²−n+1"
	if p.batch > 1 {
		s.ClosedForm.Formula = fmt.Sprintf("(2n²−2n)/%d+n+1", p.batch)
	}
	fitErr := error(nil)
	if s.Fit, fitErr = FitPower(fn, fy); fitErr == nil {
		s.Quadratic, _ = FitQuadratic(fn, fy)
	}
	if bf, err := FitPower(fn, fb); err == nil {
		s.BytesFit = &bf
	}
	if len(vcN) >= 3 {
		m, err1 := FitPower(vcN, vcMsgs)
		b, err2 := FitPower(vcN, vcBytes)
		if err1 == nil && err2 == nil {
			s.ViewChange = &ViewChangeFit{Messages: m, Bytes: b, Nodes: vcNodes}
		}
	}
	s.analyseBandwidth()
	s.compare(byN)
	for _, r := range runs {
		s.OutsideFaultModel = s.OutsideFaultModel || r.OutsideFaultModel
		if r.DivergedPayments > 0 {
			s.DivergedRuns++
			if !slices.Contains(s.Diverged, r.N) {
				s.Diverged = append(s.Diverged, r.N)
			}
		}
	}
	s.verdict(fitErr)
	return s
}

const exactEps = 1e-9

func relEq(a, b float64) bool { return math.Abs(a-b) <= exactEps*math.Max(1, math.Abs(b)) }

// compare fills ClosedForm.PerN, Deviations, ConstantsWithin and Exact.
func (s *Summary) compare(byN map[int][]Run) {
	s.ConstantsWithin, s.Exact = true, true
	s.ClosedForm.MinRatio = math.Inf(1)
	limit := 1 + s.Tolerance
	for _, pt := range s.Points {
		cf := pt.ClosedForm
		c := Compare{N: pt.N, NormalClosedForm: cf.NormalPerRequest, CheckpointClosedForm: cf.CheckpointPerRound,
			ViewChangeClosedForm: cf.ViewChange, Exact: pt.CommittedRuns > 0}
		if pt.CommittedRuns == 0 {
			s.Exact = false
			s.ClosedForm.PerN = append(s.ClosedForm.PerN, c)
			continue
		}
		c.NormalMeasured, c.NormalRatio = pt.NormalPerRequest.Mean, pt.Ratio
		for _, r := range byN[pt.N] {
			if r.Committed == 0 {
				continue
			}
			if !relEq(r.NormalPerRequest, cf.NormalPerRequest) {
				c.Exact = false
			}
			if r.CheckpointRounds > 0 && !relEq(r.CheckpointPerRound, cf.CheckpointPerRound) {
				c.Exact = false
			}
			if r.ViewChanges > 0 && !relEq(r.MessagesPerViewChange, cf.ViewChange) {
				c.Exact = false
			}
		}
		if c.NormalRatio > s.ClosedForm.MaxRatio {
			s.ClosedForm.MaxRatio, s.ClosedForm.MaxRatioN = c.NormalRatio, pt.N
		}
		s.ClosedForm.MinRatio = math.Min(s.ClosedForm.MinRatio, c.NormalRatio)
		dev := func(phase string, ratio, excess float64, why string) Deviation {
			return Deviation{N: pt.N, Phase: phase, Ratio: ratio, Excess: excess,
				Dropped: pt.Dropped.Mean, Duplicated: pt.Duplicated.Mean, ViewChanges: pt.ViewChanges.Mean, Why: why}
		}
		// deviate records d, explained, as a point beyond the closed form.
		deviate := func(d Deviation) {
			s.ConstantsWithin = false
			d.Why = explain(d)
			s.Deviations = append(s.Deviations, d)
		}
		if c.NormalRatio > limit {
			d := dev(PhaseNormal, c.NormalRatio, c.NormalMeasured-cf.NormalPerRequest, "")
			for _, t := range []string{TypeRequest, TypePrePrepare, TypePrepare, TypeCommit, TypeReply} {
				m := pt.ByType[t].Mean
				if m > cf.PerType[t]*(1+exactEps) {
					d.Types = append(d.Types, TypeExcess{Type: t, Measured: m, ClosedForm: cf.PerType[t]})
				}
			}
			deviate(d)
		}
		if pt.CheckpointPerRound.N > 0 {
			c.CheckpointPerRound = pt.CheckpointPerRound.Mean
			c.CheckpointRatio = c.CheckpointPerRound / cf.CheckpointPerRound
			if c.CheckpointRatio > limit {
				deviate(dev(PhaseCheckpoint, c.CheckpointRatio, c.CheckpointPerRound-cf.CheckpointPerRound, ""))
			}
		}
		if pt.MessagesPerViewChange.N > 0 {
			c.ViewChangeMessages = pt.MessagesPerViewChange.Mean
			c.ViewChangeRatio = c.ViewChangeMessages / cf.ViewChange
			if c.ViewChangeRatio > limit {
				deviate(dev(PhaseViewChange, c.ViewChangeRatio, c.ViewChangeMessages-cf.ViewChange, ""))
			}
		}
		if !c.Exact {
			s.Exact = false
		}
		s.ClosedForm.PerN = append(s.ClosedForm.PerN, c)
	}
	if math.IsInf(s.ClosedForm.MinRatio, 1) {
		s.ClosedForm.MinRatio = 0
	}
}

// explain names the likely causes of a deviation.
func explain(d Deviation) string {
	var why []string
	for _, t := range d.Types {
		switch t.Type {
		case TypeRequest:
			why = append(why, fmt.Sprintf("client retransmissions (%.2f REQUEST per request vs 1)", t.Measured))
		case TypeReply:
			why = append(why, fmt.Sprintf("repeated replies (%.2f REPLY per request vs %.0f)", t.Measured, t.ClosedForm))
		default:
			why = append(why, fmt.Sprintf("%s %.1f per request vs %.1f", t.Type, t.Measured, t.ClosedForm))
		}
	}
	if d.Dropped > 0 {
		why = append(why, fmt.Sprintf("%.0f messages dropped per run (lost by the network or sent to crashed replicas; losses cause retransmissions and timeouts)", d.Dropped))
	}
	if d.Duplicated > 0 {
		why = append(why, fmt.Sprintf("%.0f messages duplicated per run", d.Duplicated))
	}
	if d.ViewChanges > 0 {
		switch d.Phase {
		case PhaseViewChange:
			why = append(why, fmt.Sprintf("%.1f view changes entered per run; VIEW-CHANGEs for views never entered (timeouts moving on to v+2) and resent VIEW-CHANGEs add to each", d.ViewChanges))
		default:
			why = append(why, fmt.Sprintf("%.1f view changes per run (requests re-proposed in the new view)", d.ViewChanges))
		}
	}
	if len(why) == 0 {
		why = append(why, "no drops, duplicates or view changes: the implementation sends more than the protocol requires")
	}
	return strings.Join(why, "; ")
}

// verdict fills OrderN2, WithinBound and Verdict.
func (s *Summary) verdict(fitErr error) {
	if fitErr != nil {
		s.Verdict = fmt.Sprintf("NO VERDICT: the exponent could not be fitted (%v); excluded n without commits: %v.", fitErr, s.Excluded)
		return
	}
	f := s.Fit
	limit := math.Max(2, s.ClosedForm.Exponent) + ExponentSlack
	s.OrderN2 = (f.ExponentCI[0] <= 2 && 2 <= f.ExponentCI[1]) || f.Exponent <= limit
	s.WithinBound = s.OrderN2
	var b strings.Builder
	if len(s.Diverged) > 0 {
		fmt.Fprintf(&b, "SAFETY LOST: honest replicas diverged in %d of %d runs (n=%v)", s.DivergedRuns, len(s.Runs), s.Diverged)
		if s.OutsideFaultModel {
			b.WriteString(", as the scenario is outside the fault model (more faulty replicas than f)")
		}
		b.WriteString(": the counts below describe runs that did not reach agreement. ")
	} else if s.OutsideFaultModel {
		b.WriteString("The scenario is outside the fault model (more faulty replicas than f, or no stabilisation), though no run diverged. ")
	}
	switch {
	case s.WithinBound && s.ConstantsWithin:
		b.WriteString("WITHIN the O(n²) bound. ")
	case s.WithinBound:
		b.WriteString("WITHIN the O(n²) bound, with constants above the closed form (see below). ")
	default:
		b.WriteString("NOT within the O(n²) bound. ")
	}
	fmt.Fprintf(&b, "Normal-case messages per committed request grow as n^%.3f (95%% CI [%.3f, %.3f], R² %.4f); "+
		"the closed form %s has log-log slope %.3f over the same n. ",
		f.Exponent, f.ExponentCI[0], f.ExponentCI[1], f.R2, s.ClosedForm.Formula, s.ClosedForm.Exponent)
	if !s.OrderN2 {
		fmt.Fprintf(&b, "The exponent exceeds %.3f by %.3f. ", limit, f.Exponent-limit)
	}
	switch {
	case s.Exact:
		b.WriteString("Counts equal the closed form exactly at every n and seed. ")
	case s.ConstantsWithin:
		fmt.Fprintf(&b, "Measured counts are at most %+.1f%% from the closed form (tolerance %.0f%%). ",
			(s.ClosedForm.MaxRatio-1)*100, s.Tolerance*100)
	default:
		fmt.Fprintf(&b, "Measured counts exceed the closed form by up to %.1f%% (n=%d, tolerance %.0f%%): see deviations. ",
			(s.ClosedForm.MaxRatio-1)*100, s.ClosedForm.MaxRatioN, s.Tolerance*100)
		if s.ClosedForm.MaxRatio <= 1+s.Tolerance {
			b.WriteString("(Normal-case counts are within tolerance; checkpoint or view-change counts are not.) ")
		}
	}
	if len(s.Excluded) > 0 {
		fmt.Fprintf(&b, "No request committed at n=%v (left out of the fits). ", s.Excluded)
	}
	s.Verdict = strings.TrimSpace(b.String())
}

// Default runner check: cluster.Run has this signature.
var _ = func(f func(cluster.Config) (*cluster.Result, error)) Runner { return f }
