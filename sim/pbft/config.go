package pbft

import (
	"fmt"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// StateMachine is the replicated service. Execute must be deterministic.
type StateMachine interface {
	// Execute applies op and returns its result.
	Execute(op string) string
	// Digest is a digest of the current state.
	Digest() [32]byte
	// Freeze returns the current state as a value that later operations do
	// not change and that encodes to a snapshot Restore accepts. A replica
	// freezes its state at every checkpoint (and, with a Store, after every
	// execution step) but encodes it only to answer a FETCH-STATE, so
	// Freeze should cost far less than encoding: a persistent
	// (copy-on-write) state shares all but what later operations change.
	Freeze() Frozen
	// Restore replaces the state with a snapshot.
	Restore(snapshot []byte) error
	// Thaw replaces the state with one that Freeze returned (a recovered
	// replica's stored state, the state a failed state transfer rolls back
	// to). Restore(f.Encode()) does it; a persistent state can do better.
	Thaw(f Frozen) error
}

// Frozen is a state of a StateMachine that later operations do not change
// (see StateMachine.Freeze). Encode returns its snapshot, a new slice. It is
// an interface literal so that a state machine satisfies StateMachine
// without importing this package.
type Frozen = interface{ Encode() []byte }

// EncodedState is a Frozen that is its own encoding: the Freeze of a state
// machine small enough to copy.
type EncodedState []byte

// Encode returns s itself.
func (s EncodedState) Encode() []byte { return s }

// Config configures one replica.
type Config struct {
	ID                 sim.NodeID    // this replica, 0..N-1
	N, F               int           // replicas and tolerated faults, N >= 3F+1, N >= 4, F >= 1
	CheckpointInterval int           // K: a checkpoint every K sequence numbers, >= 1
	Window             int           // L = H - h, a multiple of K, >= K
	Batch              int           // B: requests per PRE-PREPARE, >= 1
	BatchTimeout       time.Duration // how long the primary waits to fill a batch (B > 1), > 0 when B > 1
	ViewChangeTimeout  time.Duration // a backup's request timer T, > 0
	Keyring            *Keyring      // keys of all replicas and clients, required
	SM                 StateMachine  // the replicated service, required
	Variant            Variant       // "" for the correct protocol
	// FullCertificates makes a prepared certificate carry every matching
	// PREPARE the replica holds when it prepares, and a NEW-VIEW every
	// VIEW-CHANGE for the view its primary holds (the paper's sets; valid
	// either way), instead of the 2f PREPAREs and 2f+1 VIEW-CHANGEs of
	// lowest replica id. A choice by id order makes a replica's state
	// depend on the other replicas' ids beyond naming them; exhaustive
	// exploration with symmetry reduction needs replicas that do not.
	FullCertificates bool
	// DropSpentVotes makes a replica forget the votes of the other
	// replicas in a log entry once nothing can read them any more: their
	// PREPAREs when the entry prepares (the certificate keeps the ones it
	// uses) and their COMMITs when it commits. Such votes are never read
	// again: a later vote for the entry is not kept (see Inert), execution
	// and view changes read the flags and the certificate, and a view
	// change or a checkpoint clears the entry. The replica's outputs are
	// the same with it, only its state (and Inspect) holds less, so that
	// the exhaustive explorer merges states that differ only in which
	// spent votes arrived. Off for the variants that reopen a prepared
	// entry (accept-second-preprepare), which recount those votes.
	DropSpentVotes bool
	// VerifyCache, if non-nil, is shared by the replicas of one run (with
	// the same Keyring) so that a message is verified once, not by every
	// receiver. It changes nothing but speed.
	VerifyCache *VerifyCache
	// Store, if non-nil, is the replica's modelled stable storage (owned
	// by the harness, one per replica): the replica persists to it and
	// recovers from it after a crash of a kind other than sim.CrashKeep.
	// Nil: nothing is persisted and only keep crashes are supported.
	Store *Store
}

// Validate reports the first out-of-range field.
func (c Config) Validate() error {
	switch {
	case c.N < 4:
		return fmt.Errorf("pbft: Config.N = %d: need at least 4 replicas", c.N)
	case c.F < 1:
		return fmt.Errorf("pbft: Config.F = %d: must be >= 1", c.F)
	case c.N < 3*c.F+1:
		return fmt.Errorf("pbft: Config.N = %d with F = %d: need N >= 3F+1 = %d", c.N, c.F, 3*c.F+1)
	case c.ID < 0 || int(c.ID) >= c.N:
		return fmt.Errorf("pbft: Config.ID = %d: must be a replica id in [0, %d]", c.ID, c.N-1)
	case c.CheckpointInterval < 1:
		return fmt.Errorf("pbft: Config.CheckpointInterval (K) = %d: must be >= 1", c.CheckpointInterval)
	case c.Window < c.CheckpointInterval:
		return fmt.Errorf("pbft: Config.Window (L) = %d: must be >= CheckpointInterval (K) = %d", c.Window, c.CheckpointInterval)
	case c.Window%c.CheckpointInterval != 0:
		return fmt.Errorf("pbft: Config.Window (L) = %d: must be a multiple of CheckpointInterval (K) = %d", c.Window, c.CheckpointInterval)
	case c.Batch < 1:
		return fmt.Errorf("pbft: Config.Batch = %d: must be >= 1", c.Batch)
	case c.Batch > 1 && c.BatchTimeout <= 0:
		return fmt.Errorf("pbft: Config.BatchTimeout = %v: must be > 0 when Batch = %d > 1", c.BatchTimeout, c.Batch)
	case c.BatchTimeout < 0:
		return fmt.Errorf("pbft: Config.BatchTimeout = %v: must be >= 0", c.BatchTimeout)
	case c.ViewChangeTimeout <= 0:
		return fmt.Errorf("pbft: Config.ViewChangeTimeout = %v: must be > 0", c.ViewChangeTimeout)
	case c.Keyring == nil:
		return fmt.Errorf("pbft: Config.Keyring is nil: a keyring with keys for every replica and client is required")
	case c.Keyring.Nodes() < c.N:
		return fmt.Errorf("pbft: Config.Keyring has %d keys: need at least N = %d", c.Keyring.Nodes(), c.N)
	case c.SM == nil:
		return fmt.Errorf("pbft: Config.SM is nil: a StateMachine is required")
	}
	if _, err := ParseVariant(string(c.Variant)); err != nil {
		return fmt.Errorf("pbft: Config.Variant: %w", err)
	}
	return nil
}
