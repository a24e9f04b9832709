package sim_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// TestIngressQueue: two senders each send k back-to-back messages of s
// bytes to node 2 at time 0 over a constant-delay link; node 2's ingress
// link (rate b) takes them one at a time in arrival order, so the i-th
// delivery happens exactly at lat + i·s/b, whoever sent it, and the waits
// add up to tx·(2k)(2k-1)/2. Unlimited, all arrive at lat. An ingress
// limit on another node changes nothing.
func TestIngressQueue(t *testing.T) {
	const k, s = 20, 12500
	const b = sim.Bandwidth(10e6)
	tx := b.TxTime(s) // 10ms
	lat := 5 * time.Millisecond
	for _, c := range []struct {
		name    string
		limited bool
		per     []sim.Bandwidth
	}{{"unlimited", false, nil}, {"every node", true, nil}, {"node 2 only", true, []sim.Bandwidth{0, 0, b}}, {"node 0 only", false, []sim.Bandwidth{b}}} {
		t.Run(c.name, func(t *testing.T) {
			sink := &collect{}
			cfg := sim.Config{Seed: 3, Sinks: []sim.Sink{sink},
				Nodes:   []sim.Node{&script{start: burst(0, 2, k, s)}, &script{start: burst(1, 2, k, s)}, &script{}},
				Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: mustDelay(t, fmt.Sprintf("const:%v", lat))}, NodeIngress: c.per}}
			if c.per == nil && c.limited {
				cfg.Network.IngressBandwidth = b
			}
			_, st := mustRun(t, cfg)
			wantWait := time.Duration(0)
			if c.limited {
				wantWait = tx * (2 * k) * (2*k - 1) / 2
			}
			if st.IngressWait != wantWait {
				t.Errorf("ingress wait %v, want %v", st.IngressWait, wantWait)
			}
			trs := sink.transits(t)
			var got []sim.Time
			for _, tr := range trs {
				got = append(got, tr.delivered...)
			}
			if len(got) != 2*k {
				t.Fatalf("%d deliveries, want %d", len(got), 2*k)
			}
			seen := map[sim.Time]bool{}
			for _, at := range got {
				seen[at] = true
			}
			for i := 1; i <= 2*k; i++ {
				want := sim.Time(lat)
				if c.limited {
					want += sim.Time(time.Duration(i) * tx)
				}
				if !seen[want] {
					t.Errorf("no delivery at %v (delivery %d)", want, i)
				}
			}
		})
	}
}

// TestQueueMD1 checks the egress and the ingress queue against queueing
// theory: Poisson arrivals at rate λ (one sender, exponential gaps) into a
// link whose service time is a constant S = s/b form an M/D/1 queue, whose
// mean wait before service is Wq = ρS / (2(1-ρ)) with ρ = λS
// (Pollaczek-Khinchine). Over independent seeds, the per-seed mean wait
// (from Stats) has a Student-t 99.9% confidence interval that must contain
// Wq, and at ρ = 0.5 and 0.8 the intervals must exclude each other's
// prediction, so the test would notice a queue that gave the wrong wait.
func TestQueueMD1(t *testing.T) {
	const s = 1250 // 10 kbit
	const b = sim.Bandwidth(1e6)
	S := b.TxTime(s) // 10ms
	const msgs, seeds = 2000, 12
	for _, ingress := range []bool{false, true} {
		for _, rho := range []float64{0.5, 0.8} {
			means := make([]float64, seeds)
			for seed := range means {
				rng := rand.New(rand.NewPCG(uint64(seed)+1, 77))
				gap := func() time.Duration {
					return time.Duration(rng.ExpFloat64() * float64(S) / rho)
				}
				sent := 0
				sender := &script{
					start: func(_ sim.Time, out *sim.Output) { out.SetTimer(1, gap()) },
					step: func(_ sim.Time, in sim.Input, out *sim.Output) {
						if in.Kind == sim.InputTimer && sent < msgs {
							out.Send(1, &sized{id: sent, size: s})
							sent++
							out.SetTimer(1, gap())
						}
					},
				}
				nc := sim.NetworkConfig{Default: sim.LinkConfig{Delay: mustDelay(t, "const:1ms")}}
				if ingress {
					nc.IngressBandwidth = b
				} else {
					nc.Bandwidth = b
				}
				_, st := mustRun(t, sim.Config{Seed: uint64(seed), Nodes: []sim.Node{sender, &script{}}, Network: nc})
				wait := st.QueueWait
				if ingress {
					wait = st.IngressWait
				}
				means[seed] = float64(wait) / float64(msgs)
			}
			wq := rho * float64(S) / (2 * (1 - rho))
			mean, sd := stat.MeanStdDev(means, nil)
			half := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(seeds - 1)}.Quantile(0.9995) * sd / math.Sqrt(float64(seeds))
			t.Logf("ingress=%v rho=%v: mean wait %v ± %v, M/D/1 predicts %v", ingress, rho,
				time.Duration(mean), time.Duration(half), time.Duration(wq))
			if math.Abs(mean-wq) > half {
				t.Errorf("ingress=%v rho=%v: mean wait %v ± %v (99.9%%) excludes the M/D/1 wait %v", ingress, rho,
					time.Duration(mean), time.Duration(half), time.Duration(wq))
			}
			other := 0.8
			if rho == 0.8 {
				other = 0.5
			}
			if wo := other * float64(S) / (2 * (1 - other)); math.Abs(mean-wo) <= half {
				t.Errorf("ingress=%v rho=%v: the interval also contains rho=%v's wait %v: too wide to discriminate", ingress, rho, other, time.Duration(wo))
			}
		}
	}
}
