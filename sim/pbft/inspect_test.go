package pbft

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// TestInspectAtExecution captures each replica's state at the step where it
// executes the first request: the entry must be pre-prepared, prepared,
// committed and executed, hold at least 2f matching PREPAREs from backups
// and at least 2f+1 COMMITs, and carry a prepared certificate of exactly
// 2f PREPAREs.
func TestInspectAtExecution(t *testing.T) {
	for _, n := range []int{4, 7} {
		h := newHarness(t, hopts{n: n, clients: 1, ops: 1})
		f := h.f
		got := make([]*ReplicaState, n)
		h.afterStep = func() {
			for i, r := range h.replicas {
				if got[i] == nil && r.LastExecuted() == 1 {
					s := r.Inspect()
					got[i] = &s
				}
			}
		}
		h.start()
		h.run(10*time.Second, nil)
		for i, s := range got {
			if s == nil {
				t.Fatalf("n=%d: replica %d never executed", n, i)
			}
			if s.ID != sim.NodeID(i) || s.View != 0 || s.InViewChange || s.Primary != 0 || s.LastExecuted != 1 || i == 0 && s.LastAssigned != 1 {
				t.Errorf("n=%d r%d: header %+v", n, i, s)
			}
			if s.Low != 0 || s.High != 200 {
				t.Errorf("n=%d r%d: watermarks h=%d H=%d, want 0 and 200", n, i, s.Low, s.High)
			}
			if len(s.Log) != 1 {
				t.Fatalf("n=%d r%d: %d log entries, want 1:\n%s", n, i, len(s.Log), s)
			}
			e := s.Log[0]
			if e.Seq != 1 || e.View != 0 || !e.PrePrepared || !e.Prepared || !e.Committed || !e.Executed || e.Null || len(e.Digest) != 8 {
				t.Errorf("n=%d r%d: entry %+v", n, i, e)
			}
			if len(e.Requests) != 1 || e.Requests[0].Client != sim.NodeID(n) || e.Requests[0].Timestamp != 1 || e.Requests[0].Op != "c"+itoa(n)+"-op0" {
				t.Errorf("n=%d r%d: requests %+v", n, i, e.Requests)
			}
			if len(e.Prepares) < 2*f || slices.Contains(e.Prepares, 0) || !slices.IsSorted(e.Prepares) {
				t.Errorf("n=%d r%d: PREPAREs from %v, want >= 2f=%d backups, sorted", n, i, e.Prepares, 2*f)
			}
			if len(e.Commits) < 2*f+1 || !slices.IsSorted(e.Commits) {
				t.Errorf("n=%d r%d: COMMITs from %v, want >= 2f+1=%d, sorted", n, i, e.Commits, 2*f+1)
			}
			if i != 0 && !slices.Contains(e.Prepares, sim.NodeID(i)) {
				t.Errorf("n=%d r%d: a backup holds its own PREPARE: %v", n, i, e.Prepares)
			}
			if !slices.Contains(e.Commits, sim.NodeID(i)) {
				t.Errorf("n=%d r%d: a replica holds its own COMMIT: %v", n, i, e.Commits)
			}
			c := e.Certificate
			if c == nil || c.View != 0 || c.Digest != e.Digest || len(c.Prepares) != 2*f || slices.Contains(c.Prepares, 0) {
				t.Errorf("n=%d r%d: certificate %+v, want 2f=%d PREPAREs of backups for %s", n, i, c, 2*f, e.Digest)
			}
			if len(e.ConflictingPrepares)+len(e.ConflictingCommits) != 0 {
				t.Errorf("n=%d r%d: conflicting votes in a fault-free run: %+v", n, i, e)
			}
			if len(s.Replies) != 1 || s.Replies[0].Client != sim.NodeID(n) || s.Replies[0].Timestamp != 1 || s.Replies[0].Result != "1" {
				t.Errorf("n=%d r%d: replies %+v", n, i, s.Replies)
			}
			text := s.String()
			for _, want := range []string{"replica r" + itoa(i) + ": view 0 (primary r0), active", "watermarks h=0 H=200, last executed 1",
				"v0 n1 d=" + e.Digest + " pre-prepared prepared committed executed", "prepared certificate: v0"} {
				if !strings.Contains(text, want) {
					t.Errorf("n=%d r%d: text lacks %q:\n%s", n, i, want, text)
				}
			}
		}
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// TestInspectWatermarksAfterCheckpoint: with K=2, L=4 and 3 requests the
// checkpoint at 2 becomes stable, so h=2, H=6, the log holds only seq 3,
// and the stable checkpoint is proven by at least 2f+1 replicas.
func TestInspectWatermarksAfterCheckpoint(t *testing.T) {
	h := newHarness(t, hopts{n: 4, clients: 1, ops: 3, k: 2, l: 4})
	h.start()
	h.run(10*time.Second, nil)
	if !h.allDone() {
		t.Fatalf("requests not accepted: %v", h.counts())
	}
	for i, r := range h.replicas {
		s := r.Inspect()
		if s.Low != 2 || s.High != 6 || s.StableCheckpoint != 2 || s.LastExecuted != 3 {
			t.Errorf("r%d: h=%d H=%d stable=%d executed=%d, want 2 6 2 3", i, s.Low, s.High, s.StableCheckpoint, s.LastExecuted)
		}
		if len(s.StableProof) < 3 || len(s.StableDigest) != 8 || !slices.IsSorted(s.StableProof) {
			t.Errorf("r%d: stable proof %v digest %q", i, s.StableProof, s.StableDigest)
		}
		if len(s.Log) != 1 || s.Log[0].Seq != 3 || !s.Log[0].Executed {
			t.Errorf("r%d: log %+v, want only executed seq 3", i, s.Log)
		}
		for _, c := range s.Checkpoints {
			if c.Seq < s.Low {
				t.Errorf("r%d: checkpoint %d below h", i, c.Seq)
			}
			if c.Seq == 2 && (!c.Mine || c.Digest != s.StableDigest) {
				t.Errorf("r%d: own checkpoint at 2: %+v, stable digest %s", i, c, s.StableDigest)
			}
		}
		if !strings.Contains(s.String(), "stable checkpoint 2 digest "+s.StableDigest) {
			t.Errorf("r%d: text:\n%s", i, s)
		}
	}
}

// TestInspectViewChange silences the primary: while the backups change view
// they hold each other's VIEW-CHANGEs for view 1; afterwards they are active
// in view 1 with its NEW-VIEW.
func TestInspectViewChange(t *testing.T) {
	h := newHarness(t, hopts{n: 4, clients: 1, ops: 1, clientTimeout: 50 * time.Millisecond})
	h.drop = silent(0)
	var during *ReplicaState
	h.afterStep = func() {
		if during == nil && h.replicas[1].InViewChange() {
			if s := h.replicas[1].Inspect(); len(s.ViewChanges) > 0 && len(s.ViewChanges[0].Replicas) >= 2 {
				during = &s
			}
		}
	}
	h.start()
	h.run(time.Minute, nil)
	if during == nil {
		t.Fatal("replica 1 never held 2 VIEW-CHANGEs while changing view")
	}
	if !during.InViewChange || during.View != 1 || during.Primary != 1 || during.ViewChanges[0].View != 1 || !slices.Contains(during.ViewChanges[0].Replicas, 1) {
		t.Errorf("during the view change: %+v", during)
	}
	if !strings.Contains(during.String(), "VIEW CHANGE in progress") || !strings.Contains(during.String(), "to view 1 from [r") {
		t.Errorf("text:\n%s", during)
	}
	for i := 1; i < 4; i++ {
		s := h.replicas[i].Inspect()
		if s.InViewChange || s.View != 1 || !s.HasNewView || s.LastNewView != 1 || len(s.ViewChanges) != 0 {
			t.Errorf("r%d after the view change: %+v", i, s)
		}
	}
}

// TestInspectDeterministicJSON: two identical runs give byte-identical JSON
// (10 requests in batches of 2 with K=4: h=4, H=12).
func TestInspectDeterministicJSON(t *testing.T) {
	dump := func() string {
		h := newHarness(t, hopts{n: 4, clients: 2, ops: 5, k: 4, l: 8, batch: 2})
		h.start()
		h.run(10*time.Second, nil)
		var b strings.Builder
		for _, r := range h.replicas {
			data, err := json.Marshal(r.Inspect())
			if err != nil {
				t.Fatal(err)
			}
			b.Write(data)
		}
		return b.String()
	}
	a, b := dump(), dump()
	if a != b {
		t.Fatalf("JSON differs between identical runs:\n%s\n%s", a, b)
	}
	for _, key := range []string{`"h":4`, `"H":12`, `"log":`, `"replies":`} {
		if !strings.Contains(a, key) {
			t.Errorf("JSON lacks %s: %s", key, a[:min(len(a), 600)])
		}
	}
}

func TestEventNames(t *testing.T) {
	names := EventNames()
	for _, want := range []string{"committed", "executed", "new-view", "view-change", "accepted"} {
		if !slices.Contains(names, want) {
			t.Errorf("EventNames %v lacks %s", names, want)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("not sorted: %v", names)
	}
}
