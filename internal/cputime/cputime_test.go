package cputime

import (
	"runtime"
	"testing"
)

// TestProcessGrows: spinning uses CPU time, which Process reports.
func TestProcessGrows(t *testing.T) {
	before, ok := Process()
	if !ok {
		if runtime.GOOS != "windows" && runtime.GOOS != "plan9" && runtime.GOOS != "js" && runtime.GOOS != "wasip1" {
			t.Fatalf("no CPU time on %s", runtime.GOOS)
		}
		t.Skip("no CPU time on this platform")
	}
	x := 0
	for {
		for i := 0; i < 1_000_000; i++ {
			x += i
		}
		if after, _ := Process(); after > before {
			break
		}
	}
	_ = x
}
