package properties

import (
	"fmt"
	"slices"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/events"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// Accountability works from the messages a replica sent in its own name
// (the network authenticates the sender of every trace record; with a
// keyring only validly signed messages count). A replica is named when
//   - it signed two PRE-PREPAREs, PREPAREs or COMMITs for the same (v, n)
//     with different digests, or votes of two phases for different digests;
//   - its VIEW-CHANGE carries a certificate it could not have had (a
//     prepared certificate short of 2f matching PREPAREs from backups, one
//     not from an earlier view, a checkpoint proof short of 2f+1), or omits
//     the certificate for a seq above its stable checkpoint that its own
//     COMMIT proves it prepared;
//   - its NEW-VIEW is not from the view's primary, holds fewer than 2f+1
//     VIEW-CHANGEs or an invalid one, or its O drops or replaces a request
//     whose highest-view certificate in V is unambiguous and genuine.
// Each rule is something a correct replica never does, so correct
// replicas are never named.

// message handles a message sent by r.From (send, local delivery or drop).
func (c *Checker) message(r *sim.Record) {
	from := r.From
	if int(from) < 0 || int(from) >= c.n {
		return // clients
	}
	// A broadcast is one record per destination with the same (immutable)
	// message: handling it again right after it is a no-op (own, the
	// PREPARE and COMMIT bookkeeping and the VIEW-CHANGE and NEW-VIEW
	// checks only record or compare what the first copy recorded, and only
	// this sender's messages change that state), so it is skipped.
	if c.lastMsg[from] == r.Msg {
		return
	}
	c.lastMsg[from] = r.Msg
	if c.wipe != nil {
		c.wipeSignedMsg(from, r.Msg)
	}
	// PBFT's normal-case votes first (the most frequent messages; neither
	// a StateReported nor a HotStuff message).
	switch m := r.Msg.(type) {
	case *pbft.PrePrepare:
		if m.Replica == from {
			c.own(r.Time, from, pbft.TypePrePrepare, m.View, m.Seq, m.Digest, m)
			if c.correct(from) {
				c.proposalValid(r.Time, from, m)
			}
		}
		return
	case *pbft.Prepare:
		if m.Replica == from {
			rv := c.own(r.Time, from, pbft.TypePrepare, m.View, m.Seq, m.Digest, m)
			if c.correct(from) {
				c.sentPrepare(r.Time, from, m.View, m.Seq, m.Digest, rv)
			}
		}
		return
	case *pbft.Commit:
		if m.Replica == from {
			rv := c.own(r.Time, from, pbft.TypeCommit, m.View, m.Seq, m.Digest, m)
			if rv.commit == nil {
				rv.commit = m
				c.commitList[from] = append(c.commitList[from], m)
			}
		}
		return
	}
	if sr, ok := r.Msg.(events.StateReported); ok {
		if s := sr.StateReport(); s.Replica == from && c.correct(from) {
			c.stateReport(r.Time, from, s)
		}
		return
	}
	if c.hotstuffMessage(r.Time, from, r.Msg) {
		return
	}
	switch m := r.Msg.(type) {
	case *pbft.ViewChange:
		if m.Replica == from {
			c.viewChange(r.Time, from, m)
		}
	case *pbft.NewView:
		if m.Replica == from {
			c.newView(r.Time, from, m)
		}
	}
}

// proposalValid judges Validity on PRE-PREPARE pp that correct replica
// from sent: every request of a correct client in its batch was issued by
// that client with that op (a correct replica takes a request only if its
// client signed it, so it never proposes one the client did not issue).
// Judged only for a (client, timestamp) the checker holds as issued: one
// folded below a stable checkpoint (a retransmission of an old
// PRE-PREPARE) is not judged.
func (c *Checker) proposalValid(now sim.Time, from sim.NodeID, pp *pbft.PrePrepare) {
	for _, q := range pp.Batch {
		if q == nil || c.faultyNode(q.Client) {
			continue
		}
		rq := c.findReq(mkClientStamp(q.Client, q.Timestamp))
		if rq == nil || !rq.issued || c.issuedAs(rq, Request{Client: q.Client, Timestamp: q.Timestamp, Op: q.Op}) {
			continue
		}
		c.violate(Violation{Property: Validity, Replicas: []sim.NodeID{from, q.Client}, View: pp.View, Seq: pp.Seq, Time: now,
			Detail: fmt.Sprintf("replica %d (not Byzantine) proposed %q (client %d, timestamp %d) at (view %d, seq %d), which the client never issued", from, q.Op, q.Client, q.Timestamp, pp.View, pp.Seq)})
		return
	}
}

func digestOf(m sim.Message) (pbft.Digest, bool) {
	switch m := m.(type) {
	case *pbft.PrePrepare:
		return m.Digest, true
	case *pbft.Prepare:
		return m.Digest, true
	case *pbft.Commit:
		return m.Digest, true
	}
	return pbft.Digest{}, false
}

// own records a signed vote and accuses its sender on a conflict: two
// messages of one type, or of two types (its PRE-PREPARE or PREPARE and its
// COMMIT), for the same (v, n) with different digests. A correct replica
// votes for one digest per (v, n) in every phase.
func (c *Checker) own(now sim.Time, from sim.NodeID, typ sim.MsgType, view, seq uint64, d pbft.Digest, m sim.Message) *repVote {
	rv := c.repVote(from, view, seq)
	if prev := rv.vote; prev == nil {
		rv.vote = m
	} else if pd, _ := digestOf(prev); pd != d && prev.Type() != typ && !c.accSeen[from] {
		if !c.sigOK(prev.(pbft.Signable)) {
			rv.vote = m
		} else if c.sigOK(m.(pbft.Signable)) {
			c.accuse(Accusation{Replica: from, View: view, Seq: seq, Time: now, Evidence: []sim.Message{prev, m},
				Reason: fmt.Sprintf("signed a %s for %s and a %s for %s at (view %d, seq %d)", prev.Type(), short(pd), typ, short(d), view, seq)})
		}
	}
	ps := &rv.signed[typeIndex(typ)]
	prev := *ps
	if prev == nil {
		*ps = m
		return rv
	}
	if pd, _ := digestOf(prev); pd != d {
		// Only validly signed messages are evidence (checked lazily).
		if !c.sigOK(prev.(pbft.Signable)) {
			*ps = m
			return rv
		}
		if !c.sigOK(m.(pbft.Signable)) {
			return rv
		}
		if !c.accSeen[from] { // accuse keeps the first accusation only: no reason to format
			c.accuse(Accusation{Replica: from, View: view, Seq: seq, Time: now, Evidence: []sim.Message{prev, m},
				Reason: fmt.Sprintf("signed two %ss for (view %d, seq %d) with digests %s and %s", typ, view, seq, short(pd), short(d))})
		}
		if typ == pbft.TypePrePrepare && c.correct(from) {
			// PREPAREs are judged by prepare-once (from SentPrepare).
			c.violate(Violation{Property: PrePrepareOnce, Replicas: []sim.NodeID{from}, View: view, Seq: seq, Time: now,
				Detail: fmt.Sprintf("replica %d (not Byzantine%s) signed PRE-PREPAREs for both %s and %s at (view %d, seq %d)", from, c.crashNote(from), short(pd), short(d), view, seq)})
		}
	}
	return rv
}

// crashNote says whether replica r crashed earlier in the run.
func (c *Checker) crashNote(r sim.NodeID) string {
	if int(r) < len(c.crashed) && c.crashed[r] {
		return ", crashed and recovered"
	}
	return ""
}

func (c *Checker) primary(view uint64) sim.NodeID {
	if c.n == 0 {
		return 0
	}
	return sim.NodeID(view % uint64(c.n))
}

// certProblem returns why a prepared certificate is invalid on its face
// ("" if it is well formed).
func (c *Checker) certProblem(pc *pbft.PreparedCert) string {
	pp := pc.PrePrepare
	if pp == nil {
		return "a prepared certificate without a PRE-PREPARE"
	}
	if pp.Replica != c.primary(pp.View) {
		return fmt.Sprintf("a prepared certificate whose PRE-PREPARE for view %d is signed by %d, not the primary %d", pp.View, pp.Replica, c.primary(pp.View))
	}
	seen := c.distinct[:0]
	defer func() { c.distinct = seen[:0] }()
	for _, p := range pc.Prepares {
		if p == nil {
			return "a prepared certificate with a missing PREPARE"
		}
		if p.View != pp.View || p.Seq != pp.Seq || p.Digest != pp.Digest {
			return fmt.Sprintf("a prepared certificate for (view %d, seq %d, %s) with a PREPARE for (view %d, seq %d, %s)", pp.View, pp.Seq, short(pp.Digest), p.View, p.Seq, short(p.Digest))
		}
		if p.Replica == pp.Replica || int(p.Replica) < 0 || int(p.Replica) >= c.n {
			return fmt.Sprintf("a prepared certificate for (view %d, seq %d) with a PREPARE from %d, who is not a backup", pp.View, pp.Seq, p.Replica)
		}
		if !slices.Contains(seen, p.Replica) {
			seen = append(seen, p.Replica)
		}
	}
	if len(seen) < 2*c.opts.F {
		return fmt.Sprintf("a prepared certificate for (view %d, seq %d) with PREPAREs from only %d distinct backups (2f = %d needed)", pp.View, pp.Seq, len(seen), 2*c.opts.F)
	}
	return ""
}

// vcProblem returns why a VIEW-CHANGE is invalid on its face ("" if it is
// well formed): a bad checkpoint proof or prepared certificate.
func (c *Checker) vcProblem(m *pbft.ViewChange) string {
	if m.StableSeq > 0 {
		seen := c.distinct[:0]
		defer func() { c.distinct = seen[:0] }()
		var d pbft.Digest
		for i, cp := range m.Checkpoints {
			if cp == nil || cp.Seq != m.StableSeq || (i > 0 && cp.StateDigest != d) {
				return fmt.Sprintf("a checkpoint proof for seq %d with a non-matching CHECKPOINT", m.StableSeq)
			}
			d = cp.StateDigest
			if !slices.Contains(seen, cp.Replica) {
				seen = append(seen, cp.Replica)
			}
		}
		if len(seen) < 2*c.opts.F+1 {
			return fmt.Sprintf("a checkpoint proof for seq %d from only %d distinct replicas (2f+1 = %d needed)", m.StableSeq, len(seen), 2*c.opts.F+1)
		}
	}
	for i := range m.Prepared {
		pc := &m.Prepared[i]
		if why := c.certProblem(pc); why != "" {
			return why
		}
		if pc.PrePrepare.View >= m.NewView {
			return fmt.Sprintf("a certificate from view %d, not one before view %d", pc.PrePrepare.View, m.NewView)
		}
	}
	return ""
}

func (c *Checker) viewChange(now sim.Time, from sim.NodeID, m *pbft.ViewChange) {
	if c.accSeen[from] || c.vcSeen[m] {
		return
	}
	c.vcSeen[m] = true
	if why := c.vcProblem(m); why != "" && c.sigOK(m) {
		c.accuse(Accusation{Replica: from, View: m.NewView, Time: now, Evidence: []sim.Message{m},
			Reason: fmt.Sprintf("VIEW-CHANGE for view %d carries %s", m.NewView, why)})
		return
	}
	// Its own COMMIT(v, n, d) proves it prepared (v, n, d): a VIEW-CHANGE
	// for a later view must carry a certificate for n from view v (for d)
	// or a later view, unless n is at or below its stable checkpoint.
	for _, cm := range c.commitList[from] {
		if cm.View >= m.NewView || cm.Seq <= m.StableSeq {
			continue
		}
		kept := false
		for i := range m.Prepared {
			pp := m.Prepared[i].PrePrepare
			if pp != nil && pp.Seq == cm.Seq && (pp.View > cm.View || pp.View == cm.View && pp.Digest == cm.Digest) {
				kept = true
				break
			}
		}
		if !kept && c.sigOK(m) && c.sigOK(cm) {
			c.accuse(Accusation{Replica: from, View: m.NewView, Seq: cm.Seq, Time: now, Evidence: []sim.Message{cm, m},
				Reason: fmt.Sprintf("VIEW-CHANGE for view %d (stable checkpoint %d) omits the certificate for seq %d that its own COMMIT in view %d proves it had", m.NewView, m.StableSeq, cm.Seq, cm.View)})
			return
		}
	}
}

// sigOK reports whether m is validly signed by its author (true without a
// keyring).
func (c *Checker) sigOK(m pbft.Signable) bool {
	if c.opts.Keyring == nil {
		return true
	}
	return c.verify(m)
}

// verify checks m's signature with the keyring, once per message while it
// stays in the checker's verify cache: trace messages are immutable values
// shared by pointer, so a valid signature is remembered by identity, in a
// fixed-size table (the checker's memory must not grow with the run; a
// message evicted or badly signed is verified again).
func (c *Checker) verify(m pbft.Signable) bool {
	if c.sigCache == nil {
		c.sigCache = pbft.NewVerifyCacheSize(checkerVerifyEntries)
	}
	return c.sigCache.Verify(c.opts.Keyring, m)
}

// checkerVerifyEntries sizes the checker's verify cache: the messages in
// flight of a busy run, for which the votes' deliveries are audited.
const checkerVerifyEntries = 4096

// verified reports whether a certificate's signatures are genuine: checked
// with the keyring when there is one, otherwise every message must also
// have been sent by its author on the network with the same digest (the
// network authenticates senders).
func (c *Checker) verified(pc *pbft.PreparedCert) bool {
	pp := pc.PrePrepare
	if c.opts.Keyring != nil {
		if !c.verify(pp) {
			return false
		}
		for _, p := range pc.Prepares {
			if !c.verify(p) {
				return false
			}
		}
		return true
	}
	if m := c.signedBy(pp.Replica, pbft.TypePrePrepare, pp.View, pp.Seq); m == nil {
		return false
	} else if d, _ := digestOf(m); d != pp.Digest {
		return false
	}
	for _, p := range pc.Prepares {
		m := c.signedBy(p.Replica, pbft.TypePrepare, p.View, p.Seq)
		if m == nil {
			return false
		}
		if d, _ := digestOf(m); d != p.Digest {
			return false
		}
	}
	return true
}

func (c *Checker) newView(now sim.Time, from sim.NodeID, m *pbft.NewView) {
	// O's PRE-PREPAREs are signed by the new primary: they are its votes.
	for _, pp := range m.PrePrepares {
		if pp != nil && pp.Replica == from {
			c.own(now, from, pbft.TypePrePrepare, pp.View, pp.Seq, pp.Digest, pp)
		}
	}
	if c.accSeen[from] || c.nvSeen[m] {
		return
	}
	c.nvSeen[m] = true
	accuse := func(seq uint64, format string, args ...any) {
		if !c.sigOK(m) {
			return
		}
		c.accuse(Accusation{Replica: from, View: m.View, Seq: seq, Time: now, Evidence: []sim.Message{m},
			Reason: fmt.Sprintf("NEW-VIEW for view %d: ", m.View) + fmt.Sprintf(format, args...)})
	}
	if from != c.primary(m.View) {
		accuse(0, "sent by %d, who is not the primary %d of that view", from, c.primary(m.View))
		return
	}
	senders := c.nvSenders[:0]
	var minS uint64
	for _, vc := range m.ViewChanges {
		if vc == nil || vc.NewView != m.View {
			continue
		}
		// A correct primary validates every VIEW-CHANGE it puts in V.
		if c.opts.Keyring != nil && !c.verify(vc) {
			accuse(0, "V holds a VIEW-CHANGE of replica %d that it does not sign", vc.Replica)
			return
		}
		if why := c.vcProblem(vc); why != "" {
			accuse(0, "V holds a VIEW-CHANGE of replica %d that carries %s", vc.Replica, why)
			return
		}
		if !slices.Contains(senders, vc.Replica) {
			senders = append(senders, vc.Replica)
		}
		minS = max(minS, vc.StableSeq)
	}
	c.nvSenders = senders
	if len(senders) < 2*c.opts.F+1 {
		accuse(0, "V holds VIEW-CHANGEs from only %d distinct replicas (2f+1 = %d needed)", len(senders), 2*c.opts.F+1)
		return
	}
	// Highest-view certificates per seq, from certificates whose messages
	// were all really sent by their authors; a slot is judged only when no
	// unverifiable certificate could have changed the choice.
	slots := c.nvChoices
	clear(slots)
	var maxS uint64
	for _, vc := range m.ViewChanges {
		if vc == nil || vc.NewView != m.View {
			continue
		}
		for i := range vc.Prepared {
			pc := &vc.Prepared[i]
			if c.certProblem(pc) != "" {
				continue
			}
			pp := pc.PrePrepare
			if pp.Seq <= minS {
				continue
			}
			ch := slots[pp.Seq]
			if !c.verified(pc) {
				ch.unsure = true
				ch.unsureAt = max(ch.unsureAt, pp.View)
				slots[pp.Seq] = ch
				continue
			}
			maxS = max(maxS, pp.Seq)
			switch {
			case ch.digests == 0 || pp.View > ch.view:
				ch.view, ch.digest, ch.digests = pp.View, pp.Digest, 1
			case pp.View == ch.view && pp.Digest != ch.digest:
				ch.digests = 2
			}
			slots[pp.Seq] = ch
		}
	}
	o := c.nvPP
	clear(o)
	for _, pp := range m.PrePrepares {
		if pp != nil {
			o[pp.Seq] = pp
		}
	}
	for seq := minS + 1; seq <= maxS; seq++ {
		ch, in := slots[seq]
		if !in || ch.digests != 1 || ch.unsure && ch.unsureAt >= ch.view {
			continue
		}
		want := ch.digest
		pp := o[seq]
		switch {
		case pp == nil:
			accuse(seq, "O has no PRE-PREPARE for seq %d although V proves %s prepared in view %d", seq, short(want), ch.view)
			return
		case pp.Digest != want:
			accuse(seq, "O proposes %s at seq %d but the highest-view certificate in V (view %d) is for %s", short(pp.Digest), seq, ch.view, short(want))
			return
		}
	}
}

// nvChoice is newView's highest-view certificate choice for one seq: the
// digests of the verified certificates of the highest view (digests: how
// many distinct, 2 meaning two or more; digest: the first), and the
// highest view of an unverifiable certificate.
type nvChoice struct {
	view     uint64
	digest   pbft.Digest
	digests  int
	unsure   bool
	unsureAt uint64
}

var nullDigest = pbft.BatchDigest(nil)

// bestCert is the certificate of the highest view for a seq in V.
type bestCert struct {
	view uint64
	d    pbft.Digest
	tie  bool // another certificate of that view has another digest
	set  bool
}

// recomputedO is a recomputeO result: o[i] is the digest for seq
// minS+1+i.
type recomputedO struct {
	minS uint64
	o    []pbft.Digest
	ok   bool
}

// recomputeO derives, from a NEW-VIEW's V, the O a correct primary must
// send (the paper's rule for the sequence-number -> digest map): min-s is
// the highest stable checkpoint in V, max-s the highest sequence number of
// a prepared certificate in V, and each seq in (min-s, max-s] gets the
// digest of its certificate of the highest view, or the null request. ok is
// false when two certificates of the same highest view disagree (only a
// broken prepare phase produces them): O is then not determined. The
// digests of seqs minS+1, minS+2, ... are appended to arena (the result's o
// is that part of it; the grown arena is returned); bests is scratch space
// (cleared first).
func recomputeO(V []*pbft.ViewChange, bests map[uint64]bestCert, arena []pbft.Digest) (recomputedO, []pbft.Digest) {
	clear(bests)
	var minS, maxS uint64
	for _, vc := range V {
		if vc != nil {
			minS = max(minS, vc.StableSeq)
		}
	}
	maxS = minS
	for _, vc := range V {
		if vc == nil {
			continue
		}
		for i := range vc.Prepared {
			pp := vc.Prepared[i].PrePrepare
			if pp == nil {
				continue
			}
			maxS = max(maxS, pp.Seq)
			b := bests[pp.Seq]
			switch {
			case !b.set || pp.View > b.view:
				bests[pp.Seq] = bestCert{view: pp.View, d: pp.Digest, set: true}
			case pp.View == b.view && pp.Digest != b.d:
				b.tie = true
				bests[pp.Seq] = b
			}
		}
	}
	start := len(arena)
	ok := true
	for s := minS + 1; s <= maxS; s++ {
		if b, in := bests[s]; in {
			arena = append(arena, b.d)
			ok = ok && !b.tie
		} else {
			arena = append(arena, nullDigest)
		}
	}
	return recomputedO{minS: minS, o: arena[start:len(arena):len(arena)], ok: ok}, arena
}

// acceptedNewView checks, when correct replica r enters view v through a
// NEW-VIEW it received, that the NEW-VIEW's O is the one recomputed from V.
func (c *Checker) acceptedNewView(now sim.Time, r sim.NodeID, e *pbft.NewViewEntered) {
	if e.Primary == r {
		return
	}
	nv := c.nvDelivered[nvKey{r, e.View}]
	if nv == nil {
		return
	}
	// Every replica that enters the view recomputes the same O from the
	// same (immutable) NEW-VIEW: compute it once.
	ro, seen := c.nvO[nv]
	if !seen {
		ro, c.oArena = recomputeO(nv.ViewChanges, c.bests, c.oArena)
		c.nvO[nv] = ro
	}
	want := ro.o
	if !ro.ok {
		return
	}
	bad := len(want) != len(nv.PrePrepares)
	var badSeq uint64
	for _, pp := range nv.PrePrepares {
		if pp == nil {
			bad = true
			continue
		}
		if pp.Seq <= ro.minS || pp.Seq-ro.minS > uint64(len(want)) || want[pp.Seq-ro.minS-1] != pp.Digest {
			bad, badSeq = true, pp.Seq
		}
	}
	if bad {
		c.violate(Violation{Property: NewViewO, Replicas: []sim.NodeID{r, e.Primary}, View: e.View, Seq: badSeq, Time: now,
			Detail: fmt.Sprintf("replica %d accepted NEW-VIEW %d from %d whose O (%d PRE-PREPAREs) differs from the O recomputed from its V (%d)", r, e.View, e.Primary, len(nv.PrePrepares), len(want))})
	}
}
