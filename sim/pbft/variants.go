package pbft

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Variant names a deliberately broken version of the protocol, used to show
// that the checkers and property tests catch real bugs. The zero value ""
// is the correct protocol. A variant applies to every node configured with it.
//
// A replica never tests its variant: NewReplica and NewClient turn it into
// a rules value (the paper's rules, with the one rule the variant breaks
// replaced, see variantTable), and the protocol code calls those rules.
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
	VariantRecoveryForgets   Variant = "recovery-forgets-signed"
	VariantPrimaryUntimed    Variant = "primary-untimed"
	VariantNoPersistSigned   Variant = "no-persist-signed"
	VariantLazySync          Variant = "lazy-sync"
	VariantClientIDOrder     Variant = "requests-by-client-id"
	VariantStateProofF       Variant = "state-proof-f-signers"
	VariantDigestUnordered   Variant = "batch-digest-unordered"
	VariantPPRequestsUnverif Variant = "preprepare-requests-unverified"
	VariantStateNoReplies    Variant = "state-digest-omits-replies"
	VariantJoinOnF           Variant = "join-on-f-viewchanges"
	VariantNVTimerNoGrowth   Variant = "newview-timer-no-growth"
	VariantDigestFirstOnly   Variant = "batch-digest-first-only"
	VariantPrimaryUnverified Variant = "primary-unverified-requests"
)

// rules are the rules of the paper that a broken variant may replace. The
// fields are named after the rule; correctRules gives the paper's.
type rules struct {
	// preparedVotes: prepared(m, v, n, i) needs the PRE-PREPARE and this
	// many matching PREPAREs from distinct backups, for quorum q (2f).
	preparedVotes func(q int) int
	// committedVotes: committed-local needs this many matching COMMITs (2f+1).
	committedVotes func(q int) int
	// stableVotes: a checkpoint is stable with this many matching
	// CHECKPOINTs (2f+1), and a proof of stability holds this many.
	stableVotes func(q, f int) int
	// prepareMatches: a PREPARE for digest vote counts for the accepted
	// PRE-PREPARE's digest accepted (they are equal).
	prepareMatches func(vote, accepted Digest) bool
	// checkpointsMatch: two CHECKPOINTs of one seq vote the same state
	// (their digests are equal).
	checkpointsMatch func(a, b Digest) bool
	// batchDigestOK: a PRE-PREPARE carrying digest d and a batch whose
	// digest is computed is valid (d = D(m)).
	batchDigestOK func(d, computed Digest) bool
	// repeatedCommitCounts: a second COMMIT from the same sender counts
	// again (never: votes are per distinct replica).
	repeatedCommitCounts bool
	// replaceAcceptedPrePrepare: a backup replaces the PRE-PREPARE it
	// accepted for (v, n) by a conflicting one (never).
	replaceAcceptedPrePrepare bool
	// commitPhase: a prepared request goes through COMMITs before it
	// executes (always).
	commitPhase bool
	// executeInOrder: a committed request executes only after every lower
	// sequence number (always).
	executeInOrder bool
	// checkTimestamps: a (client, timestamp) executes once and a request
	// older than the client's last reply is discarded (always).
	checkTimestamps bool
	// stateProofVotes: state transfer takes a STATE's stable checkpoint
	// only with a proof of this many matching CHECKPOINTs from distinct
	// replicas (2f+1, the quorum q).
	stateProofVotes func(q, f int) int
	// verifyState: state transfer installs a snapshot only if it restores
	// to the digest its 2f+1 CHECKPOINT proof fixes (always).
	verifyState bool
	// growTimeout: the view-change timeout doubles for every view that ends
	// before a request executes in it, and is not reset at NEW-VIEW.
	growTimeout bool
	// growNewViewTimer: when the NEW-VIEW timer runs out (no valid
	// NEW-VIEW in T after 2f+1 VIEW-CHANGEs), the timeout doubles for the
	// next view.
	growNewViewTimer bool
	// timerPerRequest: the request timer belongs to the awaited request;
	// other executions do not restart it.
	timerPerRequest bool
	// arrivalOrder: the request timer awaits the pending request that
	// arrived first and a new primary orders its pending requests in
	// arrival order (never by client id).
	arrivalOrder bool
	// primaryComplaintTimer: the primary starts the request timer when a
	// client retransmits a request it ordered and has not executed.
	primaryComplaintTimer bool
	// joinVotes: a replica joins a view change to the smallest view above
	// its own named by VIEW-CHANGEs from this many other replicas (f+1,
	// one of them correct).
	joinVotes func(f int) int
	// recomputeO: a backup accepts NEW-VIEW only if O equals the O it
	// recomputes from V.
	recomputeO bool
	// reproposePrepared: O re-proposes the requests prepared in V.
	reproposePrepared bool
	// betterCertificate: for one seq, O takes the certificate of view
	// candidate over that of view best (the highest view wins).
	betterCertificate func(candidate, best uint64) bool
	// seqPastO: a new primary assigns sequence numbers after O's.
	seqPastO bool
	// keepSignedOnRecovery: a replica keeps its log (the PRE-PREPAREs,
	// PREPAREs and COMMITs it signed) and its last assigned sequence number
	// across a crash (the persistence model, README "Protocol notes").
	keepSignedOnRecovery bool
	// persistSigned: with a stable store (Config.Store), a replica
	// persists what it signed for each (v, n) before its messages leave.
	persistSigned bool
	// syncEveryStep: the replica syncs its store at the end of every step
	// that wrote to it, before the step's messages leave (never only at
	// checkpoints).
	syncEveryStep bool
	// clientReplies: the client accepts a result after this many matching
	// replies from distinct replicas (f+1).
	clientReplies func(f int) int
	// batchDigest: the digest D(m) of a batch, over every request in
	// batch order (batchDigestBuf).
	batchDigest func(buf []byte, batch []*Request) (Digest, []byte)
	// verifyBatchRequests: a backup accepts a PRE-PREPARE only if every
	// request of its batch is signed by its client (always).
	verifyBatchRequests bool
	// primaryVerifiesRequests: the primary, like every replica, takes a
	// REQUEST only if its client signed it (always).
	primaryVerifiesRequests bool
	// stateCoversReplies: the state digest (CHECKPOINTs, STATE
	// verification) covers the last-reply table as well as the state
	// machine (always).
	stateCoversReplies bool
}

// sameDigest reports whether a and b are equal, as a == b does, in four
// word comparisons that the compiler inlines (== on 32-byte arrays calls the
// runtime's memequal; a replica compares digests at every PREPARE and
// COMMIT it counts).
func sameDigest(a, b *Digest) bool {
	x := binary.LittleEndian.Uint64(a[0:]) ^ binary.LittleEndian.Uint64(b[0:])
	x |= binary.LittleEndian.Uint64(a[8:]) ^ binary.LittleEndian.Uint64(b[8:])
	x |= binary.LittleEndian.Uint64(a[16:]) ^ binary.LittleEndian.Uint64(b[16:])
	x |= binary.LittleEndian.Uint64(a[24:]) ^ binary.LittleEndian.Uint64(b[24:])
	return x == 0
}

// correctRules are the rules of the paper (OSDI'99 §4, TOCS'02 §4-§6).
func correctRules() rules {
	return rules{
		preparedVotes:           func(q int) int { return q - 1 },
		committedVotes:          func(q int) int { return q },
		stableVotes:             func(q, f int) int { return q },
		stateProofVotes:         func(q, f int) int { return q },
		prepareMatches:          func(vote, accepted Digest) bool { return sameDigest(&vote, &accepted) },
		checkpointsMatch:        func(a, b Digest) bool { return sameDigest(&a, &b) },
		batchDigestOK:           func(d, computed Digest) bool { return sameDigest(&d, &computed) },
		commitPhase:             true,
		executeInOrder:          true,
		checkTimestamps:         true,
		verifyState:             true,
		growTimeout:             true,
		growNewViewTimer:        true,
		timerPerRequest:         true,
		arrivalOrder:            true,
		primaryComplaintTimer:   true,
		joinVotes:               func(f int) int { return f + 1 },
		recomputeO:              true,
		reproposePrepared:       true,
		betterCertificate:       func(candidate, best uint64) bool { return candidate > best },
		seqPastO:                true,
		keepSignedOnRecovery:    true,
		persistSigned:           true,
		syncEveryStep:           true,
		clientReplies:           func(f int) int { return f + 1 },
		batchDigest:             batchDigestBuf,
		verifyBatchRequests:     true,
		primaryVerifiesRequests: true,
		stateCoversReplies:      true,
	}
}

// unorderedBatchDigest is the digest of the broken variant
// batch-digest-unordered: over the batch's requests sorted by (client,
// timestamp), so every order of one batch has one digest.
func unorderedBatchDigest(buf []byte, batch []*Request) (Digest, []byte) {
	sorted := slices.Clone(batch)
	slices.SortFunc(sorted, func(a, b *Request) int {
		if a.Client != b.Client {
			return cmp.Compare(a.Client, b.Client)
		}
		return cmp.Compare(a.Timestamp, b.Timestamp)
	})
	return batchDigestBuf(buf, sorted)
}

// firstOnlyBatchDigest is the digest of the broken variant
// batch-digest-first-only: over the batch's length and its first request
// only, so the later requests of a batch are not bound by it.
func firstOnlyBatchDigest(buf []byte, batch []*Request) (Digest, []byte) {
	buf = appendLen(buf[:0], len(batch))
	if len(batch) > 0 {
		buf = batch[0].AppendCanonical(buf)
	}
	return sha256.Sum256(buf), buf
}

// variantInfo is one broken variant: the bug it models and the rule it
// replaces.
type variantInfo struct {
	doc   string
	apply func(*rules) // replaces the broken rule
}

// variantTable holds every broken variant, each in one place.
var variantTable = map[Variant]variantInfo{
	VariantPrepare2fMinus1: {"a replica is prepared with 2f-1 matching PREPAREs instead of 2f, so two quorums need not intersect in a correct replica",
		func(r *rules) { r.preparedVotes = func(q int) int { return q - 2 } }},
	VariantCommitQuorum2f: {"a replica is committed-local with 2f matching COMMITs instead of 2f+1",
		func(r *rules) { r.committedVotes = func(q int) int { return q - 1 } }},
	VariantExecuteOnPrep: {"the commit phase is skipped: replicas execute as soon as a request is prepared (and send no COMMIT)",
		func(r *rules) { r.commitPhase = false }},
	VariantPrepareNoDigest: {"PREPAREs are counted for (v, n) whatever digest they carry",
		func(r *rules) { r.prepareMatches = func(Digest, Digest) bool { return true } }},
	VariantAcceptSecondPP: {"a backup accepts a second, conflicting PRE-PREPARE for the same (v, n) and prepares it too",
		func(r *rules) { r.replaceAcceptedPrePrepare = true }},
	VariantNVIgnorePrepared: {"the new primary (and backups recomputing O) ignore prepared certificates: O holds no re-proposals",
		func(r *rules) { r.reproposePrepared = false }},
	VariantNVNotHighestView: {"O re-proposes, per sequence number, the certificate of the lowest view instead of the highest",
		func(r *rules) { r.betterCertificate = func(candidate, best uint64) bool { return candidate < best } }},
	VariantNVNoRecompute: {"backups accept a NEW-VIEW without recomputing O from V",
		func(r *rules) { r.recomputeO = false }},
	VariantExecOutOfOrder: {"replicas execute a committed request without waiting for lower sequence numbers",
		func(r *rules) { r.executeInOrder = false }},
	VariantClientOneReply: {"the client accepts the first reply instead of f+1 matching ones",
		func(r *rules) { r.clientReplies = func(int) int { return 1 } }},
	VariantNoTimestampCheck: {"replicas execute every ordered request, even a duplicate (client, timestamp) or an old timestamp",
		func(r *rules) { r.checkTimestamps = false }},
	VariantStateUnverified: {"state transfer installs the snapshot of the first STATE whose (seq, digest) carries a valid 2f+1 CHECKPOINT proof without checking that the snapshot hashes to that digest (a Byzantine responder's forged snapshot is installed)",
		func(r *rules) { r.verifyState = false }},
	VariantTimeoutNoGrowth: {"the view-change timeout goes back to its base value at every NEW-VIEW instead of doubling until a request executes in the new view: when a view needs longer than the base timeout, views churn forever",
		func(r *rules) { r.growTimeout = false }},
	VariantTimerAnyExec: {"any execution restarts the request timer, not only that of the awaited request: a primary that orders other clients' requests while censoring one client is never replaced",
		func(r *rules) { r.timerPerRequest = false }},
	VariantCommitDupSender: {"every COMMIT received counts towards committed-local, so a sender whose COMMIT arrives twice (network duplication or a Byzantine replica resending it) is counted twice",
		func(r *rules) { r.repeatedCommitCounts = true }},
	VariantCkptFPlus1: {"a checkpoint is stable with f+1 matching CHECKPOINTs instead of 2f+1: its proof then convinces no correct replica, so VIEW-CHANGEs and STATEs carrying it are rejected",
		func(r *rules) { r.stableVotes = func(q, f int) int { return f + 1 } }},
	VariantCkptNoDigest: {"CHECKPOINT votes for a sequence number are counted (for stability and in proofs) without comparing their digests, so a proof of 2f+1 CHECKPOINTs vouches for any digest",
		func(r *rules) { r.checkpointsMatch = func(Digest, Digest) bool { return true } }},
	VariantPPDigestUnchecked: {"a backup accepts a PRE-PREPARE without checking that its digest d is the digest of the batch it carries: two backups prepare the same d for different batches",
		func(r *rules) { r.batchDigestOK = func(Digest, Digest) bool { return true } }},
	VariantRecoveryForgets: {"a replica that recovers from a crash has forgotten its log and the sequence numbers it assigned (only its state and view survive): a recovered primary assigns a number it already used to another request",
		func(r *rules) { r.keepSignedOnRecovery = false }},
	VariantPrimaryUntimed: {"the primary never runs the request timer, not even when a client retransmits a request it ordered and cannot execute: when a correct backup left the view alone before GST without sending its COMMIT, f replicas crashed and every backup still in the view executed the request, no timer ends the view and the client never gets f+1 replies",
		func(r *rules) { r.primaryComplaintTimer = false }},
	VariantNoPersistSigned: {"a replica never writes what it signed (PRE-PREPAREs, PREPAREs, COMMITs, prepared certificates) to its stable store: after an amnesia crash it restores its view, checkpoints and state but signs a second PRE-PREPARE or PREPARE for a (v, n) it already signed (needs a crash of kind amnesia, lose-unsynced or wipe to show)",
		func(r *rules) { r.persistSigned = false }},
	VariantLazySync: {"a replica writes what it signed to its stable store but syncs it only when it takes a checkpoint, not before its messages leave: a power loss (crash kind lose-unsynced) loses what it signed since, and the recovered replica signs a second PRE-PREPARE or PREPARE for a (v, n); amnesia (the OS still flushes) and keep lose nothing",
		func(r *rules) { r.syncEveryStep = false }},
	VariantClientIDOrder: {"the request timer awaits the smallest pending (client, timestamp) and a new primary orders its pending requests by (client, timestamp) instead of by arrival: when every execution costs a view change (a timeout below the round trip), a client with a larger id waits behind every request of the clients with smaller ids",
		func(r *rules) { r.arrivalOrder = false }},
	VariantStateProofF: {"state transfer takes a STATE whose proof holds f matching CHECKPOINTs from distinct replicas instead of 2f+1: with f = 1 a lone faulty replica proves a forged snapshot with its own CHECKPOINT, and the fetching replica installs it",
		func(r *rules) { r.stateProofVotes = func(q, f int) int { return f } }},
	VariantDigestUnordered: {"the batch digest D(m) is computed over the batch's requests sorted by (client, timestamp), not in batch order: a primary sends two backups one batch in two orders under one digest, both prepare and commit it and execute its requests in different orders",
		func(r *rules) { r.batchDigest = unorderedBatchDigest }},
	VariantPPRequestsUnverif: {"a backup accepts a PRE-PREPARE without verifying the client signatures of the requests in its batch: a primary orders an operation in a correct client's name that the client never issued",
		func(r *rules) { r.verifyBatchRequests = false }},
	VariantStateNoReplies: {"the state digest (CHECKPOINTs, the check of a STATE's snapshot) covers the state machine but not the last-reply table: a replica installs a STATE whose reply table is forged, then discards its clients' next requests as old and its state diverges",
		func(r *rules) { r.stateCoversReplies = false }},
	VariantJoinOnF: {"a replica joins a view change on VIEW-CHANGEs from f other replicas instead of f+1: f faulty replicas (one with f = 1) make every correct replica abandon a view that works, view after view",
		func(r *rules) { r.joinVotes = func(f int) int { return f } }},
	VariantNVTimerNoGrowth: {"the NEW-VIEW timer does not double the view-change timeout when it runs out (only the request timer does): when a view change takes longer than the base timeout, every replica moves on to the next view before its NEW-VIEW arrives, view after view",
		func(r *rules) { r.growNewViewTimer = false }},
	VariantDigestFirstOnly: {"the batch digest D(m) covers the batch's length and its first request only: a primary sends two backups batches that differ in a later request under one digest, both prepare and commit it and execute different requests",
		func(r *rules) { r.batchDigest = firstOnlyBatchDigest }},
	VariantPrimaryUnverified: {"the primary takes client REQUESTs without verifying the client's signature (Aardvark's faulty client with a bad authenticator, relayed by a faulty replica): it orders a request the client never issued and the backups reject its PRE-PREPARE: a faulty replica that relays each client request tampered makes every view's primary stall its view",
		func(r *rules) { r.primaryVerifiesRequests = false }},
	VariantNewPrimarySeq: {"a new primary does not move its sequence number past the PRE-PREPAREs of O: it assigns numbers that O already uses (two PRE-PREPAREs for one (v, n))",
		func(r *rules) { r.seqPastO = false }},
}

// rulesOf returns the rules of variant v (the paper's for Correct).
func rulesOf(v Variant) rules {
	r := correctRules()
	if info, ok := variantTable[v]; ok {
		info.apply(&r)
	}
	return r
}

// VariantInfo describes a broken variant.
type VariantInfo struct {
	Name Variant
	Doc  string
}

// Variants lists the broken variants, sorted by name.
func Variants() []VariantInfo {
	out := make([]VariantInfo, 0, len(variantTable))
	for v, info := range variantTable {
		out = append(out, VariantInfo{Name: v, Doc: info.doc})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ParseVariant checks a variant name; "" and "correct" give the correct protocol.
func ParseVariant(s string) (Variant, error) {
	if s == "" || s == "correct" {
		return Correct, nil
	}
	if _, ok := variantTable[Variant(s)]; ok {
		return Variant(s), nil
	}
	names := make([]string, 0, len(variantTable))
	for _, v := range Variants() {
		names = append(names, string(v.Name))
	}
	return "", fmt.Errorf("unknown variant %q (allowed: \"\" or correct, %s)", s, strings.Join(names, ", "))
}
