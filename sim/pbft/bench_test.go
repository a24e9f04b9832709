package pbft

import (
	"fmt"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// BenchmarkCommittedRequest measures the protocol cost of one committed
// request across a whole cluster (all replicas' steps plus the in-test
// delivery loop), fault-free, zero network delay.
func BenchmarkCommittedRequest(b *testing.B) {
	for _, tc := range []struct{ n, batch int }{{4, 1}, {10, 1}, {4, 10}, {31, 1}} {
		b.Run(fmt.Sprintf("n=%d/batch=%d", tc.n, tc.batch), func(b *testing.B) {
			clients := tc.batch
			ops := b.N/clients + 1
			h := newHarness(&testing.T{}, hopts{n: tc.n, clients: clients, ops: ops, k: 16, batch: tc.batch, batchTimeout: time.Millisecond})
			b.ReportAllocs()
			b.ResetTimer()
			h.start()
			h.run(time.Hour, nil)
			b.StopTimer()
			if !h.allDone() {
				b.Fatal("not done")
			}
		})
	}
}

// BenchmarkBatchDigest measures D(m) for a batch of 10 requests.
func BenchmarkBatchDigest(b *testing.B) {
	batch := make([]*Request, 10)
	for i := range batch {
		batch[i] = &Request{Op: "authorize PAY001 100", Timestamp: uint64(i), Client: 7}
	}
	var buf []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_, buf = batchDigestBuf(buf, batch)
	}
}

// BenchmarkVerify measures one signature check (a PREPARE).
func BenchmarkVerify(b *testing.B) {
	kr := NewKeyring(1, 4)
	p := &Prepare{View: 1, Seq: 2, Replica: 3}
	p.Sig = kr.Signer(3).Sign(p)
	var buf []byte
	var ok bool
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ok, buf = kr.VerifyBuf(buf, p)
	}
	if !ok {
		b.Fatal("bad signature")
	}
}

var _ sim.Node = (*Replica)(nil)
var _ sim.Node = (*Client)(nil)
