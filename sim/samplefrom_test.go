package sim

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestSampleFromMatchesSample checks that the kernel's per-message draw
// (sampleFrom) gives what Delay.Sample gives on a Rand over the same
// stream, draw after draw, for every kind, including uniform ranges that
// are powers of two and ranges so wide that Lemire's method rejects draws.
func TestSampleFromMatchesSample(t *testing.T) {
	cases := []struct {
		name string
		d    Delay
	}{
		{"uniform", Delay{Kind: DelayUniform, Min: time.Millisecond, Max: 20 * time.Millisecond}},
		{"uniform width 2^k", Delay{Kind: DelayUniform, Min: 5, Max: 5 + 1<<20 - 1}},
		{"uniform width 1", Delay{Kind: DelayUniform, Min: 7, Max: 8}},
		{"uniform wide (rejections)", Delay{Kind: DelayUniform, Min: 0, Max: 3 << 61}},
		{"uniform empty", Delay{Kind: DelayUniform, Min: 9, Max: 9}},
		{"const", Delay{Kind: DelayConst, Min: 3 * time.Millisecond}},
		{"exp", Delay{Kind: DelayExponential, Mean: 5 * time.Millisecond, Min: time.Millisecond}},
		{"lognormal", Delay{Kind: DelayLogNormal, Mean: 10 * time.Millisecond, Sigma: 0.5}},
		{"pareto", Delay{Kind: DelayPareto, Mean: 2 * time.Millisecond, Alpha: 1.5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for seed := range uint64(4) {
				p := rand.NewPCG(seed, 99)
				r := rand.New(p)
				ref := rand.New(rand.NewPCG(seed, 99))
				for i := range 2000 {
					if got, want := sampleFrom(&c.d, p, r), c.d.Sample(ref); got != want {
						t.Fatalf("seed %d draw %d: sampleFrom %v, Sample %v", seed, i, got, want)
					}
				}
				if got, want := p.Uint64(), ref.Uint64(); got != want {
					t.Fatalf("seed %d: the streams drifted apart (next draws %#x, %#x)", seed, got, want)
				}
			}
		})
	}
}
