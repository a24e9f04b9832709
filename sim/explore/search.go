package explore

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// Options configures Run.
type Options struct {
	Bounds
	// DFS explores depth-first with iterative deepening (limits 1, 2, ...,
	// Depth) instead of breadth-first. Both find a shortest violation.
	DFS bool
	// Sleep turns on sleep-set partial-order reduction: of two independent
	// transitions (deliveries or drops touching different nodes, neither
	// arming a timer) only one order is explored from each state.
	Sleep bool
	// InexactSleep makes Sleep use its former rules (a transition touching
	// timers independent of one that doesn't, sleep sets used near
	// deadlines too), which lose states; it exists so that a test can show
	// the comparison of reduced and unreduced state sets fails on them.
	InexactSleep bool
	// DPOR explores depth-first with source-DPOR and sleep sets (see
	// dpor.go): only the orders of dependent transitions are explored, and
	// visited states are kept as 64-bit fingerprints only. Depth (which
	// must be set) then bounds the causal depth of transitions, not the
	// length of paths. With DFS also set, the bound deepens (1, 2, ...,
	// Depth). Sleep is ignored (DPOR has its own sleep sets).
	DPOR bool
	// VerifyInert checks the inertness declarations of a model with
	// DiscardInert (a debug option for tests): every message declared inert
	// is delivered to a copy of its receiver, which must keep its state hash
	// and produce no output, when it is declared and again after every later
	// step of its receiver along the path. Run returns an error wrapping
	// ErrInert for the first one that is not a no-op.
	VerifyInert bool
	// Workers > 1 runs the breadth-first search (without Sleep) on that
	// many goroutines (see pbfs): the same states, counters and
	// counterexample as one. The model's Prune and Done are then called
	// concurrently (they must only read the world), and the check is made
	// per worker by NewCheck.
	Workers int
	// NewCheck returns a new Check (with state of its own) for one worker
	// of a parallel search; Check still judges the initial world.
	NewCheck func() func(w *World, records []Record) (property, detail string)
	// Leaf, if set, sees every explored state without a transition within
	// the bounds (at the depth bound, pruned, or with nothing left to do);
	// tests compare these with Leaves. Like Check, it must not keep w: the
	// depth-first searches reuse the worlds they are done with.
	Leaf func(w *World)
	// MaxStates stops the exploration after this many distinct states (0: no limit).
	MaxStates int
	// Check judges a newly reached world; it returns the violated property
	// ("" when none) and a detail. With Records set, records holds the
	// trace of the path from the initial world to w (Check must keep
	// neither: the buffer is reused, and so is w's memory once the
	// depth-first search is done with it).
	Check func(w *World, records []Record) (property, detail string)
	// Records keeps the trace records of every transition so that Check
	// can see the whole path (memory grows with the number of states).
	Records bool
	// NewJudge, if set (with Records), returns an incremental check that
	// the depth-first searches (iterative deepening and one-pass, one per
	// worker of the parallel one) use instead of Check: given the world's
	// Trace, it may judge from the verdict state of the path it judged
	// last when that is the new world's parent's, feeding only the last
	// transition's records. It must give Check's verdicts; Check still
	// judges for the other searches, and when NewJudge returns nil.
	NewJudge func() Judge
	// Revisit, if set (a test hook), sees every world reached again (its
	// hash known) by the one-worker breadth-first or depth-first search,
	// with the records of the path that reached it again (with Records;
	// the buffer is reused). Tests use it to judge every path to a state,
	// not only the first. Not with Workers > 1 or DPOR.
	Revisit func(w *World, records []Record)
	// LivenessSteps, when > 0 and the model has Done, checks from every
	// reached world that a fair fault-free continuation (crashed nodes
	// recover; messages delivered in send order; timers fire when nothing
	// is in flight) reaches Done within this many transitions.
	LivenessSteps int
	// Progress, if set, is called about every ProgressEvery with the
	// statistics so far.
	Progress      func(Stats)
	ProgressEvery time.Duration
	// Stop, if set, is polled; when it returns true the exploration ends
	// and the result says it was interrupted.
	Stop func() bool
	// SubsumeBudgets makes the one-pass depth-first search (DFS with
	// TimerLimit and no Depth) identify states without their budgets
	// used: a state reached with fewer of every budget used (timer
	// expirations, drops, duplicates, crashes) has every future of the
	// same state reached with more, since Choices offers a transition
	// drawing on a budget while it is not spent. The hash leaves the
	// budgets out, the visited set keeps with each fingerprint the
	// budgets used when it was last expanded (a budget key), a revisit
	// that uses at least as much of every budget is skipped, and one that
	// uses less of some is judged and expanded again (the checks read the
	// path, whose crashes, for one, may differ) and its budgets stored
	// (Stats.Reexpanded). States
	// counts distinct states without their budgets. The states reached
	// are those without it, taken without their budgets (any number of
	// workers); the transitions and re-expansions depend on the order of
	// the visits. The bounds must fit a budget key (at most 63 timer
	// expirations, 15 drops, 7 duplicates, 7 crashes).
	SubsumeBudgets bool
}

// Stats are an exploration's counters.
type Stats struct {
	States      int // distinct states reached
	Transitions int // transitions executed (including those to known states)
	Revisits    int // transitions that reached a known state
	Slept       int // transitions skipped by sleep sets
	Pruned      int // states not expanded (model's Prune)
	DepthLimit  int // states at the depth bound with choices left
	Depth       int // deepest state reached
	// Checked is the depth up to which every state was reached and judged:
	// a violation not found has a shortest path longer than this.
	Checked  int
	Elapsed  time.Duration // wall-clock time (outside the explored runs)
	Liveness int           // states whose fair continuation was checked
	// Fallbacks counts races (DPOR) for which no transition starting the
	// reversed order was enabled, so that every transition was explored
	// from the earlier state (0 when the independence relation is exact).
	Fallbacks int
	// FPBytes is the size of the DPOR's fingerprint table.
	FPBytes int
	// Inert counts the in-flight messages discarded as inert (over every
	// executed transition, Model.DiscardInert).
	Inert int
	// Reexpanded counts the states judged and expanded again because
	// they were reached with less of some budget used than before
	// (Options.SubsumeBudgets); they are not counted in States again.
	Reexpanded int
	// MemoHits counts the node steps taken from the step memo (see
	// Model.StepMemo) by the search's own engine (not by the workers of a
	// parallel search, whose memos depend on how states were dealt out).
	// Like Elapsed it measures the run, not the state space.
	MemoHits int
	// Noops counts the transitions whose successor was skipped as a no-op
	// (Bounds.SubsumeNoops); they are counted in Transitions too.
	Noops int
}

// PerSecond returns transitions per second.
func (s Stats) PerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Transitions) / s.Elapsed.Seconds()
}

// Result is the outcome of Run.
type Result struct {
	Stats
	// Complete is true when every state within the bounds was explored
	// (false when MaxStates or Stop ended it, or it found a violation).
	Complete bool
	// Interrupted is true when Stop ended it.
	Interrupted bool
	// Property and Detail describe the violation found ("" when none).
	Property, Detail string
	// Path is the shortest path to the violation (nil when none).
	Path []Choice
	// Symmetry is the group of node-id permutations (the identity first)
	// that states were identified under (Model.Symmetry; nil: none).
	Symmetry [][]sim.NodeID
}

// Found reports whether a violation was found.
func (r *Result) Found() bool { return r.Property != "" }

// sleepEntry is a transition put to sleep, identified independently of the
// world's flight order.
type sleepEntry struct {
	key  uint64
	kind Kind
	eff  Effect
}

type state struct {
	parent int32
	choice Choice
	depth  int32
	sleep  []sleepEntry // the sleep set it was (or will be) expanded with
	done   bool         // expanded
}

type search struct {
	e     *Engine
	o     Options
	res   Result
	seen  map[uint64]int32
	st    []state
	start time.Time
	last  time.Time
	buf   []Choice
	pbuf  []Record
	chain []*recChain
	fp    fpSet
	stack []Choice // the depth-first path
	// judgeAll: the depth-first search judges every new state (one pass),
	// not only those at the depth limit.
	judgeAll bool
	// inc: the depth-first searches' incremental check (Options.NewJudge).
	inc Judge
	// parFound: the parallel depth-first search stopped on a violation or
	// a broken inertness declaration (Run repeats it on one worker).
	parFound bool
}

// Liveness is the property name of a failed liveness check.
const Liveness = "liveness"

// Run explores m within o's bounds.
func Run(m *Model, o Options) (*Result, error) {
	e := NewEngine(m)
	e.keep = o.Records
	e.countFires, e.quiet = o.TimerLimit, o.QuietTimers
	if o.SubsumeBudgets {
		if !o.DFS || !o.TimerLimit || o.Depth > 0 || o.DPOR {
			return nil, errors.New("explore: Options.SubsumeBudgets is for the one-pass depth-first search (DFS with TimerLimit, no Depth)")
		}
		if !budgetsFit(o.Bounds) {
			return nil, fmt.Errorf("explore: Options.SubsumeBudgets: bounds %+v do not fit a budget key (at most %d timer expirations, %d drops, %d duplicates, %d crashes)",
				o.Bounds, maxKeyFires, maxKeyDrops, maxKeyDups, maxKeyCrashes)
		}
		if o.Revisit != nil {
			return nil, errors.New("explore: Options.SubsumeBudgets does not take a Revisit hook")
		}
		e.noBudgets = true
	}
	if o.SubsumeNoops {
		if !o.SubsumeDrops || !m.AsyncTimers || o.QuietTimers || o.LivenessSteps > 0 || o.Sleep && !o.DFS || o.DPOR {
			return nil, errors.New("explore: Bounds.SubsumeNoops needs SubsumeDrops, asynchronous timers, no quiet timers, no liveness check, no breadth-first sleep sets and no DPOR")
		}
		e.subsumeNoops = true
	}
	s := &search{e: e, o: o, seen: map[uint64]int32{}, start: time.Now()}
	s.last = s.start
	defer s.fp.free()
	if o.DPOR && o.TimerLimit {
		return nil, errors.New("explore: DPOR does not take a bound on timer expirations")
	}
	if o.DPOR && o.QuietTimers {
		return nil, errors.New("explore: DPOR does not take quiet timers (its dependency relation does not know them)")
	}
	if o.DPOR && m.DiscardInert {
		return nil, errors.New("explore: DPOR does not discard inert messages (its races are computed on the messages' deliveries)")
	}
	if o.Revisit != nil && (o.Workers > 1 || o.DPOR) {
		return nil, errors.New("explore: Options.Revisit is for the one-worker breadth-first or depth-first search")
	}
	if m.Symmetry != nil && (o.Sleep || o.DPOR) {
		// Their sleep sets name transitions of one world, not of its
		// renamings, and are intersected across the worlds of one key.
		return nil, errors.New("explore: symmetry reduction does not combine with sleep sets or DPOR")
	}
	if m.KeepSent && (!m.AsyncTimers || !o.SubsumeDrops || o.QuietTimers || o.LivenessSteps > 0 || o.Sleep || o.DPOR) {
		return nil, errors.New("explore: Model.KeepSent (a monotone network) is for safety with asynchronous timers and drops subsumed: not with quiet timers, a liveness check, sleep sets or DPOR")
	}
	e.verifyInert = o.VerifyInert && m.DiscardInert
	w0, recs, err := e.Initial()
	if err != nil {
		return nil, err
	}
	s.res.Symmetry = w0.Symmetry()
	switch {
	case o.DPOR:
		err = s.dpor(w0, recs)
	case o.DFS:
		err = s.iddfs(w0, recs)
	case o.Workers > 1 && !o.Sleep:
		err = s.pbfs(w0, recs)
	default:
		err = s.bfs(w0, recs)
	}
	if s.parFound {
		// Which violation the workers meet first depends on their
		// interleaving: the one-worker search's result is reported (it
		// reaches the same states, so it finds one too). Should it not
		// (a budget or state limit ends it first), the parallel one is.
		pdfsReruns.Add(1)
		o1 := o
		o1.Workers = 1
		r1, err1 := Run(m, o1)
		if err1 != nil {
			return nil, err1
		}
		if r1.Found() {
			r1.Elapsed = time.Since(s.start)
			return r1, nil
		}
	}
	s.res.Elapsed = time.Since(s.start)
	s.res.Inert, s.res.MemoHits = e.discarded, e.memoHits
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	if e.inertErr != nil {
		return nil, e.inertErr
	}
	return &s.res, nil
}

var errStop = errors.New("stop")

// key identifies choice c of w independently of the order of w.Flight.
func key(w *World, c Choice) uint64 {
	h := mix(fnvOff, uint64(c.Kind))
	switch c.Kind {
	case Deliver, Drop, Duplicate:
		f := &w.Flight[c.Msg]
		h = mix(mix(mix(mix(h, f.H), uint64(f.From)), uint64(f.To)), boolBit(f.Duped))
	case Fire:
		h = mix(mix(h, uint64(c.Node)), uint64(c.Timer))
	default:
		h = mix(h, uint64(c.Node))
	}
	return finalize(h)
}

// independent reports whether two transitions commute and neither can
// disable the other.
func independent(ka Kind, a Effect, kb Kind, b Effect) bool {
	// With asynchronous timers a Fire touches only its node (Effect.Local).
	ok := func(k Kind, e Effect) bool {
		return k == Deliver || k == Drop || k == Duplicate || k == Fire && e.Local
	}
	// Of two transitions on different nodes, at most one may touch timers:
	// done one unit later, its timers' deadlines move by one unit, which
	// keeps their order among the other pending timers unless one is close
	// (Effect.Close); two that arm timers would swap their order.
	if !ok(ka, a) || !ok(kb, b) || a.Timers && b.Timers || a.Close || b.Close || a.Nodes&b.Nodes != 0 {
		return false
	}
	// Two drops (or two duplications, or two timer expirations) share a
	// budget.
	return ka != kb || ka == Deliver
}

// sleepIndependent is the independence relation of the sleep sets: two
// transitions of different nodes of which neither sets, cancels or fires a
// timer. A transition that arms a timer is dependent on every other, as in
// DPOR (dependent): done one place later, its deadline moves by one Unit
// relative to every timer armed after it, not only to those pending when it
// ran (which Effect.Close judges). The state hash keeps the timers' order,
// not their distances, so a state reached by the reordered path has the
// hash of the state reached by the explored one but may have less slack
// before a deadline: after the earlier timer fires, fewer transitions fit
// before the next one, so successors of the explored order are missing.
// (Found at n=4, 1 request, 1 drop, equivocating replica 0, --views 1,
// depth 8: a delivery arming replica 2's timer was moved two places later,
// after which replica 1's timer, armed 3 Units after replica 2's, was 1
// Unit after it; see TestSleepSetsReachTheBFSStates.)
func sleepIndependent(inexact bool, ka Kind, a Effect, kb Kind, b Effect) bool {
	if inexact {
		return independent(ka, a, kb, b)
	}
	return !a.Timers && !b.Timers && independent(ka, a, kb, b)
}

// nearDeadline reports whether w's earliest deadline is within 8 Units.
func nearDeadline(w *World) bool {
	if w.async {
		return false // no deadline constrains anything
	}
	ti := earliest(w)
	return ti >= 0 && w.Timers[ti].At < w.Now+8*Unit
}

// visit judges a new world reached by c from parent; it returns its id and
// whether it is new.
func (s *search) visit(w *World, parent int32, c Choice, recs []Record, sleep []sleepEntry) (int32, bool, error) {
	h := w.Hash()
	if id, ok := s.seen[h]; ok {
		s.res.Revisits++
		if s.o.Revisit != nil {
			s.revisit(w)
		}
		if s.o.DFS && s.st[id].depth > int32(w.Depth) {
			// Reached by a shorter path: expand it again from here.
			st := &s.st[id]
			st.depth, st.parent, st.choice, st.sleep = int32(w.Depth), parent, c, sleep
			return id, true, nil
		}
		return id, false, nil
	}
	id := int32(len(s.st))
	s.seen[h] = id
	s.st = append(s.st, state{parent: parent, choice: c, depth: int32(w.Depth), sleep: sleep})
	s.res.States++
	s.res.Depth = max(s.res.Depth, w.Depth)
	var path []Record
	if s.o.Records {
		path = s.pathRecords(w)
	}
	return id, true, s.judge(w, path, func() []Choice { return s.path(id) })
}

// judge runs the check and the liveness check on a new world w with the
// records of its path; on a violation it records it with the path.
func (s *search) judge(w *World, path []Record, choices func() []Choice) error {
	if s.inc != nil {
		if p, d := s.inc(w, w.Trace()); p != "" {
			s.res.Property, s.res.Detail, s.res.Path = p, d, choices()
			return errStop
		}
	} else if s.o.Check != nil {
		if p, d := s.o.Check(w, path); p != "" {
			s.res.Property, s.res.Detail, s.res.Path = p, d, choices()
			return errStop
		}
	}
	if s.o.LivenessSteps > 0 && s.e.m.Done != nil {
		s.res.Liveness++
		if ok, why := s.e.fair(w, s.o.LivenessSteps); !ok {
			s.res.Property, s.res.Detail, s.res.Path = Liveness, why, choices()
			return errStop
		}
	}
	return s.tick()
}

func (s *search) tick() error {
	if s.e.inertErr != nil {
		return errStop
	}
	if s.o.MaxStates > 0 && s.res.States >= s.o.MaxStates {
		return errStop
	}
	if s.res.Transitions&1023 == 0 {
		if s.o.Stop != nil && s.o.Stop() {
			s.res.Interrupted = true
			return errStop
		}
		if s.o.Progress != nil && s.o.ProgressEvery > 0 && time.Since(s.last) >= s.o.ProgressEvery {
			s.last = time.Now()
			st := s.res.Stats
			st.Elapsed = time.Since(s.start)
			st.Inert = s.e.discarded
			st.FPBytes = max(st.FPBytes, s.fp.bytes())
			s.o.Progress(st)
		}
	}
	return nil
}

// revisit calls Options.Revisit on w, reached again, with its path's records.
func (s *search) revisit(w *World) {
	var path []Record
	if s.o.Records {
		path = s.pathRecords(w)
	}
	s.o.Revisit(w, path)
}

// path returns the choices from the initial world to state id.
func (s *search) path(id int32) []Choice {
	var p []Choice
	for ; id > 0; id = s.st[id].parent {
		p = append(p, s.st[id].choice)
	}
	slices.Reverse(p)
	return p
}

// recChain holds the records of the transitions that led to a world, as a
// list shared between worlds: a world's records live as long as a world
// reached through it.
type recChain struct {
	recs []Record
	up   *recChain
}

// pathRecords returns the records from the initial world to w (in a buffer
// reused by the next call).
func (s *search) pathRecords(w *World) []Record {
	s.chain = s.chain[:0]
	for r := w.trace; r != nil; r = r.up {
		s.chain = append(s.chain, r)
	}
	out := s.pbuf[:0]
	for i := len(s.chain) - 1; i >= 0; i-- {
		out = append(out, s.chain[i].recs...)
	}
	for i := range out {
		out[i].Seq = uint64(i)
	}
	s.pbuf = out
	return out
}

type item struct {
	w  *World
	id int32
}

func (s *search) bfs(w0 *World, recs []Record) error {
	w0.trace = &recChain{recs: recs}
	id, _, err := s.visit(w0, -1, Choice{}, recs, nil)
	if err != nil {
		return err
	}
	queue := []item{{w0, id}}
	for len(queue) > 0 {
		it := queue[0]
		queue[0] = item{}
		queue = queue[1:]
		// Breadth-first: when a state of depth d is expanded, every state of
		// depth <= d has been reached and judged.
		s.res.Checked = max(s.res.Checked, it.w.Depth)
		var push func(nw *World, nid int32)
		push = func(nw *World, nid int32) {
			if s.o.Depth > 0 && nw.Depth >= s.o.Depth {
				// At the depth bound: nothing to explore from it, so it
				// is not queued (most states of a bounded search are at
				// the bound; queued, each would keep its world alive).
				_ = s.expand(item{nw, nid}, push)
				return
			}
			queue = append(queue, item{nw, nid})
		}
		if err := s.expand(it, push); err != nil {
			return err
		}
	}
	s.res.Complete = true
	s.res.Checked = s.res.Depth
	return nil
}

// expand explores the transitions out of it, calling push for each new
// world (or known world that must be expanded again with a smaller sleep set).
func (s *search) expand(it item, push func(*World, int32)) error {
	w := it.w
	if s.e.m.Prune != nil && s.e.m.Prune(w) {
		s.res.Pruned++
		if s.o.Leaf != nil {
			s.o.Leaf(w)
		}
		return nil
	}
	st := &s.st[it.id]
	st.done = true
	sleep := st.sleep
	// Near a deadline the sleep set is not used: the state hash leaves out
	// how far the deadline is, so the state reached by the other order of
	// two transitions may have been stored with less slack, where the
	// transition asleep here is not enabled (see sleepIndependent).
	near := s.o.Sleep && !s.o.InexactSleep && nearDeadline(w)
	if near {
		sleep = nil
	}
	s.buf = s.e.Choices(s.buf[:0], w, s.o.Bounds)
	if len(s.buf) == 0 && s.o.Depth > 0 && w.Depth >= s.o.Depth {
		if len(s.e.Choices(nil, w, s.o.Bounds.Limit())) > 0 {
			s.res.DepthLimit++
		}
	}
	choices := slices.Clone(s.buf)
	if len(choices) == 0 && s.o.Leaf != nil {
		s.o.Leaf(w)
	}
	var done []sleepEntry // transitions explored so far from w
	for _, c := range choices {
		k := key(w, c)
		if s.o.Sleep && slices.ContainsFunc(sleep, func(z sleepEntry) bool { return z.key == k }) {
			s.res.Slept++
			continue
		}
		nw, eff := s.e.Apply(w, c)
		s.res.Transitions++
		if s.e.wasNoop {
			s.res.Noops++ // subsumed by w (Bounds.SubsumeNoops)
			continue
		}
		var recs []Record
		if s.o.Records {
			recs = s.e.takeRecords()
		}
		var childSleep []sleepEntry
		if s.o.Sleep && !near {
			for _, z := range slices.Concat(sleep, done) {
				if sleepIndependent(s.o.InexactSleep, z.kind, z.eff, c.Kind, eff) {
					childSleep = append(childSleep, z)
				}
			}
			done = append(done, sleepEntry{key: k, kind: c.Kind, eff: eff})
		}
		if s.o.Records {
			nw.trace = &recChain{recs: recs, up: w.trace}
		}
		nid, isNew, err := s.visit(nw, it.id, c, recs, childSleep)
		if err != nil {
			return err
		}
		if isNew {
			push(nw, nid)
			continue
		}
		if s.o.Sleep {
			// Reached again with another sleep set: the transitions asleep
			// before but awake now must be explored too.
			old := &s.st[nid]
			inter := intersect(old.sleep, childSleep)
			if len(inter) < len(old.sleep) {
				old.sleep = inter
				if old.done {
					// Expanded again at the state's own (smallest) depth:
					// nw, reached by a longer path, would be cut short by
					// the depth bound.
					old.done = false
					nw.Depth = int(old.depth)
					push(nw, nid)
				}
			}
		}
	}
	return nil
}

func intersect(a, b []sleepEntry) []sleepEntry {
	var out []sleepEntry
	for _, x := range a {
		if slices.ContainsFunc(b, func(y sleepEntry) bool { return y.key == x.key }) {
			out = append(out, x)
		}
	}
	return out
}

// MaxDFSDepth is the deepest depth limit of the depth-first search (its
// table keeps a depth per state in one byte).
const MaxDFSDepth = 255

// iddfs runs depth-first searches with depth limits 1, 2, ... up to
// o.Depth (MaxDFSDepth without one), until a limit leaves no state with
// choices at its bound. It is stateful and compact: the visited states of
// one limit are kept as 64-bit fingerprints with the smallest depth at which
// each was reached (fpSet, 9 bytes a slot), and a state reached again by a
// shorter path is expanded again, so every state within the limit is
// reached; the worlds kept are those of the current path only. A state
// whose smallest depth is below the limit was judged by an earlier limit, so
// only the states reached at the limit are judged again. Sleep sets are not
// used (their soundness with state caching needs the sleep set of every
// visited state stored): every enabled transition is explored.
//
// With a bound on timer expirations and no depth bound the state space is
// finite, and one pass (limit MaxDFSDepth) explores it without re-exploring
// shallower levels; its first violation is then not necessarily a shortest
// one (Result.Path is the DFS path).
func (s *search) iddfs(w0 *World, recs []Record) error {
	maxD, bounded := s.o.Depth, s.o.Depth > 0
	if !bounded || maxD > MaxDFSDepth {
		maxD = MaxDFSDepth
	}
	first := 1
	if s.o.NewJudge != nil && s.o.Records {
		s.inc = s.o.NewJudge()
	}
	if !bounded && s.o.TimerLimit {
		first, s.judgeAll = maxD, true
	}
	if s.judgeAll && s.o.Workers > 1 {
		if s.o.Check != nil && s.o.NewCheck == nil {
			return errors.New("explore: a parallel search needs Options.NewCheck (one checker per worker)")
		}
		s.o.Depth = maxD
		w0.trace = &recChain{recs: recs}
		return s.pdfs(w0, maxD)
	}
	// One pass needs no depths: a state seen is not expanded again (one
	// cut at MaxDFSDepth leaves the search incomplete).
	switch {
	case !s.judgeAll:
		s.fp.aux = fpDepth
	case s.o.SubsumeBudgets:
		s.fp.aux = fpBudgets
	}
	defer func() { s.res.FPBytes = s.fp.bytes() }() // also when stopped
	w0.trace = &recChain{recs: recs}
	for lim := first; lim <= maxD; lim++ {
		s.fp.reset()
		s.res.States, s.res.DepthLimit = 0, 0
		s.o.Depth = lim
		s.stack = s.stack[:0]
		if err := s.dfsVisit(w0, lim); err != nil {
			return err
		}
		s.res.FPBytes = s.fp.bytes()
		if s.res.DepthLimit == 0 || bounded && lim == maxD {
			s.res.Checked = s.res.Depth
			if bounded {
				s.res.Checked = lim
			}
			s.res.Complete = true
			return nil
		}
		if !s.judgeAll {
			s.res.Checked = lim
		}
	}
	return nil // deeper than MaxDFSDepth: not complete
}

// dfsVisit visits w (at depth len(s.stack)) and, if it is new or reached
// by a shorter path than before, judges and expands it.
func (s *search) dfsVisit(w *World, lim int) error {
	isNew, shallower := s.fpVisit(w.Hash(), w.Depth, w.budgetKey())
	return s.dfsVisited(w, lim, isNew, shallower)
}

// fpVisit inserts the fingerprint h of a world reached at depth d with
// budgets used b into the visited set; it reports whether it was new, and
// whether it must be expanded again (reached by a shorter path, or with
// Options.SubsumeBudgets, with less of some budget used).
func (s *search) fpVisit(h uint64, d int, b uint16) (isNew, again bool) {
	if s.fp.aux == fpBudgets {
		isNew, again = s.fp.visitBudgets(h, b)
		if again {
			s.res.Reexpanded++
		}
		return isNew, again
	}
	return s.fp.visit(h, d)
}

// dfsVisited is dfsVisit once w's fingerprint is in the visited set
// (isNew, shallower: what the insertion said).
func (s *search) dfsVisited(w *World, lim int, isNew, shallower bool) error {
	if !isNew && !shallower {
		s.res.Revisits++
		if s.o.Revisit != nil {
			if s.o.Records && w.Depth > 0 {
				w.trace = &recChain{recs: s.e.takeRecords(), up: w.trace}
			}
			s.revisit(w)
		}
		return nil
	}
	if s.o.Records && w.Depth > 0 {
		// The records of the transition to w (no Apply since): taken
		// only for the states expanded.
		w.trace = &recChain{recs: s.e.takeRecords(), up: w.trace}
	}
	// A state expanded again for its budgets (SubsumeBudgets) is judged
	// again: the records the checks read (which replicas crashed, for
	// one) depend on the path.
	if again := !isNew && s.fp.aux == fpBudgets; isNew || again {
		if isNew {
			s.res.States++
			s.res.Depth = max(s.res.Depth, w.Depth)
		}
		if w.Depth == lim || lim == 1 || s.judgeAll {
			// Below the limit, it was judged by an earlier limit.
			var path []Record
			if s.o.Records && s.inc == nil {
				path = s.pathRecords(w)
			}
			if err := s.judge(w, path, func() []Choice { return slices.Clone(s.stack) }); err != nil {
				return err
			}
		} else if err := s.tick(); err != nil {
			return err
		}
	}
	if s.e.m.Prune != nil && s.e.m.Prune(w) {
		if isNew || s.fp.aux != fpBudgets { // a re-expansion is pruned again
			s.res.Pruned++
			if s.o.Leaf != nil {
				s.o.Leaf(w)
			}
		}
		return nil
	}
	choices := s.e.Choices(nil, w, s.o.Bounds)
	if len(choices) == 0 {
		if w.Depth >= lim {
			if len(s.e.Choices(nil, w, s.o.Bounds.Limit())) > 0 {
				s.res.DepthLimit++
			}
		}
		if s.o.Leaf != nil && (isNew || s.fp.aux != fpBudgets) { // a re-expanded leaf was a leaf when first reached
			s.o.Leaf(w)
		}
		return nil
	}
	for _, c := range choices {
		// A successor seen before is not built when Peek can tell its
		// hash (not with a Revisit hook, which sees the world).
		var isNew, shallower, known bool
		if s.o.Revisit == nil {
			if s.e.SelfLoop(w, c) {
				s.res.Transitions++
				s.res.Revisits++
				continue
			}
			if h, ok := s.e.Peek(w, c); ok {
				known = true
				if s.e.wasNoop {
					s.res.Transitions++
					s.res.Noops++ // subsumed by w (Bounds.SubsumeNoops)
					s.e.Revisited()
					continue
				}
				if isNew, shallower = s.fpVisit(h, w.Depth+1, s.e.pw.budgetKey()); !isNew && !shallower {
					s.res.Transitions++
					s.res.Revisits++
					s.e.Revisited()
					continue
				}
			}
		}
		nw, _ := s.e.Apply(w, c)
		s.res.Transitions++
		if s.e.wasNoop {
			s.res.Noops++ // subsumed by w (Bounds.SubsumeNoops)
			s.e.Release(nw)
			continue
		}
		nw.trace = w.trace // dfsVisit adds the transition's records
		s.stack = append(s.stack, c)
		var err error
		if known {
			err = s.dfsVisited(nw, lim, isNew, shallower)
		} else {
			err = s.dfsVisit(nw, lim)
		}
		s.stack = s.stack[:len(s.stack)-1]
		if err != nil {
			return err
		}
		// Done with nw and its subtree: its children's records refer to
		// its records, not to it, and a Check, Prune, Leaf or Revisit
		// does not keep it, so Apply may reuse it.
		s.e.Release(nw)
	}
	return nil
}

// fair runs a fair fault-free continuation of w (on a private copy) and
// reports whether the model's Done holds within steps transitions.
func (e *Engine) fair(w0 *World, steps int) (bool, string) {
	// The continuation's transitions are not explored ones: its discarded
	// messages are not counted.
	keep, discarded := e.keep, e.discarded
	e.keep = false
	defer func() { e.keep, e.discarded = keep, discarded }()
	w := w0
	for i, d := range w.Down {
		if d {
			w, _ = e.Apply(w, Choice{Kind: Recover, Node: sim.NodeID(i)})
		}
	}
	for i := 0; i < steps; i++ {
		if e.m.Done(w) {
			return true, ""
		}
		var c Choice
		switch {
		case len(w.Flight) > 0 && canStep(w):
			c = Choice{Kind: Deliver, Msg: 0}
		case len(w.Timers) > 0:
			// The earliest timer (any may fire: with asynchronous
			// timers, the one that would fire first).
			t := w.Timers[earliest(w)]
			c = Choice{Kind: Fire, Node: t.Node, Timer: t.ID}
		default:
			return false, fmt.Sprintf("a fair fault-free continuation stops after %d transitions (nothing in flight, no timer) without completing", i)
		}
		w, _ = e.Apply(w, c)
	}
	if e.m.Done(w) {
		return true, ""
	}
	return false, fmt.Sprintf("a fair fault-free continuation does not complete within %d transitions", steps)
}
