package sim

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"io"
	"unsafe"
)

// BinaryMagic starts every binary trace (see BinarySink).
const BinaryMagic = "PBTRACE\x01"

// MsgSlots is the number of message slots of the binary trace format: a
// message whose JSON was written in slot k is referred to by k until
// another message takes the slot.
const MsgSlots = 4096

// Flags of a binary trace record's head byte (above the kind's 4 bits).
const (
	BinMsg    = 1 << 4 // a message follows
	BinRef    = 1 << 5 // the message is a reference to a slot, not its JSON
	BinEvent  = 1 << 6 // an event follows
	BinReason = 1 << 7 // a drop reason byte follows
)

// msgSlots caches, by message identity, the JSON of recently traced
// messages: a message is multicast to many nodes and each copy is delivered,
// and it is encoded once. A slot keeps its message alive, so the message's
// address cannot be reused for another message while it is cached (messages
// are immutable, see Record).
type msgSlots struct {
	slot [MsgSlots]struct {
		m    Message
		json []byte
	}
}

// index is the slot of m: a hash of its data pointer.
func (c *msgSlots) index(m Message) int {
	type iface struct{ tab, data unsafe.Pointer }
	p := uintptr((*iface)(unsafe.Pointer(&m)).data)
	p = (p >> 4) * 0x9e3779b97f4a7c15
	return int(p >> (64 - 12))
}

// lookup returns m's slot, its cached JSON and whether it was cached. On a
// miss it marshals m into the slot.
func (c *msgSlots) lookup(m Message) (int, []byte, bool, error) {
	i := c.index(m)
	e := &c.slot[i]
	if sameValue(e.m, m) {
		return i, e.json, true, nil
	}
	data, err := json.Marshal(m)
	if err != nil {
		return i, nil, false, err
	}
	e.m, e.json = m, data
	return i, data, false, nil
}

// BinarySink writes the trace in pbftsim's binary format, a stream of
// records after BinaryMagic. Each record is
//
//	head       byte: kind (low 4 bits) | BinMsg | BinRef | BinEvent | BinReason
//	seq        uvarint: seq - (previous seq + 1), the first record's seq itself
//	dt         uvarint: virtual ns since the previous record
//	from, to   uvarint each
//	timer      uvarint, timer records only
//	reason     byte, if BinReason
//	message    if BinMsg: uvarint slot, then unless BinRef the type name and
//	           the message's JSON (each a uvarint length and the bytes)
//	event      if BinEvent: its name and its JSON (length-prefixed)
//
// A message is written in full once and then referred to by its slot (one
// of MsgSlots, chosen by the message's identity) while it stays there: a
// delivery costs about 7 bytes instead of the JSONL line's ~200. The
// records, fields and JSON are those of the JSONL format (see JSONLSink);
// a reader rebuilds them by keeping the same slot table. Output is buffered:
// call Flush at the end. The first write or encoding error is kept, later
// records are ignored, and Flush returns it.
type BinarySink struct {
	w       *bufio.Writer
	buf     []byte
	err     error
	started bool
	next    uint64 // the seq expected next
	last    Time
	msgs    msgSlots
	evBuf   []byte
}

// NewBinarySink returns a sink writing the binary trace format to w.
func NewBinarySink(w io.Writer) *BinarySink {
	return &BinarySink{w: bufio.NewWriterSize(w, 64<<10), buf: make([]byte, 0, 256)}
}

// Record writes r.
func (s *BinarySink) Record(r *Record) {
	if s.err != nil {
		return
	}
	b := s.buf[:0]
	if !s.started {
		s.started = true
		b = append(b, BinaryMagic...)
	}
	head := byte(r.Kind)
	if r.Msg != nil {
		head |= BinMsg
	}
	if r.Event != nil {
		head |= BinEvent
	}
	if r.Reason != DropNone {
		head |= BinReason
	}
	var slot int
	var data []byte
	if r.Msg != nil {
		var hit bool
		var err error
		slot, data, hit, err = s.msgs.lookup(r.Msg)
		if err != nil {
			s.err = err
			return
		}
		if hit {
			head |= BinRef
		}
	}
	hp := len(b)
	b = append(b, head)
	b = binary.AppendUvarint(b, r.Seq-s.next)
	b = binary.AppendUvarint(b, uint64(r.Time-s.last))
	s.next, s.last = r.Seq+1, r.Time
	// the node fields that the JSONL format writes, the others as 0
	from, to := r.From, r.To
	switch r.Kind {
	case RecSend, RecDeliver, RecDrop, RecDuplicate, RecLocal:
	case RecTimer:
		from = 0
	default:
		to = 0
	}
	b = binary.AppendUvarint(b, uint64(uint32(from)))
	b = binary.AppendUvarint(b, uint64(uint32(to)))
	if r.Kind == RecTimer {
		b = binary.AppendUvarint(b, uint64(r.Timer))
	}
	if r.Reason != DropNone {
		b = append(b, byte(r.Reason))
	}
	if r.Msg != nil {
		b = binary.AppendUvarint(b, uint64(slot))
		if b[hp]&BinRef == 0 {
			b = appendBinString(b, r.Msg.Type().String())
			b = appendBinBytes(b, data)
		}
	}
	if r.Event != nil {
		data, err := json.Marshal(r.Event)
		if err != nil {
			s.err = err
			return
		}
		b = appendBinString(b, r.Event.Name())
		b = appendBinBytes(b, data)
	}
	s.buf = b
	if _, err := s.w.Write(b); err != nil {
		s.err = err
	}
}

func appendBinString(b []byte, v string) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendBinBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// Flush writes buffered records and returns the first error met, if any. An
// empty trace is written as BinaryMagic alone.
func (s *BinarySink) Flush() error {
	if s.err != nil {
		return s.err
	}
	if !s.started {
		s.started = true
		if _, err := s.w.WriteString(BinaryMagic); err != nil {
			s.err = err
			return err
		}
	}
	if err := s.w.Flush(); err != nil {
		s.err = err
	}
	return s.err
}
