package explore

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// shardedFP is a set of 64-bit state fingerprints shared by the workers of
// a parallel depth-first search: the segments of an fpSet (see there), each
// behind its own mutex. A lock costs tens of nanoseconds uncontended,
// against a microsecond or more for the transition that computed h, and
// two workers meet on one segment about once in fpSegs insertions; each
// segment grows on its own (a 1/fpSegs-th of the table at a time, no
// stop-the-world resize). Lock-free slots (CAS on 64-bit words) would save
// the lock but need a concurrent resize; the lock's line and the slot's
// are the same cache miss's neighbours, for no measurable gain.
type shardedFP struct {
	shards [fpSegs]struct {
		mu sync.Mutex
		g  fpSeg
		_  [128 - (unsafe.Sizeof(sync.Mutex{})+unsafe.Sizeof(fpSeg{}))%128]byte // one shard per pair of cache lines
	}
	size atomic.Int64 // bytes of the tables
}

// add inserts h and reports whether it was new; safe for concurrent use.
func (f *shardedFP) add(h uint64) bool {
	sh := &f.shards[h>>fpSegShift]
	sh.mu.Lock()
	if 4*(sh.g.n+1) > 3*len(sh.g.slots) {
		f.size.Add(int64(sh.g.grow(fpNoAux)))
	}
	isNew, _ := sh.g.visit(h, 0, false)
	sh.mu.Unlock()
	return isNew
}

// addBudgets is fpSet.visitBudgets (the table keeps fpBudgets); safe for
// concurrent use.
func (f *shardedFP) addBudgets(h uint64, b uint16) (isNew, again bool) {
	sh := &f.shards[h>>fpSegShift]
	sh.mu.Lock()
	if 4*(sh.g.n+1) > 3*len(sh.g.slots) {
		f.size.Add(int64(sh.g.grow(fpBudgets)))
	}
	isNew, again = sh.g.visitBudgets(h, b)
	sh.mu.Unlock()
	return isNew, again
}

// insert adds h, reached with budgets used b, to the visited set; it
// reports whether h was new, and (Options.SubsumeBudgets) whether it must
// be expanded again.
func (r *pdfsRun) insert(h uint64, b uint16) (isNew, again bool) {
	if r.budgets {
		return r.fp.addBudgets(h, b)
	}
	return r.fp.add(h), false
}

// bytes returns the tables' size in bytes.
func (f *shardedFP) bytes() int { return int(f.size.Load()) }

// free gives back the tables (when no worker uses them any more).
func (f *shardedFP) free() {
	for i := range f.shards {
		f.shards[i].g.mem.free()
		f.shards[i].g = fpSeg{}
	}
	f.size.Store(0)
}

// Test hooks: broken variants of the parallel depth-first search, which
// the tests show to give other counters than the one-worker search.
var (
	pdfsLoseSteals  bool         // a thief drops the subtrees it steals
	pdfsStealsCount atomic.Int64 // subtrees stolen
	pdfsReruns      atomic.Int64 // violations repeated on one worker
)

// dframe is one level of a worker's depth-first path: the world, the
// choice that reached it from the level below, and its choices, which are
// the worker's cs[lo:lo+end] of which those from next on are still to
// explore (a thief takes the tail and lowers end). own: the world is the
// worker's to release when the level is done (made by its engine's Apply,
// or copied for it by a steal; not the initial world).
type dframe struct {
	w         *World
	c         Choice
	lo        int
	next, end int
	own       bool
}

// pdfsWorker is one worker of the parallel depth-first search: its own
// engine, checker and record buffers (worker), its path of frames and
// their choices (shared with thieves under mu), and counters of its own.
type pdfsWorker struct {
	worker
	mu     sync.Mutex
	frames []dframe  // guarded by mu
	cs     []Choice  // the frames' choices (guarded by mu)
	base   []Choice  // choices from the initial world to frames[0].w
	st     Stats     // Transitions, Revisits, Pruned, DepthLimit, Depth, Liveness
	snap   Stats     // st as last published (guarded by pdfsRun.pmu)
	tick   int       // transitions since the last poll
	buf    []Choice  // scratch
	found  []Choice  // path of the violation it found
	prop   [2]string // violated property and detail
	inc    Judge     // its incremental check (Options.NewJudge; nil: check)
}

// pdfsRun is the state the workers share.
type pdfsRun struct {
	s      *search
	ws     []*pdfsWorker
	fp     shardedFP
	states atomic.Int64 // distinct states reached
	busy   atomic.Int64 // workers with a non-empty path (or stealing)
	stop   atomic.Bool
	pmu    sync.Mutex // progress snapshots, Leaf, the first violation
	first  *pdfsWorker
	intr   bool        // Stop ended it
	maxed  atomic.Bool // MaxStates ended it
	// budgets: the visited set keeps budget keys (Options.SubsumeBudgets).
	budgets bool
}

// pdfs is the one-pass depth-first search (see iddfs) on o.Workers
// goroutines. Each worker runs depth-first on a path of its own, with its
// own engine (Copier.Worker), checker (Options.NewCheck) and record
// buffers, and reuses the worlds it is done with as the one-worker search
// does (Engine.Release: the revisits, the leaves and the levels it has
// finished); the visited set is one shardedFP. A worker whose path is
// empty steals from another: the unexplored tail (half, at least one) of
// the choices of the shallowest level that has some left, where the
// largest unexplored subtrees are, with a copy of that level's world (the
// victim may reuse its own once done) and the choices leading to it.
//
// With a complete exploration and no violation, the states reached are
// those of the one-worker search in any order (a state is expanded once,
// by the worker that inserted its fingerprint first, with the same
// choices), so States, Transitions, Revisits (Transitions - States + 1),
// Pruned, Liveness and the inert messages discarded are the one-worker
// counters. Depth, the longest path that first reached a state, depends on
// which worker got where first. On a violation (or a broken inertness
// declaration) the workers stop and Run repeats the search on one worker,
// whose result is deterministic (see Run). A stop by MaxStates or Stop
// leaves a partial coverage that depends on the interleaving. With
// SubsumeBudgets the states and the verdict are the one-worker ones, but
// Transitions, Revisits and Reexpanded depend on the order in which the
// workers reach a state with more or less of its budgets used.
func (s *search) pdfs(w0 *World, lim int) error {
	o := s.o
	r := &pdfsRun{s: s, ws: make([]*pdfsWorker, o.Workers), budgets: o.SubsumeBudgets}
	defer r.fp.free()
	for k := range r.ws {
		e := s.e.forWorker()
		wk := &pdfsWorker{worker: worker{e: e}}
		if o.NewCheck != nil {
			wk.check = o.NewCheck()
		}
		if s.inc != nil {
			wk.inc = o.NewJudge()
		}
		r.ws[k] = wk
	}
	// The initial world, on the search's own engine and check (as the
	// one-worker search judges it).
	r.insert(w0.Hash(), w0.budgetKey())
	r.states.Store(1)
	s.res.States = 1
	var path []Record
	if o.Records && s.inc == nil {
		path = s.pathRecords(w0)
	}
	if err := s.judge(w0, path, func() []Choice { return nil }); err != nil {
		return err
	}
	if !r.expandable(r.ws[0], w0, Choice{}, lim, false, false) {
		return r.finish()
	}
	r.busy.Store(1)
	var wg sync.WaitGroup
	for k, wk := range r.ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(k, wk, lim, k == 0)
		}()
	}
	wg.Wait()
	return r.finish()
}

// expandable pushes w (reached by c) onto wk's path if it has choices
// within the bounds; else it counts it as pruned or a leaf (not again
// when w is a re-expansion under SubsumeBudgets: again). own: w is wk's to
// release (see dframe).
func (r *pdfsRun) expandable(wk *pdfsWorker, w *World, c Choice, lim int, own, again bool) bool {
	s, e := r.s, wk.e
	if e.m.Prune != nil && e.m.Prune(w) {
		wk.st.Pruned++
		r.leaf(w)
		return false
	}
	wk.buf = e.Choices(wk.buf[:0], w, s.o.Bounds)
	if len(wk.buf) == 0 {
		if w.Depth >= lim && len(e.Choices(wk.buf[:0], w, s.o.Bounds.Limit())) > 0 {
			wk.st.DepthLimit++
		}
		if !again { // a re-expanded leaf was a leaf when first reached
			r.leaf(w)
		}
		return false
	}
	wk.mu.Lock()
	wk.frames = append(wk.frames, dframe{w: w, c: c, lo: len(wk.cs), end: len(wk.buf), own: own})
	wk.cs = append(wk.cs, wk.buf...)
	wk.mu.Unlock()
	return true
}

func (r *pdfsRun) leaf(w *World) {
	if r.s.o.Leaf != nil {
		r.pmu.Lock()
		r.s.o.Leaf(w)
		r.pmu.Unlock()
	}
}

// work runs worker wk until the search ends: depth-first on its path,
// stealing when the path is empty. busy says whether wk starts with work.
func (r *pdfsRun) work(k int, wk *pdfsWorker, lim int, busy bool) {
	e, o := wk.e, r.s.o
	for !r.stop.Load() {
		if !busy {
			if !r.steal(k, wk) {
				return
			}
			busy = true
		}
		wk.mu.Lock()
		for n := len(wk.frames); n > 0 && wk.frames[n-1].next >= wk.frames[n-1].end; n-- {
			f := wk.frames[n-1]
			wk.frames[n-1] = dframe{}
			wk.frames, wk.cs = wk.frames[:n-1], wk.cs[:f.lo]
			if f.own {
				e.Release(f.w) // done: no frame, thief or record refers to it
			}
		}
		if len(wk.frames) == 0 {
			wk.mu.Unlock()
			busy = false
			r.busy.Add(-1)
			continue
		}
		f := &wk.frames[len(wk.frames)-1]
		w, c := f.w, wk.cs[f.lo+f.next]
		f.next++
		wk.mu.Unlock()

		wk.st.Transitions++
		if wk.tick++; wk.tick >= 1024 {
			wk.tick = 0
			r.poll(k, wk)
		}
		// A successor seen before is not built when Peek can tell its
		// hash (nor peeked at when it is w itself).
		if e.SelfLoop(w, c) {
			wk.st.Revisits++
			continue
		}
		h, known := e.Peek(w, c)
		var isNew, again bool
		if known && e.wasNoop {
			wk.st.Noops++ // subsumed by w (Bounds.SubsumeNoops)
			e.Revisited()
			continue
		}
		if known {
			if isNew, again = r.insert(h, e.pw.budgetKey()); !isNew && !again {
				wk.st.Revisits++
				e.Revisited()
				continue
			}
		}
		nw, _ := e.Apply(w, c)
		if e.wasNoop {
			wk.st.Noops++ // subsumed by w (Bounds.SubsumeNoops)
			e.Release(nw) // seen by nobody
			continue
		}
		if !known {
			if isNew, again = r.insert(nw.Hash(), nw.budgetKey()); !isNew && !again {
				wk.st.Revisits++
				e.Release(nw) // seen by nobody
				continue
			}
		}
		if o.Records {
			// The records of the transition to nw (no Apply since):
			// taken only for new states (and re-expanded ones).
			nw.trace = &recChain{recs: e.takeRecords(), up: w.trace}
		}
		if again {
			// Reached with less of some budget used (SubsumeBudgets):
			// judged and expanded again, not counted as a state (nor
			// pruned again).
			wk.st.Reexpanded++
		} else if n := r.states.Add(1); o.MaxStates > 0 && n > int64(o.MaxStates) {
			r.states.Add(-1) // not judged: not counted
			r.maxed.Store(true)
			r.stop.Store(true)
			return
		} else if o.MaxStates > 0 && n == int64(o.MaxStates) {
			r.maxed.Store(true)
			r.stop.Store(true)
		}
		wk.st.Depth = max(wk.st.Depth, nw.Depth)
		if prop, why := r.judge(wk, nw); prop != "" {
			r.pmu.Lock()
			if r.first == nil {
				r.first = wk
				wk.prop = [2]string{prop, why}
				wk.mu.Lock()
				wk.found = wk.path(c)
				wk.mu.Unlock()
			}
			r.pmu.Unlock()
			r.stop.Store(true)
			return
		}
		if e.inertErr != nil {
			r.stop.Store(true)
			return
		}
		if r.stop.Load() {
			return
		}
		if again && e.m.Prune != nil && e.m.Prune(nw) || !r.expandable(wk, nw, c, lim, true, again) {
			e.Release(nw) // judged and let go by the check, Prune and Leaf
		}
	}
}

// path returns the choices from the initial world to the world reached by
// c from wk's top frame (wk.mu held).
func (wk *pdfsWorker) path(c Choice) []Choice {
	p := slices.Clone(wk.base)
	for i := 1; i < len(wk.frames); i++ {
		p = append(p, wk.frames[i].c)
	}
	return append(p, c)
}

// judge runs the check and the liveness check on a new world on worker wk.
func (r *pdfsRun) judge(wk *pdfsWorker, w *World) (string, string) {
	o := r.s.o
	if wk.inc != nil {
		if p, d := wk.inc(w, w.Trace()); p != "" {
			return p, d
		}
	} else if wk.check != nil {
		var path []Record
		if o.Records {
			path = pathRecordsInto(w, &wk.chain, &wk.pbuf)
		}
		if p, d := wk.check(w, path); p != "" {
			return p, d
		}
	}
	if o.LivenessSteps > 0 && wk.e.m.Done != nil {
		wk.st.Liveness++
		if ok, why := wk.e.fair(w, o.LivenessSteps); !ok {
			return Liveness, why
		}
	}
	return "", ""
}

// poll publishes wk's counters, polls Stop and (worker 0) reports progress.
func (r *pdfsRun) poll(k int, wk *pdfsWorker) {
	s, o := r.s, r.s.o
	r.pmu.Lock() // Stop and Progress are called by one worker at a time
	defer r.pmu.Unlock()
	if o.Stop != nil && o.Stop() {
		r.intr = true
		r.stop.Store(true)
		return
	}
	if o.Progress == nil || o.ProgressEvery <= 0 {
		return
	}
	wk.snap = wk.st
	wk.snap.Inert = wk.e.discarded
	if k != 0 || time.Since(s.last) < o.ProgressEvery {
		return
	}
	s.last = time.Now()
	st := r.sum(func(w *pdfsWorker) *Stats { return &w.snap })
	st.Elapsed = time.Since(s.start)
	st.FPBytes = r.fp.bytes()
	o.Progress(st)
}

// sum adds up the workers' counters (as get returns them) with the
// search's own (the initial world's).
func (r *pdfsRun) sum(get func(*pdfsWorker) *Stats) Stats {
	st := Stats{States: int(r.states.Load()), Liveness: r.s.res.Liveness, Inert: r.s.e.discarded}
	for _, wk := range r.ws {
		x := get(wk)
		st.Transitions += x.Transitions
		st.Revisits += x.Revisits
		st.Reexpanded += x.Reexpanded
		st.Noops += x.Noops
		st.Pruned += x.Pruned
		st.DepthLimit += x.DepthLimit
		st.Depth = max(st.Depth, x.Depth)
		st.Liveness += x.Liveness
		st.Inert += x.Inert
	}
	return st
}

// steal gives the idle worker wk work from another worker's path; it
// returns false when the search is over (stopped, or every worker idle).
func (r *pdfsRun) steal(k int, wk *pdfsWorker) bool {
	for spin := 0; ; spin++ {
		if r.stop.Load() {
			return false
		}
		for j := 1; j < len(r.ws); j++ {
			if r.take(wk, r.ws[(k+j)%len(r.ws)]) {
				return true
			}
		}
		if r.busy.Load() == 0 {
			return false
		}
		// Nothing to take yet: let the busy workers run.
		if spin < 16 {
			runtime.Gosched()
		} else {
			time.Sleep(50 * time.Microsecond)
		}
	}
}

// take moves the tail of the choices of v's shallowest level with some
// left to thief's (empty) path, with a copy of that level's world; it
// reports whether it took any.
func (r *pdfsRun) take(thief, v *pdfsWorker) bool {
	v.mu.Lock()
	i := slices.IndexFunc(v.frames, func(f dframe) bool { return f.next < f.end })
	if i < 0 {
		v.mu.Unlock()
		return false
	}
	f := &v.frames[i]
	mid := f.next + (f.end-f.next)/2
	thief.buf = append(thief.buf[:0], v.cs[f.lo+mid:f.lo+f.end]...)
	stolen := dframe{w: f.w.copy(), c: f.c, end: f.end - mid, own: true}
	f.end = mid
	base := slices.Clone(v.base)
	for j := 1; j <= i; j++ {
		base = append(base, v.frames[j].c)
	}
	r.busy.Add(1) // while v is busy: busy never reads 0 with work left
	v.mu.Unlock()
	pdfsStealsCount.Add(1)
	thief.mu.Lock()
	thief.base = base
	if !pdfsLoseSteals {
		thief.frames = append(thief.frames[:0], stolen)
		thief.cs = append(thief.cs[:0], thief.buf...)
	}
	thief.mu.Unlock()
	return true
}

// copy returns a copy of w that shares only what no Apply writes to (the
// node values, copied on write; the records; the inert ghosts), so that it
// may be released to another engine than w's.
func (w *World) copy() *World {
	c := newWorld(len(w.Nodes))
	nodes, nh, down := c.Nodes, c.nh, c.Down
	*c = *w
	c.Nodes, c.nh, c.Down = nodes, nh, down
	copy(c.Nodes, w.Nodes)
	copy(c.nh, w.nh)
	copy(c.Down, w.Down)
	c.Flight, c.Timers, c.snh = slices.Clone(w.Flight), slices.Clone(w.Timers), slices.Clone(w.snh)
	return c
}

// finish sums the workers' counters into the search's result.
func (r *pdfsRun) finish() error {
	s := r.s
	st := r.sum(func(w *pdfsWorker) *Stats {
		w.st.Inert = w.e.discarded
		return &w.st
	})
	s.res.Stats = st
	s.e.discarded = st.Inert
	s.res.FPBytes = r.fp.bytes()
	for _, wk := range r.ws {
		if wk.e.inertErr != nil && s.e.inertErr == nil {
			s.e.inertErr = wk.e.inertErr
		}
	}
	switch {
	case r.first != nil:
		s.res.Property, s.res.Detail, s.res.Path = r.first.prop[0], r.first.prop[1], r.first.found
		s.parFound = true
		return errStop
	case s.e.inertErr != nil:
		s.parFound = true
		return errStop
	case r.intr:
		s.res.Interrupted = true
		return errStop
	case r.maxed.Load():
		return errStop
	}
	s.res.Complete = st.DepthLimit == 0
	s.res.Checked = s.res.Depth
	return nil
}
