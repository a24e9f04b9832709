package byzantine

import (
	"strings"

	"github.com/pbftsim/pbftsim/sim"
)

func init() {
	strategy(Info{
		Name: "twins",
		Doc: "two honest instances with the same identity and keys, each connected to a different part of the network: " +
			"instance A talks to and hears from the first group and every node not listed (clients included), instance B only the second group",
		Params: []Param{
			{Name: "groups", Doc: `two comma lists of node ids separated by "|", e.g. "0,1|2,3" (required)`},
		},
	}, nil)
}

// twinTimer is one instance's timer.
type twinTimer struct {
	b  bool
	id sim.TimerID
}

// twins runs two instances of the honest replica under one node id.
type twins struct {
	id      sim.NodeID
	inst    [2]sim.Node
	groupB  nodeSet
	timers  map[twinTimer]sim.TimerID // pending instance timers -> kernel timer
	back    map[sim.TimerID]twinTimer
	next    sim.TimerID
	scratch sim.Output
}

func newTwins(p params, env *Env, honest sim.Node) (*twins, error) {
	g, ok := p.vals["groups"]
	if !ok {
		return nil, p.errf("groups", `required, e.g. "0,1|2,3"`)
	}
	parts := strings.Split(g, "|")
	if len(parts) != 2 {
		return nil, p.errf("groups", `want exactly two groups separated by "|", e.g. "0,1|2,3"`)
	}
	var groups [2][]sim.NodeID
	seen := nodeSet{}
	for i, part := range parts {
		ids, err := parseNodes(part)
		if err != nil {
			return nil, p.errf("groups", "group %d: %v", i+1, err)
		}
		for _, id := range ids {
			if seen[id] {
				return nil, p.errf("groups", "node %d is in both groups", id)
			}
			seen[id] = true
		}
		groups[i] = ids
	}
	if env.NewHonest == nil {
		return nil, p.errf("groups", "twins needs Env.NewHonest to build the second instance")
	}
	b, err := env.NewHonest()
	if err != nil {
		return nil, p.errf("groups", "building the second instance: %v", err)
	}
	if b == nil {
		return nil, p.errf("groups", "Env.NewHonest returned no node")
	}
	t := &twins{id: env.ID, inst: [2]sim.Node{honest, b}, groupB: setOf(groups[1]),
		timers: map[twinTimer]sim.TimerID{}, back: map[sim.TimerID]twinTimer{}}
	delete(t.groupB, env.ID)
	return t, nil
}

// twinLocal wraps a twin's send to itself so the reply reaches the same instance.
type twinLocal struct {
	b   bool
	msg sim.Message
}

func (l *twinLocal) Type() sim.MsgType { return l.msg.Type() }
func (l *twinLocal) Size() int         { return l.msg.Size() }
func (l *twinLocal) AppendCanonical(b []byte) []byte {
	x := byte(0)
	if l.b {
		x = 1
	}
	return l.msg.AppendCanonical(append(b, 'T', x))
}

func (t *twins) Start(now sim.Time, out *sim.Output) {
	for i := range t.inst {
		t.scratch.Reset()
		t.inst[i].Start(now, &t.scratch)
		t.emit(i == 1, out)
	}
}

func (t *twins) Step(now sim.Time, in sim.Input, out *sim.Output) {
	switch in.Kind {
	case sim.InputMessage:
		b := t.groupB[in.From]
		if l, ok := in.Msg.(*twinLocal); ok {
			b, in.Msg = l.b, l.msg
		}
		t.run(b, now, in, out)
	case sim.InputTimer:
		tt, ok := t.back[in.Timer]
		if !ok {
			return
		}
		delete(t.back, in.Timer)
		delete(t.timers, tt)
		in.Timer = tt.id
		t.run(tt.b, now, in, out)
	default: // recovery: every instance timer was cancelled
		clear(t.timers)
		clear(t.back)
		t.run(false, now, in, out)
		t.run(true, now, in, out)
	}
}

func (t *twins) run(b bool, now sim.Time, in sim.Input, out *sim.Output) {
	i := 0
	if b {
		i = 1
	}
	t.scratch.Reset()
	t.inst[i].Step(now, in, &t.scratch)
	t.emit(b, out)
}

// emit moves instance b's effects from scratch to out: sends outside its
// group are withheld, self-sends are tagged, timers are renamed.
func (t *twins) emit(b bool, out *sim.Output) {
	for _, s := range t.scratch.Sends {
		switch {
		case s.To == t.id:
			out.Send(s.To, &twinLocal{b: b, msg: s.Msg})
		case t.groupB[s.To] == b:
			out.Send(s.To, s.Msg)
		}
	}
	for _, op := range t.scratch.Timers {
		k := twinTimer{b, op.ID}
		id, ok := t.timers[k]
		if op.Cancel {
			if ok {
				out.CancelTimer(id)
				delete(t.timers, k)
				delete(t.back, id)
			}
			continue
		}
		if !ok {
			id = t.next
			t.next++
			t.timers[k] = id
			t.back[id] = k
		}
		out.SetTimer(id, op.After)
	}
	out.Events = append(out.Events, t.scratch.Events...)
}
