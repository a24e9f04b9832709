package main

import (
	"runtime/debug"
	"testing"
)

func TestGCPercent(t *testing.T) {
	const mb = 1 << 20
	for _, tc := range []struct {
		live uint64
		base int
		want int
	}{
		{0, 400, 400},
		{5 * mb, 400, 400},
		{6 * mb, 400, 400}, // 24 MB of headroom: the cap
		{12 * mb, 400, 200},
		{48 * mb, 400, 50},
		{96 * mb, 400, 25},
		{400 * mb, 400, 25}, // never below gcMinPercent
		{5 * mb, 1600, 1600},
		{48 * mb, 1600, 200}, // a sweep's cap scales with its base
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
