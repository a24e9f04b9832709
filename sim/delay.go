package sim

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// maxDelay bounds one sampled delay (about 73 years of virtual time), so a
// heavy-tailed draw can never overflow virtual time.
const maxDelay = time.Duration(1 << 61)

// delaySyntax is the Allowed text of delay parse errors.
const delaySyntax = "one of const:D, uniform:MIN:MAX, exp:MEAN[:MIN], lognormal:MEDIAN:SIGMA[:MIN], pareto:SCALE:ALPHA[:MIN] (durations like 2ms)"

// ParseDelay parses a delay distribution: "const:2ms", "uniform:1ms:20ms",
// "exp:5ms" or "exp:5ms:1ms" (mean, then an optional minimum added to every
// draw), "lognormal:10ms:0.5[:MIN]" (median and sigma of the log),
// "pareto:2ms:1.5[:MIN]" (scale and shape; the draw minus the scale is
// added to MIN). Errors are *ConfigError.
func ParseDelay(s string) (Delay, error) {
	bad := func(allowed string) (Delay, error) {
		return Delay{}, &ConfigError{Field: "delay", Value: strconv.Quote(s), Allowed: allowed}
	}
	parts := strings.Split(s, ":")
	var d Delay
	dur := func(i int) (time.Duration, bool) {
		v, err := time.ParseDuration(parts[i])
		return v, err == nil
	}
	num := func(i int) (float64, bool) {
		v, err := strconv.ParseFloat(parts[i], 64)
		return v, err == nil
	}
	var ok bool
	switch parts[0] {
	case "const":
		if len(parts) != 2 {
			return bad("const:D, e.g. const:2ms")
		}
		d.Kind = DelayConst
		if d.Min, ok = dur(1); !ok {
			return bad("const:D with D a duration such as 2ms")
		}
	case "uniform":
		if len(parts) != 3 {
			return bad("uniform:MIN:MAX, e.g. uniform:1ms:20ms")
		}
		d.Kind = DelayUniform
		var ok2 bool
		d.Min, ok = dur(1)
		d.Max, ok2 = dur(2)
		if !ok || !ok2 {
			return bad("uniform:MIN:MAX with durations such as 1ms")
		}
	case "exp":
		if len(parts) != 2 && len(parts) != 3 {
			return bad("exp:MEAN[:MIN], e.g. exp:5ms or exp:5ms:1ms")
		}
		d.Kind = DelayExponential
		if d.Mean, ok = dur(1); !ok {
			return bad("exp:MEAN[:MIN] with durations such as 5ms")
		}
		if len(parts) == 3 {
			if d.Min, ok = dur(2); !ok {
				return bad("exp:MEAN[:MIN] with durations such as 5ms")
			}
		}
	case "lognormal", "pareto":
		if len(parts) != 3 && len(parts) != 4 {
			return bad(parts[0] + ":D:SHAPE[:MIN], e.g. lognormal:10ms:0.5 or pareto:2ms:1.5")
		}
		var shape float64
		d.Mean, ok = dur(1)
		var ok2 bool
		shape, ok2 = num(2)
		if !ok || !ok2 {
			return bad(parts[0] + ":D:SHAPE[:MIN] with D a duration and SHAPE a number")
		}
		if len(parts) == 4 {
			if d.Min, ok = dur(3); !ok {
				return bad(parts[0] + ":D:SHAPE[:MIN] with MIN a duration")
			}
		}
		if parts[0] == "lognormal" {
			d.Kind, d.Sigma = DelayLogNormal, shape
		} else {
			d.Kind, d.Alpha = DelayPareto, shape
		}
	default:
		return bad(delaySyntax)
	}
	if err := d.validate("delay"); err != nil {
		return Delay{}, err
	}
	return d, nil
}

// String formats d in the syntax ParseDelay reads back.
func (d Delay) String() string {
	min := ""
	if d.Min != 0 {
		min = ":" + d.Min.String()
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	switch d.Kind {
	case DelayConst:
		return "const:" + d.Min.String()
	case DelayUniform:
		return "uniform:" + d.Min.String() + ":" + d.Max.String()
	case DelayExponential:
		return "exp:" + d.Mean.String() + min
	case DelayLogNormal:
		return "lognormal:" + d.Mean.String() + ":" + f(d.Sigma) + min
	case DelayPareto:
		return "pareto:" + d.Mean.String() + ":" + f(d.Alpha) + min
	}
	return "DelayKind(" + strconv.Itoa(int(d.Kind)) + ")"
}

// Sample draws one delay from d using r. Draws are clamped to [Min, Min+~73y].
// The exponential, log-normal and Pareto draws use gonum's distuv with r as
// the source, so they consume only r.
func (d Delay) Sample(r *rand.Rand) time.Duration {
	var x float64
	switch d.Kind {
	case DelayConst:
		return max(d.Min, 0)
	case DelayUniform:
		if d.Max <= d.Min {
			return max(d.Min, 0)
		}
		return d.Min + time.Duration(r.Uint64N(uint64(d.Max-d.Min)+1))
	case DelayExponential:
		if d.Mean <= 0 {
			return max(d.Min, 0)
		}
		x = distuv.Exponential{Rate: 1 / float64(d.Mean), Src: r}.Rand()
	case DelayLogNormal:
		if d.Mean <= 0 {
			return max(d.Min, 0)
		}
		x = distuv.LogNormal{Mu: math.Log(float64(d.Mean)), Sigma: d.Sigma, Src: r}.Rand()
	case DelayPareto:
		if d.Mean <= 0 || !(d.Alpha > 0) {
			return max(d.Min, 0)
		}
		x = distuv.Pareto{Xm: float64(d.Mean), Alpha: d.Alpha, Src: r}.Rand() - float64(d.Mean)
	default:
		return max(d.Min, 0)
	}
	return min(max(d.Min, 0), maxDelay) + clampDur(x)
}

// is32bit is true on platforms whose uint is 32 bits wide, where
// math/rand/v2 draws small bounded numbers another way (see sampleFrom).
const is32bit = ^uint(0)>>32 == 0

// sampleFrom is d.Sample(r) for the kernel's per-message draws, r being the
// Rand that wraps p: the same value and the same draws from p, but a
// uniform or constant delay is drawn here, calling p directly (no interface
// call through r, no copy of d), and any other kind by Sample. On 32-bit
// platforms, where Rand.Uint64N draws small bounds another way, every kind
// goes through Sample.
func sampleFrom(d *Delay, p *rand.PCG, r *rand.Rand) time.Duration {
	switch {
	case d.Kind == DelayUniform && d.Max > d.Min && !is32bit:
		return d.Min + time.Duration(uint64n(p, uint64(d.Max-d.Min)+1))
	case d.Kind == DelayConst:
		return max(d.Min, 0)
	}
	return d.Sample(r)
}

// uint64n is rand.New(p).Uint64N(n) on a 64-bit platform (math/rand/v2's
// uint64n, Lemire's multiply-and-reject): the same value from the same draws
// of p. n must not be 0.
func uint64n(p *rand.PCG, n uint64) uint64 {
	if n&(n-1) == 0 { // n is a power of two: mask
		return p.Uint64() & (n - 1)
	}
	hi, lo := bits.Mul64(p.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(p.Uint64(), n)
		}
	}
	return hi
}

// clampDur converts a non-negative float of nanoseconds to a Duration,
// mapping NaN and huge values to maxDelay and negatives to 0.
func clampDur(x float64) time.Duration {
	switch {
	case x != x || x >= float64(maxDelay):
		return maxDelay
	case x <= 0:
		return 0
	}
	return time.Duration(math.Round(x))
}
