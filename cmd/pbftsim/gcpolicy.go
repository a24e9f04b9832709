package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// The command's garbage collector policy. A run allocates hundreds of MB/s
// of short-lived messages while its live heap is a few MB, so the default
// GOGC=100 would collect every few milliseconds, and a collection's write
// barriers slow the simulation while it marks: the command starts at
// GOGC=400 (gcBase). But a run with many payments keeps state that grows
// with them (the ledgers, the checker's per-payment records), and 400% of
// a live heap of 100 MB is 400 MB of garbage. So after every collection the
// policy sets the percentage from the live heap it found (gcPercent): 400%
// while that is at most gcMaxHeadroom, then a fixed headroom of
// gcMaxHeadroom, but never below gcMinPercent. (600,000 requests with
// 300,000 payments, checked: 124 MB resident at 40 MB and 50%, 101 MB at
// 24 MB and 25%, 92 MB at 16 MB and 20%, within ±5% of CPU. 1,000,000
// requests with a trace, 500,000 payments, live heap ≈60 MB: 117 MB at
// 24 MB and 25%, 97-100 MB at 12 MB and 15% for ≈15% more CPU, 94 MB at
// 8 MB and 10%. Runs with 64 payments, whose live heap stays near 3 MB,
// are not affected.) The collector's timing
// decides nothing a run computes (the ledgers' shared versions are kept by
// their cache's ring of recent ones, not by the collector, and a missing
// one is recomputed with the same result), so the policy changes speed and
// memory, never an output.

const (
	// defaultGOGC is the garbage collector's percentage for small heaps
	// when GOGC is not set.
	defaultGOGC = 400
	// gcMaxHeadroom is the most garbage, in bytes, the policy lets a
	// heap above gcMaxHeadroom*100/gcBase live bytes accumulate between
	// collections (scaled by gcBase/defaultGOGC for a sweep's base).
	gcMaxHeadroom = 12 << 20
	// gcMinPercent is the smallest percentage the policy sets: a heap of
	// hundreds of MB still collects after growing by 15%, not every few
	// MB of allocation.
	gcMinPercent = 15
)

// gcBase is the policy's percentage for small heaps (0: the policy is off,
// because GOGC is set or it was stopped). gcMu orders a collection's update
// (onGC) with startGCPolicy and its stop, so that a collection during stop
// cannot overwrite the restored percentage; gcArmed says a hook is pending
// (one chain at a time, however often the policy is started and stopped).
var (
	gcBase  atomic.Int32
	gcMu    sync.Mutex
	gcArmed bool
)

// gcPercent returns the percentage for a live heap of live bytes under
// base: base while live*base/100 is at most the headroom cap
// (gcMaxHeadroom scaled by base/defaultGOGC), then the cap's share of
// live, but at least gcMinPercent.
func gcPercent(live uint64, base int) int {
	limit := uint64(gcMaxHeadroom) * uint64(base) / defaultGOGC
	if live == 0 || live*uint64(base)/100 <= limit {
		return base
	}
	p := int(limit * 100 / live)
	if p < gcMinPercent {
		p = gcMinPercent
	}
	return p
}

// startGCPolicy sets the collector's percentage to base and, after every
// collection, to gcPercent of the live heap, unless the GOGC environment
// variable is set (gogc != ""): then the runtime's setting stands. The
// returned function stops the policy and restores the percentage (`run`
// starts it; the other commands keep a fixed percentage).
func startGCPolicy(gogc string, base int) (stop func()) {
	if gogc != "" {
		return func() {}
	}
	gcMu.Lock()
	defer gcMu.Unlock()
	old := debug.SetGCPercent(base)
	gcBase.Store(int32(base))
	if !gcArmed {
		gcArmed = true
		armGCHook()
	}
	return func() {
		gcMu.Lock()
		defer gcMu.Unlock()
		gcBase.Store(0)
		debug.SetGCPercent(old)
	}
}

// gcSentinel is allocated unreachable: its finalizer runs after the next
// collection and arms a new one, so onGC runs once per collection. (It holds
// a pointer so that it is not batched with other tiny objects.)
type gcSentinel struct {
	_ *byte
	_ [8]byte
}

func armGCHook() {
	runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) { onGC() })
}

// liveSample reads the live heap found by the last collection.
var liveSample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}

// onGC runs on the finalizer goroutine after a collection: it sets the
// percentage for the live heap found, and arms the hook again; once the
// policy is stopped it ends the chain instead.
func onGC() {
	gcMu.Lock()
	defer gcMu.Unlock()
	gcHooks.Add(1)
	base := int(gcBase.Load())
	if base == 0 {
		gcArmed = false
		return
	}
	defer armGCHook()
	metrics.Read(liveSample)
	if liveSample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	debug.SetGCPercent(gcPercent(liveSample[0].Value.Uint64(), base))
}

// gcHooks counts onGC calls (for the tests: one per collection while the
// policy is on, however often it was restarted).
var gcHooks atomic.Int64
