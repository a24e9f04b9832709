//go:build unix

package sim

import "syscall"

// cpuTime returns the process's user+system CPU time in nanoseconds, or -1.
// Benchmarks report it per event because, unlike wall time, it does not
// count time spent descheduled on a loaded machine.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
