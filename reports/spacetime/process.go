package spacetime

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/pbftsim/pbftsim/sim"
)

// Entry is a Record with its message matched: a delivery, drop or
// duplicate knows the send it belongs to.
type Entry struct {
	Record
	// Flow numbers a message in flight, from 1 in send order; every record
	// of the same message copy (send, duplicate, deliver, drop) carries the
	// same Flow. 0 for records without a message and for local deliveries.
	Flow uint64
	// Matched is set on a deliver/drop/duplicate whose send was found; SentAt
	// is then the send's time.
	Matched bool
	SentAt  sim.Time
}

// Consumer receives the entries of a trace in order.
type Consumer interface {
	Consume(e *Entry) error
}

// Matcher pairs each message's send with its later delivery or drop: same
// from, to, type and message JSON, first in first out.
type Matcher struct {
	pending map[string][]pend
	next    uint64
	key     []byte
}

type pend struct {
	flow uint64
	t    sim.Time
}

// NewMatcher returns an empty Matcher.
func NewMatcher() *Matcher { return &Matcher{pending: make(map[string][]pend)} }

// Match fills e.Flow, e.Matched and e.SentAt from e.Record.
func (m *Matcher) Match(e *Entry) {
	e.Flow, e.Matched, e.SentAt = 0, false, 0
	r := &e.Record
	if !r.Kind.IsMessage() || r.Kind == KindLocal {
		return
	}
	m.key = m.key[:0]
	m.key = strconv.AppendInt(m.key, int64(r.From), 10)
	m.key = append(m.key, '>')
	m.key = strconv.AppendInt(m.key, int64(r.To), 10)
	m.key = append(m.key, ' ')
	m.key = append(m.key, r.Type...)
	m.key = append(m.key, ' ')
	m.key = append(m.key, r.Msg...)
	q := m.pending[string(m.key)]
	switch r.Kind {
	case KindSend:
		m.next++
		e.Flow = m.next
		m.pending[string(m.key)] = append(q, pend{flow: m.next, t: r.T})
	case KindDuplicate:
		// A copy of the newest matching message in flight.
		if len(q) > 0 {
			p := q[len(q)-1]
			e.Flow, e.Matched, e.SentAt = p.flow, true, p.t
			m.pending[string(m.key)] = append(q, p)
			return
		}
		m.next++
		e.Flow = m.next
		m.pending[string(m.key)] = append(q, pend{flow: m.next, t: r.T})
	case KindDeliver, KindDrop:
		if len(q) == 0 {
			m.next++
			e.Flow = m.next
			return
		}
		p := q[0]
		e.Flow, e.Matched, e.SentAt = p.flow, true, p.t
		if len(q) == 1 {
			delete(m.pending, string(m.key))
		} else {
			m.pending[string(m.key)] = q[1:]
		}
	}
}

// InFlight returns how many message copies were sent but neither delivered
// nor dropped.
func (m *Matcher) InFlight() int {
	n := 0
	for _, q := range m.pending {
		n += len(q)
	}
	return n
}

// Process reads every record of rd, matches messages and hands each entry
// to every consumer in order. It stops at the first error.
func Process(rd *Reader, cs ...Consumer) error {
	m := NewMatcher()
	var e Entry
	for {
		r, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		e.Record = *r
		m.Match(&e)
		for _, c := range cs {
			if err := c.Consume(&e); err != nil {
				return err
			}
		}
	}
}

// Info summarises a whole trace: what the renderers need to know before
// they start (node roles, faulty nodes, time span).
type Info struct {
	Records  int
	Messages int // sends plus unmatched deliveries/drops (one per message copy)
	Dropped  int
	Start    sim.Time
	End      sim.Time
	MaxNode  sim.NodeID // -1 when no node appears
	Replicas int        // inferred number of replicas (ids 0..Replicas-1)
	Faulty   []sim.NodeID
	Types    []string // message types seen, in TypeOrder
	Events   []string // event names seen, sorted

	clientSeen  map[sim.NodeID]bool
	replicaSeen map[sim.NodeID]bool
	faultySet   map[sim.NodeID]bool
	typeSet     map[string]bool
	eventSet    map[string]bool
}

// NewInfo returns an empty Info, to be filled by Consume and finished by
// Finish.
func NewInfo() *Info {
	return &Info{MaxNode: -1, clientSeen: map[sim.NodeID]bool{}, replicaSeen: map[sim.NodeID]bool{},
		faultySet: map[sim.NodeID]bool{}, typeSet: map[string]bool{}, eventSet: map[string]bool{}}
}

// Scan reads a whole trace and returns its Info.
func Scan(rd *Reader) (*Info, error) {
	in := NewInfo()
	if err := Process(rd, in); err != nil {
		return nil, err
	}
	in.Finish()
	return in, nil
}

// replicaTypes are sent only by replicas; clientEvents only come from clients.
var replicaTypes = map[string]bool{"PRE-PREPARE": true, "PREPARE": true, "COMMIT": true, "REPLY": true,
	"CHECKPOINT": true, "VIEW-CHANGE": true, "NEW-VIEW": true, "FETCH-STATE": true, "STATE": true}

// Consume implements Consumer.
func (in *Info) Consume(e *Entry) error {
	r := &e.Record
	if in.Records == 0 {
		in.Start = r.T
	}
	in.Records++
	in.End = r.T
	in.MaxNode = max(in.MaxNode, r.From, r.To)
	for _, f := range r.Faulty {
		in.faultySet[f] = true
		in.MaxNode = max(in.MaxNode, f)
	}
	switch r.Kind {
	case KindSend:
		in.Messages++
	case KindDeliver, KindDrop:
		if !e.Matched {
			in.Messages++
		}
	}
	if r.Kind == KindDrop {
		in.Dropped++
	}
	if r.Kind.IsMessage() {
		in.typeSet[r.Type] = true
		if replicaTypes[r.Type] {
			in.replicaSeen[r.From] = true
		}
		if r.Type == "REPLY" {
			in.clientSeen[r.To] = true
		}
	}
	if r.Kind == KindEvent {
		in.eventSet[r.Event] = true
		switch r.Event {
		case "submitted", "accepted":
			in.clientSeen[r.From] = true
		default:
			in.replicaSeen[r.From] = true
		}
	}
	return nil
}

// Finish infers the number of replicas (the smallest client id, clients
// being the nodes that receive REPLYs or report submitted/accepted) and
// sorts the sets.
func (in *Info) Finish() {
	in.Replicas = int(in.MaxNode) + 1
	for c := range in.clientSeen {
		if !in.replicaSeen[c] && int(c) < in.Replicas {
			in.Replicas = int(c)
		}
	}
	in.Faulty = in.Faulty[:0]
	for f := range in.faultySet {
		in.Faulty = append(in.Faulty, f)
	}
	slices.Sort(in.Faulty)
	in.Types = in.Types[:0]
	for t := range in.typeSet {
		in.Types = append(in.Types, t)
	}
	SortTypes(in.Types)
	in.Events = in.Events[:0]
	for ev := range in.eventSet {
		in.Events = append(in.Events, ev)
	}
	slices.Sort(in.Events)
}

// TypeOrder is the order of PBFT message types in legends and filters;
// other types follow in name order.
var TypeOrder = []string{"REQUEST", "PRE-PREPARE", "PREPARE", "COMMIT", "REPLY", "CHECKPOINT",
	"VIEW-CHANGE", "NEW-VIEW", "FETCH-STATE", "STATE"}

// SortTypes sorts message type names in TypeOrder, unknown ones after in
// name order.
func SortTypes(ts []string) {
	rank := func(t string) int {
		if i := slices.Index(TypeOrder, t); i >= 0 {
			return i
		}
		return len(TypeOrder)
	}
	slices.SortFunc(ts, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
}

// Options select what the renderers show. The zero value shows everything
// with default limits.
type Options struct {
	// From and To bound the time window (virtual ns); HasFrom/HasTo say
	// whether they are set. A message is in the window when its flight
	// [send, arrival] meets [From, To].
	From, To       sim.Time
	HasFrom, HasTo bool
	// Types keeps only these message types (nil: all).
	Types []string
	// MaxArrows caps the arrows drawn in a diagram (0: DefaultMaxArrows).
	MaxArrows int
	// Faulty nodes are highlighted as Byzantine, in addition to those the
	// trace declares.
	Faulty []sim.NodeID
	// Replicas is the number of replicas (ids 0..Replicas-1, clients after);
	// 0 infers it from the trace.
	Replicas int
	// Title is shown at the top of diagrams.
	Title string
	// Annotations are drawn on diagrams as labelled vertical markers (for
	// example the step where a property was violated).
	Annotations []Annotation
}

// Annotation is a labelled instant on a diagram, on one node's lane or
// (Node < 0) across all lanes.
type Annotation struct {
	T    sim.Time
	Node sim.NodeID
	Text string
}

// DefaultMaxArrows is the arrow cap when Options.MaxArrows is 0.
const DefaultMaxArrows = 2000

// MaxMaxArrows is the largest accepted Options.MaxArrows.
const MaxMaxArrows = 1_000_000

// Validate reports out-of-range options.
func (o *Options) Validate() error {
	if o.HasFrom && o.From < 0 {
		return fmt.Errorf("from: %d is negative (want a time >= 0)", o.From)
	}
	if o.HasFrom && o.HasTo && o.To < o.From {
		return fmt.Errorf("to: %v is before from %v", o.To, o.From)
	}
	if o.MaxArrows < 0 || o.MaxArrows > MaxMaxArrows {
		return fmt.Errorf("max-arrows: %d out of range [1, %d] (0 means the default %d)", o.MaxArrows, MaxMaxArrows, DefaultMaxArrows)
	}
	if o.Replicas < 0 || o.Replicas > MaxNodeID+1 {
		return fmt.Errorf("replicas: %d out of range [0, %d]", o.Replicas, MaxNodeID+1)
	}
	for _, f := range o.Faulty {
		if f < 0 || f > MaxNodeID {
			return fmt.Errorf("faulty: node id %d out of range [0, %d]", f, MaxNodeID)
		}
	}
	for _, t := range o.Types {
		if t == "" {
			return fmt.Errorf("types: empty message type name")
		}
	}
	return nil
}

func (o *Options) maxArrows() int {
	if o.MaxArrows <= 0 {
		return DefaultMaxArrows
	}
	return o.MaxArrows
}

func (o *Options) typeOK(t string) bool {
	return len(o.Types) == 0 || slices.Contains(o.Types, t)
}

// inWindow reports whether [a, b] meets the window.
func (o *Options) inWindow(a, b sim.Time) bool {
	if o.HasFrom && b < o.From {
		return false
	}
	if o.HasTo && a > o.To {
		return false
	}
	return true
}

// NodeName names a node: "r3" for replica 3, "c5" for client 5, or "n3"
// when the number of replicas is unknown (0).
func NodeName(id sim.NodeID, replicas int) string {
	switch {
	case replicas <= 0:
		return "n" + strconv.Itoa(int(id))
	case int(id) < replicas:
		return "r" + strconv.Itoa(int(id))
	default:
		return "c" + strconv.Itoa(int(id))
	}
}

// MsgFields are the commonly filtered fields of a message or event JSON.
type MsgFields struct {
	View, Seq       uint64
	HasView, HasSeq bool
	Digest          string // "Digest" as written (hex), "" if absent
}

// Fields extracts the view and sequence number from a message or event
// JSON: View (or NewView for VIEW-CHANGE, To for view-change events) and Seq.
func Fields(b json.RawMessage) MsgFields {
	var f MsgFields
	if len(b) == 0 || b[0] != '{' {
		return f
	}
	var v struct {
		View    *uint64
		NewView *uint64
		To      *uint64
		Seq     *uint64
		Digest  string
	}
	if json.Unmarshal(b, &v) != nil {
		return f
	}
	switch {
	case v.View != nil:
		f.View, f.HasView = *v.View, true
	case v.NewView != nil:
		f.View, f.HasView = *v.NewView, true
	case v.To != nil:
		f.View, f.HasView = *v.To, true
	}
	if v.Seq != nil {
		f.Seq, f.HasSeq = *v.Seq, true
	}
	f.Digest = v.Digest
	return f
}
