package pbft

import (
	"testing"

	"github.com/pbftsim/pbftsim/sim"
)

// TestReplicaStateFormat pins the text of ReplicaState.Format for a bare
// backup and for a primary with every optional part.
func TestReplicaStateFormat(t *testing.T) {
	bare := ReplicaState{ID: 1, View: 0, Primary: 0, Low: 0, High: 8, LastAssigned: 3,
		Log: []EntryState{}}
	wantBare := `replica r1: view 0 (primary r0), active
  watermarks h=0 H=8, last executed 0
  stable checkpoint 0 (initial state)
  pending requests 0, queued 0, buffered future-view messages 0
  log: 0 entries
`
	r, err := NewReplica(Config{ID: 1, N: 4, F: 1, CheckpointInterval: 4, Window: 8, Batch: 1, ViewChangeTimeout: 1,
		Keyring: NewKeyring(1, 4), SM: &logSM{}})
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Inspect(); s.StableDigest != "" || s.StableProof != nil || len(s.Checkpoints) != 0 {
		t.Errorf("a fresh replica's state shows a stable checkpoint: %+v", s)
	}
	if got := bare.String(); got != wantBare {
		t.Errorf("bare backup:\n%s\nwant\n%s", got, wantBare)
	}
	full := ReplicaState{ID: 2, View: 2, InViewChange: true, Primary: 2, Low: 4, High: 12, LastExecuted: 5, LastAssigned: 6,
		StableCheckpoint: 4, StableDigest: "abcd", StableProof: []sim.NodeID{0, 1, 2},
		PendingRequests: 1, Queued: 2, Buffered: 3, Fetching: true, FetchSeq: 8, HasNewView: true, LastNewView: 1,
		Log: []EntryState{
			{View: 1, Seq: 5, Digest: "ee", Null: true, PrePrepared: true, Executed: true, Prepares: []sim.NodeID{0}, Commits: []sim.NodeID{}},
			{View: 2, Seq: 6, Digest: "ff", PrePrepared: true, Prepared: true, Committed: true,
				Requests: []RequestState{{Client: 4, Timestamp: 1, Op: "op"}}, Prepares: []sim.NodeID{1, 3}, Commits: []sim.NodeID{1},
				ConflictingPrepares: []sim.NodeID{0}, Certificate: &CertState{View: 1, Digest: "ff", Prepares: []sim.NodeID{1, 3}}},
			{View: 2, Seq: 7, Prepares: []sim.NodeID{}, Commits: []sim.NodeID{}, ConflictingCommits: []sim.NodeID{3}},
		},
		Checkpoints: []CheckpointState{{Seq: 8, Mine: true, Digest: "aa", Votes: []DigestVotes{{Digest: "aa", Replicas: []sim.NodeID{2}}}}},
		ViewChanges: []ViewChangeVotes{{View: 3, Replicas: []sim.NodeID{0, 2}}},
		Replies:     []ReplyState{{Client: 4, Timestamp: 1, View: 1, Result: "ok"}},
	}
	wantFull := `replica r2: view 2 (primary r2), VIEW CHANGE in progress
  watermarks h=4 H=12, last executed 5, last assigned 6
  stable checkpoint 4 digest abcd proven by [r0 r1 r2]
  pending requests 1, queued 2, buffered future-view messages 3, fetching state up to 8
  last NEW-VIEW: view 1
  log: 3 entries
    v1 n5 d=ee (null request) pre-prepared executed
      PREPAREs from [r0], COMMITs from []
    v2 n6 d=ff pre-prepared prepared committed
      request c4 t1 "op"
      PREPAREs from [r1 r3], COMMITs from [r1]
      conflicting digest: PREPAREs from [r0], COMMITs from []
      prepared certificate: v1 d=ff PREPAREs from [r1 r3]
    v2 n7 (no PRE-PREPARE)
      PREPAREs from [], COMMITs from []
      conflicting digest: PREPAREs from [], COMMITs from [r3]
  checkpoints:
    n8 mine d=aa | d=aa from [r2]
  VIEW-CHANGEs held:
    to view 3 from [r0 r2]
  last replies:
    c4 t1 v1 "ok"
`
	if got := full.String(); got != wantFull {
		t.Errorf("primary with every part:\n%s\nwant\n%s", got, wantFull)
	}
}
