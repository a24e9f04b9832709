package ledger

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// BenchmarkSharedWorkload is the ledger's part of a default-payments run
// (pbftsim run --requests 200000: 100,000 payments): four ledgers sharing a
// SnapshotCache, as a run's replicas, grow from empty to 100,000 payments
// over 200,000 operations, each executed by all four: the authorize of
// every payment in a random order, each followed 64 operations later by a
// confirm or a cancel; all four digest every 16 operations (a checkpoint
// at K=16, batch 1). ns/op and cpu-ns/op are per operation (four
// executions); cpu-ns/op is the process's CPU time, the figure to trust
// on a loaded machine.
func BenchmarkSharedWorkload(b *testing.B) {
	const payments = 100000
	perm := rand.New(rand.NewPCG(1, 2)).Perm(payments)
	ops := make([]string, 2*payments)
	for i := range ops {
		if i%2 == 0 {
			ops[i] = Authorize(payID(perm[i/2]), int64(100*(1+perm[i/2]%1000)))
			continue
		}
		switch j := i/2 - 32; {
		case j < 0:
			ops[i] = Get(payID(perm[0]))
		case j%4 == 3:
			ops[i] = Cancel(payID(perm[j]))
		default:
			ops[i] = Confirm(payID(perm[j]))
		}
	}
	var ls [4]*Ledger
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range b.N {
		k := i % len(ops)
		if k == 0 {
			c := NewSnapshotCache()
			for r := range ls {
				ls[r] = NewShared(c)
			}
		}
		for _, l := range ls {
			l.Execute(ops[k])
		}
		if k%16 == 15 {
			for _, l := range ls {
				l.Digest()
			}
		}
	}
	if cpu := cpuTime() - cpu0; b.N > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// payID is the workload's id of payment k (PAY000001 ...).
func payID(k int) string {
	b := []byte("PAY000000")
	for i, v := len(b)-1, k+1; v > 0; i, v = i-1, v/10 {
		b[i] = byte('0' + v%10)
	}
	return string(b)
}

// cpuTime returns the CPU time (user and system) of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
