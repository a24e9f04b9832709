package pbft

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// StateMachine is the replicated service. Execute must be deterministic.
type StateMachine interface {
	// Execute applies op and returns its result.
	Execute(op string) string
	// Digest is a digest of the current state.
	Digest() [32]byte
	// Snapshot returns an encoding of the current state that Restore accepts.
	Snapshot() []byte
	// Restore replaces the state with a snapshot.
	Restore(snapshot []byte) error
}

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
	// VerifyCache, if non-nil, is shared by the replicas of one run (with
	// the same Keyring) so that a message is verified once, not by every
	// receiver. It changes nothing but speed.
	VerifyCache *VerifyCache
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

// Variant names a deliberately broken version of the protocol, used to show
// that the checkers and property tests catch real bugs. The zero value ""
// is the correct protocol. A variant applies to every node configured with it.
type Variant string

// The broken variants.
const (
	Correct                  Variant = ""
	VariantPrepare2fMinus1   Variant = "prepare-2f-minus-1"
	VariantCommitQuorum2f    Variant = "commit-quorum-2f"
	VariantExecuteOnPrep     Variant = "execute-on-prepared"
	VariantPrepareNoDigest   Variant = "prepare-ignores-digest"
	VariantAcceptSecondPP    Variant = "accept-second-preprepare"
	VariantNVIgnorePrepared  Variant = "newview-ignores-prepared"
	VariantNVNotHighestView  Variant = "newview-not-highest-view"
	VariantNVNoRecompute     Variant = "newview-no-recompute"
	VariantExecOutOfOrder    Variant = "execute-out-of-order"
	VariantClientOneReply    Variant = "client-single-reply"
	VariantNoTimestampCheck  Variant = "no-timestamp-check"
	VariantStateUnverified   Variant = "state-transfer-unverified"
	VariantTimeoutNoGrowth   Variant = "timeout-no-growth"
	VariantTimerAnyExec      Variant = "timer-restart-any-execution"
	VariantCommitDupSender   Variant = "commit-counts-duplicates"
	VariantCkptFPlus1        Variant = "checkpoint-f-plus-1"
	VariantCkptNoDigest      Variant = "checkpoint-ignores-digest"
	VariantPPDigestUnchecked Variant = "preprepare-digest-unchecked"
	VariantNewPrimarySeq     Variant = "newprimary-reuses-seq"
)

// VariantInfo describes a broken variant.
type VariantInfo struct {
	Name Variant
	Doc  string
}

var variantDocs = map[Variant]string{
	VariantPrepare2fMinus1:   "a replica is prepared with 2f-1 matching PREPAREs instead of 2f, so two quorums need not intersect in a correct replica",
	VariantCommitQuorum2f:    "a replica is committed-local with 2f matching COMMITs instead of 2f+1",
	VariantExecuteOnPrep:     "the commit phase is skipped: replicas execute as soon as a request is prepared (and send no COMMIT)",
	VariantPrepareNoDigest:   "PREPAREs are counted for (v, n) whatever digest they carry",
	VariantAcceptSecondPP:    "a backup accepts a second, conflicting PRE-PREPARE for the same (v, n) and prepares it too",
	VariantNVIgnorePrepared:  "the new primary (and backups recomputing O) ignore prepared certificates: O holds no re-proposals",
	VariantNVNotHighestView:  "O re-proposes, per sequence number, the certificate of the lowest view instead of the highest",
	VariantNVNoRecompute:     "backups accept a NEW-VIEW without recomputing O from V",
	VariantExecOutOfOrder:    "replicas execute a committed request without waiting for lower sequence numbers",
	VariantClientOneReply:    "the client accepts the first reply instead of f+1 matching ones",
	VariantNoTimestampCheck:  "replicas execute every ordered request, even a duplicate (client, timestamp) or an old timestamp",
	VariantStateUnverified:   "state transfer installs the snapshot of the first STATE whose (seq, digest) carries a valid 2f+1 CHECKPOINT proof without checking that the snapshot hashes to that digest (a Byzantine responder's forged snapshot is installed)",
	VariantTimeoutNoGrowth:   "the view-change timeout goes back to its base value at every NEW-VIEW instead of doubling until a request executes in the new view: when a view needs longer than the base timeout, views churn forever",
	VariantCommitDupSender:   "every COMMIT received counts towards committed-local, so a sender whose COMMIT arrives twice (network duplication or a Byzantine replica resending it) is counted twice",
	VariantCkptFPlus1:        "a checkpoint is stable with f+1 matching CHECKPOINTs instead of 2f+1: its proof then convinces no correct replica, so VIEW-CHANGEs and STATEs carrying it are rejected",
	VariantCkptNoDigest:      "CHECKPOINT votes for a sequence number are counted (for stability and in proofs) without comparing their digests, so a proof of 2f+1 CHECKPOINTs vouches for any digest",
	VariantPPDigestUnchecked: "a backup accepts a PRE-PREPARE without checking that its digest d is the digest of the batch it carries: two backups prepare the same d for different batches",
	VariantNewPrimarySeq:     "a new primary does not move its sequence number past the PRE-PREPAREs of O: it assigns numbers that O already uses (two PRE-PREPAREs for one (v, n))",
	VariantTimerAnyExec:      "any execution restarts the request timer, not only that of the awaited request: a primary that orders other clients' requests while censoring one client is never replaced",
}

// Variants lists the broken variants, sorted by name.
func Variants() []VariantInfo {
	out := make([]VariantInfo, 0, len(variantDocs))
	for v, d := range variantDocs {
		out = append(out, VariantInfo{Name: v, Doc: d})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ParseVariant checks a variant name; "" and "correct" give the correct protocol.
func ParseVariant(s string) (Variant, error) {
	if s == "" || s == "correct" {
		return Correct, nil
	}
	if _, ok := variantDocs[Variant(s)]; ok {
		return Variant(s), nil
	}
	names := make([]string, 0, len(variantDocs))
	for _, v := range Variants() {
		names = append(names, string(v.Name))
	}
	return "", fmt.Errorf("unknown variant %q (allowed: \"\" or correct, %s)", s, strings.Join(names, ", "))
}
