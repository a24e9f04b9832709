// Package spacetime reads pbftsim's JSON Lines traces (written by
// sim.NewJSONLSink) and turns them into pictures and into the formats of the
// tools people already use:
//
//   - a space-time (Lamport) diagram as SVG or as a self-contained HTML page
//     with filters by message type, sequence number, view and replica
//     (Diagram.WriteSVG, Diagram.WriteHTML);
//   - Chrome trace-event JSON that opens in ui.perfetto.dev and
//     chrome://tracing (PerfettoWriter);
//   - ShiViz's log format with vector clocks (ShiVizWriter).
//
// Everything streams: a Reader yields one Record at a time, Process pairs
// each message's send with its delivery or drop and hands Entries to
// Consumers. Every output is deterministic (same trace and options, same
// bytes), so it can be golden-tested.
package spacetime

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pbftsim/pbftsim/sim"
)

// Kind is the kind of a trace record, as written in its "kind" field.
type Kind uint8

// Record kinds (the values of the "kind" field).
const (
	KindSend      Kind = iota + 1 // "send": a network send accepted by the network
	KindDeliver                   // "deliver": a message delivered to To
	KindDrop                      // "drop": a message lost (see Reason)
	KindDuplicate                 // "duplicate": the network copied a message in flight
	KindLocal                     // "local": a node delivered a message to itself
	KindTimer                     // "timer": a timer fired at To
	KindEvent                     // "event": node From reported an event
	KindCrash                     // "crash": node From crashed
	KindRecover                   // "recover": node From recovered
)

var kindNames = [...]string{"", "send", "deliver", "drop", "duplicate", "local", "timer", "event", "crash", "recover"}

// String returns the kind's name as written in traces.
func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// IsMessage reports whether records of this kind carry a message.
func (k Kind) IsMessage() bool { return k >= KindSend && k <= KindLocal }

func parseKind(s string) (Kind, bool) {
	for i := 1; i < len(kindNames); i++ {
		if kindNames[i] == s {
			return Kind(i), true
		}
	}
	return 0, false
}

// Drop reasons, as written in a drop record's "reason" field.
var dropReasons = []string{"random", "partition", "filter", "crashed"}

// Limits that keep a malformed or hostile trace from exhausting memory.
const (
	// MaxLineBytes is the longest accepted trace line.
	MaxLineBytes = 64 << 20
	// MaxNodeID is the largest accepted node id (each node is a lane).
	MaxNodeID = 4095
	// maxNameLen bounds message type and event names.
	maxNameLen = 64
)

// Record is one decoded trace record. Msg and Data are the raw JSON of the
// message and of the event; they must not be modified (in a binary trace a
// message's JSON is shared by the records that refer to it).
type Record struct {
	Line  int        // 1-based line number in a JSON Lines file; the record number in a binary one
	Seq   uint64     // "seq"
	T     sim.Time   // "t", virtual nanoseconds
	Kind  Kind       // "kind"
	From  sim.NodeID // "from"
	To    sim.NodeID // "to"
	Type  string     // "type": message type name, for message kinds
	Msg   json.RawMessage
	Timer uint64 // "timer"
	// Local is the node's local clock time on a timer record ("local"),
	// when the run configured clocks (nil otherwise).
	Local  *sim.Time
	Event  string // "event": event name, for KindEvent
	Data   json.RawMessage
	Reason string // "reason": drop reason
	// Faulty lists nodes the trace declares Byzantine: a "faulty" field that
	// is a list of node ids or one id. A "faulty": true field on a record
	// instead sets Altered and declares From faulty.
	Faulty  []sim.NodeID
	Altered bool
}

// Node returns the node a record happens at: the receiver for deliveries,
// timers and drops of crashed receivers, the sender otherwise.
func (r *Record) Node() sim.NodeID {
	switch r.Kind {
	case KindDeliver, KindTimer, KindLocal:
		return r.To
	case KindDrop:
		if r.Reason == "crashed" {
			return r.To
		}
	}
	return r.From
}

// ParseError is a malformed, truncated or corrupt trace record:
// "FILE: record N: Msg", with " (line L)" after N in a JSON Lines trace
// when the line number differs from the record number (blank lines).
type ParseError struct {
	File   string
	Record int // 1-based number of the record that could not be read
	Line   int // 1-based line number in a JSON Lines trace, else 0
	Msg    string
}

func (e *ParseError) Error() string {
	if e.Line != 0 && e.Line != e.Record {
		return fmt.Sprintf("%s: record %d (line %d): %s", e.File, e.Record, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: record %d: %s", e.File, e.Record, e.Msg)
}

// Reader reads a trace one record at a time: JSON Lines (NewReader) or the
// binary format of sim.BinarySink (NewBinaryReader), either of them possibly
// zstd-compressed (OpenTrace).
type Reader struct {
	name    string
	sc      *bufio.Scanner // JSON Lines
	bin     *binReader     // binary
	closer  io.Closer
	line    int
	records int // records returned, or being read
	lastT   sim.Time
	seen    bool
	err     error
}

// NewReader returns a Reader of the JSON Lines trace r; name (usually the
// file name) prefixes error messages.
func NewReader(r io.Reader, name string) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	return &Reader{name: name, sc: sc}
}

// Close closes the file (and decompressor) that OpenTrace opened; it does
// nothing for a Reader made by NewReader or NewBinaryReader.
func (rd *Reader) Close() error {
	if rd.closer == nil {
		return nil
	}
	c := rd.closer
	rd.closer = nil
	return c.Close()
}

func (rd *Reader) errorf(format string, args ...any) error {
	rd.err = &ParseError{File: rd.name, Record: rd.records, Line: rd.line, Msg: fmt.Sprintf(format, args...)}
	return rd.err
}

// rawRecord is the wire form; pointers tell absent fields from zero ones.
type rawRecord struct {
	Seq    *uint64         `json:"seq"`
	T      *int64          `json:"t"`
	Kind   *string         `json:"kind"`
	From   *int64          `json:"from"`
	To     *int64          `json:"to"`
	Type   string          `json:"type"`
	Msg    json.RawMessage `json:"msg"`
	Timer  *uint64         `json:"timer"`
	Local  *int64          `json:"local"`
	Event  string          `json:"event"`
	Data   json.RawMessage `json:"data"`
	Reason string          `json:"reason"`
	Faulty json.RawMessage `json:"faulty"`
}

// Next returns the next record, or io.EOF after the last one. Blank lines are
// skipped. Any other error is a *ParseError and is sticky: a truncated or
// corrupt file (compressed or not) is reported at the record that could not
// be read.
func (rd *Reader) Next() (*Record, error) {
	if rd.err != nil {
		return nil, rd.err
	}
	rd.records++
	if rd.bin != nil {
		return rd.nextBinary()
	}
	for {
		if !rd.sc.Scan() {
			err := rd.sc.Err()
			if err == nil {
				rd.err = io.EOF
				return nil, io.EOF
			}
			rd.line++
			if errors.Is(err, bufio.ErrTooLong) {
				return nil, rd.errorf("line longer than %d bytes", MaxLineBytes)
			}
			return nil, rd.errorf("%v", readProblem(err))
		}
		rd.line++
		b := bytes.TrimSpace(rd.sc.Bytes())
		if len(b) == 0 {
			continue
		}
		return rd.decode(b)
	}
}

func (rd *Reader) decode(b []byte) (*Record, error) {
	if b[0] != '{' {
		return nil, rd.errorf("want a JSON object, got %q", clip(string(b), 40))
	}
	var raw rawRecord
	if fastDecode(b, &raw) {
		return rd.validate(&raw)
	}
	raw = rawRecord{}
	if err := json.Unmarshal(b, &raw); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, rd.errorf("field %q: want %s, got JSON %s", te.Field, te.Type, te.Value)
		}
		return nil, rd.errorf("invalid JSON: %v", err)
	}
	return rd.validate(&raw)
}

// validate checks a decoded line and turns it into a Record.
func (rd *Reader) validate(raw *rawRecord) (*Record, error) {
	line := rd.line
	if rd.bin != nil {
		line = rd.records
	}
	r := &Record{Line: line, Type: raw.Type, Msg: raw.Msg, Event: raw.Event, Data: raw.Data, Reason: raw.Reason}
	if raw.Kind == nil {
		return nil, rd.errorf(`missing field "kind" (one of %s)`, strings.Join(kindNames[1:], ", "))
	}
	k, ok := parseKind(*raw.Kind)
	if !ok {
		return nil, rd.errorf(`field "kind": %q is not one of %s`, clip(*raw.Kind, 40), strings.Join(kindNames[1:], ", "))
	}
	r.Kind = k
	if raw.Seq != nil {
		r.Seq = *raw.Seq
	}
	if raw.T != nil {
		if *raw.T < 0 {
			return nil, rd.errorf(`field "t": %d is negative (want virtual nanoseconds >= 0)`, *raw.T)
		}
		r.T = sim.Time(*raw.T)
	}
	if rd.seen && r.T < rd.lastT {
		return nil, rd.errorf(`field "t": %d goes back in time (previous record has t=%d); records must be in time order`, r.T, rd.lastT)
	}
	rd.seen, rd.lastT = true, r.T
	var err error
	if r.From, err = nodeField("from", raw.From); err != nil {
		return nil, rd.errorf("%v", err)
	}
	if r.To, err = nodeField("to", raw.To); err != nil {
		return nil, rd.errorf("%v", err)
	}
	if raw.Local != nil {
		l := sim.Time(*raw.Local)
		r.Local = &l
	}
	if raw.Timer != nil {
		r.Timer = *raw.Timer
	}
	if len(r.Type) > maxNameLen || len(r.Event) > maxNameLen {
		return nil, rd.errorf(`field "type" or "event" longer than %d bytes`, maxNameLen)
	}
	if k.IsMessage() && r.Type == "" {
		return nil, rd.errorf(`a %q record needs a "type" (the message type name, e.g. "PREPARE")`, k)
	}
	if k == KindEvent && r.Event == "" {
		return nil, rd.errorf(`an "event" record needs an "event" field (the event name, e.g. "committed")`)
	}
	if r.Reason != "" {
		if k != KindDrop {
			return nil, rd.errorf(`field "reason" is only allowed on "drop" records, not %q`, k)
		}
		ok := false
		for _, s := range dropReasons {
			ok = ok || s == r.Reason
		}
		if !ok {
			return nil, rd.errorf(`field "reason": %q is not one of %s`, clip(r.Reason, 40), strings.Join(dropReasons, ", "))
		}
	}
	if len(r.Msg) > 0 && r.Msg[0] != '{' && string(r.Msg) != "null" {
		return nil, rd.errorf(`field "msg": want a JSON object, got %s`, clip(string(r.Msg), 40))
	}
	if len(raw.Faulty) > 0 {
		if err := parseFaulty(raw.Faulty, r); err != nil {
			return nil, rd.errorf("%v", err)
		}
	}
	return r, nil
}

func nodeField(name string, v *int64) (sim.NodeID, error) {
	if v == nil {
		return 0, nil
	}
	if *v < 0 || *v > MaxNodeID {
		return 0, fmt.Errorf("field %q: node id %d out of range [0, %d]", name, *v, MaxNodeID)
	}
	return sim.NodeID(*v), nil
}

func parseFaulty(b json.RawMessage, r *Record) error {
	switch {
	case string(b) == "true":
		r.Altered = true
		r.Faulty = []sim.NodeID{r.From}
		return nil
	case string(b) == "false" || string(b) == "null":
		return nil
	case b[0] == '[':
		var ids []int64
		if err := json.Unmarshal(b, &ids); err != nil {
			return fmt.Errorf(`field "faulty": want a list of node ids, a node id or a boolean: %v`, err)
		}
		for _, id := range ids {
			n, err := nodeField("faulty", &id)
			if err != nil {
				return err
			}
			r.Faulty = append(r.Faulty, n)
		}
		return nil
	default:
		var id int64
		if err := json.Unmarshal(b, &id); err != nil {
			return fmt.Errorf(`field "faulty": want a list of node ids, a node id or a boolean, got %s`, clip(string(b), 40))
		}
		n, err := nodeField("faulty", &id)
		if err != nil {
			return err
		}
		r.Faulty = []sim.NodeID{n}
		return nil
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
