//go:build !unix

package sim

// cpuTime is unavailable here; see cputime_unix_test.go.
func cpuTime() int64 { return -1 }
