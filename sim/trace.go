package sim

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"io"
	"math/bits"
	"strconv"
)

// tracer builds trace records, folds them into the trace hash and hands them
// to the sinks. It reuses one record and one encoding buffer.
type tracer struct {
	seq   uint64
	hash  *uint64 // the kernel's Stats.TraceHash
	buf   []byte
	rec   Record
	sinks []Sink
}

const hashInit = 0x243f6a8885a308d3 // pi, hexadecimal digits

func (t *tracer) init(hash *uint64, sinks []Sink) {
	t.hash = hash
	*hash = hashInit
	t.buf = make([]byte, 0, 256)
	t.sinks = append([]Sink(nil), sinks...)
}

// record appends one trace record and returns its sequence number. When
// ref is non-zero the record concerns a message already hashed in the send
// record with sequence number ref-1 (a delivery or a drop in flight): the
// message is then encoded by its type name and ref instead of its content,
// which saves encoding large messages twice.
func (t *tracer) record(now Time, kind RecordKind, from, to NodeID, m Message, ref uint64, timer TimerID, ev Event, why DropReason) uint64 {
	// Canonical encoding: seq, time, kind, from, to, reason, timer, then the
	// message type name and either its canonical bytes or the reference to
	// its send record, then the event name and bytes. Names are
	// length-prefixed strings, so the encoding does not depend on the order
	// in which a binary registered its message types.
	b := t.buf[:0]
	b = binary.LittleEndian.AppendUint64(b, t.seq)
	b = binary.LittleEndian.AppendUint64(b, uint64(now))
	b = append(b, byte(kind), byte(why))
	b = binary.LittleEndian.AppendUint32(b, uint32(from))
	b = binary.LittleEndian.AppendUint32(b, uint32(to))
	b = binary.LittleEndian.AppendUint64(b, uint64(timer))
	if m != nil {
		name := m.Type().String()
		b = binary.AppendUvarint(append(b, 'M'), uint64(len(name)))
		b = append(b, name...)
		if ref != 0 {
			b = binary.AppendUvarint(append(b, 'R'), ref)
		} else {
			b = m.AppendCanonical(append(b, 'C'))
		}
	}
	if ev != nil {
		name := ev.Name()
		b = binary.AppendUvarint(append(b, 'E'), uint64(len(name)))
		b = append(b, name...)
		b = ev.AppendCanonical(b)
	}
	*t.hash = hashBytes(*t.hash, b)
	t.buf = b
	if len(t.sinks) > 0 {
		t.rec = Record{Seq: t.seq, Time: now, Kind: kind, From: from, To: to, Msg: m, Timer: timer, Event: ev, Reason: why}
		for _, s := range t.sinks {
			s.Record(&t.rec)
		}
	}
	t.seq++
	return t.seq - 1
}

// hashBytes folds b into the running 64-bit hash h. It mixes eight bytes at
// a time with a 128-bit multiply (in the style of wyhash) and finishes with
// the length, so records of different lengths never collide trivially.
func hashBytes(h uint64, b []byte) uint64 {
	const (
		p0 = 0xa0761d6478bd642f
		p1 = 0xe7037ed1a0b428db
		p2 = 0x8ebc6af09c88c6e3
	)
	n := uint64(len(b))
	for len(b) >= 16 {
		h = mum(binary.LittleEndian.Uint64(b)^p1, binary.LittleEndian.Uint64(b[8:])^h)
		b = b[16:]
	}
	if len(b) >= 8 {
		h = mum(binary.LittleEndian.Uint64(b)^p1, h^p2)
		b = b[8:]
	}
	var tail uint64
	for i := len(b) - 1; i >= 0; i-- {
		tail = tail<<8 | uint64(b[i])
	}
	h = mum(tail^p0, h^n^p2)
	return h
}

func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// String returns the record kind's name as used in JSON traces ("send",
// "deliver", "drop", "duplicate", "local", "timer", "event", "crash",
// "recover").
func (k RecordKind) String() string {
	switch k {
	case RecSend:
		return "send"
	case RecDeliver:
		return "deliver"
	case RecDrop:
		return "drop"
	case RecDuplicate:
		return "duplicate"
	case RecLocal:
		return "local"
	case RecTimer:
		return "timer"
	case RecEvent:
		return "event"
	case RecCrash:
		return "crash"
	case RecRecover:
		return "recover"
	}
	return "RecordKind(" + strconv.Itoa(int(k)) + ")"
}

// String returns the drop reason's name ("random", "partition", "filter",
// "crashed"), or "" for DropNone.
func (r DropReason) String() string {
	switch r {
	case DropNone:
		return ""
	case DropRandom:
		return "random"
	case DropPartition:
		return "partition"
	case DropFilter:
		return "filter"
	case DropCrashed:
		return "crashed"
	}
	return "DropReason(" + strconv.Itoa(int(r)) + ")"
}

// JSONLSink writes the trace as JSON Lines, one object per record:
//
//	{"seq":0,"t":0,"kind":"send","from":0,"to":1,"type":"PING","msg":{...}}
//
// Fields: seq, t (virtual ns), kind; from and to for message records; type
// (message type name) and msg (the message as JSON) for message records;
// timer and to for timers; event (name), data (the event as JSON) and from
// for events; from for crash and recover; reason for drops. Output is
// buffered: call Flush at the end. The first write or encoding error is kept,
// later records are ignored, and Flush returns it.
type JSONLSink struct {
	w   *bufio.Writer
	buf []byte
	err error
}

// NewJSONLSink returns a sink writing JSON Lines to w.
func NewJSONLSink(w io.Writer) *JSONLSink {
	return &JSONLSink{w: bufio.NewWriterSize(w, 64<<10)}
}

// Record writes r as one JSON line.
func (s *JSONLSink) Record(r *Record) {
	if s.err != nil {
		return
	}
	b := s.buf[:0]
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, r.Seq, 10)
	b = append(b, `,"t":`...)
	b = strconv.AppendInt(b, int64(r.Time), 10)
	b = append(b, `,"kind":`...)
	b = strconv.AppendQuote(b, r.Kind.String())
	switch r.Kind {
	case RecSend, RecDeliver, RecDrop, RecDuplicate, RecLocal:
		b = appendNode(b, "from", r.From)
		b = appendNode(b, "to", r.To)
		if r.Msg != nil {
			b = append(b, `,"type":`...)
			b = strconv.AppendQuote(b, r.Msg.Type().String())
			data, err := json.Marshal(r.Msg)
			if err != nil {
				s.err = err
				return
			}
			b = append(b, `,"msg":`...)
			b = append(b, data...)
		}
		if r.Reason != DropNone {
			b = append(b, `,"reason":`...)
			b = strconv.AppendQuote(b, r.Reason.String())
		}
	case RecTimer:
		b = appendNode(b, "to", r.To)
		b = append(b, `,"timer":`...)
		b = strconv.AppendUint(b, uint64(r.Timer), 10)
	case RecEvent:
		b = appendNode(b, "from", r.From)
		if r.Event != nil {
			b = append(b, `,"event":`...)
			b = strconv.AppendQuote(b, r.Event.Name())
			data, err := json.Marshal(r.Event)
			if err != nil {
				s.err = err
				return
			}
			b = append(b, `,"data":`...)
			b = append(b, data...)
		}
	default:
		b = appendNode(b, "from", r.From)
	}
	b = append(b, '}', '\n')
	s.buf = b
	if _, err := s.w.Write(b); err != nil {
		s.err = err
	}
}

func appendNode(b []byte, key string, id NodeID) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, int64(id), 10)
}

// Flush writes buffered lines and returns the first error met, if any.
func (s *JSONLSink) Flush() error {
	if s.err != nil {
		return s.err
	}
	if err := s.w.Flush(); err != nil {
		s.err = err
	}
	return s.err
}
