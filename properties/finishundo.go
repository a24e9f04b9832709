package properties

import "github.com/pbftsim/pbftsim/sim"

// FinishUndo runs a Checker's Finish so that it can be undone: the
// explorer judges a state by the checkers over its path's records followed
// by Finish, and a state's successors by the same records and more, so
// with Undo one checker follows a depth-first path instead of being reset
// and fed the whole path at every state.
//
// Undo restores what Finish changes when it finds nothing: the end time and
// done mark, the pending client results and acceptances (flushResults
// compacts them in place), the liveness, timeliness and linearizability
// counters, the timeliness proposals still to judge and the windows still
// open. Finish's scratch buffers keep their contents (every user resets
// them first). When Finish reported a violation or an accusation, Undo
// does not undo it (linViolation, for one, also changes the folded
// payment summaries) and reports false: the checker must then be reset.
// TestFinishUndoRestores compares an undone checker with one that never
// finished, field by field.
type FinishUndo struct {
	c                    *Checker
	done, stopped        bool
	end, liveFrom        sim.Time
	nVio, nAcc           int
	pendingRes           []pendingResult // their contents, and the slices
	pendingAc            []acceptance
	resSlice             []pendingResult
	acSlice              []acceptance
	liveJudged, liveUnj  int
	liveWhy              string
	linDec, linSk, linUn int
	// the timeliness state (c.tl non-nil)
	toJudge          []tlProposal
	proposed, judged int
	open             []tlOpenAt
}

// tlOpenAt is a timeliness window open before Finish: replica r's entry i.
type tlOpenAt struct{ r, i int }

// Finish saves what c's Finish(end) changes, then runs it.
func (u *FinishUndo) Finish(c *Checker, end sim.Time) {
	u.c = c
	u.done, u.stopped, u.end, u.liveFrom = c.done, c.stopped, c.end, c.liveFrom
	u.nVio, u.nAcc = len(c.violations), len(c.accused)
	u.pendingRes = append(u.pendingRes[:0], c.pendingRes...)
	u.pendingAc = append(u.pendingAc[:0], c.pendingAc...)
	u.resSlice, u.acSlice = c.pendingRes, c.pendingAc
	u.liveJudged, u.liveUnj, u.liveWhy = c.liveJudged, c.liveUnjudged, c.liveWhy
	u.linDec, u.linSk, u.linUn = c.linDecided, c.linSkipped, c.linUnknown
	u.open = u.open[:0]
	if t := c.tl; t != nil {
		u.toJudge = append(u.toJudge[:0], t.toJudge...)
		u.proposed, u.judged = t.proposed, t.judged
		for r := range t.reps {
			for i := range t.reps[r].entries {
				if t.reps[r].entries[i].open {
					u.open = append(u.open, tlOpenAt{r, i})
				}
			}
		}
	}
	c.Finish(end)
}

// Undo restores the checker given to Finish to its state before it; it
// reports false, and changes nothing, when Finish found a violation or an
// accusation (see FinishUndo).
func (u *FinishUndo) Undo() bool {
	c := u.c
	if c == nil || len(c.violations) != u.nVio || len(c.accused) != u.nAcc {
		return false
	}
	u.c = nil
	c.done, c.stopped, c.end, c.liveFrom = u.done, u.stopped, u.end, u.liveFrom
	// The slices as they were (Finish compacts them in place and sets
	// pendingAc to nil), with their contents.
	copy(u.resSlice, u.pendingRes)
	copy(u.acSlice, u.pendingAc)
	c.pendingRes, c.pendingAc = u.resSlice, u.acSlice
	u.resSlice, u.acSlice = nil, nil
	c.liveJudged, c.liveUnjudged, c.liveWhy = u.liveJudged, u.liveUnj, u.liveWhy
	c.linDecided, c.linSkipped, c.linUnknown = u.linDec, u.linSk, u.linUn
	if t := c.tl; t != nil {
		t.toJudge = t.toJudge[:len(u.toJudge)]
		copy(t.toJudge, u.toJudge)
		t.proposed, t.judged = u.proposed, u.judged
		for _, o := range u.open {
			t.reps[o.r].entries[o.i].open = true
		}
	}
	return true
}
