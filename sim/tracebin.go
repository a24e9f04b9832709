package sim

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"unsafe"
)

// BinaryMagic starts every binary trace (see BinarySink); BinaryMagicV2
// the traces of the second version (no BinSend or BinCopy records, from and
// to on every record), BinaryMagicV1 those of the first, which held each
// message and event as JSON.
const (
	BinaryMagic   = "PBTRACE\x03"
	BinaryMagicV2 = "PBTRACE\x02"
	BinaryMagicV1 = "PBTRACE\x01"
)

// MsgSlots is the number of recent messages a binary trace record can
// refer to: a message written in full is numbered (from 0), and a later
// record refers to it by its age, how many messages were written in full
// after it, while that is below MsgSlots.
const MsgSlots = 4096

// msgWindow is how many recent messages a writer (msgSlots) keeps: no more
// than MsgSlots, so every reference it writes can be read back. With
// BinSend and BinCopy a message is referred to by age only when sent again
// (a retransmission); a small window keeps the writer's index in cache and
// fewer messages alive. A message sent again more than msgWindow messages
// later is written in full.
const msgWindow = 512

// Flags of a binary trace record's head byte (above the kind's 4 bits).
const (
	BinMsg    = 1 << 4 // a message follows
	BinRef    = 1 << 5 // the message is a reference (its age), not its value
	BinEvent  = 1 << 6 // an event follows
	BinReason = 1 << 7 // a drop reason byte follows
	// BinLocal, on a timer record (which has no message), says the node's
	// local clock time follows the timer id (see Record.Local).
	BinLocal = BinMsg
	// BinSend, on a record of a message kind (which has no event), says the
	// record concerns the message of a send record, given by how many seqs
	// back it is (see SendRing): from, to and the message are the send's.
	BinSend = BinEvent
	// BinCopy (BinRef without BinMsg), on a record of a message kind, says
	// from and the message are those of the previous record that carried a
	// message: only to is written (a multicast's later copies).
	BinCopy = BinRef
	// BinEnd, a head of kind 0 (no record), marks where Flush ended the
	// output: a version 3 trace ends with it, so a file cut between two
	// records is told from a whole one. Records may follow it (a later
	// Flush writes another).
	BinEnd = 0xf0
)

// msgSlots caches, by message identity, recently traced messages (and, for
// the JSON Lines sink, their JSON): a message is multicast to many nodes and
// each copy is delivered, and it is encoded once. Messages taking a slot are
// numbered from 0, and message k takes slot k % msgWindow (see msgWindow). A
// slot keeps its message alive, so the message's address cannot be reused
// for another message while it is cached (messages are immutable, see
// Record). Whether a message is found depends only on the sequence of
// messages traced, not on where they lie in memory: the binary trace's
// bytes are the same in every run of a seed.
type msgSlots struct {
	count uint64 // messages numbered so far
	slot  [msgWindow]Message
	// hidden marks a slot whose message is no longer found: a message of
	// another type was numbered at its address (a zero-size value).
	hidden [msgWindow]bool
	// index finds a message's slot by its address: open addressing with
	// linear probing, an entry is a slot + 1 (0: an empty place; 4 bytes
	// a place: the index stays in cache). Entries are never removed: one
	// whose slot now holds a message at another address (or none) is
	// stale, and a lookup passes over it. Every msgWindow insertions the
	// index is rebuilt from the slots, so it holds at most 2*msgWindow
	// entries in 4*msgWindow places.
	index [1 << msgIndexBits]int32
	added int                // entries inserted since the index was rebuilt
	json  *[msgWindow][]byte // each slot's JSON (the JSON Lines sink), allocated by lookup
}

type iface struct{ tab, data unsafe.Pointer }

// dataOf returns m's data pointer and type word.
func dataOf(m *Message) (p, tab unsafe.Pointer) {
	f := (*iface)(unsafe.Pointer(m))
	return f.data, f.tab
}

// msgIndexBits is log2 of the places of msgSlots.index.
const msgIndexBits = 11

// The index has four times msgWindow places, and the window fits the
// readers'.
var (
	_ = [1]int{}[1<<msgIndexBits-4*msgWindow]
	_ = [MsgSlots - msgWindow + 1]int{}
)

// home is the first place of address p in index.
func home(p unsafe.Pointer) int {
	return int((uint64(uintptr(p)>>4) * 0x9e3779b97f4a7c15) >> (64 - msgIndexBits))
}

// insert enters slot i, whose message is at address p, in the index.
func (c *msgSlots) insert(p unsafe.Pointer, i int) {
	h := home(p)
	for c.index[h] != 0 {
		h = (h + 1) & (1<<msgIndexBits - 1)
	}
	c.index[h] = int32(i + 1)
}

// rebuild makes the index anew from the slots whose messages can be found.
func (c *msgSlots) rebuild() {
	clear(c.index[:])
	for i := range c.slot {
		if p, _ := dataOf(&c.slot[i]); p != nil && !c.hidden[i] {
			c.insert(p, i)
		}
	}
	c.added = 0
}

// seen returns m's slot and, if m was numbered fewer than msgWindow messages
// ago, its age (0: the latest) and true; otherwise m takes the slot with
// the next number.
func (c *msgSlots) seen(m Message) (int, uint64, bool) {
	p, tab := dataOf(&m)
	if c.count > 0 {
		// A multicast's copies come one after the other: the latest
		// message numbered, if still in its slot, is found without the
		// index (a message is in at most one slot).
		i := int((c.count - 1) % msgWindow)
		if sameValue(c.slot[i], m) {
			return i, 0, true
		}
	}
	other := -1 // the slot of a message of another type at p
	if p != nil {
		for h := home(p); c.index[h] != 0; h = (h + 1) & (1<<msgIndexBits - 1) {
			i := int(c.index[h] - 1)
			if q, t := dataOf(&c.slot[i]); q == p && !c.hidden[i] {
				if t == tab {
					return i, (c.count - 1 - uint64(i)) % msgWindow, true // slot i holds the latest number = i mod msgWindow
				}
				other = i // another type at the address (a zero-size value) is another message
			}
		}
	}
	if other >= 0 {
		c.hidden[other] = true // no longer found (it stays in its slot until overwritten)
	}
	i := int(c.count % msgWindow)
	c.slot[i], c.hidden[i] = m, false
	if p != nil {
		if c.added == msgWindow {
			c.rebuild()
		} else {
			c.insert(p, i)
			c.added++
		}
	}
	if c.json != nil {
		c.json[i] = c.json[i][:0]
	}
	c.count++
	return i, 0, false
}

// forget drops the message of slot i (its encoding failed).
func (c *msgSlots) forget(i int) {
	c.slot[i], c.hidden[i] = nil, false
}

// lookup returns m's JSON, encoding it into m's slot on a miss.
func (c *msgSlots) lookup(m Message) ([]byte, error) {
	if c.json == nil {
		c.json = new([msgWindow][]byte)
	}
	i, _, hit := c.seen(m)
	if hit {
		return c.json[i], nil
	}
	data, err := appendValueJSON(c.json[i][:0], m)
	if err != nil {
		c.forget(i)
		return nil, err
	}
	c.json[i] = data
	return data, nil
}

// appendValueJSON appends v's JSON: through its TraceAppender when it has
// one, else encoding/json.
func appendValueJSON(b []byte, v any) ([]byte, error) {
	if ta, ok := v.(TraceAppender); ok {
		return AppendJSON(b, ta), nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, data...), nil
}

// BinarySink writes the trace in pbftsim's binary format, a stream of
// records after BinaryMagic. Each record is
//
//	skip       only when the record's seq is not the previous seq + 1 (0
//	           for the first record): a 0 byte, then a uvarint, how many
//	           seqs are skipped (a sink that takes only some kinds of record)
//	head       byte: kind (low 4 bits, 1..9) | BinMsg | BinRef | BinEvent | BinReason
//	dt         uvarint: virtual ns since the previous record
//	nodes      by kind, uvarints:
//	           send, deliver, drop, duplicate, local: with BinSend, the
//	           distance back to the record's send (see SendRing), which
//	           gives from, to and the message; with BinCopy, to alone (from
//	           and the message are the previous message record's); else
//	           from and to
//	           timer: to; event, crash, recover: from
//	timer      uvarint, timer records only; then, if BinLocal (= BinMsg,
//	           which a timer record never carries otherwise), the node's
//	           local clock time as a varint (runs that configure clocks)
//	reason     byte, if BinReason
//	message    if BinMsg: with BinRef a uvarint, the message's age (see
//	           MsgSlots), else the message's value
//	event      event records, if BinEvent: the event's value
//
// A value is a uvarint tag, then
//
//	tag 0      the type or event name and the JSON (each a uvarint length and
//	           the bytes), for values that are not TraceAppenders
//	tag 2k+1   defines shape k: the name and the shape (length-prefixed), then
//	           the shape's values; shape 1 after others starts a new table
//	tag 2k     the values of shape k, defined before
//
// A shape is the value's JSON text with each scalar replaced by a
// placeholder byte (below 0x20); the values follow in order: numbers as
// (zigzag) uvarints, booleans as a byte, strings and hex byte strings as in
// internTable (a repeated digest, operation or result costs about two
// bytes). A message is written once and then referred to: a multicast's
// later copies by BinCopy (about 3 bytes), a delivery by its send's
// distance (about 5 bytes, most of it the time), other records by the
// message's age while it is among the last MsgSlots messages written. The
// records, fields and JSON are those of the JSONL format (see JSONLSink); a
// reader rebuilds them by keeping the same send ring, message ring, shapes
// and string table (FieldDecoder). Version 2 (BinaryMagicV2) had neither
// BinSend, BinCopy nor BinEnd and wrote from and to on every record. Output is
// buffered: call Flush at the end, which also writes BinEnd. The first
// write or encoding error is kept, later records are ignored, and Flush
// returns it.
type BinarySink struct {
	w       io.Writer
	out     []byte // buffered output, written to w once it reaches binFlush bytes
	err     error
	started bool
	next    uint64 // the seq expected next
	last    Time
	msgs    msgSlots
	fw      FieldWriter
	shapes  shapeTable
	tab     internTable
	// sent has bit q%SendRing set when record q, among the last
	// SendRing seqs, is a send written by this sink.
	sent [SendRing / 64]uint64
	// The previous record written with a message: its from and message.
	lastFrom NodeID
	lastMsg  Message
}

// SendRing bounds how far back a deliver, drop or duplicate record can
// refer to its send record (BinSend): the seq distance is below SendRing.
const SendRing = 1 << 15

// binFlush is the size at which a BinarySink writes its buffered output.
const binFlush = 64 << 10

// NewBinarySink returns a sink writing the binary trace format to w.
func NewBinarySink(w io.Writer) *BinarySink {
	s := &BinarySink{w: w, out: make([]byte, 0, binFlush+512)}
	s.fw.tab = &s.tab
	return s
}

// isMessageKind reports whether records of kind k carry a message.
func isMessageKind(k RecordKind) bool { return k >= RecSend && k <= RecLocal }

// Record writes r.
func (s *BinarySink) Record(r *Record) {
	if s.err != nil {
		return
	}
	b := s.out
	if !s.started {
		s.started = true
		b = append(b, BinaryMagic...)
	}
	if r.Seq != s.next {
		b = append(b, 0)
		b = binary.AppendUvarint(b, r.Seq-s.next)
		// the skipped seqs are no sends
		for q, n := s.next, 0; q != r.Seq && n < SendRing; q, n = q+1, n+1 {
			s.sent[q/64%(SendRing/64)] &^= 1 << (q % 64)
		}
	}
	dt := uint64(r.Time - s.last)
	s.next, s.last = r.Seq+1, r.Time
	bit := &s.sent[r.Seq/64%(SendRing/64)]
	*bit &^= 1 << (r.Seq % 64)
	head := byte(r.Kind)
	if r.Reason != DropNone {
		head |= BinReason
	}
	if !isMessageKind(r.Kind) {
		var node NodeID
		switch r.Kind {
		case RecTimer:
			node = r.To
			if r.HasLocal {
				head |= BinLocal
			}
		case RecEvent:
			node = r.From
			if r.Event != nil {
				head |= BinEvent
			}
		default:
			node = r.From
		}
		b = append(b, head)
		b = binary.AppendUvarint(b, dt)
		b = binary.AppendUvarint(b, uint64(uint32(node)))
		if r.Kind == RecTimer {
			b = binary.AppendUvarint(b, uint64(r.Timer))
			if r.HasLocal {
				b = binary.AppendVarint(b, int64(r.Local))
			}
		}
		b = appendReason(b, r)
		if head&BinEvent != 0 {
			var err error
			if b, err = s.appendValue(b, r.Event.Name(), r.Event); err != nil {
				s.err = err
				return
			}
		}
		s.done(b)
		return
	}
	m := r.Msg
	if m == nil { // cannot come from the kernel: from and to alone
		b = append(b, head)
		b = binary.AppendUvarint(b, dt)
		b = binary.AppendUvarint(b, uint64(uint32(r.From)))
		b = binary.AppendUvarint(b, uint64(uint32(r.To)))
		b = appendReason(b, r)
		s.done(b)
		return
	}
	if r.Kind == RecSend {
		*bit |= 1 << (r.Seq % 64)
	}
	// A record of a send's message refers to the send while it is among
	// the last SendRing records and was written here.
	if q := r.Ref - 1; r.Ref != 0 && r.Kind != RecSend && r.Seq-q < SendRing && q < r.Seq &&
		s.sent[q/64%(SendRing/64)]&(1<<(q%64)) != 0 {
		b = append(b, head|BinSend)
		b = binary.AppendUvarint(b, dt)
		b = binary.AppendUvarint(b, r.Seq-q)
		b = appendReason(b, r)
		s.lastFrom, s.lastMsg = r.From, m
		s.done(b)
		return
	}
	if r.From == s.lastFrom && sameValue(m, s.lastMsg) {
		b = append(b, head|BinCopy)
		b = binary.AppendUvarint(b, dt)
		b = binary.AppendUvarint(b, uint64(uint32(r.To)))
		b = appendReason(b, r)
		s.done(b)
		return
	}
	slot, age, hit := s.msgs.seen(m)
	head |= BinMsg
	if hit {
		head |= BinRef
	}
	b = append(b, head)
	b = binary.AppendUvarint(b, dt)
	b = binary.AppendUvarint(b, uint64(uint32(r.From)))
	b = binary.AppendUvarint(b, uint64(uint32(r.To)))
	b = appendReason(b, r)
	if hit {
		b = binary.AppendUvarint(b, age)
	} else {
		var err error
		if b, err = s.appendValue(b, m.Type().String(), m); err != nil {
			s.msgs.forget(slot)
			s.err = err
			return
		}
	}
	s.lastFrom, s.lastMsg = r.From, m
	s.done(b)
}

// appendReason appends a drop's reason byte (nothing for other records).
func appendReason(b []byte, r *Record) []byte {
	if r.Reason != DropNone {
		b = append(b, byte(r.Reason))
	}
	return b
}

// done keeps b, the output with the record appended, writing it out once
// it reaches binFlush bytes (in write, out of line: done is inlined).
func (s *BinarySink) done(b []byte) {
	s.out = b
	if len(b) >= binFlush {
		s.write()
	}
}

// write writes the buffered output and empties the buffer.
func (s *BinarySink) write() {
	if _, err := s.w.Write(s.out); err != nil {
		s.err = err
	}
	s.out = s.out[:0]
}

// appendValue appends the value v named name (see BinarySink).
func (s *BinarySink) appendValue(b []byte, name string, v any) ([]byte, error) {
	if ta, ok := v.(TraceAppender); ok {
		s.fw.reset()
		ta.AppendTraceFields(&s.fw)
		id, isNew := s.shapes.id(name, s.fw.shape)
		if isNew {
			b = binary.AppendUvarint(b, id<<1|1)
			b = appendBinString(b, name)
			b = appendBinBytes(b, s.fw.shape)
		} else {
			b = binary.AppendUvarint(b, id<<1)
		}
		return append(b, s.fw.vals...), nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	b = append(b, 0)
	b = appendBinString(b, name)
	return appendBinBytes(b, data), nil
}

func appendBinString(b []byte, v string) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendBinBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// Flush writes buffered records and BinEnd, and returns the first error
// met, if any. An empty trace is written as BinaryMagic and BinEnd.
func (s *BinarySink) Flush() error {
	if s.err != nil {
		return s.err
	}
	if !s.started {
		s.started = true
		s.out = append(s.out, BinaryMagic...)
	}
	s.out = append(s.out, BinEnd)
	s.write()
	return s.err
}
