package sim

import (
	"bufio"
	"encoding/binary"
	"io"
	"math/bits"
	"strconv"
	"unsafe"
)

// tracer builds trace records, folds them into the trace hash and hands them
// to the sinks. It reuses one record and one encoding buffer.
type tracer struct {
	seq   uint64
	hash  *uint64 // the kernel's Stats.TraceHash
	buf   []byte
	rec   Record
	sinks [RecRecover + 1][]Sink // by record kind, in Config.Sinks order
	// When a sink skips copies (see CopySink): copySinks are the send
	// sinks that take them, and prevSend, prevAt, prevFrom and prevMsg say
	// whether the last record was a send, and its time, sender and message.
	copies    bool
	copySinks []Sink
	prevSend  bool
	prevAt    Time
	prevFrom  NodeID
	prevMsg   Message

	// The canonical encoding of the last message hashed in full: a
	// multicast sends one (immutable) message to many nodes, and it is
	// encoded once. lastMsg keeps the message alive, so its address cannot
	// be reused for another message while it is cached.
	lastMsg Message
	msgBuf  []byte
	msgHash uint64 // lastMsg's content hash

	// The local clock reading of the next record's node, for a timer
	// record when clocks are configured (see Record.Local); not hashed: it
	// is a function of the record's time and the configuration.
	local    Time
	hasLocal bool

	types [256]uint64 // nameHash of each message type's name (0: not yet)
	names nameCache

	// When a sink filters events by type (see EventSink): the event sinks
	// of each dynamic type of event seen, by the type's itab, in an
	// open-addressing table of evSlots slots filled up to half (evTypes
	// types), then in the map evMore.
	evFilter bool
	evTypes  int
	evTab    [evSlots]struct {
		tab   unsafe.Pointer
		sinks []Sink
	}
	evMore map[unsafe.Pointer][]Sink
}

// evSlots is the size of the tracer's table of event types.
const evSlots = 64

const hashInit = 0x243f6a8885a308d3 // pi, hexadecimal digits

func (t *tracer) init(hash *uint64, sinks []Sink) {
	t.hash = hash
	*hash = hashInit
	t.buf = make([]byte, 0, 256)
	t.msgBuf = make([]byte, 0, 256)
	for k := range t.sinks {
		for _, s := range sinks {
			if ks, ok := s.(KindSink); !ok || ks.Wants(RecordKind(k)) {
				t.sinks[k] = append(t.sinks[k], s)
			}
		}
	}
	for _, s := range t.sinks[RecEvent] {
		if _, ok := s.(EventSink); ok {
			t.evFilter = true
		}
	}
	for _, s := range t.sinks[RecSend] {
		if cs, ok := s.(CopySink); ok && cs.SkipsCopies() {
			t.copies = true
		} else {
			t.copySinks = append(t.copySinks, s)
		}
	}
}

// Flags of the canonical record encoding.
const (
	encMsg = 1 << iota
	encRef
	encEvent
)

// record appends one trace record and returns its sequence number. When
// ref is non-zero the record concerns a message already hashed in the send
// record with sequence number ref-1 (a delivery, a duplicate or a drop in
// flight): the message is then represented by ref alone (its type and
// content are in the send record), which keeps the most frequent record, a
// delivery, to four words.
//
// The canonical encoding of a record is a sequence of little-endian 64-bit
// words: time; from<<32 | to (as uint32); kind | reason<<8 | flags<<16; for
// a timer record the timer id; for a message either ref or its content
// hash; for an event the hash of its Name and its AppendCanonical bytes as a
// string. A message's content hash is its AppendCanonical bytes as a string
// hashed (see hashBytes) from the hash of its type name (see nameHash); it
// is computed once for a message multicast to many nodes. A string is its
// length followed by its bytes zero-padded to whole words. Names, not
// interned numbers, are hashed, so the hash does not depend on registration
// order, and records need no sequence number: the hash is a fold over
// records in order. The words are folded into Stats.TraceHash one by one
// (see mix).
func (t *tracer) record(now Time, kind RecordKind, from, to NodeID, m Message, ref uint64, timer TimerID, ev Event, why DropReason) uint64 {
	var flags uint64
	if m != nil {
		flags |= encMsg
		if ref != 0 {
			flags |= encRef
		}
	}
	if ev != nil {
		flags |= encEvent
	}
	h := *t.hash
	h = mix(h, uint64(now))
	h = mix(h, uint64(uint32(from))<<32|uint64(uint32(to)))
	h = mix(h, uint64(kind)|uint64(why)<<8|flags<<16)
	if kind == RecTimer || timer != 0 && (kind == RecCrash || kind == RecRecover) {
		h = mix(h, uint64(timer)) // a timer's id; a crash kind other than keep
	}
	if m != nil {
		if ref != 0 {
			h = mix(h, ref)
		} else {
			if !sameValue(m, t.lastMsg) {
				t.msgBuf = m.AppendCanonical(t.msgBuf[:0])
				t.lastMsg = m
				t.msgHash = hashBytes(t.typeHash(m.Type()), t.msgBuf)
			}
			h = mix(h, t.msgHash)
		}
	}
	if ev != nil {
		h = mix(h, t.names.hash(ev.Name()))
		t.buf = ev.AppendCanonical(t.buf[:0])
		h = hashBytes(h, t.buf)
	}
	*t.hash = h
	sinks := t.sinks[kind]
	if ev != nil && t.evFilter {
		sinks = t.eventSinks(ev)
	}
	if t.copies {
		if kind == RecSend && t.prevSend && from == t.prevFrom && now == t.prevAt && sameValue(m, t.prevMsg) {
			sinks = t.copySinks // a later copy of a multicast
		}
		t.prevSend = kind == RecSend
		if t.prevSend {
			t.prevAt, t.prevFrom, t.prevMsg = now, from, m
		}
	}
	if len(sinks) > 0 {
		// field by field: cheaper than a struct copy's bulk write barrier
		r := &t.rec
		r.Seq, r.Time, r.Kind, r.From, r.To = t.seq, now, kind, from, to
		r.Msg, r.Timer, r.Event, r.Reason, r.Ref = m, timer, ev, why, ref
		r.Local, r.HasLocal = t.local, t.hasLocal
		for _, s := range sinks {
			s.Record(&t.rec)
		}
	}
	t.hasLocal = false
	t.seq++
	return t.seq - 1
}

// eventSinks returns the event sinks that take ev (see EventSink), asking
// them once per dynamic type of event.
func (t *tracer) eventSinks(ev Event) []Sink {
	type iface struct{ tab, data unsafe.Pointer }
	tab := (*iface)(unsafe.Pointer(&ev)).tab
	i := int(uint64(uintptr(tab)) * 0x9e3779b97f4a7c15 >> 58) // 6 bits: evSlots
	if e := &t.evTab[i]; e.tab == tab {
		return e.sinks
	}
	return t.moreEventSinks(ev, tab, i)
}

// moreEventSinks is eventSinks past the first slot i of ev's type tab.
func (t *tracer) moreEventSinks(ev Event, tab unsafe.Pointer, i int) []Sink {
	for t.evTab[i].tab != nil {
		if t.evTab[i].tab == tab {
			return t.evTab[i].sinks
		}
		i = (i + 1) % evSlots
	}
	sinks, ok := t.evMore[tab]
	if ok {
		return sinks
	}
	for _, s := range t.sinks[RecEvent] {
		if es, ok := s.(EventSink); !ok || es.WantsEvent(ev) {
			sinks = append(sinks, s)
		}
	}
	if t.evTypes < evSlots/2 {
		t.evTab[i].tab, t.evTab[i].sinks = tab, sinks
		t.evTypes++
	} else {
		if t.evMore == nil {
			t.evMore = make(map[unsafe.Pointer][]Sink)
		}
		t.evMore[tab] = sinks
	}
	return sinks
}

// typeHash returns nameHash of t's name, computed once per type.
func (t *tracer) typeHash(mt MsgType) uint64 {
	h := t.types[mt]
	if h == 0 {
		h = nameHash(mt.String())
		t.types[mt] = h
	}
	return h
}

// nameHash is the hash of a type or event name folded into a record: the
// name as a string (see hashBytes) hashed from hashInit. It is never 0 for
// the names in use (0 would only mean "not cached").
func nameHash(s string) uint64 { return hashString(hashInit, s) }

// nameCache memoises nameHash for event names. Names are usually string
// constants, so a name is recognised by its data pointer and length; a
// cached string is kept alive by the cache, so its memory cannot be reused
// for another string while it is cached. On a miss the string is hashed and
// the slot replaced, so the result never depends on what is cached.
type nameCache struct {
	slot [16]struct {
		s    string
		hash uint64
	}
}

func (c *nameCache) hash(s string) uint64 {
	p := unsafe.StringData(s)
	e := &c.slot[(uintptr(unsafe.Pointer(p))>>3^uintptr(len(s)))&15]
	if unsafe.StringData(e.s) == p && len(e.s) == len(s) && p != nil {
		return e.hash
	}
	e.s, e.hash = s, nameHash(s)
	return e.hash
}

// sameValue reports whether a and b are the same interface value: the same
// dynamic type and the same data pointer (so the same immutable message),
// without comparing values (which panics for uncomparable types).
func sameValue(a, b Message) bool {
	type iface struct{ tab, data unsafe.Pointer }
	x, y := (*iface)(unsafe.Pointer(&a)), (*iface)(unsafe.Pointer(&b))
	return x.tab == y.tab && x.data == y.data && x.data != nil
}

// mix folds the word w into the running hash h. For a fixed h it is a
// bijection of w, and for a fixed w a bijection of h, so no input can
// collapse the state (multiplication by an odd constant and xor-shift are
// both invertible).
func mix(h, w uint64) uint64 {
	h = (h ^ w) * 0x9e3779b97f4a7c15
	return h ^ h>>29
}

// hashBytes folds a length-prefixed byte string into h: 16 bytes per
// round with a 64x64->128-bit multiply (folded to 64 bits, as in wyhash),
// then the remaining whole word and the zero-padded tail word through mix.
// A round loses information only if its first factor is 0, a chance of
// 2^-64 per round.
func hashBytes(h uint64, b []byte) uint64 {
	all := b
	h = mix(h, uint64(len(b)))
	for len(b) >= 16 {
		h = mum(h^binary.LittleEndian.Uint64(b)^0xa0761d6478bd642f, binary.LittleEndian.Uint64(b[8:])^0xe7037ed1a0b428db)
		b = b[16:]
	}
	if len(b) >= 8 {
		h = mix(h, binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	if r := len(b); r > 0 {
		h = mix(h, tailWord(all, r))
	}
	return h
}

// tailWord returns the last r bytes of b (0 < r < 8, r <= len(b)) as a
// little-endian word zero-padded above them: when b holds at least 8 bytes,
// from one load of its last 8 bytes shifted down, else from two (possibly
// overlapping) 4-byte loads or, below 4 bytes, byte by byte.
func tailWord(b []byte, r int) uint64 {
	n := len(b)
	if n >= 8 {
		return binary.LittleEndian.Uint64(b[n-8:]) >> (64 - 8*uint(r))
	}
	t := b[n-r:]
	if r >= 4 {
		return uint64(binary.LittleEndian.Uint32(t)) | uint64(binary.LittleEndian.Uint32(t[r-4:]))<<(8*uint(r-4))
	}
	var w uint64
	for i := r - 1; i >= 0; i-- {
		w = w<<8 | uint64(t[i])
	}
	return w
}

// mum multiplies a and b to 128 bits and folds the halves together.
func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// hashString is hashBytes for a string, without copying it.
func hashString(h uint64, s string) uint64 {
	return hashBytes(h, unsafe.Slice(unsafe.StringData(s), len(s)))
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
// timer and to for timers (and local, the node's local clock in ns, when the
// run configures clocks); event (name), data (the event as JSON) and from
// for events; from for crash and recover; reason for drops. Output is
// buffered: call Flush at the end. The first write or encoding error is kept,
// later records are ignored, and Flush returns it.
type JSONLSink struct {
	w    *bufio.Writer
	buf  []byte
	err  error
	msgs *msgSlots // each message marshalled once, for its send and its deliveries
}

// NewJSONLSink returns a sink writing JSON Lines to w.
func NewJSONLSink(w io.Writer) *JSONLSink {
	return &JSONLSink{w: bufio.NewWriterSize(w, 64<<10), msgs: new(msgSlots)}
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
			data, err := s.msgs.lookup(r.Msg)
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
		if r.HasLocal {
			b = append(b, `,"local":`...)
			b = strconv.AppendInt(b, int64(r.Local), 10)
		}
	case RecEvent:
		b = appendNode(b, "from", r.From)
		if r.Event != nil {
			b = append(b, `,"event":`...)
			b = strconv.AppendQuote(b, r.Event.Name())
			b = append(b, `,"data":`...)
			var err error
			if b, err = appendValueJSON(b, r.Event); err != nil {
				s.err = err
				return
			}
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
