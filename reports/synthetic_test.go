package reports

import (
	"fmt"
	"math/rand/v2"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// Modelled message sizes of the synthetic runner.
var synthSize = map[string]uint64{
	TypeRequest: 120, TypePrePrepare: 200, TypePrepare: 96, TypeCommit: 96, TypeReply: 110, TypeCheckpoint: 100,
}

// synthetic returns a runner that produces the exact closed-form PBFT counts
// (no batching) for cfg.N replicas and cfg.Requests requests. When
// cfg.Network.Default.Drop > 0 it models a lossy network: dropped messages,
// client retransmissions (a REQUEST multicast to all replicas), repeated
// PREPAREs and COMMITs, and one view change of exactly n²−1 messages whose
// bytes grow as n³. Latency depends on n and on the seed; everything is a
// deterministic function of cfg.
func synthetic(cfg cluster.Config) (*cluster.Result, error) {
	n := cfg.N
	if n < 4 {
		return nil, fmt.Errorf("synthetic: N=%d", n)
	}
	r := uint64(cfg.Requests)
	if r == 0 {
		r = 8
	}
	k := uint64(cfg.CheckpointInterval)
	if k == 0 {
		k = 16
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(n)))
	un := uint64(n)
	by := map[string]uint64{
		TypeRequest:    r,
		TypePrePrepare: r * (un - 1),
		TypePrepare:    r * (un - 1) * (un - 1),
		TypeCommit:     r * un * (un - 1),
		TypeReply:      r * un,
		TypeCheckpoint: r / k * un * (un - 1),
	}
	bytesBy := map[string]uint64{}
	var dropped uint64
	changes := 0
	if p := cfg.Network.Default.Drop; p > 0 {
		var retx uint64
		for range r {
			if rng.Float64() < 0.5 {
				retx++
			}
		}
		by[TypeRequest] += (retx + 1) * un
		by[TypePrepare] += uint64(p * float64(by[TypePrepare]))
		by[TypeCommit] += uint64(p * float64(by[TypeCommit]))
		changes = 1
		by[TypeViewChange] = un * (un - 1)
		by[TypeNewView] = un - 1
		f := (un - 1) / 3
		bytesBy[TypeViewChange] = by[TypeViewChange] * 64 * (2*f + 1)
		bytesBy[TypeNewView] = by[TypeNewView] * 64 * (2*f + 1) * un
	}
	res := &cluster.Result{Seed: cfg.Seed, N: n, F: (n - 1) / 3, TraceHash: fmt.Sprintf("synthetic-%d-%d", n, cfg.Seed),
		Messages: cluster.Messages{ByType: map[string]uint64{}, BytesByType: map[string]uint64{}}}
	for t, c := range by {
		if c == 0 {
			continue
		}
		res.Messages.ByType[t] = c
		b, ok := bytesBy[t]
		if !ok {
			b = c * synthSize[t]
		}
		res.Messages.BytesByType[t] = b
		res.Messages.Total += c
		res.Messages.Bytes += b
	}
	if cfg.Network.Default.Drop > 0 {
		dropped = uint64(cfg.Network.Default.Drop*float64(res.Messages.Total)) + 1
	}
	res.Messages.Dropped = dropped
	res.Messages.PerCommitted = float64(res.Messages.Total) / float64(r)
	res.Requests = cluster.Requests{Submitted: int(r), Committed: int(r)}
	base := int64(3_000_000 + 100_000*n)
	res.LatencyNs = cluster.Latency{P50: base + rng.Int64N(500_000), P99: 2*base + rng.Int64N(1_000_000)}
	res.LatencyNs.Max = res.LatencyNs.P99 + 1
	res.SimTimeNs = int64(r) * res.LatencyNs.P50
	res.Events = res.Messages.Total * 2
	res.Views = cluster.Views{Final: uint64(changes), Changes: changes}
	res.Completed = true
	res.WithinFaultModel = true
	for i := range n {
		res.Replicas = append(res.Replicas, cluster.ReplicaSummary{Executed: r, Stable: r / k * k, View: uint64(changes), ID: sim.NodeID(i)})
	}
	return res, nil
}
