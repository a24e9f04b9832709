package spacetime

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/pbftsim/pbftsim/sim"
)

// PerfettoWriter streams a trace as Chrome trace-event JSON
// ({"traceEvents":[...]}), which ui.perfetto.dev and chrome://tracing open.
//
// Each node is a thread (tid = node id) of process 1 "replicas" or 2
// "clients". Everything a node does at one instant (handle a delivery or a
// timer and the sends, events it produces) is one complete slice (ph "X")
// lasting until the node's next step, at most 1µs. Each delivered message is
// a flow: ph "s" on the sender's slice at the send time and ph "f" (bp "e")
// on the receiver's slice at the delivery. Drops, crashes, recoveries and
// protocol events are instant events (ph "i"). ts and dur are in
// microseconds with nanosecond decimals.
type PerfettoWriter struct {
	w        *bufio.Writer
	ew       *errWriter
	opts     Options
	replicas int
	n        int
	steps    map[sim.NodeID]*pstep
	nodes    map[sim.NodeID]bool
	faulty   map[sim.NodeID]bool
	err      error
	closed   bool
}

type pstep struct {
	t      sim.Time
	inputs []string
	more   int
}

const maxStepInputs = 16

// NewPerfettoWriter starts writing to w. opts.Replicas (if set) names and
// groups nodes; the window and type filter apply. Call Close at the end.
func NewPerfettoWriter(w io.Writer, opts Options) *PerfettoWriter {
	ew := &errWriter{w: w}
	p := &PerfettoWriter{w: bufio.NewWriterSize(ew, 256<<10), ew: ew, opts: opts, replicas: opts.Replicas,
		steps: map[sim.NodeID]*pstep{}, nodes: map[sim.NodeID]bool{}, faulty: map[sim.NodeID]bool{}}
	for _, f := range opts.Faulty {
		p.faulty[f] = true
	}
	p.w.WriteString("{\"traceEvents\":[\n")
	return p
}

func (p *PerfettoWriter) pid(n sim.NodeID) int {
	if p.replicas > 0 && int(n) >= p.replicas {
		return 2
	}
	return 1
}

// us formats virtual nanoseconds as microseconds.
func us(t sim.Time) string {
	v := int64(t)
	frac := v % 1000
	pad := "."
	switch {
	case frac < 10:
		pad = ".00"
	case frac < 100:
		pad = ".0"
	}
	return strconv.FormatInt(v/1000, 10) + pad + strconv.FormatInt(frac, 10)
}

func jstr(s string) string {
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		c := s[i]
		plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	if plain {
		return `"` + s + `"`
	}
	b, _ := json.Marshal(s) // strings always marshal; invalid UTF-8 is replaced
	return string(b)
}

func (p *PerfettoWriter) event(s string) {
	if p.n > 0 {
		p.w.WriteString(",\n")
	}
	p.n++
	p.w.WriteString(s)
}

// Consume implements Consumer.
func (p *PerfettoWriter) Consume(e *Entry) error {
	if p.err != nil {
		return p.err
	}
	r := &e.Record
	for _, f := range r.Faulty {
		p.faulty[f] = true
	}
	if p.opts.HasFrom && r.T < p.opts.From || p.opts.HasTo && r.T > p.opts.To {
		return nil
	}
	if r.Kind.IsMessage() && !p.opts.typeOK(r.Type) {
		return nil
	}
	from, to := NodeName(r.From, p.replicas), NodeName(r.To, p.replicas)
	node := r.Node()
	switch r.Kind {
	case KindSend:
		p.touch(node, r.T, "send "+r.Type+" to "+to)
	case KindLocal:
		p.touch(node, r.T, "local "+r.Type)
	case KindDeliver:
		p.touch(node, r.T, "recv "+r.Type+" from "+from)
		if e.Matched && (!p.opts.HasFrom || e.SentAt >= p.opts.From) {
			id := strconv.Itoa(r.Line)
			p.event(fmt.Sprintf(`{"name":%s,"cat":"msg","ph":"s","id":%s,"pid":%d,"tid":%d,"ts":%s}`,
				jstr(r.Type), id, p.pid(r.From), r.From, us(e.SentAt)))
			p.event(fmt.Sprintf(`{"name":%s,"cat":"msg","ph":"f","bp":"e","id":%s,"pid":%d,"tid":%d,"ts":%s}`,
				jstr(r.Type), id, p.pid(r.To), r.To, us(r.T)))
		}
	case KindDrop:
		p.instant(node, r.T, "drop "+r.Type+" "+from+"→"+to, fmt.Sprintf(`{"reason":%s,"msg":%s}`, jstr(r.Reason), rawOrNull(r.Msg)))
	case KindDuplicate:
		p.instant(node, r.T, "duplicate "+r.Type+" "+from+"→"+to, fmt.Sprintf(`{"msg":%s}`, rawOrNull(r.Msg)))
	case KindTimer:
		p.touch(node, r.T, "timer "+strconv.FormatUint(r.Timer, 10))
	case KindEvent:
		p.touch(node, r.T, "event "+r.Event)
		p.instant(node, r.T, r.Event, fmt.Sprintf(`{"data":%s}`, rawOrNull(r.Data)))
	case KindCrash, KindRecover:
		p.endStep(node)
		p.instant(node, r.T, r.Kind.String(), "{}")
	}
	if p.ew.err != nil {
		p.err = p.ew.err
	}
	return p.err
}

// errWriter remembers the first write error, so streaming writers can stop
// early.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}

func rawOrNull(b json.RawMessage) string {
	if len(b) == 0 || !json.Valid(b) {
		return "null"
	}
	return string(b)
}

func (p *PerfettoWriter) instant(n sim.NodeID, t sim.Time, name, args string) {
	p.nodes[n] = true
	p.event(fmt.Sprintf(`{"name":%s,"cat":"node","ph":"i","s":"t","pid":%d,"tid":%d,"ts":%s,"args":%s}`,
		jstr(name), p.pid(n), n, us(t), args))
}

// touch adds an input to node n's step at t, closing its previous step.
func (p *PerfettoWriter) touch(n sim.NodeID, t sim.Time, what string) {
	p.nodes[n] = true
	s := p.steps[n]
	if s != nil && s.t == t {
		if len(s.inputs) < maxStepInputs {
			s.inputs = append(s.inputs, what)
		} else {
			s.more++
		}
		return
	}
	if s != nil {
		p.writeStep(n, s, min(t-s.t, 1000))
	}
	p.steps[n] = &pstep{t: t, inputs: []string{what}}
}

func (p *PerfettoWriter) endStep(n sim.NodeID) {
	if s := p.steps[n]; s != nil {
		p.writeStep(n, s, 1)
		delete(p.steps, n)
	}
}

func (p *PerfettoWriter) writeStep(n sim.NodeID, s *pstep, dur sim.Time) {
	args := "["
	for i, in := range s.inputs {
		if i > 0 {
			args += ","
		}
		args += jstr(in)
	}
	args += "]"
	p.event(fmt.Sprintf(`{"name":%s,"cat":"step","ph":"X","pid":%d,"tid":%d,"ts":%s,"dur":%s,"args":{"inputs":%s,"more":%d}}`,
		jstr(s.inputs[0]), p.pid(n), n, us(s.t), us(dur), args, s.more))
}

// Close ends open steps, writes thread and process names and closes the
// JSON document. It does not close the underlying writer.
func (p *PerfettoWriter) Close() error {
	if p.closed {
		return p.err
	}
	p.closed = true
	if p.err != nil {
		return p.err
	}
	var nodes []sim.NodeID
	for n := range p.nodes {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	for _, n := range nodes {
		if s := p.steps[n]; s != nil {
			p.writeStep(n, s, 1000)
		}
	}
	pids := map[int]bool{}
	for _, n := range nodes {
		pids[p.pid(n)] = true
		name := NodeName(n, p.replicas)
		if p.faulty[n] {
			name += " (Byzantine)"
		}
		p.event(fmt.Sprintf(`{"name":"thread_name","ph":"M","pid":%d,"tid":%d,"args":{"name":%s}}`, p.pid(n), n, jstr(name)))
		p.event(fmt.Sprintf(`{"name":"thread_sort_index","ph":"M","pid":%d,"tid":%d,"args":{"sort_index":%d}}`, p.pid(n), n, n))
	}
	for _, pid := range []int{1, 2} {
		if !pids[pid] {
			continue
		}
		name := "nodes"
		if p.replicas > 0 {
			name = []string{"", "replicas", "clients"}[pid]
		}
		p.event(fmt.Sprintf(`{"name":"process_name","ph":"M","pid":%d,"tid":0,"args":{"name":%s}}`, pid, jstr(name)))
	}
	p.w.WriteString("\n],\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"pbftsim trace\"}}\n")
	p.err = p.w.Flush()
	return p.err
}
