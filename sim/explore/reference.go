package explore

// Leaves returns the fingerprints (World.Hash) of the states at the end of
// every maximal path of m within b, without any reduction: the states where
// every enabled transition is beyond the bound, those m.Prune stops, and
// those with no transition left. With causal false, b.Depth bounds the
// number of transitions on a path (as the breadth-first search does); with
// causal true, it bounds the causal depth of each transition (as DPOR does:
// see Options.DPOR). It walks every path (the causal walk remembers
// nothing), so it is meant for checking the reductions on small bounds,
// not for exploring. It also returns the number of transitions it executed.
func Leaves(m *Model, b Bounds, causal bool) (leaves map[uint64]bool, transitions int, err error) {
	e := NewEngine(m)
	w, _, err := e.Initial()
	if err != nil {
		return nil, 0, err
	}
	out := map[uint64]bool{}
	seen := map[[2]uint64]bool{}
	r := &dporRun{lim: b.Depth}
	nb := b
	if causal {
		nb.Depth = 0
	}
	var walk func(w *World)
	walk = func(w *World) {
		h := w.Hash()
		if !causal {
			k := [2]uint64{h, uint64(w.Depth)}
			if seen[k] {
				return
			}
			seen[k] = true
		}
		var ch []Choice
		if m.Prune == nil || !m.Prune(w) {
			ch = e.Choices(nil, w, nb)
		}
		any := false
		for _, c := range ch {
			t := tidOf(w, c)
			nw, eff := e.Apply(w, c)
			transitions++
			if causal {
				ev := pevent{t: t, eff: eff, sent0: w.sends, sent1: nw.sends}
				if ev.lvl = r.level(&ev); ev.lvl > b.Depth {
					continue
				}
				r.evs = append(r.evs, ev)
			}
			any = true
			walk(nw)
			if causal {
				r.evs = r.evs[:len(r.evs)-1]
			}
		}
		if !any {
			out[h] = true
		}
	}
	walk(w)
	return out, transitions, nil
}
