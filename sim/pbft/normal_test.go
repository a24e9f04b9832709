package pbft

import (
	"fmt"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

func TestMessageCountsOneRequest(t *testing.T) {
	for _, n := range []int{4, 7, 10, 13} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			h := newHarness(t, hopts{n: n, clients: 1, ops: 1})
			h.start()
			h.run(10*time.Second, nil)
			if !h.allDone() {
				t.Fatalf("request not accepted; %v", h.counts())
			}
			want := map[string]int{
				"REQUEST":     1,
				"PRE-PREPARE": n - 1,
				"PREPARE":     (n - 1) * (n - 1),
				"COMMIT":      n * (n - 1),
				"REPLY":       n,
			}
			total := 0
			for _, c := range h.sent {
				total += c
			}
			for k, w := range want {
				if h.sent[k] != w {
					t.Errorf("%s sent %d, want %d (all: %v)", k, h.sent[k], w, h.counts())
				}
			}
			if total != 2*n*n-n+1 {
				t.Errorf("total %d, want 2n²-n+1 = %d (%v)", total, 2*n*n-n+1, h.counts())
			}
		})
	}
}

func TestMessageCountsCheckpointRound(t *testing.T) {
	for _, n := range []int{4, 7, 10, 13} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			h := newHarness(t, hopts{n: n, clients: 1, ops: 1, k: 1, l: 2})
			h.start()
			h.run(10*time.Second, nil)
			if !h.allDone() {
				t.Fatal("request not accepted")
			}
			if got := h.sent["CHECKPOINT"]; got != n*(n-1) {
				t.Errorf("CHECKPOINT sent %d, want n(n-1) = %d", got, n*(n-1))
			}
			for _, r := range h.replicas {
				if r.StableCheckpoint() != 1 || r.LogSize() != 0 {
					t.Errorf("%v: want stable checkpoint 1 and empty log", r)
				}
			}
			if got := len(h.eventsOf("stable-checkpoint")); got != n {
				t.Errorf("%d stable-checkpoint events, want %d", got, n)
			}
		})
	}
}

func TestBatchingDividesCounts(t *testing.T) {
	// 4 clients, one request each, batch of 4: one PRE-PREPARE round.
	n := 4
	h := newHarness(t, hopts{n: n, clients: 4, ops: 1, batch: 4})
	h.start()
	h.run(10*time.Second, nil)
	if !h.allDone() {
		t.Fatalf("not done: %v", h.counts())
	}
	want := map[string]int{"REQUEST": 4, "PRE-PREPARE": n - 1, "PREPARE": (n - 1) * (n - 1), "COMMIT": n * (n - 1), "REPLY": 4 * n}
	for k, w := range want {
		if h.sent[k] != w {
			t.Errorf("%s sent %d, want %d", k, h.sent[k], w)
		}
	}
	ex := h.eventsOf("executed")
	idx := map[int]bool{}
	for _, e := range ex {
		x := e.ev.(*Executed)
		if x.Seq != 1 {
			t.Errorf("executed at seq %d, want all at 1", x.Seq)
		}
		idx[x.Index] = true
	}
	if len(ex) != 4*n || len(idx) != 4 {
		t.Errorf("%d executed events with %d distinct indexes, want %d and 4", len(ex), len(idx), 4*n)
	}
}

func TestBatchTimeoutFlushesPartialBatch(t *testing.T) {
	h := newHarness(t, hopts{n: 4, clients: 1, ops: 3, batch: 8, batchTimeout: 7 * time.Millisecond})
	h.start()
	h.run(10*time.Second, nil)
	if !h.allDone() {
		t.Fatal("partial batches never flushed")
	}
	if h.sent["PRE-PREPARE"] != 3*3 {
		t.Errorf("PRE-PREPARE %d, want 9 (one per request, each flushed by the timer)", h.sent["PRE-PREPARE"])
	}
	acc := h.eventsOf("accepted")
	if lat := acc[0].ev.(*Accepted).Latency; lat != 7*time.Millisecond {
		t.Errorf("latency %v, want the batch timeout 7ms", lat)
	}
}

func TestAllReplicasSameLogAndDigest(t *testing.T) {
	h := newHarness(t, hopts{n: 7, clients: 3, ops: 40, k: 10, batch: 2})
	h.start()
	h.run(time.Minute, nil)
	if !h.allDone() {
		t.Fatal("not done")
	}
	h.checkAgreement(ids(0, 7))
	ref := h.executedLog(0)
	if len(ref) != 120 {
		t.Fatalf("replica 0 executed %d requests, want 120", len(ref))
	}
	for i := 1; i < 7; i++ {
		got := h.executedLog(sim.NodeID(i))
		if fmt.Sprint(got) != fmt.Sprint(ref) {
			t.Fatalf("replica %d log differs", i)
		}
		if h.replicas[i].StateDigest() != h.replicas[0].StateDigest() {
			t.Fatalf("replica %d state digest differs", i)
		}
	}
}

func TestLogBoundedByWindow(t *testing.T) {
	const L = 8
	h := newHarness(t, hopts{n: 4, clients: 2, ops: 5000, k: 4, l: L})
	h.start()
	maxLog := 0
	h.afterStep = func() {
		for _, r := range h.replicas {
			if r.LogSize() > maxLog {
				maxLog = r.LogSize()
			}
		}
	}
	h.run(time.Hour, nil)
	if !h.allDone() {
		t.Fatal("not done")
	}
	if maxLog > L || maxLog == 0 {
		t.Fatalf("max log size %d, want in [1, %d]", maxLog, L)
	}
	for _, r := range h.replicas {
		if r.LastExecuted() != 10000 || r.StableCheckpoint() != 10000 {
			t.Fatalf("%v: want 10000 executed and stable", r)
		}
		if len(r.ckpts) > 2 {
			t.Fatalf("%v holds %d checkpoints", r, len(r.ckpts))
		}
	}
}

func TestClientTimestampRules(t *testing.T) {
	h := newHarness(t, hopts{n: 4, clients: 1, ops: 2})
	h.start()
	h.run(time.Second, nil)
	if !h.allDone() {
		t.Fatal("not done")
	}
	c := sim.NodeID(4)
	signer := h.kr.Signer(c)
	mk := func(op string, ts uint64) *Request {
		q := &Request{Op: op, Timestamp: ts, Client: c}
		q.Sig = signer.Sign(q)
		return q
	}
	base := h.sent["PRE-PREPARE"]
	replies := h.sent["REPLY"]
	// a duplicate of the last request: the primary resends the cached reply
	h.inject(c, 0, mk("c4-op1", 2))
	h.run(time.Second, nil)
	if h.sent["PRE-PREPARE"] != base || h.sent["REPLY"] != replies+1 {
		t.Fatalf("duplicate: PRE-PREPARE %d (want %d) REPLY %d (want %d)", h.sent["PRE-PREPARE"], base, h.sent["REPLY"], replies+1)
	}
	// an older timestamp is discarded silently
	h.inject(c, 0, mk("c4-op0", 1))
	h.run(time.Second, nil)
	if h.sent["PRE-PREPARE"] != base || h.sent["REPLY"] != replies+1 {
		t.Fatal("old timestamp was not discarded")
	}
	// a forged request (bad signature) is ignored
	bad := mk("c4-forged", 9)
	bad.Sig++
	h.inject(c, 0, bad)
	h.run(time.Second, nil)
	if h.sent["PRE-PREPARE"] != base {
		t.Fatal("forged request was ordered")
	}
	// a newer timestamp is ordered and executed once; its second copy, a
	// retransmission while it is ordered but not executed, makes the
	// primary retransmit the same PRE-PREPARE
	h.inject(c, 0, mk("c4-op2", 3))
	h.inject(c, 0, mk("c4-op2", 3))
	h.run(time.Second, nil)
	if h.sent["PRE-PREPARE"] != base+6 {
		t.Fatalf("new request: PRE-PREPARE %d, want %d", h.sent["PRE-PREPARE"], base+6)
	}
	for i := 0; i < 4; i++ {
		if got := len(h.sms[i].ops); got != 3 {
			t.Fatalf("replica %d executed %d ops, want 3", i, got)
		}
	}
}

func TestClientRequiresFPlusOneMatchingReplies(t *testing.T) {
	h := newHarness(t, hopts{n: 4, clients: 1, ops: 1})
	cl := h.clients[0]
	h.drop = func(sim.NodeID, sim.NodeID, sim.Message) bool { return true } // take over: feed replies by hand
	h.start()
	h.deliverAll()
	ts := uint64(1)
	h.inject(0, 4, &Reply{View: 0, Timestamp: ts, Client: 4, Replica: 0, Result: "bogus"})
	h.inject(1, 4, &Reply{View: 0, Timestamp: ts, Client: 4, Replica: 1, Result: "1"})
	h.inject(2, 4, &Reply{View: 0, Timestamp: ts, Client: 4, Replica: 1, Result: "1"}) // Replica != From
	h.deliverAll()
	if cl.Completed() != 0 {
		t.Fatal("accepted with only one valid matching reply")
	}
	h.inject(3, 4, &Reply{View: 0, Timestamp: ts, Client: 4, Replica: 3, Result: "1"})
	h.deliverAll()
	if !cl.Done() {
		t.Fatal("not accepted after f+1 matching replies")
	}
	acc := h.eventsOf("accepted")[0].ev.(*Accepted)
	if acc.Result != "1" || fmt.Sprint(acc.Replicas) != "[1 3]" {
		t.Fatalf("accepted %+v", acc)
	}
}

func TestPrePrepareOutsideWindowIgnored(t *testing.T) {
	h := newHarness(t, hopts{n: 4, clients: 1, ops: 0, k: 2, l: 4})
	c := sim.NodeID(4)
	q := &Request{Op: "x", Timestamp: 1, Client: c}
	q.Sig = h.kr.Signer(c).Sign(q)
	mk := func(seq uint64) *PrePrepare {
		pp := &PrePrepare{View: 0, Seq: seq, Batch: []*Request{q}, Replica: 0}
		pp.Digest = BatchDigest(pp.Batch)
		pp.Sig = h.kr.Signer(0).Sign(pp)
		return pp
	}
	for _, tc := range []struct {
		seq  uint64
		want int // PREPAREs sent by replica 1
	}{{0, 0}, {5, 0}, {100, 0}, {4, 1}, {1, 1}} {
		before := h.sent["PREPARE"]
		h.inject(0, 1, mk(tc.seq))
		h.deliverAll()
		if got := h.sent["PREPARE"] - before; got != tc.want*3 {
			t.Errorf("seq %d: replica 1 sent %d PREPAREs, want %d", tc.seq, got, tc.want*3)
		}
	}
	// a PRE-PREPARE whose digest does not match its batch is ignored
	pp := mk(2)
	pp.Digest[0] ^= 1
	pp.Sig = h.kr.Signer(0).Sign(pp)
	before := h.sent["PREPARE"]
	h.inject(0, 1, pp)
	h.deliverAll()
	if h.sent["PREPARE"] != before {
		t.Error("PRE-PREPARE with a wrong digest was accepted")
	}
	// ... and one signed by someone else than the primary
	pp = mk(3)
	pp.Sig = h.kr.Signer(2).Sign(pp)
	h.inject(0, 1, pp)
	h.deliverAll()
	if h.sent["PREPARE"] != before {
		t.Error("PRE-PREPARE with a forged signature was accepted")
	}
}

func TestConflictingPrePrepareIgnored(t *testing.T) {
	h := newHarness(t, hopts{n: 4, clients: 1})
	pp1, pp2 := conflictingPP(h, 0, 1)
	h.inject(0, 1, pp1)
	h.inject(0, 1, pp2)
	h.deliverAll()
	if got := h.sent["PREPARE"]; got != 3 {
		t.Fatalf("replica 1 sent %d PREPAREs for two conflicting PRE-PREPAREs, want 3 (one multicast)", got)
	}
}

// conflictingPP returns two signed PRE-PREPAREs of primary p for (v, seq 1)
// with different requests.
func conflictingPP(h *harness, v uint64, seq uint64) (*PrePrepare, *PrePrepare) {
	c := sim.NodeID(h.n)
	if h.kr.Nodes() <= int(c) {
		h.kr = NewKeyring(42, h.n+1)
	}
	mk := func(op string) *PrePrepare {
		q := &Request{Op: op, Timestamp: 1, Client: c}
		q.Sig = h.kr.Signer(c).Sign(q)
		p := sim.NodeID(v % uint64(h.n))
		pp := &PrePrepare{View: v, Seq: seq, Batch: []*Request{q}, Replica: p}
		pp.Digest = BatchDigest(pp.Batch)
		pp.Sig = h.kr.Signer(p).Sign(pp)
		return pp
	}
	return mk("a"), mk("b")
}

func TestConfigValidate(t *testing.T) {
	kr := NewKeyring(1, 5)
	good := Config{ID: 0, N: 4, F: 1, CheckpointInterval: 2, Window: 4, Batch: 1, ViewChangeTimeout: time.Second, Keyring: kr, SM: &logSM{}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"n<4", func(c *Config) { c.N = 3 }, "Config.N"},
		{"n<3f+1", func(c *Config) { c.N, c.F = 6, 2 }, "3F+1"},
		{"f<1", func(c *Config) { c.F = 0 }, "Config.F"},
		{"id", func(c *Config) { c.ID = 4 }, "Config.ID"},
		{"k<1", func(c *Config) { c.CheckpointInterval = 0 }, "CheckpointInterval"},
		{"L<K", func(c *Config) { c.Window = 1 }, "must be >= CheckpointInterval"},
		{"L%K", func(c *Config) { c.Window = 5 }, "multiple"},
		{"batch", func(c *Config) { c.Batch = 0 }, "Config.Batch"},
		{"batch timeout", func(c *Config) { c.Batch = 2 }, "BatchTimeout"},
		{"vc timeout", func(c *Config) { c.ViewChangeTimeout = 0 }, "ViewChangeTimeout"},
		{"keyring", func(c *Config) { c.Keyring = nil }, "Keyring"},
		{"sm", func(c *Config) { c.SM = nil }, "Config.SM"},
		{"variant", func(c *Config) { c.Variant = "nope" }, "unknown variant"},
	}
	for _, tc := range cases {
		c := good
		tc.mod(&c)
		err := c.Validate()
		if err == nil || !containsStr(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want error mentioning %q", tc.name, err, tc.want)
		}
		if _, err := NewReplica(c); err == nil {
			t.Errorf("%s: NewReplica accepted an invalid config", tc.name)
		}
	}
	cc := ClientConfig{ID: 4, N: 4, F: 1, Timeout: time.Second, Keyring: kr}
	if _, err := NewClient(cc); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*ClientConfig){
		"id":      func(c *ClientConfig) { c.ID = 2 },
		"timeout": func(c *ClientConfig) { c.Timeout = 0 },
		"keyring": func(c *ClientConfig) { c.Keyring = nil },
		"range":   func(c *ClientConfig) { c.ID = 9 },
	} {
		c := cc
		mod(&c)
		if _, err := NewClient(c); err == nil {
			t.Errorf("client %s: accepted", name)
		}
	}
}

func containsStr(s, sub string) bool {
	return len(sub) == 0 || len(s) >= len(sub) && (s[:len(sub)] == sub || containsStr(s[1:], sub))
}

func TestKeyringSignatures(t *testing.T) {
	kr := NewKeyring(7, 5)
	p := &Prepare{View: 1, Seq: 2, Replica: 3}
	p.Sig = kr.Signer(3).Sign(p)
	if !kr.Verify(p) {
		t.Fatal("own signature does not verify")
	}
	q := *p
	q.Seq = 3
	if kr.Verify(&q) {
		t.Fatal("signature verifies after changing the message")
	}
	q = *p
	q.Sig = kr.Signer(2).Sign(&q)
	if kr.Verify(&q) {
		t.Fatal("replica 2 forged replica 3's PREPARE")
	}
	if NewKeyring(8, 5).Verify(p) {
		t.Fatal("signature verifies under another keyring")
	}
}

func TestDigestJSON(t *testing.T) {
	d := BatchDigest(nil)
	b, _ := d.MarshalText()
	var e Digest
	if err := e.UnmarshalText(b); err != nil || e != d || len(b) != 64 {
		t.Fatalf("round trip %s: %v", b, err)
	}
}

func TestVariantsListedAndParsed(t *testing.T) {
	vs := Variants()
	if len(vs) < 11 {
		t.Fatalf("%d variants", len(vs))
	}
	for i, v := range vs {
		if i > 0 && vs[i-1].Name >= v.Name {
			t.Fatal("not sorted")
		}
		if got, err := ParseVariant(string(v.Name)); err != nil || got != v.Name || v.Doc == "" {
			t.Fatalf("%s: %v", v.Name, err)
		}
	}
	if _, err := ParseVariant("bogus"); err == nil {
		t.Fatal("bogus variant accepted")
	}
}

func TestMessageSizesModel(t *testing.T) {
	p := &Prepare{}
	if p.Size() != 16+8+8+32+4+64 {
		t.Fatalf("PREPARE size %d", p.Size())
	}
	q := &Request{Op: "abcd"}
	pp := &PrePrepare{Batch: []*Request{q, q}}
	if pp.Size() != (&PrePrepare{}).Size()+2*(q.Size()-16) {
		t.Fatal("PRE-PREPARE size does not sum its requests")
	}
	vc := &ViewChange{Prepared: []PreparedCert{{PrePrepare: pp, Prepares: []*Prepare{p, p}}}}
	if vc.Size() != (&ViewChange{}).Size()+4+pp.Size()-16+2*(p.Size()-16) {
		t.Fatal("VIEW-CHANGE size does not sum its certificate")
	}
}

func TestQuorum(t *testing.T) {
	for _, tc := range []struct{ n, f, want int }{
		{4, 1, 3}, {5, 1, 4}, {6, 1, 4}, {7, 2, 5}, {10, 3, 7}, {13, 4, 9}, {100, 33, 67},
	} {
		q := Quorum(tc.n, tc.f)
		if q != tc.want {
			t.Errorf("Quorum(%d, %d) = %d, want %d", tc.n, tc.f, q, tc.want)
		}
		// two quorums intersect in at least f+1 replicas, and q replicas
		// are available with f faulty
		if 2*q-tc.n < tc.f+1 || q > tc.n-tc.f {
			t.Errorf("Quorum(%d, %d) = %d is unsafe or not live", tc.n, tc.f, q)
		}
	}
}
