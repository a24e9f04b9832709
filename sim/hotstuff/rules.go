package hotstuff

import (
	"fmt"
	"sort"
	"time"
)

// Rules are the protocol rules a replica calls where the broken variants
// differ from the paper: the quorum size, the voting predicate (safeNode
// and its lock), and the pacemaker's timeout. The correct protocol's rules
// are Correct; each variant is a value built from it, named and documented
// with the bug it models, so the replica's code path reads as the paper.
type Rules struct {
	// Name is "" for the correct protocol, else the variant's name.
	Name string
	// Bug says, in one sentence, what the variant gets wrong.
	Bug string
	// Quorum is the number of votes a QC needs.
	Quorum func(n, f int) int
	// SafeToVote is the PREPARE-phase voting predicate for block b
	// justified by justify; it may update the replica's lock (a variant).
	SafeToVote func(r *Replica, b *Block, justify *QC) bool
	// Timeout is the view timeout after failed consecutive views without
	// a decision.
	Timeout func(base time.Duration, failed int) time.Duration
	// ChainCommit is chained HotStuff's commit rule: given the chain
	// b2 ← b1 ← b0 of blocks each justified by the QC of the next
	// (b2 is the block whose QC a new proposal carries), it returns the
	// block to commit, or nil.
	ChainCommit func(b2, b1, b0 *Block) *Block
	// Chained is true for a variant that only exists in chained HotStuff.
	Chained bool
}

// maxBackoff caps the exponent of the pacemaker's doubling.
const maxBackoff = 12

// Correct are the rules of Basic HotStuff (Yin et al., PODC'19, Algorithm 2):
// QCs of n−f votes, safeNode(b, qc) = b extends lockedQC.node ∨
// qc.viewNumber > lockedQC.viewNumber, and a view timeout that doubles with
// each consecutive view that ends without a decision.
var Correct = Rules{
	Quorum:     func(n, f int) int { return n - f },
	SafeToVote: func(r *Replica, b *Block, justify *QC) bool { return r.safeNode(b, justify) },
	Timeout: func(base time.Duration, failed int) time.Duration {
		return base << min(failed, maxBackoff)
	},
	ChainCommit: threeChain,
}

// threeChain is chained HotStuff's commit rule (Yin et al., Algorithm 3):
// b0 commits when b0, b1, b2 were certified in three consecutive views
// (each the direct parent of the next). Consecutive views leave no view in
// which a QC for a block conflicting with b1 could have formed before n−f
// replicas locked on b0's QC.
func threeChain(b2, b1, b0 *Block) *Block {
	if b1.View == b0.View+1 && b2.View == b1.View+1 {
		return b0
	}
	return nil
}

// variants lists the deliberately broken rule sets by name.
var variants = map[string]Rules{}

func variant(name, bug string, edit func(*Rules)) {
	r := Correct
	r.Name, r.Bug = name, bug
	edit(&r)
	variants[name] = r
}

func init() {
	variant("no-safenode", "replicas vote for any well-formed proposal: no safeNode predicate, the lock is never checked",
		func(r *Rules) { r.SafeToVote = func(*Replica, *Block, *QC) bool { return true } })
	variant("small-qc", "a quorum certificate needs only n−f−1 votes, so two QCs of one view need not intersect in a correct replica",
		func(r *Rules) { r.Quorum = func(n, f int) int { return n - f - 1 } })
	variant("unlock-lower", "a replica replaces its lock by the proposal's justify QC even when that QC is from a lower view, then applies safeNode",
		func(r *Rules) {
			r.SafeToVote = func(rp *Replica, b *Block, justify *QC) bool {
				if justify.View < rp.lockedQC.View {
					rp.lockedQC = justify
				}
				return rp.safeNode(b, justify)
			}
		})
	variant("gap-commit", "chained HotStuff commits on any three-chain of QCs, without requiring its three views to be consecutive",
		func(r *Rules) {
			r.Chained = true
			r.ChainCommit = func(_, _, b0 *Block) *Block { return b0 }
		})
	variant("two-chain-commit", "chained HotStuff commits a block once it and its child are certified in consecutive views (a two-chain), one QC before n−f replicas are locked on it",
		func(r *Rules) {
			r.Chained = true
			r.ChainCommit = func(b2, b1, _ *Block) *Block {
				if b2.View == b1.View+1 {
					return b1
				}
				return nil
			}
		})
	variant("fixed-timeout", "the pacemaker never grows its view timeout, so after GST a view that needs longer than the base timeout never completes",
		func(r *Rules) { r.Timeout = func(base time.Duration, _ int) time.Duration { return base } })
}

// Variants returns the names of the broken variants of Basic HotStuff
// (chained false) or chained HotStuff (chained true), sorted. The rules
// they share (quorum, voting predicate, timeout) apply to both; a commit
// rule only to chained HotStuff.
func Variants(chained bool) []string {
	out := make([]string, 0, len(variants))
	for n, r := range variants {
		if !r.Chained || chained {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// ParseVariant returns the rules of a variant name ("" is Correct) for
// Basic (chained false) or chained HotStuff.
func ParseVariant(name string, chained bool) (Rules, error) {
	if name == "" {
		return Correct, nil
	}
	r, ok := variants[name]
	if !ok || r.Chained && !chained {
		return Rules{}, fmt.Errorf("hotstuff: unknown variant %q (want one of %v)", name, Variants(chained))
	}
	return r, nil
}
