package explore

import (
	"errors"
	"sync"
	"time"
)

// parallelChunk is the number of queued states a parallel breadth-first
// search expands per round (a fixed number, so that where a round ends does
// not depend on the number of workers; tests make it small).
var parallelChunk = 512

// worker is one worker of a parallel breadth-first search: its own engine
// (with a copier of its own, see Copier.Worker), its own checker and its
// own record buffers. Nothing it writes is shared with another worker.
type worker struct {
	e     *Engine
	check func(w *World, records []Record) (string, string)
	chain []*recChain
	pbuf  []Record
	// inertAt is the queue index, in its round, of the state whose
	// expansion set e.inertErr (the sequential search reports the first
	// in queue order).
	inertAt int
}

// pchild is a successor computed by a worker.
type pchild struct {
	w    *World
	c    Choice
	h    uint64
	inrt int  // messages discarded as inert by the transition
	noop bool // a no-op transition (Bounds.SubsumeNoops): not visited
	// At the depth bound (not queued): pruned, or with choices left.
	boundPruned, boundMore bool
}

// pexp is the expansion of one queued state computed by a worker.
type pexp struct {
	pruned, leaf, more bool // more: no choice within the depth bound, some beyond
	children           []pchild
}

// pnew is a state first reached in a round, with the counters as the
// sequential search would have them right after reaching it.
type pnew struct {
	ch          *pchild
	id          int32
	at          Stats
	prop, why   string
	checkedLive bool
}

// forEach runs f(k, i) for every i in [0, n) on len(ws) goroutines, worker k
// taking i = k, k+len(ws), ...; each f writes only its own results.
func forEach(ws []*worker, n int, f func(k, i int)) {
	if len(ws) == 1 || n < 2 {
		for i := 0; i < n; i++ {
			f(0, i)
		}
		return
	}
	var wg sync.WaitGroup
	for k := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := k; i < n; i += len(ws) {
				f(k, i)
			}
		}()
	}
	wg.Wait()
}

// pbfs is the breadth-first search on o.Workers goroutines. The queue is
// processed in rounds of parallelChunk states: the workers expand the
// round's states (transitions, hashes), one goroutine merges the successors
// into the visited set in queue order and choice order (the order of the
// sequential search), the workers judge the new states, and the first
// violation in that order ends the search. States, transitions, the
// counterexample and every counter are those of the sequential search
// (bfs) for any number of workers; only a Leaf callback may see states of
// the round after the violation. Sleep sets are not supported.
func (s *search) pbfs(w0 *World, recs []Record) error {
	o := s.o
	if o.Check != nil && o.NewCheck == nil {
		return errors.New("explore: a parallel search needs Options.NewCheck (one checker per worker)")
	}
	ws := make([]*worker, o.Workers)
	for k := range ws {
		e := s.e.forWorker()
		ws[k] = &worker{e: e}
		if o.NewCheck != nil {
			ws[k].check = o.NewCheck()
		}
	}
	defer func() {
		// The error of the earliest state in queue order, as the
		// sequential search would report, whichever worker met it.
		first := -1
		for _, wk := range ws {
			if wk.e.inertErr != nil && (first < 0 || wk.inertAt < first) {
				s.e.inertErr, first = wk.e.inertErr, wk.inertAt
			}
		}
		// As the sequential search counts: the transitions merged, not
		// those of a round after a stop.
		s.e.discarded = s.res.Inert
	}()
	w0.trace = &recChain{recs: recs}
	s.res.Inert = s.e.discarded // the initial world's
	if _, _, err := s.visit(w0, -1, Choice{}, recs, nil); err != nil {
		return err
	}
	queue := []item{{w0, 0}}
	exps := make([]pexp, parallelChunk)
	var news []pnew
	for len(queue) > 0 {
		n := min(len(queue), parallelChunk)
		if len(exps) < n {
			exps = make([]pexp, n)
		}
		round := queue[:n]
		forEach(ws, n, func(k, i int) {
			had := ws[k].e.inertErr != nil
			exps[i] = s.pexpand(ws[k], round[i])
			if !had && ws[k].e.inertErr != nil {
				ws[k].inertAt = i
			}
		})
		// Merge in queue order, as the sequential search visits.
		news = news[:0]
		var stop *Stats // counters at the MaxStates stop
		for i := 0; i < n && stop == nil; i++ {
			it, x := round[i], &exps[i]
			s.res.Checked = max(s.res.Checked, it.w.Depth)
			if x.pruned {
				s.res.Pruned++
				if o.Leaf != nil {
					o.Leaf(it.w)
				}
				continue
			}
			s.st[it.id].done = true
			if x.more {
				s.res.DepthLimit++
			}
			if x.leaf && o.Leaf != nil {
				o.Leaf(it.w)
			}
			for j := range x.children {
				ch := &x.children[j]
				s.res.Transitions++
				s.res.Inert += ch.inrt
				if ch.noop {
					s.res.Noops++ // subsumed by its parent (Bounds.SubsumeNoops)
					continue
				}
				if _, ok := s.seen[ch.h]; ok {
					s.res.Revisits++
					continue
				}
				id := int32(len(s.st))
				s.seen[ch.h] = id
				s.st = append(s.st, state{parent: it.id, choice: ch.c, depth: int32(ch.w.Depth)})
				s.res.States++
				s.res.Depth = max(s.res.Depth, ch.w.Depth)
				news = append(news, pnew{ch: ch, id: id, at: s.res.Stats})
				if o.MaxStates > 0 && s.res.States >= o.MaxStates {
					st := s.res.Stats
					stop = &st
					break
				}
				if o.Depth > 0 && ch.w.Depth >= o.Depth {
					// At the bound: expanded (to nothing) at once.
					s.st[id].done = !ch.boundPruned
					switch {
					case ch.boundPruned:
						s.res.Pruned++
					case ch.boundMore:
						s.res.DepthLimit++
					}
					if o.Leaf != nil {
						o.Leaf(ch.w)
					}
				}
			}
		}
		// Judge the new states, then take the first violation in order.
		forEach(ws, len(news), func(k, i int) { s.pjudge(ws[k], &news[i]) })
		for i := range news {
			if news[i].checkedLive {
				s.res.Liveness++
			}
			if news[i].prop != "" {
				live := s.res.Liveness
				s.res.Stats = news[i].at
				s.res.Liveness = live
				s.res.Property, s.res.Detail, s.res.Path = news[i].prop, news[i].why, s.path(news[i].id)
				return errStop
			}
		}
		for _, wk := range ws {
			if wk.e.inertErr != nil {
				return errStop
			}
		}
		if stop != nil {
			live := s.res.Liveness
			s.res.Stats = *stop
			s.res.Liveness = live
			return errStop
		}
		// Queue the new states not at the depth bound, in order.
		for i := range news {
			if ch := news[i].ch; o.Depth == 0 || ch.w.Depth < o.Depth {
				queue = append(queue, item{ch.w, news[i].id})
			}
		}
		clear(round)
		queue = queue[n:]
		clear(exps[:n])
		if o.Stop != nil && o.Stop() {
			s.res.Interrupted = true
			return errStop
		}
		if o.Progress != nil && o.ProgressEvery > 0 && time.Since(s.last) >= o.ProgressEvery {
			s.last = time.Now()
			st := s.res.Stats
			st.Elapsed = time.Since(s.start)
			o.Progress(st)
		}
	}
	s.res.Complete = true
	s.res.Checked = s.res.Depth
	return nil
}

// pexpand computes the successors of it on worker wk (as expand does
// without sleep sets, and without touching the search's tables).
func (s *search) pexpand(wk *worker, it item) pexp {
	w, e, o := it.w, wk.e, s.o
	if e.m.Prune != nil && e.m.Prune(w) {
		return pexp{pruned: true}
	}
	choices := e.Choices(nil, w, o.Bounds)
	var x pexp
	if len(choices) == 0 {
		x.leaf = true
		if o.Depth > 0 && w.Depth >= o.Depth {
			x.more = len(e.Choices(nil, w, o.Bounds.Limit())) > 0
		}
		return x
	}
	x.children = make([]pchild, len(choices))
	for i, c := range choices {
		d := e.discarded
		nw, _ := e.Apply(w, c)
		if o.Records {
			nw.trace = &recChain{recs: e.takeRecords(), up: w.trace}
		}
		ch := pchild{w: nw, c: c, h: nw.Hash(), inrt: e.discarded - d, noop: e.wasNoop}
		if o.Depth > 0 && nw.Depth >= o.Depth {
			if e.m.Prune != nil && e.m.Prune(nw) {
				ch.boundPruned = true
			} else {
				ch.boundMore = len(e.Choices(nil, nw, o.Bounds.Limit())) > 0
			}
		}
		x.children[i] = ch
	}
	return x
}

// pjudge judges a new state on worker wk: the check, then the liveness
// check (as judge does).
func (s *search) pjudge(wk *worker, n *pnew) {
	w := n.ch.w
	if wk.check != nil {
		var path []Record
		if s.o.Records {
			path = pathRecordsInto(w, &wk.chain, &wk.pbuf)
		}
		if p, d := wk.check(w, path); p != "" {
			n.prop, n.why = p, d
			return
		}
	}
	if s.o.LivenessSteps > 0 && wk.e.m.Done != nil {
		n.checkedLive = true
		if ok, why := wk.e.fair(w, s.o.LivenessSteps); !ok {
			n.prop, n.why = Liveness, why
		}
	}
}

// pathRecordsInto returns the records from the initial world to w in *buf,
// using *chain as scratch.
func pathRecordsInto(w *World, chain *[]*recChain, buf *[]Record) []Record {
	c := (*chain)[:0]
	for r := w.trace; r != nil; r = r.up {
		c = append(c, r)
	}
	out := (*buf)[:0]
	for i := len(c) - 1; i >= 0; i-- {
		out = append(out, c[i].recs...)
	}
	for i := range out {
		out[i].Seq = uint64(i)
	}
	*chain, *buf = c, out
	return out
}

// forWorker returns an engine for a worker of a parallel search: e's model
// and settings, its own copier (Copier.Worker) and buffers.
func (e *Engine) forWorker() *Engine {
	return &Engine{m: e.m, cp: e.cp.Worker(), keep: e.keep, countFires: e.countFires, quiet: e.quiet, verifyInert: e.verifyInert, noBudgets: e.noBudgets, subsumeNoops: e.subsumeNoops}
}
