package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// FileComparisonRuns is the runs of a protocol comparison report, by
// protocol; the comparison itself is in FileSummary.
const FileComparisonRuns = "runs.json"

// ProtocolComparison compares protocols over one sweep: the same scenario,
// n list, seeds, workload and network for each.
type ProtocolComparison struct {
	Scenario  string            `json:"scenario"`
	Command   string            `json:"command,omitempty"`
	Version   string            `json:"version,omitempty"`
	Nodes     []int             `json:"nodes"`
	Seeds     []uint64          `json:"seeds"`
	Requests  int               `json:"requests_per_run"`
	Batch     int               `json:"batch"`
	K         int               `json:"checkpoint_interval"`
	Protocols []ProtocolResults `json:"protocols"`
	// Conclusions is the plain-words table: one row per question.
	Conclusions []ConclusionRow `json:"conclusions"`
	Out         string          `json:"-"`
}

// ProtocolResults is one protocol's part of a comparison.
type ProtocolResults struct {
	Protocol string `json:"protocol"`
	// ClosedForm is the fault-free messages per committed request as a
	// formula of n; ClosedFormAt evaluates it.
	ClosedForm string          `json:"closed_form"`
	Points     []ProtocolPoint `json:"points"`
	// MessagesFit and BytesFit fit messages (bytes) per committed request
	// against n over every run that committed something.
	MessagesFit PowerFit `json:"messages_fit"`
	BytesFit    PowerFit `json:"bytes_fit"`
	// Exact is true when the mean messages per request equals the closed
	// form at every n (as it must in a fault-free run).
	Exact bool `json:"exact"`
	// ViewChangeFit and ViewChangeBytesFit fit the messages (bytes) of one
	// view change against n, measured in runs whose first leader is
	// crashed from the start.
	ViewChangeFit      PowerFit `json:"view_change_fit"`
	ViewChangeBytesFit PowerFit `json:"view_change_bytes_fit"`
	// ViewChangeTypes are the message types counted as the view change.
	ViewChangeTypes []string `json:"view_change_types"`
	// FailedLeadersFit and FailedLeadersBytesFit fit the view-change
	// messages (bytes) of a whole run in which the first f+1 leaders fail
	// in a row (see failedLeaders) against n.
	FailedLeadersFit      PowerFit `json:"failed_leaders_fit"`
	FailedLeadersBytesFit PowerFit `json:"failed_leaders_bytes_fit"`
	Runs                  []Run    `json:"-"`
}

// ProtocolPoint is one protocol's measurements at one n (means over seeds).
type ProtocolPoint struct {
	N                  int     `json:"n"`
	Runs               int     `json:"runs"`
	Completed          int     `json:"completed_runs"`
	MessagesPerRequest float64 `json:"messages_per_request"`
	ClosedForm         float64 `json:"closed_form_per_request"`
	BytesPerRequest    float64 `json:"bytes_per_request"`
	LatencyP50Ms       float64 `json:"latency_p50_ms"`
	Throughput         float64 `json:"throughput_per_sim_s"`
	ViewChanges        float64 `json:"view_changes"`
	// ViewChangeMessages and ViewChangeBytes are per view change, in the
	// crashed-leader runs (0 when no view change happened).
	ViewChangeMessages float64 `json:"view_change_messages"`
	ViewChangeBytes    float64 `json:"view_change_bytes"`
	// FailedLeadersViewChanges, FailedLeadersMessages and
	// FailedLeadersBytes are the view changes, and the view-change messages
	// and bytes in all, of the runs whose first f+1 leaders fail in a row
	// (means over the runs that completed; 0 when none did).
	FailedLeadersViewChanges float64 `json:"failed_leaders_view_changes"`
	FailedLeadersMessages    float64 `json:"failed_leaders_messages"`
	FailedLeadersBytes       float64 `json:"failed_leaders_bytes"`
}

// ConclusionRow answers one question for every protocol.
type ConclusionRow struct {
	Question string   `json:"question"`
	Answers  []string `json:"answers"` // in Protocols order
	Verdict  string   `json:"verdict"`
}

// protocolClosedForm returns the fault-free messages per committed request
// of a protocol with batches of b requests, checkpoint interval k and
// requests requests per run.
func protocolClosedForm(protocol string, b, k, requests int) (string, func(n float64) float64) {
	fb := float64(max(b, 1))
	if protocol == cluster.ProtocolChainedHotStuff {
		// per view a PREPARE and a vote to the next leader, n−1 each; per
		// request REQUEST to all n and n REPLYs. One closed-loop client
		// needs four views per request (its block commits three views
		// later): 10n−8. More clients pipeline: v views per request, v
		// measured, and a next leader whose votes outran the proposal
		// fetches the block (φ messages per request, measured; see
		// chainedClosedForm); the curve is the one-client form.
		return "2n + 2(n−1)·v + φ (v views and φ block-fetch messages per request, measured; 10n−8 with one client on equal delays)", func(n float64) float64 { return 10*n - 8 }
	}
	if protocol == cluster.ProtocolHotStuff {
		// per block: NEW-VIEW, PREPARE, 3 votes, PRE-COMMIT, COMMIT, DECIDE,
		// n−1 each; per request: REQUEST to all n, n REPLYs (README).
		if b <= 1 {
			return "10n−8", func(n float64) float64 { return 10*n - 8 }
		}
		return fmt.Sprintf("2n + 8(n−1)/%d", b), func(n float64) float64 { return 2*n + 8*(n-1)/fb }
	}
	if k < 1 {
		k = defaultCheckpointInterval
	}
	// ClosedFormCounts, continuous in n (for plotting), with the checkpoint
	// rounds of a run of requests requests
	rounds := requests / (k * max(b, 1))
	normal := "2n²−n+1"
	if b > 1 {
		normal = fmt.Sprintf("(2n²−2n)/%d+n+1", b)
	}
	formula := normal
	if rounds > 0 && requests > 0 {
		formula += fmt.Sprintf(" + %d·n(n−1)/%d (checkpoints, K=%d)", rounds, requests, k)
	}
	return formula, func(n float64) float64 {
		c := (2*n*n-2*n)/fb + n + 1
		if requests > 0 {
			c += float64(rounds) * n * (n - 1) / float64(requests)
		}
		return c
	}
}

// CompareProtocols runs opt's sweep once per protocol (opt.Base.Protocol is
// replaced) and writes a comparison report to opt.Out: report.md,
// comparison.json, runs.json and the log-log plots of messages and bytes
// per committed request with both fits. With one protocol it is that
// protocol's report on the same terms (its closed form, fits, view change
// and measurements): the single-protocol report of a HotStuff scenario.
func CompareProtocols(ctx context.Context, opt Options, protocols []string, run Runner) (*ProtocolComparison, error) {
	if len(protocols) < 1 {
		return nil, inputErr("protocols", "no protocol: give one or more, e.g. pbft,hotstuff")
	}
	seen := map[string]bool{}
	for _, p := range protocols {
		if !containsStr(cluster.Protocols, p) {
			return nil, inputErr("protocols", "unknown protocol %q: want a comma list of %s", p, strings.Join(cluster.Protocols, ", "))
		}
		if seen[p] {
			return nil, inputErr("protocols", "%q listed twice", p)
		}
		seen[p] = true
	}
	if err := checkWritable(opt.Out); err != nil {
		return nil, err
	}
	cmp := &ProtocolComparison{Scenario: opt.Scenario, Command: opt.Command, Version: opt.Version, Out: opt.Out}
	for _, proto := range protocols {
		o := opt
		o.Base.Protocol = proto
		if proto == cluster.ProtocolPBFT {
			o.Base.Protocol = ""
		}
		p, err := newPlan(o, runtime.NumCPU())
		if err != nil {
			return nil, err
		}
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "%s:\n", proto)
		}
		runs, err := sweep(ctx, p, run, nil, nil)
		if err != nil {
			return nil, err
		}
		cmp.Nodes, cmp.Seeds, cmp.Requests, cmp.Batch, cmp.K = p.nodes, p.seeds, p.base.Requests, p.batch, p.k
		res := analyseProtocol(proto, p, runs)
		// The view change: the same sweep with the first leader (replica
		// 0) crashed from the start and two requests.
		vo := o
		vo.Base.Crashes = []sim.Crash{{Node: 0, At: 0}}
		vo.Base.Requests, vo.Base.Payments, vo.Base.Byzantine, vo.Base.NetRules = 2, 0, nil, nil
		vp, err := newPlan(vo, runtime.NumCPU())
		if err != nil {
			return nil, err
		}
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "%s, first leader crashed:\n", proto)
		}
		vruns, err := sweep(ctx, vp, run, nil, nil)
		if err != nil {
			return nil, err
		}
		res.viewChanges(vruns)
		// f+1 leaders failing in a row: HotStuff's view synchronization
		// (TIMEOUTs to all) only starts after more than f failed views.
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "%s, first f+1 leaders failed:\n", proto)
		}
		fruns, err := sweep(ctx, vp, func(cfg cluster.Config) (*cluster.Result, error) { return run(failedLeaders(cfg)) }, nil, nil)
		if err != nil {
			return nil, err
		}
		res.failedLeaders(fruns)
		cmp.Protocols = append(cmp.Protocols, res)
	}
	cmp.conclude()
	if err := writeFiles(cmp.render, opt.Out); err != nil {
		return nil, err
	}
	return cmp, nil
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// viewChangeTypes are the message types of a protocol's view change: PBFT's
// VIEW-CHANGE and NEW-VIEW; HotStuff's TIMEOUTs (the NEW-VIEWs sent to the
// next leader after a view timed out; the NEW-VIEW after a decision is part
// of every decision, counted in the closed form).
func viewChangeTypes(proto string) []string {
	if cluster.IsHotStuff(proto) {
		return []string{"TIMEOUT"}
	}
	return []string{TypeViewChange, TypeNewView}
}

// viewChanges fills the view-change measurements from the crashed-leader
// runs.
func (res *ProtocolResults) viewChanges(runs []Run) {
	res.ViewChangeTypes = viewChangeTypes(res.Protocol)
	var fn, fm, fb []float64
	for i := range res.Points {
		pt := &res.Points[i]
		var k float64
		for _, r := range runs {
			if r.N != pt.N || r.ViewChanges == 0 {
				continue
			}
			var m, b uint64
			for _, t := range res.ViewChangeTypes {
				m += r.ByType[t]
				b += r.BytesByType[t]
			}
			vc := float64(r.ViewChanges)
			pt.ViewChangeMessages += float64(m) / vc
			pt.ViewChangeBytes += float64(b) / vc
			fn, fm, fb = append(fn, float64(pt.N)), append(fm, float64(m)/vc), append(fb, float64(b)/vc)
			k++
		}
		if k > 0 {
			pt.ViewChangeMessages /= k
			pt.ViewChangeBytes /= k
		}
	}
	res.ViewChangeFit, _ = FitPower(fn, fm)
	res.ViewChangeBytesFit, _ = FitPower(fn, fb)
}

// failedLeaders makes cfg's first f+1 leaders fail in a row (PBFT,
// Basic and chained HotStuff all start with replica 0 and rotate by
// replica id; chained HotStuff per span of views): replicas 0..f−1 crash
// from the start and replica f is down from the start until the other
// replicas have timed out of the first f+1 views, then recovers (a
// partition before GST would do the same), so the run completes. The
// recovery time follows the pacemaker's doubling timeouts: the sum of the
// first f+1 views' timeouts plus half of the next one's, before which a
// synchronizing replica does not send its TIMEOUT again.
func failedLeaders(cfg cluster.Config) cluster.Config {
	c := cfg.WithDefaults()
	f := (c.N - 1) / 3
	base := c.ViewChangeTimeout
	var t time.Duration
	for k := 0; k <= f; k++ {
		t += base << min(k, 12)
	}
	t += base << min(f+1, 12) / 2
	cfg.Crashes = nil
	for id := 0; id < f; id++ {
		cfg.Crashes = append(cfg.Crashes, sim.Crash{Node: sim.NodeID(id)})
	}
	cfg.Crashes = append(cfg.Crashes, sim.Crash{Node: sim.NodeID(f), Recover: sim.Time(t)})
	cfg.MaxTime = max(c.MaxTime, sim.Time(4*t))
	return cfg
}

// failedLeaders fills the measurements of the runs whose first f+1
// leaders fail in a row.
func (res *ProtocolResults) failedLeaders(runs []Run) {
	var fn, fm, fb []float64
	for i := range res.Points {
		pt := &res.Points[i]
		var k float64
		for _, r := range runs {
			if r.N != pt.N || !r.Completed {
				continue
			}
			var m, b uint64
			for _, t := range res.ViewChangeTypes {
				m += r.ByType[t]
				b += r.BytesByType[t]
			}
			pt.FailedLeadersViewChanges += float64(r.ViewChanges)
			pt.FailedLeadersMessages += float64(m)
			pt.FailedLeadersBytes += float64(b)
			fn, fm, fb = append(fn, float64(pt.N)), append(fm, float64(m)), append(fb, float64(b))
			k++
		}
		if k > 0 {
			pt.FailedLeadersViewChanges /= k
			pt.FailedLeadersMessages /= k
			pt.FailedLeadersBytes /= k
		}
	}
	res.FailedLeadersFit, _ = FitPower(fn, fm)
	res.FailedLeadersBytesFit, _ = FitPower(fn, fb)
}

// chainedClosedForm is chained HotStuff's 2n + 2(n−1)·v + φ at n, with v
// the views per committed request of the runs (their PREPAREs over n−1; a
// fault-free run sends no other PREPARE) and φ their FETCH-BLOCK and BLOCK
// messages per request: the mean over runs, as MessagesPerRequest is. It
// is exact when every view's votes match its proposals and nothing else
// is sent.
func chainedClosedForm(n int, runs []Run) float64 {
	var sum float64
	var k int
	for _, r := range runs {
		if r.N != n || r.Committed == 0 {
			continue
		}
		c := float64(r.Committed)
		v := float64(r.ByType["PREPARE"]) / float64(n-1) / c
		phi := float64(r.ByType["FETCH-BLOCK"]+r.ByType["BLOCK"]) / c
		sum += 2*float64(n) + 2*float64(n-1)*v + phi
		k++
	}
	if k == 0 {
		return 0
	}
	return sum / float64(k)
}

func analyseProtocol(proto string, p *plan, runs []Run) ProtocolResults {
	formula, closed := protocolClosedForm(proto, p.batch, p.k, p.base.Requests)
	res := ProtocolResults{Protocol: proto, ClosedForm: formula, Runs: runs, Exact: true}
	var fn, fm, fbytes []float64
	for _, n := range p.nodes {
		pt := ProtocolPoint{N: n, ClosedForm: closed(float64(n))}
		var committed int
		for _, r := range runs {
			if r.N != n {
				continue
			}
			pt.Runs++
			if r.Completed {
				pt.Completed++
			}
			pt.ViewChanges += float64(r.ViewChanges)
			pt.Throughput += r.Throughput
			if r.Committed == 0 {
				continue
			}
			committed++
			pt.MessagesPerRequest += r.MessagesPerRequest
			pt.BytesPerRequest += r.BytesPerRequest
			pt.LatencyP50Ms += float64(r.LatencyP50Ns) / 1e6
			fn = append(fn, float64(n))
			fm = append(fm, r.MessagesPerRequest)
			fbytes = append(fbytes, r.BytesPerRequest)
		}
		if pt.Runs > 0 {
			pt.ViewChanges /= float64(pt.Runs)
			pt.Throughput /= float64(pt.Runs)
		}
		if committed > 0 {
			c := float64(committed)
			pt.MessagesPerRequest /= c
			pt.BytesPerRequest /= c
			pt.LatencyP50Ms /= c
		}
		if proto == cluster.ProtocolChainedHotStuff {
			pt.ClosedForm = chainedClosedForm(n, runs)
		}
		if committed == 0 || math.Abs(pt.MessagesPerRequest-pt.ClosedForm) > 1e-9*pt.ClosedForm {
			res.Exact = false
		}
		res.Points = append(res.Points, pt)
	}
	res.MessagesFit, _ = FitPower(fn, fm)
	res.BytesFit, _ = FitPower(fn, fbytes)
	return res
}

// conclude fills the plain-words table.
func (c *ProtocolComparison) conclude() {
	if len(c.Protocols) == 0 || len(c.Nodes) == 0 {
		return
	}
	last := len(c.Nodes) - 1
	nMax := c.Nodes[last]
	row := func(q string, ans func(p ProtocolResults) string, better func(p ProtocolResults) float64, lowerIsBetter bool, unit string) {
		r := ConclusionRow{Question: q}
		best, bestV, worstV := "", 0.0, 0.0
		for i, p := range c.Protocols {
			r.Answers = append(r.Answers, ans(p))
			v := better(p)
			if i == 0 || (lowerIsBetter && v < bestV) || (!lowerIsBetter && v > bestV) {
				best, bestV = p.Protocol, v
			}
			if i == 0 || (lowerIsBetter && v > worstV) || (!lowerIsBetter && v < worstV) {
				worstV = v
			}
		}
		if bestV > 0 && worstV > 0 && len(c.Protocols) > 1 { // one protocol: nothing to compare
			ratio := worstV / bestV
			if !lowerIsBetter {
				ratio = bestV / worstV
			}
			r.Verdict = fmt.Sprintf("%s, by %.1f× at n=%d%s", best, ratio, nMax, unit)
		}
		c.Conclusions = append(c.Conclusions, r)
	}
	at := func(p ProtocolResults) ProtocolPoint { return p.Points[last] }
	row("How do messages per committed request grow with n?", func(p ProtocolResults) string {
		return fmt.Sprintf("≈ n^%.2f (95%% CI [%.2f, %.2f]); closed form %s; %.0f at n=%d", p.MessagesFit.Exponent,
			p.MessagesFit.ExponentCI[0], p.MessagesFit.ExponentCI[1], p.ClosedForm, at(p).MessagesPerRequest, nMax)
	}, func(p ProtocolResults) float64 { return at(p).MessagesPerRequest }, true, " (fewer messages)")
	row("Do fault-free counts equal the closed form exactly?", func(p ProtocolResults) string {
		if p.Exact {
			return "yes, at every n"
		}
		return "no (faults, loss or timeouts in the scenario add messages)"
	}, func(ProtocolResults) float64 { return 0 }, true, "")
	row("How do bytes per committed request grow with n?", func(p ProtocolResults) string {
		return fmt.Sprintf("≈ n^%.2f (95%% CI [%.2f, %.2f]); %.0f B at n=%d", p.BytesFit.Exponent,
			p.BytesFit.ExponentCI[0], p.BytesFit.ExponentCI[1], at(p).BytesPerRequest, nMax)
	}, func(p ProtocolResults) float64 { return at(p).BytesPerRequest }, true, " (fewer bytes)")
	row("Cost of one view change (first leader crashed)", func(p ProtocolResults) string {
		return fmt.Sprintf("%s: ≈ n^%.2f messages, ≈ n^%.2f bytes; %.0f messages, %.0f B at n=%d", strings.Join(p.ViewChangeTypes, "+"),
			p.ViewChangeFit.Exponent, p.ViewChangeBytesFit.Exponent, at(p).ViewChangeMessages, at(p).ViewChangeBytes, nMax)
	}, func(p ProtocolResults) float64 { return at(p).ViewChangeBytes }, true, " (fewer bytes per view change)")
	row("Cost of recovering from f+1 failed leaders in a row (whole run)", func(p ProtocolResults) string {
		if at(p).FailedLeadersMessages == 0 {
			return fmt.Sprintf("no run completed at n=%d (not measured)", nMax)
		}
		return fmt.Sprintf("%s: ≈ n^%.2f messages, ≈ n^%.2f bytes; %.0f messages, %.0f B, %.0f view changes at n=%d", strings.Join(p.ViewChangeTypes, "+"),
			p.FailedLeadersFit.Exponent, p.FailedLeadersBytesFit.Exponent, at(p).FailedLeadersMessages, at(p).FailedLeadersBytes, at(p).FailedLeadersViewChanges, nMax)
	}, func(p ProtocolResults) float64 { return at(p).FailedLeadersBytes }, true, " (fewer bytes to recover)")
	row("Client latency (median, simulated time)", func(p ProtocolResults) string {
		return fmt.Sprintf("%.1f ms at n=%d, %.1f ms at n=%d", p.Points[0].LatencyP50Ms, c.Nodes[0], at(p).LatencyP50Ms, nMax)
	}, func(p ProtocolResults) float64 { return at(p).LatencyP50Ms }, true, " (lower latency: fewer message delays per decision)")
	row("Throughput (committed requests per simulated second, same delay model)", func(p ProtocolResults) string {
		return fmt.Sprintf("%.0f at n=%d, %.0f at n=%d", p.Points[0].Throughput, c.Nodes[0], at(p).Throughput, nMax)
	}, func(p ProtocolResults) float64 { return at(p).Throughput }, false, " (higher throughput)")
}

// render produces every file of the comparison report.
func (c *ProtocolComparison) render() ([]file, error) {
	figs := []struct {
		name, title string
		y           func(ProtocolPoint) float64
		fit         func(ProtocolResults) PowerFit
		closed      bool
	}{
		{"protocols_messages", "Messages per committed request vs n (log-log)", func(p ProtocolPoint) float64 { return p.MessagesPerRequest },
			func(p ProtocolResults) PowerFit { return p.MessagesFit }, true},
		{"protocols_bytes", "Bytes per committed request vs n (log-log)", func(p ProtocolPoint) float64 { return p.BytesPerRequest },
			func(p ProtocolResults) PowerFit { return p.BytesFit }, false},
		{"protocols_view_change_bytes", "Bytes of one view change vs n (log-log, first leader crashed)", func(p ProtocolPoint) float64 { return p.ViewChangeBytes },
			func(p ProtocolResults) PowerFit { return p.ViewChangeBytesFit }, false},
		{"protocols_failed_leaders_messages", "View-change messages of a run whose first f+1 leaders fail, vs n (log-log)", func(p ProtocolPoint) float64 { return p.FailedLeadersMessages },
			func(p ProtocolResults) PowerFit { return p.FailedLeadersFit }, false},
	}
	var out []file
	var figures []Figure
	for _, f := range figs {
		fig, err := renderFigure(nil, f.name, f.title, func(*Summary) (*plot.Plot, error) {
			return c.plot(f.title, f.y, f.fit, f.closed)
		})
		if err != nil {
			return nil, err
		}
		figures = append(figures, fig)
		out = append(out, file{fig.Name + ".png", fig.PNG}, file{fig.Name + ".svg", fig.SVG})
	}
	js, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("report: %s: %w", FileSummary, err)
	}
	runs := map[string][]Run{}
	for _, p := range c.Protocols {
		runs[p.Protocol] = p.Runs
	}
	rj, err := json.MarshalIndent(runs, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("report: %s: %w", FileComparisonRuns, err)
	}
	out = append(out, file{FileMarkdown, c.markdown(figures)}, file{FileSummary, append(js, '\n')}, file{FileComparisonRuns, append(rj, '\n')})
	return out, nil
}

func (c *ProtocolComparison) plot(title string, y func(ProtocolPoint) float64, fit func(ProtocolResults) PowerFit, closed bool) (*plot.Plot, error) {
	p := logPlot(title, "per committed request")
	lo, hi := float64(c.Nodes[0]), float64(c.Nodes[len(c.Nodes)-1])
	for i, pr := range c.Protocols {
		var xy plotter.XYs
		for _, pt := range pr.Points {
			if v := y(pt); v > 0 {
				xy = append(xy, plotter.XY{X: float64(pt.N), Y: v})
			}
		}
		if len(xy) > 0 {
			if err := addPoints(p, pr.Protocol+" measured", xy, 2*i); err != nil {
				return nil, err
			}
		}
		if f := fit(pr); f.Points > 0 {
			label := fmt.Sprintf("%s fit %.3g·n^%.2f", pr.Protocol, f.Coefficient, f.Exponent)
			if err := addLine(p, label, curve(lo, hi, f.At), 2*i, false); err != nil {
				return nil, err
			}
		}
		if closed {
			_, cf := protocolClosedForm(pr.Protocol, c.Batch, c.K, c.Requests)
			if err := addLine(p, pr.Protocol+" closed form "+pr.ClosedForm, curve(lo, hi, cf), 2*i+1, true); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

func (c *ProtocolComparison) markdown(figs []Figure) []byte {
	var b bytes.Buffer
	names := make([]string, len(c.Protocols))
	for i, p := range c.Protocols {
		names[i] = p.Protocol
	}
	if len(names) == 1 {
		fmt.Fprintf(&b, "# Protocol report: %s\n\n", names[0])
		fmt.Fprintf(&b, "Scenario `%s`, n = %v, %d seed(s) per n, %d requests per run, batch %d.\n\n",
			c.Scenario, c.Nodes, len(c.Seeds), c.Requests, c.Batch)
	} else {
		fmt.Fprintf(&b, "# Protocol comparison: %s\n\n", strings.Join(names, " vs "))
		fmt.Fprintf(&b, "Scenario `%s`, n = %v, %d seed(s) per n, %d requests per run, batch %d; every protocol ran the same scenario, seeds, workload and network model.\n\n",
			c.Scenario, c.Nodes, len(c.Seeds), c.Requests, c.Batch)
	}
	if c.Command != "" {
		fmt.Fprintf(&b, "Regenerate with `%s`", c.Command)
		if c.Version != "" {
			fmt.Fprintf(&b, " (pbftsim %s)", c.Version)
		}
		b.WriteString(".\n\n")
	}
	b.WriteString("## Conclusion\n\n| question | " + strings.Join(names, " | ") + " | verdict |\n|---|")
	for range names {
		b.WriteString("---|")
	}
	b.WriteString("---|\n")
	for _, r := range c.Conclusions {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", r.Question, strings.Join(r.Answers, " | "), r.Verdict)
	}
	b.WriteString("\nThe view change is measured in a second sweep of the same scenario with replica 0 (the first leader of both protocols) crashed from the start and two requests. Nothing is prepared when it happens, so PBFT's VIEW-CHANGEs carry no prepared certificates and its view change costs Θ(n²) bytes here; with k prepared requests each VIEW-CHANGE carries k certificates of 2f+1 signed messages and the NEW-VIEW n VIEW-CHANGEs, Θ(k·n³) bytes. HotStuff's view change is linear: a replica whose view timer expires enters the next view and sends one TIMEOUT (a NEW-VIEW carrying its prepareQC) to that view's leader alone, n−2 messages of constant size when the first leader is crashed; the leader proposes on the highest prepareQC of n−f of them, with a constant-size certificate of those n−f that lets replicas left behind follow, and timeouts double with each view since the last decision.\n")
	b.WriteString("\nA third sweep makes the first f+1 leaders fail in a row: replicas 0..f−1 crashed from the start and replica f down until the others have timed out of the first f+1 views (the sum of their doubling timeouts plus half the next one; a partition before GST would do the same), then recovering; the figures are the view-change messages and bytes of the whole run. More failed views in a row than f faulty leaders explain is where HotStuff's linear pacemaker gives way to view synchronization (sim/hotstuff/sync.go): each replica then sends its TIMEOUT to every replica, (n−f−1)(n−1) messages for the first synchronizing view, again when its timer resends them, so the recovery costs Θ(n²) messages against n−2 for one crashed leader. PBFT's view change is all-to-all in every view, and a replica waiting for a NEW-VIEW sends its VIEW-CHANGE again every base timeout: its count grows with how long replica f stays down, which here follows HotStuff's doubling timeouts (2^f base timeouts), so PBFT's figure measures that wait more than its view change.\n")
	for _, p := range c.Protocols {
		fmt.Fprintf(&b, "\n## %s\n\nClosed form (fault-free, messages per committed request): %s. Messages fit %.3g·n^%.3f (95%% CI [%.3f, %.3f], R² %.4f); bytes fit %.3g·n^%.3f (95%% CI [%.3f, %.3f], R² %.4f).\n\n",
			p.Protocol, p.ClosedForm, p.MessagesFit.Coefficient, p.MessagesFit.Exponent, p.MessagesFit.ExponentCI[0], p.MessagesFit.ExponentCI[1], p.MessagesFit.R2,
			p.BytesFit.Coefficient, p.BytesFit.Exponent, p.BytesFit.ExponentCI[0], p.BytesFit.ExponentCI[1], p.BytesFit.R2)
		fmt.Fprintf(&b, "View change (%s, first leader crashed): messages fit %.3g·n^%.3f (95%% CI [%.3f, %.3f]); bytes fit %.3g·n^%.3f (95%% CI [%.3f, %.3f]).\n\n",
			strings.Join(p.ViewChangeTypes, "+"), p.ViewChangeFit.Coefficient, p.ViewChangeFit.Exponent, p.ViewChangeFit.ExponentCI[0], p.ViewChangeFit.ExponentCI[1],
			p.ViewChangeBytesFit.Coefficient, p.ViewChangeBytesFit.Exponent, p.ViewChangeBytesFit.ExponentCI[0], p.ViewChangeBytesFit.ExponentCI[1])
		fmt.Fprintf(&b, "First f+1 leaders failed (%s, whole run): messages fit %.3g·n^%.3f (95%% CI [%.3f, %.3f]); bytes fit %.3g·n^%.3f (95%% CI [%.3f, %.3f]).\n\n",
			strings.Join(p.ViewChangeTypes, "+"), p.FailedLeadersFit.Coefficient, p.FailedLeadersFit.Exponent, p.FailedLeadersFit.ExponentCI[0], p.FailedLeadersFit.ExponentCI[1],
			p.FailedLeadersBytesFit.Coefficient, p.FailedLeadersBytesFit.Exponent, p.FailedLeadersBytesFit.ExponentCI[0], p.FailedLeadersBytesFit.ExponentCI[1])
		b.WriteString("| n | runs | completed | messages/request | closed form | bytes/request | latency p50 (ms) | throughput (req/sim s) | view changes (fault-free) | messages/view change | bytes/view change | f+1 failed: view changes | f+1 failed: messages | f+1 failed: bytes |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, pt := range p.Points {
			fmt.Fprintf(&b, "| %d | %d | %d | %.2f | %.2f | %.0f | %.2f | %.1f | %.1f | %.1f | %.0f | %.1f | %.0f | %.0f |\n", pt.N, pt.Runs, pt.Completed,
				pt.MessagesPerRequest, pt.ClosedForm, pt.BytesPerRequest, pt.LatencyP50Ms, pt.Throughput, pt.ViewChanges, pt.ViewChangeMessages, pt.ViewChangeBytes,
				pt.FailedLeadersViewChanges, pt.FailedLeadersMessages, pt.FailedLeadersBytes)
		}
	}
	b.WriteString("\n## Plots\n\n")
	for _, f := range figs {
		fmt.Fprintf(&b, "![%s](%s.svg)\n\n", f.Title, f.Name)
	}
	return b.Bytes()
}
