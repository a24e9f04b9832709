package reports

import (
	"math"
	"testing"
)

func TestFitPowerRecoversExponent(t *testing.T) {
	ns := []float64{4, 7, 10, 13, 16, 22, 31, 43, 64, 100}
	tests := []struct {
		name  string
		coef  float64
		exp   float64
		noise float64 // relative, alternating sign
	}{
		{"n^2 exact", 2, 2.0, 0},
		{"n^3 exact", 0.5, 3.0, 0},
		{"n^1.5 exact", 7, 1.5, 0},
		{"n^2 noisy", 3, 2.0, 0.03},
		{"n^3 noisy", 1, 3.0, 0.05},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			y := make([]float64, len(ns))
			for i, n := range ns {
				sign := 1.0
				if i%2 == 1 {
					sign = -1
				}
				y[i] = tc.coef * math.Pow(n, tc.exp) * (1 + sign*tc.noise)
			}
			f, err := FitPower(ns, y)
			if err != nil {
				t.Fatal(err)
			}
			if f.Points != len(ns) {
				t.Errorf("points = %d, want %d", f.Points, len(ns))
			}
			if tc.noise == 0 {
				if math.Abs(f.Exponent-tc.exp) > 1e-9 || math.Abs(f.Coefficient-tc.coef) > 1e-6 {
					t.Errorf("fit %v·n^%v, want %v·n^%v", f.Coefficient, f.Exponent, tc.coef, tc.exp)
				}
				if math.Abs(f.R2-1) > 1e-12 || f.StdErr > 1e-9 {
					t.Errorf("exact data: R2=%v stderr=%v", f.R2, f.StdErr)
				}
				return
			}
			if math.Abs(f.Exponent-tc.exp) > 0.05 {
				t.Errorf("exponent %v, want %v ± 0.05", f.Exponent, tc.exp)
			}
			if !(f.ExponentCI[0] <= tc.exp && tc.exp <= f.ExponentCI[1]) {
				t.Errorf("CI %v does not contain %v", f.ExponentCI, tc.exp)
			}
			if f.ExponentCI[1]-f.ExponentCI[0] <= 0 || f.R2 >= 1 || f.R2 < 0.99 {
				t.Errorf("noisy data: CI %v R2 %v", f.ExponentCI, f.R2)
			}
		})
	}
}

func TestFitPowerErrors(t *testing.T) {
	tests := []struct {
		name string
		n, y []float64
	}{
		{"two points", []float64{4, 7}, []float64{1, 2}},
		{"length mismatch", []float64{4, 7, 10}, []float64{1, 2}},
		{"zero y", []float64{4, 7, 10}, []float64{1, 0, 2}},
		{"negative n", []float64{-4, 7, 10}, []float64{1, 1, 2}},
		{"same n", []float64{4, 4, 4}, []float64{1, 2, 3}},
		{"NaN y", []float64{4, 7, 10}, []float64{1, math.NaN(), 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if f, err := FitPower(tc.n, tc.y); err == nil {
				t.Fatalf("no error, fit %+v", f)
			}
		})
	}
}

func TestFitQuadratic(t *testing.T) {
	ns := []float64{4, 7, 10, 13, 16, 22, 31, 43, 64, 100}
	tests := []struct{ a, b, c float64 }{{2, -1, 1}, {1, 0, -1}, {0.5, 3, 10}}
	for _, tc := range tests {
		y := make([]float64, len(ns))
		for i, n := range ns {
			y[i] = tc.a*n*n + tc.b*n + tc.c
		}
		q, err := FitQuadratic(ns, y)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(q.A-tc.a) > 1e-9 || math.Abs(q.B-tc.b) > 1e-7 || math.Abs(q.C-tc.c) > 1e-6 || math.Abs(q.R2-1) > 1e-12 {
			t.Errorf("fit %+v, want a=%v b=%v c=%v", q, tc.a, tc.b, tc.c)
		}
	}
	if _, err := FitQuadratic([]float64{4, 7, 7}, []float64{1, 2, 3}); err == nil {
		t.Error("two distinct n: no error")
	}
}

func TestClosedFormMatchesReferenceTable(t *testing.T) {
	// Rows of the message-count table of ../docs/protocol.md.
	tests := []struct {
		n, f                     int
		pp, prep, commit, normal float64
		checkpoint, viewChange   float64
	}{
		{4, 1, 3, 9, 12, 29, 12, 15},
		{7, 2, 6, 36, 42, 92, 42, 48},
		{10, 3, 9, 81, 90, 191, 90, 99},
		{13, 4, 12, 144, 156, 326, 156, 168},
		{31, 10, 30, 900, 930, 1892, 930, 960},
		{100, 33, 99, 9801, 9900, 19901, 9900, 9999},
	}
	for _, tc := range tests {
		c := ClosedFormCounts(tc.n, 1, 16)
		if c.F != tc.f || c.PerType[TypePrePrepare] != tc.pp || c.PerType[TypePrepare] != tc.prep ||
			c.PerType[TypeCommit] != tc.commit || c.NormalPerRequest != tc.normal ||
			c.CheckpointPerRound != tc.checkpoint || c.ViewChange != tc.viewChange {
			t.Errorf("n=%d: %+v", tc.n, c)
		}
		var sum float64
		for _, v := range c.PerType {
			sum += v
		}
		if sum != c.NormalPerRequest {
			t.Errorf("n=%d: per-type sum %v != %v", tc.n, sum, c.NormalPerRequest)
		}
		if c.CheckpointPerRequest != tc.checkpoint/16 {
			t.Errorf("n=%d: checkpoint per request %v", tc.n, c.CheckpointPerRequest)
		}
	}
	// Batching divides all but REQUEST and REPLY by b.
	c := ClosedFormCounts(4, 3, 16)
	if c.NormalPerRequest != 24.0/3+4+1 || c.PerType[TypeReply] != 4 || c.PerType[TypeRequest] != 1 {
		t.Errorf("batch 3: %+v", c)
	}
}

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{1, 2, 3, 4})
	// mean 2.5, sd sqrt(5/3), t(0.975,3)=3.182446
	half := 3.182446305284263 * math.Sqrt(5.0/3) / 2
	if s.Mean != 2.5 || math.Abs(s.Std-math.Sqrt(5.0/3)) > 1e-12 || math.Abs(s.CI[0]-(2.5-half)) > 1e-6 || s.N != 4 {
		t.Errorf("%+v", s)
	}
	if one := Summarize([]float64{7}); one.Mean != 7 || one.Std != 0 || one.CI != [2]float64{7, 7} {
		t.Errorf("one sample: %+v", one)
	}
	if none := Summarize(nil); none != (Stat{}) {
		t.Errorf("no sample: %+v", none)
	}
}
