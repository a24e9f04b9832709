package explore

import (
	"fmt"
	"slices"

	"github.com/pbftsim/pbftsim/sim"
)

// Dynamic partial-order reduction (Options.DPOR): source-DPOR with sleep
// sets (Abdulla, Aronis, Jonsson, Sagonas, "Optimal dynamic partial order
// reduction", POPL 2014, Algorithm 1) over the explorer's transitions,
// depth-first, keeping no frontier: the memory is the current path and a
// table of 64-bit state fingerprints used to judge each distinct state once
// (fpSet; revisiting a state does not stop the path: DPOR with state
// caching is unsound in general).
//
// Two transitions are dependent when they step a common node, act on the
// same in-flight message, both draw on the drop or the duplicate budget, or
// one of them sets or cancels a timer, fires one, crashes or recovers a
// node: firing moves the global clock to a deadline and so bears on every
// other transition, and a timer set one place later has a deadline one
// Unit later, which can change the order of the pending timers. A delivery happens after the transition that sent its message
// (a copy's after the duplication), a recovery after the crash. Each path
// explored stands for its class of orders of independent transitions; DPOR
// adds an alternative at an earlier state only where two dependent
// transitions of the path could have happened in the other order (a race).
// A message's delivery, drop and duplication are alternatives of one step:
// exploring one from a state explores all.
//
// The depth bound is a bound on causal depth: a transition's level is one
// more than the highest level of the earlier transitions it depends on (or
// that enabled it), and transitions above the bound are not taken. (A
// dependency only through timers counts too: not counting it made the
// bound far weaker for the same depth, and a timer set "close" to another
// deadline, which the sleep sets use, depends on other nodes' timers, so it
// is not the same in every order and cannot define a level.) A bound
// on the number of transitions would not do: every transition would
// disable the others at the last step, so no order could be left out. The
// causal depth of a path is at most its length, so every path of at most D
// transitions is within causal depth D (DPOR at depth D covers at least
// what the breadth-first search covers at depth D, and many longer paths).
// Transitions disabled by the bound or by a used-up budget are explored at
// the latest state of the path where they were still possible; when the
// clock reaches a deadline (only the timer can go on), the state before is
// expanded fully.
//
// What it preserves: every class of maximal paths within the bounds is
// represented, so every state at the end of one (nothing left within the
// bounds) is reached (TestDPORSameLeaves compares them with Leaves), and a
// safety violation, which persists along every extension of the path that
// reaches it, is found. Intermediate states are not all reached, and the
// violating path found may be longer than a shortest one: it is shrunk
// (shrink) before it is reported. With Options.DFS the bound deepens (1, 2,
// ...), so the violation is found at the smallest causal depth. Like sleep
// sets, DPOR assumes that Options.Check's verdict does not depend on the
// order of independent transitions.

// MaxDPORDepth is the largest causal depth bound DPOR takes, and
// MaxDPORPath the longest path it explores (the size of bitset).
const (
	MaxDPORDepth = 200
	MaxDPORPath  = 512
)

// bitset is a set of path positions.
type bitset [MaxDPORPath / 64]uint64

func (b *bitset) set(i int)      { b[i>>6] |= 1 << uint(i&63) }
func (b *bitset) has(i int) bool { return b[i>>6]&(1<<uint(i&63)) != 0 }
func (b *bitset) or(c *bitset) {
	for i := range b {
		b[i] |= c[i]
	}
}

// tid identifies a transition along one path independently of the order of
// World.Flight: a message transition by the send index of its message (and
// whether it acts on the copy a Duplicate made), the others by kind and node.
type tid struct {
	kind  Kind
	node  sim.NodeID
	mid   int32       // 2*Send+copy for deliver, drop and duplicate; -1 otherwise
	timer sim.TimerID // the timer of a Fire with asynchronous timers
}

func midOf(f *Flight) int32 {
	m := int32(f.Send) * 2
	if f.Copy {
		m++
	}
	return m
}

func tidOf(w *World, c Choice) tid {
	switch c.Kind {
	case Deliver, Drop, Duplicate:
		return tid{kind: c.Kind, mid: midOf(&w.Flight[c.Msg])}
	case Fire:
		if w.async {
			return tid{kind: Fire, node: c.Node, mid: -1, timer: c.Timer}
		}
		return tid{kind: Fire, mid: -1}
	}
	return tid{kind: c.Kind, node: c.Node, mid: -1}
}

// flightOf returns the index in w.Flight of message mid, or -1.
func flightOf(w *World, mid int32) int {
	for i := range w.Flight {
		if midOf(&w.Flight[i]) == mid {
			return i
		}
	}
	return -1
}

// choiceOf returns the choice t names in w.
func choiceOf(w *World, t tid) (Choice, bool) {
	switch t.kind {
	case Deliver, Drop, Duplicate:
		i := flightOf(w, t.mid)
		return Choice{Kind: t.kind, Msg: i}, i >= 0
	case Fire:
		if w.async {
			return Choice{Kind: Fire, Node: t.node, Timer: t.timer}, timerIndex(w, t.node, t.timer) >= 0
		}
		if len(w.Timers) == 0 {
			return Choice{}, false
		}
		return Choice{Kind: Fire, Node: w.Timers[earliest(w)].Node}, true
	}
	return Choice{Kind: t.kind, Node: t.node}, true
}

// canon maps a message transition to the one on the first identical
// in-flight message (the one Choices offers), or reports it not in flight.
func canon(w *World, t tid) (tid, bool) {
	if t.mid < 0 {
		return t, true
	}
	i := flightOf(w, t.mid)
	if i < 0 {
		return t, false
	}
	f := &w.Flight[i]
	for j := 0; j < i; j++ {
		g := &w.Flight[j]
		if g.H == f.H && g.From == f.From && g.To == f.To && g.Duped == f.Duped {
			return tid{kind: t.kind, mid: midOf(g)}, true
		}
	}
	return t, true
}

// pevent is one transition of the current path.
type pevent struct {
	t            tid
	eff          Effect
	sent0, sent1 int    // the sends it made: Send indices [sent0, sent1)
	lvl          int    // its causal depth (see step)
	pred         bitset // the path positions that happen before it
}

// enables reports whether e made t possible: t acts on a message e sent
// (or the copy e made), recovers the node e crashed, or crashes the node
// e recovered.
func (e *pevent) enables(t tid) bool {
	switch t.kind {
	case Recover:
		return e.t.kind == Crash && e.t.node == t.node
	case Crash:
		return e.t.kind == Recover && e.t.node == t.node
	}
	mid := t.mid
	if mid < 0 {
		return false
	}
	if mid&1 == 1 {
		return e.t.kind == Duplicate && e.t.mid == mid-1
	}
	s := int(mid >> 1)
	return s >= e.sent0 && s < e.sent1
}

// dependent reports whether two transitions (with their effects) do not
// commute.
func dependent(a tid, ea Effect, b tid, eb Effect) bool {
	if broken {
		return false
	}
	// A transition that sets or cancels a timer is dependent on every
	// other: moved by one place, its deadline moves by one Unit, which may
	// change the order of the pending timers (Effect.Close depends on the
	// other nodes' timers, so it is not the same in every order).
	//
	// A Fire is dependent on every transition, also with asynchronous
	// timers (where the sleep sets take it independent of the other
	// nodes' transitions): DPOR with that sharper relation lost 8 of 306
	// leaves of echo2Model(2) with 1 drop at causal depth 2 (not
	// investigated further; TestAsyncReductionsLoseNothing). A delivery
	// that arms a timer is Local there, and independent of the other
	// nodes' deliveries.
	return a.mid >= 0 && a.mid == b.mid || ea.Timers || eb.Timers || a.kind == Fire || b.kind == Fire || !independent(a.kind, ea, b.kind, eb)
}

// broken makes every pair of transitions independent (for the test that
// shows the reduction's check can fail).
var broken bool

// slept is a transition in a sleep set, with the effect it had.
type slept struct {
	t   tid
	eff Effect
}

// pframe is a state of the current path.
type pframe struct {
	w      *World
	en     []tid   // enabled transitions (canonical), in Choices order
	back   []tid   // transitions to explore from here
	sleep  []slept // explored here, or asleep on arrival
	beyond []tid   // enabled but beyond the depth bound
	seeded bool    // a transition within the bound was explored from here
	nrec   int     // records of the path up to this state
}

func hasTid(ts []tid, t tid) bool { return slices.Contains(ts, t) }

func asleep(z []slept, t tid) bool {
	return slices.ContainsFunc(z, func(s slept) bool { return s.t == t })
}

// dporRun holds one depth-bounded DPOR exploration.
type dporRun struct {
	s      *search
	lim    int
	frames []pframe
	evs    []pevent
	recs   []Record
	buf    []Choice
	beyond int // transitions found beyond the bound
	// timers remembers whether delivering a message to a node in a given
	// state sets or cancels a timer (see predict).
	timers map[[3]uint64]bool
}

// dpor runs DPOR to depth o.Depth, or (o.DFS) with depth bounds 1, 2, ...
// up to o.Depth until a bound leaves no transition beyond it.
func (s *search) dpor(w0 *World, recs0 []Record) error {
	maxD := s.o.Depth
	if maxD <= 0 || maxD > MaxDPORDepth {
		return fmt.Errorf("explore: DPOR needs a depth bound in 1..%d, have %d", MaxDPORDepth, maxD)
	}
	r := &dporRun{s: s}
	lim := 1
	if !s.o.DFS {
		lim = maxD
	}
	for ; lim <= maxD; lim++ {
		s.fp.reset()
		s.res.States, s.res.DepthLimit = 0, 0
		r.lim, r.beyond = lim, 0
		if err := r.run(w0, recs0); err != nil {
			return err
		}
		s.res.Checked = lim
		if r.beyond == 0 {
			break
		}
	}
	s.res.Complete = true
	return nil
}

// next returns the transition to explore next from f: one put there by a
// race, or (the first time) the first enabled one not asleep. A message's
// delivery, drop and duplication are alternatives of one step of that
// message: exploring one of them from a state explores all.
func (f *pframe) next() (tid, bool) {
	for _, t := range f.back {
		if !asleep(f.sleep, t) && !hasTid(f.beyond, t) {
			f.alternatives(t)
			return t, true
		}
	}
	if !f.seeded {
		for _, t := range f.en {
			if !asleep(f.sleep, t) && !hasTid(f.beyond, t) && !hasTid(f.back, t) {
				f.back = append(f.back, t)
				f.alternatives(t)
				return t, true
			}
		}
	}
	return tid{}, false
}

// alternatives adds the other enabled transitions of t's message to f.back.
func (f *pframe) alternatives(t tid) {
	if t.mid < 0 {
		return
	}
	for _, u := range f.en {
		if u.mid == t.mid && u != t && !hasTid(f.back, u) {
			f.back = append(f.back, u)
		}
	}
}

func (r *dporRun) run(w0 *World, recs0 []Record) error {
	s := r.s
	r.frames, r.evs = r.frames[:0], r.evs[:0]
	r.recs = append(r.recs[:0], recs0...)
	for i := range r.recs {
		r.recs[i].Seq = uint64(i)
	}
	if err := r.judge(w0); err != nil {
		return err
	}
	r.push(w0, nil)
	for len(r.frames) > 0 {
		k := len(r.frames) - 1
		f := &r.frames[k]
		p, ok := f.next()
		if !ok {
			if !f.seeded {
				r.leaf(f)
			}
			r.frames[k] = pframe{}
			r.frames = r.frames[:k]
			if k > 0 {
				r.evs = r.evs[:k-1]
				r.recs = r.recs[:r.frames[k-1].nrec]
			}
			continue
		}
		if ev, ok := r.predict(f.w, p); ok && r.level(&ev) > r.lim {
			// Beyond the bound, known without executing it.
			r.races(&ev, false)
			f.beyond = append(f.beyond, p)
			r.beyond++
			s.res.DepthLimit++
			continue
		}
		c, _ := choiceOf(f.w, p)
		key, cache := r.timerKey(f.w, p)
		nw, eff := s.e.Apply(f.w, c)
		eff.Close = false // not used: setting a timer already makes it dependent on all
		s.res.Transitions++
		if cache {
			if r.timers == nil || len(r.timers) >= 1<<20 {
				r.timers = map[[3]uint64]bool{}
			}
			r.timers[key] = eff.Timers
		}
		ev := pevent{t: p, eff: eff, sent0: f.w.sends, sent1: nw.sends}
		r.races(&ev, false)
		if ev.lvl > r.lim {
			// Beyond the bound here; the races reversed above may bring
			// it within the bound earlier in the path.
			f.beyond = append(f.beyond, p)
			r.beyond++
			s.res.DepthLimit++
			continue
		}
		f.seeded = true
		var child []slept
		for _, z := range f.sleep {
			if !dependent(z.t, z.eff, p, eff) {
				child = append(child, z)
			}
		}
		f.sleep = append(f.sleep, slept{p, eff})
		if len(r.evs) >= MaxDPORPath {
			return fmt.Errorf("explore: a DPOR path reached %d transitions: lower the depth bound", MaxDPORPath)
		}
		r.evs = append(r.evs, ev)
		if s.o.Records {
			for _, rec := range s.e.recs {
				rec.Seq = uint64(len(r.recs))
				r.recs = append(r.recs, rec)
			}
		}
		if err := r.judge(nw); err != nil {
			return err
		}
		r.push(nw, child)
	}
	return nil
}

// predict returns the transition t of w with its effect, when that is
// known without executing it: drops and duplications step no node and set
// no timer; a timer, a crash or a recovery depends on every transition
// whatever it does; a delivery steps its receiver (nothing if it is down),
// and whether it sets or cancels a timer is a function of the receiver's
// state, its pending timers and the message, remembered from an earlier
// delivery of that message to that node in that state.
func (r *dporRun) predict(w *World, t tid) (pevent, bool) {
	ev := pevent{t: t, sent0: w.sends, sent1: w.sends}
	if w.async && t.kind != Crash && t.kind != Recover {
		// Asynchronous timers: a transition touches its node only (the
		// engine has no QuietTimers with DPOR).
		ev.eff.Local = true
		switch t.kind {
		case Fire:
			ev.eff.Nodes = 1 << uint(t.node%64)
		case Deliver:
			i := flightOf(w, t.mid)
			if i < 0 {
				return ev, false
			}
			if to := w.Flight[i].To; !w.Down[to] {
				ev.eff.Nodes = 1 << uint(to%64)
			}
		}
		return ev, true
	}
	switch t.kind {
	case Drop, Duplicate:
		return ev, true
	case Fire:
		ev.eff = Effect{Timers: true}
		return ev, true
	case Crash, Recover:
		ev.eff = Effect{Nodes: 1 << uint(t.node%64), Timers: true}
		return ev, true
	}
	i := flightOf(w, t.mid)
	if i < 0 {
		return ev, false
	}
	to := w.Flight[i].To
	if w.Down[to] {
		return ev, true
	}
	key, _ := r.timerKey(w, t)
	tm, ok := r.timers[key]
	ev.eff = Effect{Nodes: 1 << uint(to%64), Timers: tm}
	return ev, ok
}

// timerKey is the key of r.timers for delivery t in w (false if t is not a
// delivery to a running node).
func (r *dporRun) timerKey(w *World, t tid) ([3]uint64, bool) {
	if t.kind != Deliver {
		return [3]uint64{}, false
	}
	i := flightOf(w, t.mid)
	if i < 0 || w.Down[w.Flight[i].To] {
		return [3]uint64{}, false
	}
	f := &w.Flight[i]
	pend := uint64(fnvOff)
	for _, tm := range w.Timers {
		if tm.Node == f.To {
			pend += finalize(mix(fnvOff, uint64(tm.ID)))
		}
	}
	return [3]uint64{w.nh[f.To], mix(mix(f.H, uint64(f.From)), uint64(f.To)), pend}, true
}

// leaf reports f to Options.Leaf if no transition out of it is within the
// bound (the transitions asleep there are tried too: a state where one of
// them is within the bound is covered by another path).
func (r *dporRun) leaf(f *pframe) {
	s := r.s
	if s.o.Leaf == nil {
		return
	}
	for _, z := range f.sleep {
		if hasTid(f.beyond, z.t) {
			continue
		}
		c, ok := choiceOf(f.w, z.t)
		if !ok {
			continue
		}
		nw, eff := s.e.Apply(f.w, c)
		ev := pevent{t: z.t, eff: eff, sent0: f.w.sends, sent1: nw.sends}
		if r.level(&ev) <= r.lim {
			return
		}
	}
	s.o.Leaf(f.w)
}

// push makes w the top of the path, with its enabled transitions.
func (r *dporRun) push(w *World, sleep []slept) {
	s := r.s
	f := pframe{w: w, sleep: sleep, nrec: len(r.recs)}
	b := s.o.Bounds
	b.Depth = 0
	if s.e.m.Prune != nil && s.e.m.Prune(w) {
		s.res.Pruned++
	} else {
		r.buf = s.e.Choices(r.buf[:0], w, b)
		for _, c := range r.buf {
			f.en = append(f.en, tidOf(w, c))
		}
		r.disabled(w, f.en)
	}
	if k := len(r.frames) - 1; k >= 0 && len(w.Timers) > 0 && !canStep(w) {
		// The clock reached a deadline: only the timer may fire, every
		// other transition is disabled until it has. The transition that
		// got here (a timer firing, usually) disabled them all: explore
		// every alternative to it.
		p := &r.frames[k]
		for _, t := range p.en {
			if !hasTid(p.back, t) {
				p.back = append(p.back, t)
			}
		}
	}
	r.frames = append(r.frames, f)
}

// disabled treats the drops, duplications and crashes that the budgets
// alone disable in w (en are its enabled transitions) as transitions of
// the path's end, racing with the earlier ones that used the budget up: a
// budget makes the transitions that draw on it dependent, and DPOR must
// also try the other transition first. None of them steps a node, sends
// or sets a timer (a crash cancels its node's timers), so their effects
// are known without executing them.
func (r *dporRun) disabled(w *World, en []tid) {
	b := r.s.o.Bounds
	try := func(t tid, eff Effect) {
		if hasTid(en, t) {
			return
		}
		ev := pevent{t: t, eff: eff, sent0: w.sends, sent1: w.sends}
		r.races(&ev, true)
	}
	if w.Drops >= b.Drops && b.Drops > 0 || w.Dups >= b.Duplicates && b.Duplicates > 0 {
		for i := range w.Flight {
			f := &w.Flight[i]
			if c, _ := canon(w, tid{kind: Deliver, mid: midOf(f)}); c.mid != midOf(f) {
				continue // an identical message offers the choices
			}
			if b.Drops > 0 && w.Drops >= b.Drops && !slices.Contains(r.s.e.m.Faulty, f.From) {
				try(tid{kind: Drop, mid: midOf(f)}, Effect{})
			}
			if b.Duplicates > 0 && w.Dups >= b.Duplicates && !f.Duped {
				try(tid{kind: Duplicate, mid: midOf(f)}, Effect{})
			}
		}
	}
	if b.Crashes > 0 && w.Crashes >= b.Crashes {
		for _, id := range r.s.e.m.Crashable {
			if !w.Down[id] {
				try(tid{kind: Crash, node: id, mid: -1}, Effect{Nodes: 1 << uint(id%64), Timers: true})
			}
		}
	}
}

// level returns the causal depth ev would have at the end of the path.
func (r *dporRun) level(ev *pevent) int {
	lvl := 1
	for i := range r.evs {
		e := &r.evs[i]
		if e.enables(ev.t) || dependent(e.t, e.eff, ev.t, ev.eff) {
			lvl = max(lvl, step(e, ev))
		}
	}
	return lvl
}

// step returns the level ev gets from an earlier transition e it depends
// on (or that enabled it): one more than e's.
func step(e, _ *pevent) int { return e.lvl + 1 }

// races computes the happens-before predecessors and the causal depth of
// ev, about to be appended to the path, and for each earlier transition in
// a race with it makes sure the state before that transition explores a
// way to reverse the race. A transition the budgets disable (off) can only
// be explored before the budget was used up: at the latest state where it
// was enabled.
func (r *dporRun) races(ev *pevent, off bool) {
	var direct, indirect bitset
	ev.lvl = 1
	for i := range r.evs {
		e := &r.evs[i]
		if e.enables(ev.t) || dependent(e.t, e.eff, ev.t, ev.eff) {
			direct.set(i)
			indirect.or(&e.pred)
			ev.lvl = max(ev.lvl, step(e, ev))
		}
	}
	ev.pred = direct
	ev.pred.or(&indirect)
	for i := range r.evs {
		if off || !direct.has(i) || indirect.has(i) || r.evs[i].enables(ev.t) {
			continue
		}
		r.reverse(i, ev, &direct)
	}
	if off || ev.lvl > r.lim {
		r.within(ev, &direct)
	}
}

// within handles a transition ev that is beyond the bound at the end of the
// path because of several transitions before it (a timer, which depends on
// every transition, is the common case), or that a budget disables: at the
// latest state of the path where ev is enabled and still within the bound,
// it is explored.
func (r *dporRun) within(ev *pevent, direct *bitset) {
	pm := make([]int, len(r.evs)+1) // pm[i]: ev's level from its direct predecessors before i
	pm[0] = 1
	for j := range r.evs {
		pm[j+1] = pm[j]
		if direct.has(j) {
			pm[j+1] = max(pm[j], step(&r.evs[j], ev))
		}
	}
	for i := len(r.evs) - 1; i >= 0; i-- {
		if pm[i] > r.lim {
			continue
		}
		f := &r.frames[i]
		c, ok := canon(f.w, ev.t)
		if !ok || !hasTid(f.en, c) || hasTid(f.beyond, c) {
			continue
		}
		if !hasTid(f.back, c) && !asleep(f.sleep, c) {
			f.back = append(f.back, c)
		}
		return
	}
}

// reverse handles the race of path position i with ev: v is the part of
// the path after i that does not happen after it, followed by ev; some
// transition that can start v must be explored from the state before i.
func (r *dporRun) reverse(i int, ev *pevent, direct *bitset) {
	if ev.lvl > r.lim {
		// ev is beyond the bound (races only computes it): reversing the
		// race helps only if ev is within the bound without i and what
		// happens after i.
		lvl := 1
		for j := range r.evs {
			if j != i && direct.has(j) && !r.evs[j].pred.has(i) {
				lvl = max(lvl, step(&r.evs[j], ev))
			}
		}
		if lvl > r.lim {
			return
		}
	}
	f := &r.frames[i]
	var v []int // positions in v (len(r.evs) stands for ev)
	for j := i + 1; j < len(r.evs); j++ {
		if !r.evs[j].pred.has(i) {
			v = append(v, j)
		}
	}
	v = append(v, len(r.evs))
	var initials []tid
	blocked, missing := false, false
	for n, j := range v {
		pred := &ev.pred
		t := ev.t
		if j < len(r.evs) {
			pred, t = &r.evs[j].pred, r.evs[j].t
		}
		first := true
		for _, y := range v[:n] {
			if pred.has(y) {
				first = false
				break
			}
		}
		if !first {
			continue
		}
		c, ok := canon(f.w, t)
		if !ok || !hasTid(f.en, c) {
			missing = true
			continue
		}
		if hasTid(f.beyond, c) {
			// Tried there: beyond the bound (its effect there differs,
			// e.g. it sets the timer a transition after i set). No order
			// that starts with it is within the bound.
			blocked = true
			continue
		}
		if hasTid(f.back, c) || asleep(f.sleep, c) {
			return // already explored (or covered) from there
		}
		initials = append(initials, c)
	}
	if len(initials) > 0 {
		f.back = append(f.back, initials[0])
		return
	}
	if blocked && !missing {
		return
	}
	// No initial of v is enabled there (the independence relation missed
	// something): explore everything from that state.
	r.s.res.Fallbacks++
	for _, t := range f.en {
		if !hasTid(f.back, t) {
			f.back = append(f.back, t)
		}
	}
}

// judge checks w if its fingerprint is new.
func (r *dporRun) judge(w *World) error {
	s := r.s
	r.s.res.Depth = max(s.res.Depth, w.Depth)
	if !s.fp.add(w.Hash()) {
		s.res.Revisits++
		return s.tick()
	}
	s.res.States++
	s.res.FPBytes = s.fp.bytes()
	err := s.judge(w, r.recs, r.path)
	if err != nil && s.res.Found() && s.o.Check != nil && s.res.Property != Liveness {
		s.res.Path = r.shrink(s.res.Property)
	}
	return err
}

// shrink returns a short path to a violation of prop, starting from the
// current path (which ends in one): it tries to remove each transition
// together with those that happen after it, latest first, keeping every
// removal after which replaying the rest still violates prop (the path is
// cut at the first violating state). The result is a path none of whose
// transitions can be removed that way, not necessarily a shortest one.
func (r *dporRun) shrink(prop string) []Choice {
	n := len(r.evs)
	type step struct {
		kind     Kind
		node     sim.NodeID
		timer    sim.TimerID
		from, to sim.NodeID
		h        uint64
		copied   bool
	}
	steps := make([]step, n)
	for i, ev := range r.evs {
		w := r.frames[i].w
		c, _ := choiceOf(w, ev.t)
		st := step{kind: c.Kind, node: c.Node, timer: c.Timer}
		if c.Kind == Deliver || c.Kind == Drop || c.Kind == Duplicate {
			f := &w.Flight[c.Msg]
			st.from, st.to, st.h, st.copied = f.From, f.To, f.H, f.Copy
		}
		steps[i] = st
	}
	e := NewEngine(r.s.e.m)
	e.keep = true
	// replay runs the kept steps; it returns the path up to the first state
	// that violates prop, or false.
	replay := func(kept []bool) ([]Choice, bool) {
		w, recs, err := e.Initial()
		if err != nil {
			return nil, false
		}
		var path []Choice
		b := r.s.o.Bounds
		b.Depth = 0
		var en []Choice
		for i, st := range steps {
			if !kept[i] {
				continue
			}
			c := Choice{Kind: st.kind, Node: st.node, Timer: st.timer, Msg: -1}
			switch st.kind {
			case Deliver, Drop, Duplicate:
				for j := range w.Flight {
					f := &w.Flight[j]
					if f.From == st.from && f.To == st.to && f.H == st.h && f.Copy == st.copied {
						c.Msg = j
						break
					}
				}
				if c.Msg < 0 {
					return nil, false
				}
			case Fire:
				if len(w.Timers) == 0 {
					return nil, false
				}
				if !w.async {
					c.Node = w.Timers[earliest(w)].Node
				}
			}
			en = e.Choices(en[:0], w, b)
			if !slices.ContainsFunc(en, func(d Choice) bool {
				return d.Kind == c.Kind && d.Node == c.Node && d.Timer == c.Timer && (c.Msg < 0 || w.Flight[d.Msg].H == w.Flight[c.Msg].H && w.Flight[d.Msg].From == st.from && w.Flight[d.Msg].To == st.to)
			}) {
				return nil, false
			}
			w, _ = e.Apply(w, c)
			path = append(path, c)
			recs = append(recs, e.recs...)
			for k := range recs {
				recs[k].Seq = uint64(k)
			}
			if p, _ := r.s.o.Check(w, recs); p == prop {
				return path, true
			}
		}
		return nil, false
	}
	kept := make([]bool, n)
	for i := range kept {
		kept[i] = true
	}
	best := r.path()
	for i := n - 1; i >= 0; i-- {
		if !kept[i] {
			continue
		}
		try := slices.Clone(kept)
		try[i] = false
		for j := i + 1; j < n; j++ {
			if r.evs[j].pred.has(i) {
				try[j] = false
			}
		}
		if p, ok := replay(try); ok {
			kept, best = try, p
		}
	}
	return best
}

// path returns the choices of the current path (after the last judged
// transition).
func (r *dporRun) path() []Choice {
	p := make([]Choice, 0, len(r.evs))
	for i, ev := range r.evs {
		c, _ := choiceOf(r.frames[i].w, ev.t)
		p = append(p, c)
	}
	return p
}
