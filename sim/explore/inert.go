package explore

import (
	"errors"
	"fmt"
	"slices"

	"github.com/pbftsim/pbftsim/sim"
)

// Inerter is implemented by nodes that can tell that a message would change
// nothing if it were delivered to them. The explorer (Model.DiscardInert)
// then discards such a message as soon as it is declared inert, so that
// states that differ only in messages nobody will ever react to merge.
//
// Inert(from, m) must hold only if delivering m from `from` to the node,
// now or at any later step of the node (its state only moves forward:
// crashes that keep the state, which are the explorer's), leaves the node's
// state unchanged as the Copier hashes it and produces no output (no send,
// timer or event). Discarding it is then the same as delivering it after
// the end of the path: every path of the reduced exploration is a path of
// the real system. Inert must not change the node.
// Options.VerifyInert checks the contract on every declaration.
type Inerter interface {
	Inert(from sim.NodeID, m sim.Message) bool
}

// inert reports whether f is declared inert by its receiver in w.
func (e *Engine) inert(w *World, f *Flight) bool {
	return e.inertAt(w.Nodes[f.To], f)
}

// inertAt reports whether f is declared inert by node nd (its receiver).
func (e *Engine) inertAt(nd sim.Node, f *Flight) bool {
	if e.m.Inert != nil {
		return e.m.Inert(nd, f.From, f.Msg)
	}
	in, ok := nd.(Inerter)
	return ok && in.Inert(f.From, f.Msg)
}

// discardInert removes from w's flight the messages their receivers declare
// inert. Only messages sent at or after send index sends0 or to a node
// stepped in this transition are asked: for the others neither the message
// nor its receiver changed since they were last asked.
func (e *Engine) discardInert(w *World, sends0 int) {
	if e.verifyInert {
		// The messages discarded before must stay inert whatever their
		// receivers did since.
		for i := range w.ghosts {
			if g := &w.ghosts[i]; e.stepped[g.To] {
				e.checkInert(w, g, "later")
			}
		}
	}
	k := 0
	for i := range w.Flight {
		f := &w.Flight[i]
		if (f.Send >= sends0 || e.stepped[f.To]) && e.inert(w, f) {
			if e.verifyInert {
				e.checkInert(w, f, "when declared")
				w.ghosts = append(w.ghosts, *f)
			}
			e.discarded++
			continue
		}
		if k != i {
			w.Flight[k] = *f
		}
		k++
	}
	clear(w.Flight[k:])
	w.Flight = w.Flight[:k]
}

// checkInert delivers f to a copy of its receiver in w and records an error
// (the first) if that changes the receiver's state hash or produces output.
func (e *Engine) checkInert(w *World, f *Flight, when string) {
	if e.inertErr != nil {
		return
	}
	nd := w.Nodes[f.To]
	before := e.cp.Hash(nd)
	cp := e.cp.Clone(nd).(sim.Node)
	var out sim.Output
	cp.Step(w.Now+Unit, sim.Input{Kind: sim.InputMessage, From: f.From, Msg: f.Msg}, &out)
	after := e.cp.Hash(cp)
	var what string
	switch {
	case after != before:
		what = "changed its state"
	case len(out.Sends) > 0:
		what = fmt.Sprintf("sent %d messages", len(out.Sends))
	case len(out.Timers) > 0:
		what = fmt.Sprintf("set or cancelled %d timers", len(out.Timers))
	case len(out.Events) > 0:
		what = fmt.Sprintf("reported %d events (first %s)", len(out.Events), out.Events[0].Name())
	default:
		return
	}
	e.inertErr = fmt.Errorf("explore: %w: node %d declared %v from node %d inert, but delivering it (%s, at depth %d) %s",
		ErrInert, f.To, f.Msg.Type(), f.From, when, w.Depth, what)
}

// ErrInert is returned by Run (wrapped) when Options.VerifyInert found a
// message declared inert whose delivery is not a no-op.
var ErrInert = errors.New("a message declared inert is not")

// WithoutInert returns a copy of w without the in-flight messages that
// their receivers declare inert: the world a model with DiscardInert keeps
// in place of w (tests compare reduced and unreduced state sets with it).
func (m *Model) WithoutInert(w *World) *World {
	e := &Engine{m: m}
	nw := *w
	nw.Flight = slices.DeleteFunc(slices.Clone(w.Flight), func(f Flight) bool { return e.inert(w, &f) })
	return &nw
}
