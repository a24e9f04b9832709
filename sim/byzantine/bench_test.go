package byzantine

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// multicaster multicasts one PREPARE per step, like a backup's hot path.
type multicaster struct{ p *pbft.Prepare }

func (m *multicaster) Start(sim.Time, *sim.Output) {}
func (m *multicaster) Step(_ sim.Time, _ sim.Input, out *sim.Output) {
	multicast(out, m.p.Replica, m.p, false)
}

func benchStep(b *testing.B, n sim.Node) {
	var out sim.Output
	in := sim.Input{Kind: sim.InputTimer, Timer: 1}
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		n.Step(0, in, &out)
	}
}

// BenchmarkStepHonest is the baseline for the wrapped steps below.
func BenchmarkStepHonest(b *testing.B) {
	benchStep(b, &multicaster{p: prep(1, 0, 1, pbft.Digest{1})})
}

func BenchmarkStepSelectiveSilent(b *testing.B) {
	n, err := New("selective-silent", map[string]string{"to": "2"}, &multicaster{p: prep(1, 0, 1, pbft.Digest{1})}, testEnv(1, 1))
	if err != nil {
		b.Fatal(err)
	}
	benchStep(b, n)
}

func BenchmarkStepMutate(b *testing.B) {
	n, err := New("mutate", map[string]string{"kind": "digest", "prob": "1"}, &multicaster{p: prep(1, 0, 1, pbft.Digest{1})}, testEnv(1, 1))
	if err != nil {
		b.Fatal(err)
	}
	benchStep(b, n)
}

func BenchmarkRuleFilter(b *testing.B) {
	f := NewRuleFilter([]NetRule{
		{Types: []string{"COMMIT"}, View: u64(0), Drop: 0.5},
		{From: []sim.NodeID{3}, Delay: time.Millisecond, Start: 1},
		{Seq: u64(9), StartView: 2, Delay: time.Millisecond},
	}, rand.New(rand.NewPCG(1, 1)))
	m := prep(1, 0, 1, pbft.Digest{1})
	b.ReportAllocs()
	for b.Loop() {
		f.Filter(5, 1, 2, m)
	}
}
