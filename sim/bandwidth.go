package sim

import (
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Bandwidth is a link rate in bits per second; 0 means unlimited.
type Bandwidth int64

// bandwidthSyntax is the Allowed text of bandwidth parse errors.
const bandwidthSyntax = "a rate > 0 such as 8000bit, 500Kbit, 100Mbit or 1Gbit (bits per second; an optional /s; K, M, G are powers of 1000)"

// bandwidthUnits are the accepted unit suffixes, longest first.
var bandwidthUnits = []struct {
	suffix string
	mult   float64
}{
	{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1},
}

// ParseBandwidth parses a rate such as "100Mbit", "1.5Gbit/s", "500Kbit"
// or "8000bit" (units case-insensitive, decimal multiples). Zero, negative,
// fractional-bit and malformed rates are a *ConfigError.
func ParseBandwidth(s string) (Bandwidth, error) {
	bad := func() (Bandwidth, error) {
		return 0, &ConfigError{Field: "bandwidth", Value: strconv.Quote(s), Allowed: bandwidthSyntax}
	}
	t := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), "/s")
	for _, u := range bandwidthUnits {
		if !strings.HasSuffix(t, u.suffix) {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return bad()
		}
		bps := math.Round(v * u.mult)
		if bps < 1 || bps > 1e15 {
			return bad()
		}
		return Bandwidth(bps), nil
	}
	return bad()
}

// String formats b in the syntax ParseBandwidth reads back.
func (b Bandwidth) String() string {
	switch {
	case b == 0:
		return "unlimited"
	case b%1e9 == 0:
		return strconv.FormatInt(int64(b/1e9), 10) + "Gbit"
	case b%1e6 == 0:
		return strconv.FormatInt(int64(b/1e6), 10) + "Mbit"
	case b%1e3 == 0:
		return strconv.FormatInt(int64(b/1e3), 10) + "Kbit"
	}
	return strconv.FormatInt(int64(b), 10) + "bit"
}

// TxTime is how long a message of size bytes occupies a link of rate b:
// ceil(8*size / b) seconds, in whole nanoseconds (0 when b is unlimited).
func (b Bandwidth) TxTime(size int) time.Duration {
	if b <= 0 || size <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(size)*8, uint64(time.Second))
	if hi >= uint64(b) {
		return maxDelay
	}
	q, r := bits.Div64(hi, lo, uint64(b))
	if r != 0 {
		q++
	}
	if q > uint64(maxDelay) {
		return maxDelay
	}
	return time.Duration(q)
}

// egress is a per-node transmit queue: a node's messages leave (or, as an
// ingress queue, enter) its link one after another, in order, each
// occupying it for TxTime(size).
type egress struct {
	rate []Bandwidth // per node; nil when no node is limited
	busy []Time      // when each node's link becomes free
}

// init sets every node's rate to def, overridden by the non-zero entries
// of per.
func (q *egress) init(n int, def Bandwidth, per []Bandwidth) {
	if def == 0 && len(per) == 0 {
		return
	}
	q.rate = make([]Bandwidth, n)
	q.busy = make([]Time, n)
	for i := range q.rate {
		q.rate[i] = def
	}
	for i, b := range per {
		if i < n && b != 0 {
			q.rate[i] = b
		}
	}
}

// limited reports whether node id's link has a rate limit.
func (q *egress) limited(id NodeID) bool { return q.rate != nil && q.rate[id] != 0 }

// depart queues a message of size bytes sent by from at now and returns
// when its last bit leaves the sender's link (now when unlimited) and how
// long it waited behind the sender's earlier messages. As an ingress queue,
// from is the receiver and now the message's arrival.
func (q *egress) depart(now Time, from NodeID, size int) (dep Time, wait time.Duration) {
	if q.rate == nil || q.rate[from] == 0 {
		return now, 0
	}
	start := max(now, q.busy[from])
	end := addSat(start, int64(q.rate[from].TxTime(size)))
	q.busy[from] = end
	return end, time.Duration(start - now)
}

// SlowestEgress returns the lowest egress rate among nodes 0..n-1 (the
// default Bandwidth or a node's override), or 0 when none is limited.
func (nc *NetworkConfig) SlowestEgress(n int) Bandwidth {
	return slowestRate(nc.Bandwidth, nc.NodeBandwidth, n)
}

// SlowestIngress is SlowestEgress for the ingress rates.
func (nc *NetworkConfig) SlowestIngress(n int) Bandwidth {
	return slowestRate(nc.IngressBandwidth, nc.NodeIngress, n)
}

// slowestRate returns the lowest non-zero rate of n nodes with default def
// and per-node overrides per (0 entries keep def).
func slowestRate(def Bandwidth, per []Bandwidth, n int) Bandwidth {
	low := Bandwidth(0)
	for i := 0; i < n; i++ {
		b := def
		if i < len(per) && per[i] != 0 {
			b = per[i]
		}
		if b != 0 && (low == 0 || b < low) {
			low = b
		}
	}
	return low
}
