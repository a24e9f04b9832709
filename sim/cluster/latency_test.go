package cluster

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// exactQuantiles is the nearest-rank reference the summary must match.
func exactQuantiles(s []time.Duration) Latency {
	s = slices.Clone(s)
	slices.Sort(s)
	q := func(p float64) int64 { return int64(s[max(int(math.Ceil(p*float64(len(s))))-1, 0)]) }
	return Latency{P50: q(0.5), P99: q(0.99), Max: int64(s[len(s)-1])}
}

func TestLatenciesExactUpToLimit(t *testing.T) {
	for _, n := range []int{1, 2, 99, 100, 101, 1000, exactLatencies} {
		r := rand.New(rand.NewPCG(uint64(n), 1))
		var l latencies
		var all []time.Duration
		for range n {
			d := time.Duration(r.Int64N(int64(time.Second)))
			l.add(d)
			all = append(all, d)
		}
		if got, want := l.summary(), exactQuantiles(all); got != want {
			t.Errorf("n=%d: summary %+v, want exact %+v", n, got, want)
		}
	}
	var l latencies
	if got := l.summary(); got != (Latency{}) {
		t.Errorf("empty: %+v, want zero", got)
	}
}

func TestLatenciesHistogramBounded(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	var l latencies
	var all []time.Duration
	n := 3*exactLatencies + 5
	for range n {
		d := time.Duration(1 + r.ExpFloat64()*float64(5*time.Millisecond))
		l.add(d)
		all = append(all, d)
	}
	if l.exact != nil || len(l.hist) != 64*histSub {
		t.Fatalf("after %d samples: %d exact, %d buckets; want the fixed histogram only", n, len(l.exact), len(l.hist))
	}
	got, want := l.summary(), exactQuantiles(all)
	if got.Max != want.Max {
		t.Errorf("max %d, want exact %d", got.Max, want.Max)
	}
	for _, c := range []struct {
		name      string
		got, want int64
	}{{"p50", got.P50, want.P50}, {"p99", got.P99, want.P99}} {
		if c.got < c.want || float64(c.got-c.want) > float64(c.want)/histSub {
			t.Errorf("%s = %d, want within 1/%d above the exact %d", c.name, c.got, histSub, c.want)
		}
	}
}

func TestHistBuckets(t *testing.T) {
	prev := -1
	for _, v := range []time.Duration{0, 1, histSub - 1, histSub, histSub + 1, 255, 256, 1000, 1 << 20, 123456789, math.MaxInt64} {
		b := histBucket(v)
		if b < prev || b >= 64*histSub {
			t.Fatalf("bucket(%d) = %d: not monotone or out of range (prev %d)", v, b, prev)
		}
		prev = b
		if up := histUpper(b); up < v || (b > 0 && histUpper(b-1) >= v) {
			t.Errorf("value %d in bucket %d with range up to %d (previous up to %d)", v, b, up, histUpper(b-1))
		}
	}
}
