package explore

import "fmt"

// CheckCommute checks DPOR's independence relation at w: for every pair of
// enabled transitions (within b) that it calls independent, both orders
// must be possible and reach the same state (pairs where one of them brings
// the clock to the earliest deadline are left out: DPOR explores every
// transition from such a state). It returns the number of
// pairs checked, or an error naming the first pair that does not commute.
// Tests run it on states along random paths of real protocols.
func CheckCommute(e *Engine, w *World, b Bounds) (int, error) {
	ch := e.Choices(nil, w, b)
	type done struct {
		t   tid
		w   *World
		eff Effect
	}
	after := make([]done, len(ch))
	for i, c := range ch {
		nw, eff := e.Apply(w, c)
		after[i] = done{tidOf(w, c), nw, eff}
	}
	n := 0
	for i := range after {
		for j := i + 1; j < len(after); j++ {
			a, c := &after[i], &after[j]
			if dependent(a.t, a.eff, c.t, c.eff) || !canStep(a.w) || !canStep(c.w) {
				// After a transition that brings the clock to a deadline
				// only the timer can fire: DPOR expands such a state fully.
				continue
			}
			n++
			ab, ok1 := then(e, a.w, c.t, b)
			ba, ok2 := then(e, c.w, a.t, b)
			if !ok1 || !ok2 {
				return n, fmt.Errorf("%v (%+v) and %v (%+v) are called independent, but one disables the other (%v %v; can step %v %v)", a.t, a.eff, c.t, c.eff, ok1, ok2, canStep(a.w), canStep(c.w))
			}
			if ab.Hash() != ba.Hash() {
				return n, fmt.Errorf("%v and %v are called independent, but the two orders reach different states", a.t, c.t)
			}
		}
	}
	return n, nil
}

// then applies t (if enabled within b) to w.
func then(e *Engine, w *World, t tid, b Bounds) (*World, bool) {
	c, ok := choiceOf(w, t)
	if !ok {
		return nil, false
	}
	b.Depth = 0
	for _, d := range e.Choices(nil, w, b) {
		if tidOf(w, d) == t || !w.async && d.Kind == Fire && t.kind == Fire {
			nw, _ := e.Apply(w, c)
			return nw, true
		}
	}
	return nil, false
}
