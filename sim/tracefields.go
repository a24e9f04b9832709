package sim

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// TraceAppender is implemented by messages and events that can write their
// JSON encoding through a FieldWriter, without reflection. What they write
// must be exactly what encoding/json's Marshal gives for the value (a test
// of each implementation compares the two): the binary trace then stores
// the value as a shape plus compact scalars, and readers rebuild the same
// JSON that the JSON Lines format holds.
type TraceAppender interface {
	AppendTraceFields(w *FieldWriter)
}

// Placeholders of a shape: a byte below 0x20 never appears in encoding/json's
// output outside a string, and inside one it is escaped, so a shape's
// literal text cannot contain them.
const (
	fieldUint = 1 + iota // uvarint, written in decimal
	fieldInt             // zigzag varint, written in decimal
	fieldBool            // one byte, 0 or 1
	fieldStr             // a string value (see internTable), written as a JSON string
	fieldHex             // a byte-string value (see internTable), written as a JSON string of lowercase hex digits
	fieldU64             // 8 bytes, little-endian, written in decimal: an unsigned number of at least 2^56 (a uvarint would take 9 or 10)
	fieldMax
)

// FieldWriter collects one JSON value as its shape (the JSON text with every
// scalar replaced by a placeholder byte) and its scalars in binary form (see
// BinarySink). Call the methods in the order of the JSON text.
type FieldWriter struct {
	shape []byte
	vals  []byte
	tab   *internTable // nil: every string is written in full
}

func (w *FieldWriter) reset() { w.shape, w.vals = w.shape[:0], w.vals[:0] }

// Lit appends literal JSON text: keys, punctuation, null. It must not
// contain bytes below 0x20 (JSON text never does outside strings).
func (w *FieldWriter) Lit(s string) { w.shape = append(w.shape, s...) }

// Uint appends an unsigned number.
func (w *FieldWriter) Uint(v uint64) {
	if v >= 1<<56 { // a signature or a hash: 8 bytes instead of 9-10
		w.shape = append(w.shape, fieldU64)
		w.vals = binary.LittleEndian.AppendUint64(w.vals, v)
		return
	}
	w.shape = append(w.shape, fieldUint)
	w.vals = binary.AppendUvarint(w.vals, v)
}

// Int appends a signed number.
func (w *FieldWriter) Int(v int64) {
	w.shape = append(w.shape, fieldInt)
	w.vals = binary.AppendVarint(w.vals, v)
}

// Bool appends true or false.
func (w *FieldWriter) Bool(v bool) {
	w.shape = append(w.shape, fieldBool)
	if v {
		w.vals = append(w.vals, 1)
	} else {
		w.vals = append(w.vals, 0)
	}
}

// String appends s as a JSON string, escaped as encoding/json escapes it.
func (w *FieldWriter) String(s string) {
	w.shape = append(w.shape, fieldStr)
	w.vals = w.tab.append(w.vals, unsafe.Slice(unsafe.StringData(s), len(s)))
}

// Hex appends b as a JSON string of lowercase hex digits (how a byte array
// with a hex MarshalText, such as a digest, encodes).
func (w *FieldWriter) Hex(b []byte) {
	w.shape = append(w.shape, fieldHex)
	w.vals = w.tab.append(w.vals, b)
}

// AppendJSON appends the JSON text of what a TraceAppender writes.
func AppendJSON(dst []byte, v TraceAppender) []byte {
	var w FieldWriter
	v.AppendTraceFields(&w)
	out, err := renderFields(dst, w.shape, &byteSource{b: w.vals}, nil)
	if err != nil { // cannot happen: the values were written with the shape
		panic("sim: AppendJSON: " + err.Error())
	}
	return out
}

// internMin is the shortest string or byte string that internTable keeps:
// a reference costs about two bytes.
const internMin = 3

// internSlots is the number of recent values a reference can reach.
const internSlots = 4096

// internTable keeps recent strings: a digest, an operation or a result is
// written in full the first time and then as a reference while it is
// among the last internSlots values written in full. Every value of at
// least internMin bytes written in full is numbered, from 0. A value is
// encoded as a uvarint x: x&1 == 0 means x>>1 bytes follow; x&1 == 1 refers
// to the value written in full x>>1 values before the latest (0: the
// latest). The writer finds values by a hash of their content, the reader
// keeps the last internSlots values in a ring.
type internTable struct {
	count uint64 // values written in full (of at least internMin bytes)
	slot  [internSlots]struct {
		b   []byte
		num uint64
	}
}

// internSlot is b's place in internTable: a cheap hash of up to three
// words of b (its first, middle and last 8 bytes) and its length. Values
// that collide only displace each other (a miss writes the value in
// full), so the hash decides the size of the trace, never its content.
func internSlot(b []byte) uint64 {
	var x uint64
	if n := len(b); n >= 8 {
		x = binary.LittleEndian.Uint64(b) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(b[n-8:]), 29)
		if n > 16 {
			x ^= bits.RotateLeft64(binary.LittleEndian.Uint64(b[n/2-4:]), 43)
		}
	} else {
		for _, c := range b {
			x = x<<8 | uint64(c)
		}
	}
	return ((x ^ uint64(len(b))) * 0x9e3779b97f4a7c15) >> (64 - 12)
}

// sameBytes is string(a) == string(b), with two 32-byte values (digests,
// the most frequent) compared in four word loads each, without a call.
func sameBytes(a, b []byte) bool {
	if len(a) == 32 && len(b) == 32 {
		le := binary.LittleEndian
		// (^ and | bind alike in Go: each xor in parentheses)
		return (le.Uint64(a)^le.Uint64(b))|(le.Uint64(a[8:])^le.Uint64(b[8:]))|
			(le.Uint64(a[16:])^le.Uint64(b[16:]))|(le.Uint64(a[24:])^le.Uint64(b[24:])) == 0
	}
	return string(a) == string(b)
}

// append appends b's encoding to vals and updates the table. A nil table
// writes every value in full.
func (t *internTable) append(vals, b []byte) []byte {
	if t != nil && len(b) >= internMin {
		e := &t.slot[internSlot(b)]
		if age := t.count - 1 - e.num; e.b != nil && age < internSlots && sameBytes(e.b, b) {
			return binary.AppendUvarint(vals, age<<1|1)
		}
		e.b, e.num = append(e.b[:0], b...), t.count
		t.count++
	}
	vals = binary.AppendUvarint(vals, uint64(len(b))<<1)
	return append(vals, b...)
}

// maxShapes bounds the shapes a binary trace keeps defined (each new list
// length of a message is a new shape): when the table is full, the next
// shape is defined as shape 1 again, which starts a new table.
var maxShapes = 1 << 14

// shapeTable numbers the shapes a BinarySink has defined, by name and shape.
// A value's shape is usually the one its name had last time: recent holds,
// per name (found by the address of its bytes: names are mostly constants),
// the last shape and its id, checked with one comparison of the shape bytes
// instead of hashing name and shape into the map. Where a name is kept
// depends on addresses, but every path gives the same id for the same name
// and shape, so the trace's bytes do not.
type shapeTable struct {
	ids     map[string]uint64
	key     []byte
	gen     uint64 // count of tables started (see maxShapes)
	lookups int    // shapes looked up in ids (recent did not have them)
	recent  [shapeRecent]struct {
		name  string
		shape []byte
		id    uint64
		gen   uint64
	}
}

// shapeRecent is the size of shapeTable.recent (a power of 2), and
// shapeProbes how many places from a name's first one may hold it: names
// whose first places collide (two frequent ones in one place made a third
// of the values look their shape up in the map) each keep one.
const (
	shapeRecent     = 64
	shapeRecentBits = 6
	shapeProbes     = 4
)

var _ = [1]int{}[shapeRecent-1<<shapeRecentBits]

// brokenShapeProbes (tests only) keeps a name only in its first place, as
// before names whose first places collide had a place each.
var brokenShapeProbes = false

// recentFor returns the place of name in recent and true when it holds
// name: the one holding it among its shapeProbes places, else the first of
// them that is free, else its first place.
func (t *shapeTable) recentFor(name string) (int, bool) {
	h := int(((uint64(uintptr(unsafe.Pointer(unsafe.StringData(name)))) + uint64(len(name))) * 0x9e3779b97f4a7c15) >> (64 - shapeRecentBits))
	free, probes := -1, shapeProbes
	if brokenShapeProbes {
		probes = 1
	}
	for i := range probes {
		j := (h + i) & (shapeRecent - 1)
		r := &t.recent[j]
		if r.gen != t.gen+1 {
			if free < 0 {
				free = j
			}
		} else if len(r.name) == len(name) && (unsafe.StringData(r.name) == unsafe.StringData(name) || r.name == name) {
			return j, true
		}
	}
	if free >= 0 {
		return free, false
	}
	return h, false
}

// id returns the id of (name, shape) and whether it is new (to be defined
// in the trace). Ids count from 1; a new id 1 after others starts a new
// table (see maxShapes).
func (t *shapeTable) id(name string, shape []byte) (uint64, bool) {
	j, held := t.recentFor(name)
	r := &t.recent[j]
	if held && string(r.shape) == string(shape) {
		return r.id, false
	}
	if t.ids == nil {
		t.ids = make(map[string]uint64)
	}
	t.key = append(append(append(t.key[:0], name...), 0), shape...)
	t.lookups++
	id, ok := t.ids[string(t.key)]
	if !ok {
		if len(t.ids) >= maxShapes {
			clear(t.ids)
			t.gen++ // every recent entry is stale
			j, _ = t.recentFor(name)
			r = &t.recent[j]
		}
		id = uint64(len(t.ids) + 1)
		t.ids[string(t.key)] = id
	}
	r.name, r.shape, r.id, r.gen = name, append(r.shape[:0], shape...), id, t.gen+1
	return id, !ok
}

// TraceFormatError is a binary trace record that was read whole but makes
// no sense (a corrupt file).
type TraceFormatError struct{ Problem string }

func (e *TraceFormatError) Error() string { return e.Problem }

func formatErr(format string, args ...any) error {
	return &TraceFormatError{fmt.Sprintf(format, args...)}
}

// A source of values: a byte slice or a buffered reader.
type valueSource interface {
	io.ByteReader
	next(n int) ([]byte, error) // the next n bytes, valid until the next call
}

type byteSource struct{ b []byte }

func (s *byteSource) ReadByte() (byte, error) {
	if len(s.b) == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c, nil
}

func (s *byteSource) next(n int) ([]byte, error) {
	if n > len(s.b) {
		return nil, io.ErrUnexpectedEOF
	}
	p := s.b[:n]
	s.b = s.b[n:]
	return p, nil
}

type readerSource struct {
	r   *bufio.Reader
	buf []byte
}

func (s *readerSource) ReadByte() (byte, error) { return s.r.ReadByte() }

func (s *readerSource) next(n int) ([]byte, error) {
	if cap(s.buf) < n {
		s.buf = make([]byte, n)
	}
	p := s.buf[:n]
	if _, err := io.ReadFull(s.r, p); err != nil {
		return nil, err
	}
	return p, nil
}

// renderFields appends the JSON of shape with its values from src to dst,
// interning values in tab (nil: none).
func renderFields(dst, shape []byte, src valueSource, tab *internTable) ([]byte, error) {
	for _, c := range shape {
		if c >= fieldMax {
			dst = append(dst, c)
			continue
		}
		switch c {
		case fieldUint:
			v, err := binary.ReadUvarint(src)
			if err != nil {
				return dst, valueErr("number", err)
			}
			dst = strconv.AppendUint(dst, v, 10)
		case fieldU64:
			p, err := src.next(8)
			if err != nil {
				return dst, valueErr("number", noEOF(err))
			}
			dst = strconv.AppendUint(dst, binary.LittleEndian.Uint64(p), 10)
		case fieldInt:
			v, err := binary.ReadVarint(src)
			if err != nil {
				return dst, valueErr("number", err)
			}
			dst = strconv.AppendInt(dst, v, 10)
		case fieldBool:
			b, err := src.ReadByte()
			if err != nil {
				return dst, valueErr("bool", noEOF(err))
			}
			switch b {
			case 0:
				dst = append(dst, "false"...)
			case 1:
				dst = append(dst, "true"...)
			default:
				return dst, formatErr("bool value %d is not 0 or 1 (corrupt file?)", b)
			}
		case fieldStr, fieldHex:
			v, err := tab.read(src)
			if err != nil {
				return dst, err
			}
			if c == fieldHex {
				dst = append(dst, '"')
				dst = hex.AppendEncode(dst, v)
				dst = append(dst, '"')
			} else {
				dst = appendJSONString(dst, v)
			}
		default:
			return dst, formatErr("shape byte %#x is not a placeholder (corrupt file?)", c)
		}
	}
	return dst, nil
}

// maxValueBytes bounds one string value in a binary trace.
const maxValueBytes = 1 << 24

// read reads one string value (see internTable) from src; the reader's
// table is a ring of the last internSlots values.
func (t *internTable) read(src valueSource) ([]byte, error) {
	x, err := binary.ReadUvarint(src)
	if err != nil {
		return nil, valueErr("string", err)
	}
	if x&1 == 1 {
		age := x >> 1
		if t == nil {
			return nil, formatErr("string reference where none can be")
		}
		if age >= internSlots || age >= t.count {
			return nil, formatErr("string reference %d values back, but %d are kept (corrupt or cut file?)", age, min(t.count, internSlots))
		}
		return t.slot[(t.count-1-age)%internSlots].b, nil
	}
	n := x >> 1
	if n > maxValueBytes {
		return nil, formatErr("string length %d exceeds %d bytes (corrupt file?)", n, maxValueBytes)
	}
	p, err := src.next(int(n))
	if err != nil {
		return nil, valueErr("string", noEOF(err))
	}
	if t != nil && len(p) >= internMin {
		e := &t.slot[t.count%internSlots]
		e.b = append(e.b[:0], p...)
		t.count++
		return e.b, nil
	}
	return p, nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func valueErr(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s value: %w", what, io.ErrUnexpectedEOF)
	}
	var fe *TraceFormatError
	if errors.As(err, &fe) {
		return err
	}
	if strings.Contains(err.Error(), "overflow") {
		return formatErr("%s value: varint overflows 64 bits (corrupt file?)", what)
	}
	return err
}

// appendJSONString appends s as encoding/json writes a string: quoted, with
// <, >, & and control characters escaped and invalid UTF-8 replaced.
func appendJSONString(dst, s []byte) []byte {
	for _, c := range s {
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			out, _ := json.Marshal(string(s)) // a string always marshals
			return append(dst, out...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// FieldDecoder reads the values of a binary trace (see BinarySink): it
// keeps the shapes and the string table the trace has defined so far.
type FieldDecoder struct {
	shapes []struct {
		name  string
		shape []byte
	}
	tab internTable
	src readerSource
}

// Value reads one message or event value from r: a tag and what follows
// (see BinarySink), and returns its type or event name and its JSON. A
// truncated value is an error wrapping io.ErrUnexpectedEOF, a corrupt one
// a *TraceFormatError.
func (d *FieldDecoder) Value(r *bufio.Reader, maxName, maxJSON int) (string, []byte, error) {
	d.src.r = r
	tag, err := binary.ReadUvarint(r)
	if err != nil {
		return "", nil, valueErr("tag", err)
	}
	if tag == 0 {
		name, err := d.lenBytes("name", maxName)
		if err != nil {
			return "", nil, err
		}
		nm := string(name)
		data, err := d.lenBytes("JSON", maxJSON)
		if err != nil {
			return "", nil, err
		}
		return nm, append([]byte(nil), data...), nil
	}
	id := tag >> 1
	if tag&1 == 1 {
		if id == 1 {
			d.shapes = d.shapes[:0] // a new table (see maxShapes)
		}
		if id != uint64(len(d.shapes)+1) {
			return "", nil, formatErr("defines shape %d, want %d (corrupt file?)", id, len(d.shapes)+1)
		}
		name, err := d.lenBytes("name", maxName)
		if err != nil {
			return "", nil, err
		}
		nm := string(name)
		shape, err := d.lenBytes("shape", maxJSON)
		if err != nil {
			return "", nil, err
		}
		d.shapes = append(d.shapes, struct {
			name  string
			shape []byte
		}{nm, append([]byte(nil), shape...)})
	} else if id == 0 || id > uint64(len(d.shapes)) {
		return "", nil, formatErr("refers to shape %d, which is not defined (corrupt or cut file?)", id)
	}
	s := &d.shapes[id-1]
	out, err := renderFields(nil, s.shape, &d.src, &d.tab)
	if err != nil {
		return "", nil, err
	}
	return s.name, out, nil
}

func (d *FieldDecoder) lenBytes(field string, limit int) ([]byte, error) {
	n, err := binary.ReadUvarint(d.src.r)
	if err != nil {
		return nil, valueErr(field+" length", err)
	}
	if n > uint64(limit) {
		return nil, formatErr("field %s: length %d exceeds %d bytes (corrupt file?)", field, n, limit)
	}
	p, err := d.src.next(int(n))
	if err != nil {
		return nil, fmt.Errorf("field %s: %w", field, noEOF(err))
	}
	return p, nil
}
