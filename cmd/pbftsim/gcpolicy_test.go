package main

import "testing"

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

// TestGCPolicyOffWithGOGC checks that GOGC in the environment turns the
// policy off and that setGCBase then does nothing.
func TestGCPolicyOffWithGOGC(t *testing.T) {
	old := gcBase.Load()
	defer gcBase.Store(old)
	gcBase.Store(0)
	startGCPolicy("100", defaultGOGC)
	if gcBase.Load() != 0 {
		t.Fatalf("policy on although GOGC is set")
	}
	if got := setGCBase(1600); got != 0 || gcBase.Load() != 0 {
		t.Fatalf("setGCBase with the policy off: returned %d, base %d; want 0, 0", got, gcBase.Load())
	}
}
