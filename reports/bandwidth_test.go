package reports

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

func TestMeanDelay(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		d    sim.Delay
		want float64
	}{
		{sim.Delay{Kind: sim.DelayConst, Min: 3 * ms}, 3e6},
		{sim.Delay{Kind: sim.DelayUniform, Min: ms, Max: 5 * ms}, 3e6},
		{sim.Delay{Kind: sim.DelayExponential, Min: ms, Mean: 2 * ms}, 3e6},
		{sim.Delay{Kind: sim.DelayLogNormal, Mean: 2 * ms, Sigma: 1}, 2e6 * math.Exp(0.5)},
		{sim.Delay{Kind: sim.DelayPareto, Mean: 2 * ms, Alpha: 3}, 1e6},
	} {
		if got := meanDelay(c.d); math.Abs(got-c.want) > 1 {
			t.Errorf("%v: mean %v, want %v", c.d, got, c.want)
		}
	}
}

// TestBandwidthReport sweeps the built-in bandwidth-limited view change
// (primary crash) with real runs at two rates. The view change's link time
// is its bytes over n senders at the rate, so 10x less bandwidth gives 10x
// the link time for the same bytes, and the bytes dominate the two message
// delays from a smaller n; queues wait longer. Without a limit the report
// has no bandwidth section.
func TestBandwidthReport(t *testing.T) {
	if testing.Short() {
		t.Skip("real simulations: skipped with -short")
	}
	sc, err := scenarios.Builtin("bandwidth-view-change")
	if err != nil {
		t.Fatal(err)
	}
	base, err := sc.Config()
	if err != nil {
		t.Fatal(err)
	}
	run := func(rate sim.Bandwidth) *Summary {
		b := base
		b.Network.Bandwidth = rate
		out := filepath.Join(t.TempDir(), "rep")
		s, err := Generate(context.Background(), Options{Base: b, Scenario: "bandwidth-view-change", Nodes: []int{4, 10, 16, 22}, Seeds: 3, Workers: 2, Out: out}, cluster.Run)
		if err != nil {
			t.Fatal(err)
		}
		md, err := os.ReadFile(filepath.Join(out, FileMarkdown))
		if err != nil {
			t.Fatal(err)
		}
		if has := strings.Contains(string(md), "## Bandwidth"); has != (rate != 0) {
			t.Fatalf("rate %v: report has a bandwidth section: %v", rate, has)
		}
		return s
	}
	fast, slow, free := run(100e6), run(10e6), run(0)
	if free.Bandwidth != nil {
		t.Fatalf("unlimited: bandwidth part %+v", free.Bandwidth)
	}
	t.Logf("bottleneck from n=%d at 100Mbit, n=%d at 10Mbit (fits %.3g, %.3g)", fast.Bandwidth.BottleneckN, slow.Bandwidth.BottleneckN, fast.Bandwidth.FitCrossoverN, slow.Bandwidth.FitCrossoverN)
	if fast.Bandwidth.BottleneckN == 0 || slow.Bandwidth.BottleneckN == 0 || slow.Bandwidth.BottleneckN >= fast.Bandwidth.BottleneckN {
		t.Errorf("bottleneck n: %d at 10Mbit, %d at 100Mbit: want both found, the slower link's smaller", slow.Bandwidth.BottleneckN, fast.Bandwidth.BottleneckN)
	}
	if slow.Bandwidth.FitCrossoverN >= fast.Bandwidth.FitCrossoverN {
		t.Errorf("fitted crossover %v at 10Mbit, %v at 100Mbit: want the slower link's smaller", slow.Bandwidth.FitCrossoverN, fast.Bandwidth.FitCrossoverN)
	}
	for i, p := range fast.Points {
		q := slow.Points[i]
		if p.LinkMs.N > 0 {
			// link time = bytes·8/(n·rate): check it from the bytes
			if want := p.BytesPerViewChange.Mean * 8 / float64(p.N) / 100e6 * 1e3; math.Abs(p.LinkMs.Mean-want) > 1e-9*want {
				t.Errorf("n=%d: link time %v ms, bytes per view change say %v", p.N, p.LinkMs.Mean, want)
			}
		}
		if q.QueueWaitMeanMs.Mean <= p.QueueWaitMeanMs.Mean || p.BytesPerSecPerReplica.Mean <= 0 || p.StallMs.Mean <= 0 {
			t.Errorf("n=%d: queue wait %v ms at 10Mbit vs %v at 100Mbit; bytes/s %v; stall %v", p.N, q.QueueWaitMeanMs.Mean, p.QueueWaitMeanMs.Mean, p.BytesPerSecPerReplica.Mean, p.StallMs.Mean)
		}
	}
}
