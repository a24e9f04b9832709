package properties

import (
	"fmt"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/events"
)

// stateAgree is the first state digest a correct replica reported at a seq.
type stateAgree struct {
	d        events.Digest
	first    sim.NodeID
	compared bool // a second correct replica reported a state at this seq
}

// stateReport checks state agreement: correct replicas that report their
// state digest at the same seq (a checkpoint, or the final state) report
// the same digest.
func (c *Checker) stateReport(now sim.Time, from sim.NodeID, s events.StateReport) {
	if s.Seq == 0 {
		return // the initial state, equal by construction
	}
	sa, ok := c.states.get(s.Seq)
	if !ok {
		c.states.put(s.Seq, stateAgree{d: s.Digest, first: from})
		return
	}
	if sa.first == from {
		if sa.d != s.Digest {
			c.violate(Violation{Property: StateAgreement, Replicas: []sim.NodeID{from}, Seq: s.Seq, Time: now,
				Detail: fmt.Sprintf("replica %d reported state digests %s and %s at seq %d", from, short(sa.d), short(s.Digest), s.Seq)})
		}
		return
	}
	if !sa.compared {
		sa.compared = true
		c.states.put(s.Seq, sa)
		c.stateSeqs++
	}
	if sa.d != s.Digest {
		c.violate(Violation{Property: StateAgreement, Replicas: []sim.NodeID{sa.first, from}, Seq: s.Seq, Time: now,
			Detail: fmt.Sprintf("replica %d has state digest %s after seq %d but replica %d has %s", from, short(s.Digest), s.Seq, sa.first, short(sa.d))})
	}
}

// FinalState reports a replica's state at the end of the run (its digest
// right after executing s.Seq, its last executed seq) for state agreement.
// Call it before Finish; reports of replicas that are not judged are
// ignored.
func (c *Checker) FinalState(s events.StateReport) {
	if c.correct(s.Replica) {
		c.stateReport(c.end, s.Replica, s)
	}
}

// judgements says, property by property, what this finished run judged.
// liveWhy, when set, is why liveness was not judged at all.
func (c *Checker) judgements(liveWhy string) []Judgement {
	vacuous := ""
	if !c.execAny && len(c.subs) == 0 {
		vacuous = "vacuous: no request was submitted or executed"
	} else if !c.execAny {
		vacuous = "vacuous: no correct replica executed a request"
	}
	out := make([]Judgement, 0, len(SafetyProperties)+3)
	for _, p := range SafetyProperties {
		j := Judgement{Property: p, Judged: true}
		switch p {
		case Agreement, TotalOrder, Integrity, Validity, LedgerInvariant, ClientView:
			j.Reason = vacuous
		case Linearizability:
			j = c.linJudgement()
		case LocalQuorum:
			if !c.opts.Deliveries {
				j.Judged, j.Reason = false, "the records hold no message deliveries to audit"
			}
		case StateAgreement:
			if c.stateSeqs == 0 {
				j.Judged, j.Reason = false, "no sequence number at which two correct replicas reported their state (checkpoint or final state)"
			} else {
				j.Reason = fmt.Sprintf("compared at %d sequence numbers", c.stateSeqs)
			}
		}
		out = append(out, j)
	}
	if c.tl != nil {
		out = append(out, c.tlJudgement(), c.orderJudgement(), c.causeJudgement(), c.waitJudgement())
	}
	out = append(out, Judgement{Property: Accountability, Judged: true})
	lj := Judgement{Property: Liveness}
	switch {
	case liveWhy != "":
		lj.Reason = liveWhy
	case c.opts.LivenessBound <= 0:
		lj.Reason = "no liveness bound"
	case c.liveJudged == 0 && c.liveUnjudged == 0:
		lj.Reason = "no request of a correct client was submitted"
	case c.liveUnjudged > 0:
		lj.Judged = c.liveJudged > 0
		lj.Reason = c.liveWhy
		if lj.Judged {
			lj.Reason = fmt.Sprintf("judged for %d requests, not for %d: %s", c.liveJudged, c.liveUnjudged, c.liveWhy)
		}
	default:
		lj.Judged = true
	}
	return append(out, lj)
}

// linJudgement says what the linearizability check decided.
func (c *Checker) linJudgement() Judgement {
	j := Judgement{Property: Linearizability, Judged: c.linDecided > 0}
	switch {
	case c.linDecided == 0 && c.linSkipped == 0 && c.linUnknown == 0:
		j.Reason = "no client operation was accepted"
	case c.linSkipped > 0 || c.linUnknown > 0:
		j.Reason = fmt.Sprintf("%d payment histories decided, %d longer than %d operations not checked, %d undecided within %v",
			c.linDecided, c.linSkipped, c.opts.MaxHistory, c.linUnknown, c.opts.LinearizabilityTimeout)
	}
	return j
}

// livenessUnjudged records a request whose liveness the run could not
// judge: it was not accepted and the run ended before its deadline.
func (c *Checker) livenessUnjudged(s *submission, start sim.Time) {
	c.liveUnjudged++
	if c.liveWhy != "" {
		return
	}
	if c.end < c.opts.GST {
		c.liveWhy = fmt.Sprintf("the run ended at %v, before GST at %v (client %d's request %d pending), the bound is %v after GST",
			time.Duration(c.end), time.Duration(c.opts.GST), s.req.Client, s.req.Timestamp, c.opts.LivenessBound)
		return
	}
	after := "GST"
	if s.at > c.opts.GST {
		after = fmt.Sprintf("its submission at %v", time.Duration(s.at))
	}
	c.liveWhy = fmt.Sprintf("the run ended %v after %s (client %d's request %d pending), the bound is %v",
		time.Duration(c.end-start), after, s.req.Client, s.req.Timestamp, c.opts.LivenessBound)
}
