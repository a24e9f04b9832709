package cluster_test

import (
	"bytes"
	"runtime"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// TestBinaryTraceBytesDeterministic: the binary trace of a seed is the same
// bytes in every run, wherever its messages lie in memory (which message
// a record may refer to by age must not depend on their addresses). Runs
// with different heaps in between (garbage kept alive, a collection) give
// different addresses.
func TestBinaryTraceBytesDeterministic(t *testing.T) {
	trace := func() []byte {
		var buf bytes.Buffer
		s := sim.NewBinarySink(&buf)
		cfg := cluster.Config{Seed: 3, N: 4, Clients: 4, Requests: 1500, Payments: 16,
			Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: sim.Delay{Kind: sim.DelayUniform, Min: time.Millisecond, Max: 5 * time.Millisecond}}},
			Sinks:   []sim.Sink{s}}
		if _, err := cluster.Run(cfg); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	first := trace()
	var keep [][]byte
	for i := range 3 {
		for j := range 1000 * (i + 1) {
			keep = append(keep, make([]byte, 16+j%200))
		}
		if i == 1 {
			runtime.GC()
		}
		if got := trace(); !bytes.Equal(got, first) {
			t.Fatalf("run %d: binary trace of %d bytes differs from the first run's %d bytes", i+2, len(got), len(first))
		}
	}
	runtime.KeepAlive(keep)
}
