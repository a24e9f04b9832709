package cluster

import (
	"math"
	"math/bits"
	"slices"
	"time"
)

// exactLatencies is how many latencies the observer keeps verbatim: up to
// this many accepted requests, Latency's quantiles are exact; beyond it the
// samples move into a fixed-size log-linear histogram (quantiles within
// 1/histSub relative error, Max still exact), so memory does not grow with
// the number of requests.
const exactLatencies = 1 << 17

// histSub is the number of sub-buckets per power of two in the histogram.
const (
	histSubBits = 7
	histSub     = 1 << histSubBits
)

// latencies collects client latencies in bounded memory.
type latencies struct {
	exact []time.Duration // all samples while n <= exactLatencies
	hist  []uint64        // bucket counts once the samples overflowed exact
	n     int
	max   time.Duration
}

// add records one latency.
func (l *latencies) add(d time.Duration) {
	d = max(d, 0)
	l.n++
	l.max = max(l.max, d)
	if l.hist == nil {
		if len(l.exact) < exactLatencies {
			l.exact = append(l.exact, d)
			return
		}
		l.hist = make([]uint64, 64*histSub)
		for _, x := range l.exact {
			l.hist[histBucket(x)]++
		}
		l.exact = nil
	}
	l.hist[histBucket(d)]++
}

// histBucket returns the histogram bucket of d >= 0: values below histSub
// have a bucket each; above, each power of two is split into histSub
// buckets.
func histBucket(d time.Duration) int {
	v := uint64(d)
	if v < histSub {
		return int(v)
	}
	e := bits.Len64(v) - histSubBits // >= 1: how far v is shifted
	return e*histSub + int(v>>(e-1)) - histSub
}

// histUpper returns the largest value that falls in bucket b.
func histUpper(b int) time.Duration {
	if b < histSub {
		return time.Duration(b)
	}
	e, m := b/histSub, b%histSub
	lo := uint64(histSub+m) << (e - 1)
	hi := lo + (uint64(1) << (e - 1)) - 1
	if hi > math.MaxInt64 {
		hi = math.MaxInt64
	}
	return time.Duration(hi)
}

// summary returns the p50, p99 and max: exact (nearest rank) while every
// sample is kept, otherwise the upper bound of the histogram bucket holding
// the nearest-rank sample, capped at the exact maximum.
func (l *latencies) summary() Latency {
	if l.n == 0 {
		return Latency{}
	}
	rank := func(p float64) int { return max(int(math.Ceil(p*float64(l.n))), 1) }
	if l.hist == nil {
		s := slices.Clone(l.exact)
		slices.Sort(s)
		q := func(p float64) int64 { return int64(s[rank(p)-1]) }
		return Latency{P50: q(0.50), P99: q(0.99), Max: int64(l.max)}
	}
	q := func(p float64) int64 {
		r, seen := uint64(rank(p)), uint64(0)
		for b, c := range l.hist {
			if seen += c; seen >= r {
				return int64(min(histUpper(b), l.max))
			}
		}
		return int64(l.max)
	}
	return Latency{P50: q(0.50), P99: q(0.99), Max: int64(l.max)}
}
