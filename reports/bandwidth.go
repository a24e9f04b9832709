package reports

import (
	"fmt"
	"math"
	"strconv"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// BandwidthReport is the part of a report about rate-limited links (nil
// when the scenario has none): what each replica sends per second, how
// long messages queue, latency vs n, and where the view change's bytes,
// rather than the network's delay, set how long a view change takes.
type BandwidthReport struct {
	// Egress and Ingress are the slowest egress and ingress rates (bits
	// per second; 0: unlimited).
	Egress  int64 `json:"egress_bits_per_s"`
	Ingress int64 `json:"ingress_bits_per_s,omitempty"`
	// DelayMs is the mean one-way delay of the scenario's links (the mean
	// over its per-link delays, e.g. its regions', when it has them; else
	// its default link's).
	DelayMs float64 `json:"mean_delay_ms"`
	// ViewChanges is true when some run of the sweep changed view (else
	// the view change's bytes were not measured).
	ViewChanges bool `json:"view_changes_measured"`
	// BottleneckN is the smallest n of the sweep at which a view change's
	// bytes occupy a replica's link (VIEW-CHANGE and NEW-VIEW bytes per view
	// change / n, at the egress rate: LinkMs of the points) for longer than
	// the two message delays a view change needs (VIEW-CHANGE, then
	// NEW-VIEW); 0 when no n with view changes reaches it.
	BottleneckN int `json:"bottleneck_n,omitempty"`
	// FitCrossoverN is the n at which the fitted bytes per view change
	// (ViewChange.Bytes: c·n^b) make that link time equal two delays:
	// c·n^(b-1)·8/rate = 2·delay (0 without a fit or without b > 1).
	FitCrossoverN float64 `json:"fit_crossover_n,omitempty"`
}

// meanDelay is the mean of a delay distribution.
func meanDelay(d sim.Delay) float64 {
	base := float64(max(d.Min, 0))
	switch d.Kind {
	case sim.DelayUniform:
		if d.Max > d.Min {
			return (float64(d.Min) + float64(d.Max)) / 2
		}
	case sim.DelayExponential:
		return base + float64(max(d.Mean, 0))
	case sim.DelayLogNormal:
		return base + float64(max(d.Mean, 0))*math.Exp(d.Sigma*d.Sigma/2)
	case sim.DelayPareto:
		if d.Alpha > 1 {
			return base + float64(d.Mean)/(d.Alpha-1) // Xm·α/(α−1) − Xm
		}
		return math.Inf(1)
	}
	return base
}

// newBandwidthReport returns the bandwidth part of a report on base (nil
// without a rate limit); bottleneck is filled by analyseBandwidth.
func newBandwidthReport(base cluster.Config) *BandwidthReport {
	nw := &base.Network
	nodes := max(base.N, 1, len(nw.NodeBandwidth), len(nw.NodeIngress)) // the sweep's n varies: every node listed
	eg, in := nw.SlowestEgress(nodes), nw.SlowestIngress(nodes)
	if eg == 0 && in == 0 {
		return nil
	}
	mean := meanDelay(nw.Default.Delay)
	if len(nw.Links) > 0 {
		var sum float64
		for _, l := range nw.Links { // order-independent sum of equal-weight terms
			sum += meanDelay(l.Delay)
		}
		mean = sum / float64(len(nw.Links))
	}
	return &BandwidthReport{Egress: int64(eg), Ingress: int64(in), DelayMs: mean / 1e6}
}

// linkMs is the time in ms that bytes, spread evenly over n senders, occupy
// each sender's link at rate bits per second.
func linkMs(bytes float64, n int, rate int64) float64 {
	if rate <= 0 || n <= 0 {
		return 0
	}
	return bytes * 8 / float64(n) / float64(rate) * 1e3
}

// analyseBandwidth finds where the view change's bytes become the
// bottleneck, from the points (measured) and the bytes-per-view-change fit.
func (s *Summary) analyseBandwidth() {
	b := s.Bandwidth
	if b == nil || b.Egress == 0 {
		return
	}
	b.ViewChanges = hasViewChanges(s)
	for _, p := range s.Points {
		if p.LinkMs.N > 0 && p.LinkMs.Mean >= 2*b.DelayMs {
			b.BottleneckN = p.N
			break
		}
	}
	if vc := s.ViewChange; vc != nil && vc.Bytes.Exponent > 1 && b.DelayMs > 0 {
		// c·n^(e-1)·8/rate s = 2·delay ms
		x := 2 * b.DelayMs / 1e3 * float64(b.Egress) / 8 / vc.Bytes.Coefficient
		b.FitCrossoverN = math.Pow(x, 1/(vc.Bytes.Exponent-1))
	}
}

// bandwidthBlocks is the report's section on rate-limited links.
func bandwidthBlocks(s *Summary) []block {
	b := s.Bandwidth
	if b == nil {
		return nil
	}
	rates := "egress " + sim.Bandwidth(b.Egress).String()
	if b.Ingress != 0 {
		rates += ", ingress " + sim.Bandwidth(b.Ingress).String()
	}
	t := &table{head: []string{"n", "runs complete", "latency p50 ms (95% CI)", "bytes/s per replica (95% CI)", "busiest sender bytes/s", "queue wait mean ms (95% CI)", "queue wait max ms", "bytes per view change", "view change on a link, ms (95% CI)", "÷ 2 delays", "longest stall ms"}}
	for _, p := range s.Points {
		ratio := "–"
		if p.LinkMs.N > 0 && b.DelayMs > 0 {
			ratio = f3(p.LinkMs.Mean / (2 * b.DelayMs))
		}
		t.rows = append(t.rows, []string{strconv.Itoa(p.N), fmt.Sprintf("%d/%d", p.CompletedRuns, p.Runs), ci(p.LatencyP50Ms), ci(p.BytesPerSecPerReplica), pm(p.MaxSenderBytesPerSec),
			ci(p.QueueWaitMeanMs), pm(p.QueueWaitMaxMs), pm(p.BytesPerViewChange), ci(p.LinkMs), ratio, pm(p.StallMs)})
	}
	text := []string{
		fmt.Sprintf("Every replica's link is rate-limited (%s): a message occupies its sender's link for size/rate, queued behind the sender's earlier messages, before its network delay (mean %.3g ms one way) starts.", rates, b.DelayMs),
		"Bytes/s per replica is all bytes sent on the network / n / simulated time; the busiest sender is the node that sent the most bytes. Queue wait is how long a message waited behind its sender's earlier messages. " +
			"A view change's link time is its VIEW-CHANGE and NEW-VIEW bytes, spread over the n senders, at the egress rate: the time they keep one replica's link busy. " +
			"Where it exceeds the two message delays a view change needs (÷ 2 delays > 1), the view change's bytes, not the network's delay, set how long it takes. " +
			"The longest stall is the longest time between two steps of progress: a run that stops making progress and is cut by its time limit (runs complete below n/n) stalled longer than it says.",
	}
	switch {
	case b.BottleneckN > 0:
		text = append(text, fmt.Sprintf("Measured: from n = %d on, the view change's bytes are the bottleneck.", b.BottleneckN))
	case b.ViewChanges:
		text = append(text, "Measured: at no n of this sweep do the view change's bytes outlast two message delays.")
	default:
		text = append(text, "No run of this sweep changed view, so the view change's bytes were not measured (use a scenario whose primary fails, e.g. bandwidth-view-change).")
	}
	if b.FitCrossoverN > 0 {
		text = append(text, fmt.Sprintf("From the fit of bytes per view change (∝ n^%.3f), the link time reaches two delays at n ≈ %.3g.", s.ViewChange.Bytes.Exponent, b.FitCrossoverN))
	}
	return []block{{heading: "Bandwidth: bytes per second, queueing, latency vs n and the view change's bytes", text: text, table: t}}
}

func hasViewChanges(s *Summary) bool {
	for _, p := range s.Points {
		if p.LinkMs.N > 0 {
			return true
		}
	}
	return false
}
