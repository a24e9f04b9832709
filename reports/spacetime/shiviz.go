package spacetime

import (
	"bufio"
	"io"
	"strconv"
	"strings"

	"github.com/pbftsim/pbftsim/sim"
)

// ShiVizRegex is the log parsing regular expression to paste into ShiViz
// (bestchai.bitbucket.io/shiviz) for logs written by ShiVizWriter.
const ShiVizRegex = `(?<event>.*)\n(?<host>\S*) (?<clock>{.*})`

// ShiVizRegexGo is ShiVizRegex in Go's regexp syntax.
const ShiVizRegexGo = `(?P<event>.*)\n(?P<host>\S*) (?P<clock>\{.*\})`

// ShiVizWriter streams a trace in ShiViz's log format: for every node step
// (send, delivery, drop, local delivery, timer, event, crash, recovery) a
// line describing it, then a line `host {"host": n, ...}` with the node's
// vector clock after the step. A node's own entry grows by exactly one per
// line; a delivery merges the sender's clock at the send. Hosts are named
// as NodeName does ("r0", "c4"); zero entries are left out.
type ShiVizWriter struct {
	w        *bufio.Writer
	ew       *errWriter
	opts     Options
	replicas int
	clocks   map[sim.NodeID][]uint64
	inflight map[uint64]*sclock
	buf      []byte
	err      error
	lines    int
}

type sclock struct {
	vc    []uint64
	users int
}

// NewShiVizWriter starts writing to w; the window and type filter of opts
// apply (clocks only count the records kept). Call Close at the end.
func NewShiVizWriter(w io.Writer, opts Options) *ShiVizWriter {
	ew := &errWriter{w: w}
	return &ShiVizWriter{w: bufio.NewWriterSize(ew, 256<<10), ew: ew, opts: opts, replicas: opts.Replicas,
		clocks: map[sim.NodeID][]uint64{}, inflight: map[uint64]*sclock{}}
}

// WriteHeader writes ShiVizRegex and an empty multiple-executions delimiter
// line: the two lines ShiViz expects at the top of a log loaded from a file
// (rather than pasted with the regex typed in). Call it before any Consume.
func (s *ShiVizWriter) WriteHeader() {
	s.w.WriteString(ShiVizRegex + "\n\n")
}

// Events returns the number of events written so far.
func (s *ShiVizWriter) Events() int { return s.lines }

// Consume implements Consumer.
func (s *ShiVizWriter) Consume(e *Entry) error {
	if s.err != nil {
		return s.err
	}
	r := &e.Record
	if s.opts.HasFrom && r.T < s.opts.From || s.opts.HasTo && r.T > s.opts.To {
		return nil
	}
	if r.Kind.IsMessage() && !s.opts.typeOK(r.Type) {
		return nil
	}
	if r.Kind == KindDuplicate {
		if c := s.inflight[e.Flow]; c != nil && e.Matched {
			c.users++
		}
		return nil
	}
	node := r.Node()
	vc := s.clocks[node]
	if len(vc) <= int(node) {
		vc = append(vc, make([]uint64, int(node)+1-len(vc))...)
	}
	vc[node]++
	if r.Kind == KindDeliver || r.Kind == KindDrop {
		if c := s.inflight[e.Flow]; c != nil && e.Matched {
			if r.Kind == KindDeliver {
				if len(vc) < len(c.vc) {
					vc = append(vc, make([]uint64, len(c.vc)-len(vc))...)
				}
				for i, v := range c.vc {
					vc[i] = max(vc[i], v)
				}
			}
			if c.users--; c.users <= 0 {
				delete(s.inflight, e.Flow)
			}
		}
	}
	s.clocks[node] = vc
	if r.Kind == KindSend {
		s.inflight[e.Flow] = &sclock{vc: append([]uint64(nil), vc...), users: 1}
	}
	s.writeEvent(r, node, vc)
	if s.ew.err != nil {
		s.err = s.ew.err
	}
	return s.err
}

func (s *ShiVizWriter) name(n sim.NodeID) string { return NodeName(n, s.replicas) }

func (s *ShiVizWriter) writeEvent(r *Record, node sim.NodeID, vc []uint64) {
	var d strings.Builder
	switch r.Kind {
	case KindSend:
		d.WriteString("send " + r.Type + " to " + s.name(r.To))
	case KindDeliver:
		d.WriteString("recv " + r.Type + " from " + s.name(r.From))
	case KindDrop:
		d.WriteString("drop " + r.Type + " " + s.name(r.From) + "->" + s.name(r.To) + " (" + r.Reason + ")")
	case KindLocal:
		d.WriteString("local " + r.Type)
	case KindTimer:
		d.WriteString("timer " + strconv.FormatUint(r.Timer, 10))
	case KindEvent:
		d.WriteString(r.Event)
	default:
		d.WriteString(r.Kind.String())
	}
	f := Fields(r.Msg)
	if r.Kind == KindEvent {
		f = Fields(r.Data)
	}
	if f.HasView {
		d.WriteString(" v=" + strconv.FormatUint(f.View, 10))
	}
	if f.HasSeq {
		d.WriteString(" n=" + strconv.FormatUint(f.Seq, 10))
	}
	d.WriteString(" @" + r.T.String())
	desc := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(d.String(), "?"))
	b := s.buf[:0]
	b = append(b, desc...)
	b = append(b, '\n')
	b = append(b, s.name(node)...)
	b = append(b, " {"...)
	first := true
	for i, v := range vc {
		if v == 0 {
			continue
		}
		if !first {
			b = append(b, ", "...)
		}
		first = false
		b = append(b, '"')
		b = append(b, s.name(sim.NodeID(i))...)
		b = append(b, "\": "...)
		b = strconv.AppendUint(b, v, 10)
	}
	b = append(b, "}\n"...)
	s.buf = b
	s.w.Write(b)
	s.lines++
}

// Close flushes the log. It does not close the underlying writer.
func (s *ShiVizWriter) Close() error {
	if s.err != nil {
		return s.err
	}
	s.err = s.w.Flush()
	return s.err
}
