package serve

import (
	"fmt"
	"slices"

	"github.com/pbftsim/pbftsim/experiment"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/byzantine"
)

// Rec is one trace record as the page draws it.
type Rec struct {
	Seq    uint64 `json:"seq"`
	Step   uint64 `json:"step"` // the kernel step that emitted it (from 1)
	T      int64  `json:"t"`    // virtual ns
	Kind   string `json:"kind"`
	From   int    `json:"from"`
	To     int    `json:"to"`
	Type   string `json:"type,omitempty"`  // message type
	Event  string `json:"event,omitempty"` // event name
	Reason string `json:"reason,omitempty"`
	// Send is, for a delivery or a drop, the record number of the send
	// (or duplication) it ends; -1 when none.
	Send int64  `json:"send"`
	Line string `json:"line"`
}

// Violation is a violation found by the checkers, with the step at which
// they found it.
type Violation struct {
	experiment.JSONViolation
	Step uint64 `json:"step"`
}

// timeline is a whole run, recorded once: every record, the record count
// and time after each step, and the violations with their steps. The state
// at a step comes from a separate stepped rerun (exact); the timeline gives
// the diagram, the look-ahead (when an in-flight message arrives) and the
// targets of "run to".
type timeline struct {
	recs      []Rec
	msgs      []sim.Message // message of each record (nil for none)
	recAfter  []uint64      // recAfter[k]: records emitted by the first k steps
	timeAfter []int64       // timeAfter[k]: virtual time after k steps
	hashAfter []uint64      // hashAfter[k]: trace hash after k steps
	viol      []Violation
	ended     string
	truncated bool // the run went on past the recording limit
	hash      string
	n         int
}

// linker links deliveries and drops to their sends: the copies of a
// message still in flight on a link, oldest first.
type linker struct {
	open map[linkKey][]int64
}

type linkKey struct {
	from, to sim.NodeID
	msg      sim.Message
}

func (l *linker) link(r *sim.Record) int64 {
	if r.Msg == nil {
		return -1
	}
	k := linkKey{r.From, r.To, r.Msg}
	switch r.Kind {
	case sim.RecSend, sim.RecDuplicate:
		l.open[k] = append(l.open[k], int64(r.Seq))
	case sim.RecDeliver, sim.RecDrop:
		q := l.open[k]
		if len(q) == 0 {
			return -1
		}
		s := q[0]
		if len(q) == 1 {
			delete(l.open, k)
		} else {
			l.open[k] = q[1:]
		}
		return s
	}
	return -1
}

// recorder is the sink that fills a timeline.
type recorder struct {
	tl    *timeline
	lk    linker
	step  uint64
	limit int
	full  bool
}

// Record implements sim.Sink.
func (r *recorder) Record(rec *sim.Record) {
	if len(r.tl.recs) >= r.limit {
		r.full = true
		return
	}
	send := r.lk.link(rec)
	r.tl.recs = append(r.tl.recs, toRec(rec, r.step, send, r.tl.n))
	r.tl.msgs = append(r.tl.msgs, rec.Msg)
}

func toRec(r *sim.Record, step uint64, send int64, n int) Rec {
	out := Rec{Seq: r.Seq, Step: step, T: int64(r.Time), Kind: r.Kind.String(), From: int(r.From), To: int(r.To),
		Send: send, Line: experiment.RecordLine(r, n)}
	if r.Msg != nil {
		out.Type = r.Msg.Type().String()
	}
	if r.Event != nil {
		out.Event = r.Event.Name()
	}
	if r.Reason != sim.DropNone {
		out.Reason = r.Reason.String()
	}
	return out
}

// buildTimeline runs rp to its end (or the record limit) and records it.
func buildTimeline(rp *scenarios.Replay, limit int) (*timeline, error) {
	cfg, err := rp.Scenario.Config()
	if err != nil {
		return nil, err
	}
	tl := &timeline{n: cfg.N, recAfter: []uint64{0}, timeAfter: []int64{0}, viol: []Violation{}}
	rec := &recorder{tl: tl, lk: linker{open: map[linkKey][]int64{}}, limit: limit}
	st, err := experiment.NewStepper(rp, rec)
	if err != nil {
		return nil, err
	}
	tl.hashAfter = []uint64{st.Kernel().Stats().TraceHash}
	seen := 0
	for {
		rec.step = st.Steps() + 1
		if !st.Step() {
			break
		}
		if rec.full {
			// The last step was recorded in part: drop it.
			last := tl.recAfter[len(tl.recAfter)-1]
			tl.recs, tl.msgs = tl.recs[:last], tl.msgs[:last]
			tl.truncated = true
			break
		}
		tl.recAfter = append(tl.recAfter, uint64(len(tl.recs)))
		tl.timeAfter = append(tl.timeAfter, int64(st.Now()))
		tl.hashAfter = append(tl.hashAfter, st.Kernel().Stats().TraceHash)
		if vs := st.Violations(); len(vs) > seen {
			for _, v := range vs[seen:] {
				tl.viol = append(tl.viol, Violation{experiment.NewJSONViolation(v), st.Steps()})
			}
			seen = len(vs)
		}
		if st.Ended() != "" {
			break
		}
	}
	tl.ended = st.Ended()
	if tl.truncated {
		tl.ended = fmt.Sprintf("not recorded past %d trace records (the run goes on)", limit)
	}
	if !tl.truncated {
		// End-of-run checks (liveness, accountability) judge the ended run.
		o := st.Finish()
		for _, v := range o.Violations[min(seen, len(o.Violations)):] {
			tl.viol = append(tl.viol, Violation{experiment.NewJSONViolation(v), st.Steps()})
		}
	}
	tl.hash = fmt.Sprintf("%016x", tl.hashAfter[len(tl.hashAfter)-1])
	return tl, nil
}

// steps returns the number of steps recorded.
func (tl *timeline) steps() uint64 { return uint64(len(tl.recAfter) - 1) }

// Flight is a message in flight at a step: sent (or duplicated) and not
// yet delivered or dropped.
type Flight struct {
	ID     uint64 `json:"id"` // record number of its send (or duplication)
	From   int    `json:"from"`
	To     int    `json:"to"`
	Type   string `json:"type"`
	SentAt int64  `json:"sent_at"`
	Line   string `json:"line"`
	// Arrives is when the run delivers (or loses) it: the time of that
	// record, or -1 when the recorded run ends first.
	Arrives int64   `json:"arrives"`
	Fate    string  `json:"fate"` // "deliver", "drop (crashed)", ..., or "" (never)
	View    *uint64 `json:"view,omitempty"`
	SeqNo   *uint64 `json:"seq_no,omitempty"`
	// Driveable is false when the adversary cannot touch it (a link
	// between correct replicas after GST is synchronous).
	Driveable bool   `json:"driveable"`
	Why       string `json:"why,omitempty"`
}

// inFlight returns the messages in flight after step k.
func (tl *timeline) inFlight(k uint64) []Flight {
	end := tl.recAfter[k]
	var out []Flight
	index := map[int64]int{}
	for i := uint64(0); i < end; i++ {
		r := &tl.recs[i]
		if (r.Kind == sim.RecSend.String() || r.Kind == sim.RecDuplicate.String()) && tl.msgs[i] != nil {
			index[int64(r.Seq)] = len(out)
			f := Flight{ID: r.Seq, From: r.From, To: r.To, Type: r.Type, SentAt: r.T, Line: r.Line, Arrives: -1}
			if v, ok, s, ok2 := byzantine.ViewSeq(tl.msgs[i]); ok || ok2 {
				if ok {
					f.View = &v
				}
				if ok2 {
					f.SeqNo = &s
				}
			}
			out = append(out, f)
		}
		if r.Send >= 0 {
			if j, ok := index[r.Send]; ok {
				out[j].ID = ^uint64(0) // ended before the step
			}
		}
	}
	// Look ahead for when the rest arrive.
	for i := end; i < uint64(len(tl.recs)); i++ {
		r := &tl.recs[i]
		if r.Send < 0 {
			continue
		}
		if j, ok := index[r.Send]; ok && out[j].ID != ^uint64(0) && out[j].Arrives < 0 {
			out[j].Arrives = r.T
			out[j].Fate = "deliver"
			if r.Kind == sim.RecDrop.String() {
				out[j].Fate = "drop (" + r.Reason + ")"
			}
		}
	}
	live := make([]Flight, 0, len(out))
	for _, f := range out {
		if f.ID != ^uint64(0) {
			live = append(live, f)
		}
	}
	return live
}

// stepOfRecord returns the step that emitted record seq.
func (tl *timeline) stepOfRecord(seq uint64) uint64 {
	if seq >= uint64(len(tl.recs)) {
		return tl.steps()
	}
	return tl.recs[seq].Step
}

// stepAtTime returns the last step at or before virtual time t.
func (tl *timeline) stepAtTime(t int64) uint64 {
	lo, hi := 0, len(tl.timeAfter)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if tl.timeAfter[mid] <= t {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return uint64(lo)
}

// nextEvent returns the first step after k that emits an event named one
// of names, or false.
func (tl *timeline) nextEvent(k uint64, names ...string) (uint64, bool) {
	return tl.nextRecord(k, func(r *Rec) bool { return slices.Contains(names, r.Event) })
}

// nextRecord returns the first step after k that emits a record match
// accepts, or false.
func (tl *timeline) nextRecord(k uint64, match func(*Rec) bool) (uint64, bool) {
	for i := tl.recAfter[k]; i < uint64(len(tl.recs)); i++ {
		if match(&tl.recs[i]) {
			return tl.recs[i].Step, true
		}
	}
	return 0, false
}

// nextViolation returns the first step after k at which a violation was
// found, or false.
func (tl *timeline) nextViolation(k uint64) (uint64, bool) {
	for _, v := range tl.viol {
		if v.Step > k {
			return v.Step, true
		}
	}
	return 0, false
}

// violationsUpTo returns the violations found by step k.
func (tl *timeline) violationsUpTo(k uint64) []Violation {
	out := []Violation{}
	for _, v := range tl.viol {
		if v.Step <= k {
			out = append(out, v)
		}
	}
	return out
}
