package main

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestGCPercent(t *testing.T) {
	const mb = 1 << 20
	for _, tc := range []struct {
		live uint64
		base int
		want int
	}{
		{0, 400, 400},
		{2 * mb, 400, 400},
		{3 * mb, 400, 400}, // 12 MB of headroom: the cap
		{6 * mb, 400, 200},
		{48 * mb, 400, 25},
		{80 * mb, 400, 15},
		{400 * mb, 400, 15}, // never below gcMinPercent
		{2 * mb, 1600, 1600},
		{24 * mb, 1600, 200}, // the cap scales with the base
	} {
		if got := gcPercent(tc.live, tc.base); got != tc.want {
			t.Errorf("gcPercent(%d MB, %d) = %d, want %d", tc.live/mb, tc.base, got, tc.want)
		}
	}
}

// TestGCPolicyStartStop: GOGC in the environment keeps the policy off;
// otherwise it is on until stopped, and stopping restores the percentage.
func TestGCPolicyStartStop(t *testing.T) {
	startGCPolicy("100", defaultGOGC)()
	if gcBase.Load() != 0 {
		t.Fatalf("policy on although GOGC is set")
	}
	before := debug.SetGCPercent(123)
	defer debug.SetGCPercent(before)
	stop := startGCPolicy("", defaultGOGC)
	if gcBase.Load() != defaultGOGC {
		t.Fatalf("policy base %d, want %d", gcBase.Load(), defaultGOGC)
	}
	stop()
	if gcBase.Load() != 0 || debug.SetGCPercent(123) != 123 {
		t.Fatal("stop left the policy on or did not restore the percentage")
	}
}

// TestGCPolicyRestartOneHook: starting and stopping the policy again and
// again keeps one hook chain (one onGC per collection, not one per start),
// and once stopped no collection overwrites the restored percentage.
// Finalizers run on their own goroutine, so the test gives them time after
// each collection; a slow machine can only make it count fewer calls.
func TestGCPolicyRestartOneHook(t *testing.T) {
	before := debug.SetGCPercent(123)
	defer debug.SetGCPercent(before)
	collect := func(k int) {
		for range k {
			runtime.GC()
			time.Sleep(20 * time.Millisecond)
		}
	}
	for range 5 {
		startGCPolicy("", defaultGOGC)()
		collect(1)
	}
	stop := startGCPolicy("", defaultGOGC)
	collect(2)
	n0 := gcHooks.Load()
	collect(3)
	if d := gcHooks.Load() - n0; d > 4 {
		t.Errorf("%d hook calls for 3 collections after 6 starts: more than one hook chain", d)
	}
	stop()
	collect(3)
	if p := debug.SetGCPercent(123); p != 123 {
		t.Errorf("percentage %d after stop and collections, want the restored 123", p)
	}
}
