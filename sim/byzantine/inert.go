package byzantine

import "github.com/pbftsim/pbftsim/sim"

// passive is implemented by the strategies whose rewrite of a step that
// sends nothing sends nothing and changes nothing (their state moves only
// with what the honest code sends).
type passive interface {
	passive() bool
}

func (*equivocate) passive() bool { return true }

// Inert implements the exhaustive explorer's optional Inerter (package
// sim/explore): a message is inert for a faulty replica when it is inert
// for the honest code it wraps and every strategy of the chain is passive
// (then the step sends nothing, and the strategies see nothing). Before the
// wrapper's first step its step context is not yet set, so nothing is
// declared then.
func (w *node) Inert(from sim.NodeID, m sim.Message) bool {
	in, ok := w.inner.(interface {
		Inert(from sim.NodeID, m sim.Message) bool
	})
	if !ok || w.ctx.in == nil {
		return false
	}
	for _, r := range w.chain {
		if p, ok := r.(passive); !ok || !p.passive() {
			return false
		}
	}
	return in.Inert(from, m)
}
