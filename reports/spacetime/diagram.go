package spacetime

import (
	"encoding/json"
	"math"
	"slices"

	"github.com/pbftsim/pbftsim/sim"
)

// ArrowStatus says how a message's flight ended.
type ArrowStatus uint8

// Arrow statuses.
const (
	Delivered ArrowStatus = iota + 1 // delivered to its receiver
	Dropped                          // lost (Arrow.Reason says why)
	InFlight                         // sent but neither delivered nor dropped when the trace ended
)

// Arrow is one message copy drawn in a diagram.
type Arrow struct {
	Flow     uint64
	Type     string
	From, To sim.NodeID
	Sent     sim.Time
	End      sim.Time // delivery, drop, or trace end when in flight
	Status   ArrowStatus
	Reason   string // drop reason
	Matched  bool   // false: the send record was missing (Sent == End)
	Altered  bool   // the trace flags the message as altered by a Byzantine sender, or it equivocates
	// Equivocation: the sender sent this type for the same view and
	// sequence number with another digest (among the arrows drawn).
	Equivocation bool
	Msg          json.RawMessage
	Fields       MsgFields
	sortLine     int
}

// Mark is a node event drawn on a lane: an event record, a crash or a
// recovery.
type Mark struct {
	Line   int
	T      sim.Time
	Node   sim.NodeID
	Name   string // event name, "crash" or "recover"
	Data   json.RawMessage
	Fields MsgFields
}

// markedEvents are the event names drawn as marks; others are left out to
// keep diagrams readable (prepared, sent-prepare, submitted).
var markedEvents = map[string]bool{"committed": true, "executed": true, "view-change": true, "new-view": true,
	"stable-checkpoint": true, "state-transfer": true, "accepted": true, "crash": true, "recover": true}

// Diagram accumulates a trace (as a Consumer) and renders a space-time
// diagram of it: one lane per node, one arrow per message in the window.
type Diagram struct {
	opts    Options
	info    *Info
	pending map[uint64]*Arrow
	arrows  []*Arrow
	marks   []Mark
	down    map[sim.NodeID]sim.Time
	crashes []span
	sends   []sim.Time // every message send (overview density)
	drops   []sim.Time
	built   bool
	lay     layout
}

type span struct {
	node     sim.NodeID
	from, to sim.Time
	open     bool
}

// NewDiagram returns an empty diagram with the given options. Check them
// first with Options.Validate.
func NewDiagram(opts Options) *Diagram {
	return &Diagram{opts: opts, info: NewInfo(), pending: map[uint64]*Arrow{}, down: map[sim.NodeID]sim.Time{}}
}

// Consume implements Consumer.
func (d *Diagram) Consume(e *Entry) error {
	d.built = false
	d.info.Consume(e)
	r := &e.Record
	switch r.Kind {
	case KindSend:
		d.sends = append(d.sends, r.T)
		if d.opts.typeOK(r.Type) && (!d.opts.HasTo || r.T <= d.opts.To) {
			d.pending[e.Flow] = &Arrow{Flow: e.Flow, Type: r.Type, From: r.From, To: r.To, Sent: r.T, End: r.T,
				Status: InFlight, Matched: true, Altered: r.Altered, Msg: r.Msg, sortLine: r.Line}
		}
	case KindDeliver, KindDrop:
		if r.Kind == KindDrop {
			d.drops = append(d.drops, r.T)
		}
		if !e.Matched {
			d.sends = append(d.sends, r.T)
		}
		a := d.pending[e.Flow]
		if a != nil && e.Matched {
			delete(d.pending, e.Flow)
		} else {
			if !d.opts.typeOK(r.Type) {
				return nil
			}
			sent := r.T
			if e.Matched {
				sent = e.SentAt
			}
			a = &Arrow{Flow: e.Flow, Type: r.Type, From: r.From, To: r.To, Sent: sent, Matched: e.Matched,
				Altered: r.Altered, Msg: r.Msg, sortLine: r.Line}
		}
		a.End, a.Altered = r.T, a.Altered || r.Altered
		a.Status, a.Reason = Delivered, ""
		if r.Kind == KindDrop {
			a.Status, a.Reason = Dropped, r.Reason
		}
		if d.opts.inWindow(a.Sent, a.End) {
			d.arrows = append(d.arrows, a)
		}
	case KindEvent:
		if markedEvents[r.Event] {
			d.marks = append(d.marks, Mark{Line: r.Line, T: r.T, Node: r.From, Name: r.Event, Data: r.Data})
		}
	case KindCrash:
		d.marks = append(d.marks, Mark{Line: r.Line, T: r.T, Node: r.From, Name: "crash"})
		if _, ok := d.down[r.From]; !ok {
			d.down[r.From] = r.T
		}
	case KindRecover:
		d.marks = append(d.marks, Mark{Line: r.Line, T: r.T, Node: r.From, Name: "recover"})
		if at, ok := d.down[r.From]; ok {
			d.crashes = append(d.crashes, span{node: r.From, from: at, to: r.T})
			delete(d.down, r.From)
		}
	}
	return nil
}

// layout is what the renderers draw, computed once by build.
type layout struct {
	replicas   int
	lanes      []sim.NodeID
	faulty     map[sim.NodeID]bool
	from, to   sim.Time // the drawn window
	arrows     []*Arrow // drawn
	inWindow   int      // arrows in the window before the cap
	capped     bool
	autoCut    bool // the window end was moved to honour the cap
	marks      []Mark
	marksTotal int
	types      []string // legend order
	typeCount  map[string]int
	dropped    int
	crashes    []span
	start, end sim.Time // whole trace
}

// Stats describes what a rendered diagram shows.
type Stats struct {
	Lanes    int      // nodes drawn
	Replicas int      // of which replicas (ids 0..Replicas-1)
	From, To sim.Time // the window drawn
	Arrows   int      // arrows drawn
	InWindow int      // messages in the window before the MaxArrows cap
	Dropped  int      // dropped messages among those drawn
	Marks    int      // event marks drawn
	Capped   bool     // the MaxArrows cap left messages out
}

// Stats returns what the diagram shows (building it if needed).
func (d *Diagram) Stats() Stats {
	l := d.build()
	return Stats{Lanes: len(l.lanes), Replicas: l.replicas, From: l.from, To: l.to, Arrows: len(l.arrows),
		InWindow: l.inWindow, Dropped: l.dropped, Marks: len(l.marks), Capped: l.capped}
}

// Arrows returns the arrows the diagram draws, in drawing order.
func (d *Diagram) Arrows() []*Arrow { return d.build().arrows }

// Marks returns the marks the diagram draws, in drawing order.
func (d *Diagram) Marks() []Mark { return d.build().marks }

func (d *Diagram) build() *layout {
	if d.built {
		return &d.lay
	}
	d.built = true
	in := d.info
	in.Finish()
	l := layout{start: in.Start, end: in.End, faulty: map[sim.NodeID]bool{}, typeCount: map[string]int{}}
	l.replicas = d.opts.Replicas
	if l.replicas == 0 {
		l.replicas = in.Replicas
	}
	for i := sim.NodeID(0); i <= in.MaxNode; i++ {
		l.lanes = append(l.lanes, i)
	}
	for _, f := range d.opts.Faulty {
		l.faulty[f] = true
	}
	for _, f := range in.Faulty {
		l.faulty[f] = true
	}
	all := slices.Clone(d.arrows)
	for _, a := range d.pending {
		a.End = in.End
		if d.opts.inWindow(a.Sent, a.End) {
			all = append(all, a)
		}
	}
	slices.SortFunc(all, func(a, b *Arrow) int {
		if a.Sent != b.Sent {
			return cmpTime(a.Sent, b.Sent)
		}
		return a.sortLine - b.sortLine
	})
	l.inWindow = len(all)
	l.from = 0
	if d.opts.HasFrom {
		l.from = d.opts.From
	}
	l.to = in.End
	if d.opts.HasTo {
		l.to = d.opts.To
	}
	if limit := d.opts.maxArrows(); len(all) > limit {
		l.capped = true
		all = all[:limit]
		if !d.opts.HasTo {
			l.autoCut = true
			l.to = all[len(all)-1].Sent
		}
	}
	if l.to <= l.from {
		if l.from > math.MaxInt64-1000 {
			l.from = math.MaxInt64 - 1000
		}
		l.to = l.from + 1000
	}
	// Equivocation: one sender, one type, one (view, seq), two digests.
	type slot struct {
		from      sim.NodeID
		typ       string
		view, seq uint64
	}
	digests := map[slot]string{}
	conflict := map[slot]bool{}
	for _, a := range all {
		a.Fields = Fields(a.Msg)
		if f := a.Fields; f.Digest != "" && f.HasSeq && f.HasView {
			k := slot{a.From, a.Type, f.View, f.Seq}
			if d, ok := digests[k]; !ok {
				digests[k] = f.Digest
			} else if d != f.Digest {
				conflict[k] = true
			}
		}
	}
	for _, a := range all {
		if f := a.Fields; f.Digest != "" && conflict[slot{a.From, a.Type, f.View, f.Seq}] {
			a.Altered, a.Equivocation = true, true
		}
		l.typeCount[a.Type]++
		if a.Status == Dropped {
			l.dropped++
		}
		if a.Altered {
			l.faulty[a.From] = true
		}
	}
	l.arrows = all
	for t := range l.typeCount {
		l.types = append(l.types, t)
	}
	SortTypes(l.types)
	limit := d.opts.maxArrows()
	for _, m := range d.marks {
		if m.T < l.from || m.T > l.to {
			continue
		}
		l.marksTotal++
		if len(l.marks) < limit {
			m.Fields = Fields(m.Data)
			l.marks = append(l.marks, m)
		}
	}
	l.crashes = slices.Clone(d.crashes)
	for n, at := range d.down {
		l.crashes = append(l.crashes, span{node: n, from: at, to: in.End, open: true})
	}
	slices.SortFunc(l.crashes, func(a, b span) int {
		if a.node != b.node {
			return int(a.node - b.node)
		}
		return cmpTime(a.from, b.from)
	})
	d.lay = l
	return &d.lay
}

func cmpTime(a, b sim.Time) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
