package hotstuff

import (
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/crypto"
	"github.com/pbftsim/pbftsim/sim/ledger"
)

func newTestReplica(t *testing.T, keys *crypto.Keyring, rules Rules) *Replica {
	t.Helper()
	r, err := NewReplica(Config{ID: 1, N: 4, F: 1, Batch: 1, ViewTimeout: time.Second, Keyring: keys, SM: ledger.New(), Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	r.out = &sim.Output{}
	return r
}

// qc returns a QC of phase ph for block in view signed by voters.
func qc(keys *crypto.Keyring, ph Phase, view uint64, block Digest, voters ...sim.NodeID) *QC {
	q := &QC{Phase: ph, View: view, Block: block}
	for _, id := range voters {
		v := &Vote{Phase: ph, View: view, Block: block, Replica: id}
		v.Sig = keys.Signer(id).Sign(v)
		q.Votes = append(q.Votes, v)
	}
	return q
}

func TestValidQC(t *testing.T) {
	keys := crypto.NewKeyring(1, 6)
	r := newTestReplica(t, keys, Correct)
	b := NewBlock(Genesis.Hash, 1, 1, nil)
	forged := qc(keys, PhasePrepare, 1, b.Hash, 0, 2, 3)
	forged.Votes[1] = &Vote{Phase: PhasePrepare, View: 1, Block: b.Hash, Replica: 2, Sig: 42}
	mixed := qc(keys, PhasePrepare, 1, b.Hash, 0, 2)
	mixed.Votes = append(mixed.Votes, qc(keys, PhasePrepare, 2, b.Hash, 3).Votes...)
	tests := []struct {
		name string
		qc   *QC
		ph   Phase
		want bool
	}{
		{"genesis", GenesisQC, PhasePrepare, true},
		{"genesis as commit QC", &QC{Phase: PhaseCommit, Block: Genesis.Hash}, PhaseCommit, false},
		{"n-f votes", qc(keys, PhasePrepare, 1, b.Hash, 0, 2, 3), PhasePrepare, true},
		{"n-f-1 votes", qc(keys, PhasePrepare, 1, b.Hash, 0, 2), PhasePrepare, false},
		{"a voter twice", qc(keys, PhasePrepare, 1, b.Hash, 0, 2, 2), PhasePrepare, false},
		{"forged partial signature", forged, PhasePrepare, false},
		{"a vote of another view", mixed, PhasePrepare, false},
		{"wrong phase", qc(keys, PhasePreCommit, 1, b.Hash, 0, 2, 3), PhasePrepare, false},
		{"a client's vote", qc(keys, PhasePrepare, 1, b.Hash, 0, 2, 4), PhasePrepare, false},
		{"nil", nil, PhasePrepare, false},
	}
	for _, tc := range tests {
		if got := r.validQC(tc.qc, tc.ph); got != tc.want {
			t.Errorf("%s: validQC = %v, want %v", tc.name, got, tc.want)
		}
	}
	// the small-qc variant accepts n-f-1 votes
	small, _ := ParseVariant("small-qc", false)
	rs := newTestReplica(t, keys, small)
	if !rs.validQC(qc(keys, PhasePrepare, 1, b.Hash, 0, 2), PhasePrepare) {
		t.Errorf("small-qc rejects a QC of n-f-1 votes")
	}
}

// TestSafeNode checks the voting rule on a replica locked on block b1
// (view 2): a proposal extending b1 is safe; a conflicting one only with a
// justify QC newer than the lock. The broken variants vote (or unlock) anyway.
func TestSafeNode(t *testing.T) {
	keys := crypto.NewKeyring(1, 6)
	b1 := NewBlock(Genesis.Hash, 1, 2, nil)
	child := NewBlock(b1.Hash, 2, 3, nil)
	fork := NewBlock(Genesis.Hash, 1, 3, nil)
	lock := qc(keys, PhasePreCommit, 2, b1.Hash, 0, 2, 3)
	tests := []struct {
		variant string
		b       *Block
		justify *QC
		want    bool
	}{
		{"", child, qc(keys, PhasePrepare, 2, b1.Hash, 0, 2, 3), true},
		{"", fork, GenesisQC, false},
		{"", fork, qc(keys, PhasePrepare, 1, Genesis.Hash, 0, 2, 3), false},
		{"", fork, qc(keys, PhasePrepare, 3, Genesis.Hash, 0, 2, 3), true},
		{"no-safenode", fork, GenesisQC, true},
		{"unlock-lower", fork, GenesisQC, true},
		{"unlock-lower", fork, qc(keys, PhasePrepare, 2, Genesis.Hash, 0, 2, 3), false},
	}
	for _, tc := range tests {
		rules, err := ParseVariant(tc.variant, false)
		if err != nil {
			t.Fatal(err)
		}
		r := newTestReplica(t, keys, rules)
		r.blocks[b1.Hash], r.blocks[child.Hash], r.blocks[fork.Hash] = b1, child, fork
		r.lockedQC = lock
		if got := rules.SafeToVote(r, tc.b, tc.justify); got != tc.want {
			t.Errorf("variant %q, block at height %d view %d, justify view %d: vote %v, want %v", tc.variant, tc.b.Height, tc.b.View, tc.justify.View, got, tc.want)
		}
	}
}

func TestTimeouts(t *testing.T) {
	fixed, _ := ParseVariant("fixed-timeout", false)
	for failed, want := range []time.Duration{100, 200, 400, 800} {
		if got := Correct.Timeout(100, failed); got != want {
			t.Errorf("Correct.Timeout(100, %d) = %v, want %v", failed, got, want)
		}
		if got := fixed.Timeout(100, failed); got != 100 {
			t.Errorf("fixed-timeout after %d failed views: %v, want 100", failed, got)
		}
	}
	if _, err := ParseVariant("nope", true); err == nil {
		t.Errorf("ParseVariant accepts an unknown name")
	}
	if got := len(Variants(false)); got != 4 {
		t.Errorf("%d Basic HotStuff variants, want 4", got)
	}
	if got := len(Variants(true)); got != 6 {
		t.Errorf("%d chained HotStuff variants, want 6", got)
	}
	if _, err := ParseVariant("gap-commit", false); err == nil {
		t.Errorf("a chained-only variant is accepted for Basic HotStuff")
	}
}

func TestLeaderRotation(t *testing.T) {
	for v, want := range map[uint64]sim.NodeID{1: 0, 2: 1, 4: 3, 5: 0, 9: 0} {
		if got := Leader(v, 4); got != want {
			t.Errorf("Leader(%d, 4) = %d, want %d", v, got, want)
		}
	}
}
