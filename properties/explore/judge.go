package explore

import (
	"slices"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/sim"
	engine "github.com/pbftsim/pbftsim/sim/explore"
)

// incJudge is check's verdict computed incrementally: one checker follows
// the depth-first path. A world whose parent's path is the one judged last
// is judged by feeding only its last transition's records to the checker
// and finishing it undoably (properties.FinishUndo); any other world (a
// sibling, after a backtrack; a transition that crashes a replica not
// crashed before, which changes the checker's options; after a verdict
// Finish cannot undo) by resetting the checker and feeding its whole path,
// as check does.
type incJudge struct {
	opts    properties.Options
	chk     *properties.Checker
	undo    properties.FinishUndo
	at      engine.Trace      // the path the checker holds (unfinished); zero: none
	n       int               // its records
	end     sim.Time          // its last record's time
	crashed []sim.NodeID      // its crashed replicas (faulty for the checker)
	faulty  []sim.NodeID      // the checker's faulty replicas
	parts   [][]engine.Record // replay's: the path's records per transition
	one     engine.Record     // feed's scratch record
	// full: always reset and feed the whole path (tests compare the two).
	full bool
	// Incremental and full judgements (tests).
	incs, fulls int
}

// newIncJudgeWith returns an incremental judge with checker options opts.
func newIncJudgeWith(opts properties.Options) *incJudge {
	return &incJudge{opts: opts, chk: properties.New(opts)}
}

// judge returns check's verdict on w, whose path is t.
func (j *incJudge) judge(w *engine.World, t engine.Trace) (string, string) {
	last := t.Last()
	if j.full || j.at.IsZero() || j.at != t.Up() || j.crashes(last) {
		j.replay(t)
	} else {
		j.incs++
		j.feed(last)
		j.at = t
	}
	chk := j.chk
	if j.n > 0 {
		j.undo.Finish(chk, j.end)
	}
	prop, detail := verdict(chk, j.faulty)
	if j.n > 0 && !j.undo.Undo() {
		j.at = engine.Trace{} // finished for good: reset next time
	}
	return prop, detail
}

// crashes reports whether recs crash a replica not crashed on the path held.
func (j *incJudge) crashes(recs []engine.Record) bool {
	for i := range recs {
		if recs[i].Kind == sim.RecCrash && !slices.Contains(j.crashed, recs[i].From) {
			return true
		}
	}
	return false
}

// replay resets the checker to t's whole path, as check does (the path's
// records fed in place, not copied into one slice first).
func (j *incJudge) replay(t engine.Trace) {
	j.fulls++
	j.parts = t.Parts(j.parts)
	j.crashed = j.crashed[:0]
	for _, p := range j.parts {
		for i := range p {
			if p[i].Kind == sim.RecCrash && !slices.Contains(j.crashed, p[i].From) {
				j.crashed = append(j.crashed, p[i].From)
			}
		}
	}
	oo := j.opts
	if len(j.crashed) > 0 {
		oo.Faulty = faultyWith(j.opts.Faulty, j.crashed)
	}
	j.faulty = oo.Faulty
	j.chk.Reset(oo)
	j.n = 0
	for _, p := range j.parts {
		j.feed(p)
	}
	j.at = t
}

// feed feeds recs to the checker after the j.n records it holds, each
// through one scratch record numbered in turn (the checker keeps no
// pointer to a record it is fed).
func (j *incJudge) feed(recs []engine.Record) {
	for i := range recs {
		j.one = recs[i]
		j.one.Seq = uint64(j.n)
		j.chk.Record(&j.one)
		j.end = recs[i].Time
		j.n++
	}
	j.one = engine.Record{} // keeps no message alive
}
