package sim

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// fieldsEvent is an event of every placeholder kind, with a list whose
// length changes its shape.
type fieldsEvent struct {
	N    uint64
	I    int64
	B    bool
	S    string
	H    hexBytes
	List []int64
}

type hexBytes [4]byte

func (h hexBytes) MarshalText() ([]byte, error) { return fmt.Appendf(nil, "%x", h[:]), nil }

func (e *fieldsEvent) Name() string                    { return "fields" }
func (e *fieldsEvent) AppendCanonical(b []byte) []byte { return b }
func (e *fieldsEvent) AppendTraceFields(w *FieldWriter) {
	w.Lit(`{"N":`)
	w.Uint(e.N)
	w.Lit(`,"I":`)
	w.Int(e.I)
	w.Lit(`,"B":`)
	w.Bool(e.B)
	w.Lit(`,"S":`)
	w.String(e.S)
	w.Lit(`,"H":`)
	w.Hex(e.H[:])
	w.Lit(`,"List":`)
	if e.List == nil {
		w.Lit(`null`)
	} else {
		w.Lit(`[`)
		for i, v := range e.List {
			if i > 0 {
				w.Lit(`,`)
			}
			w.Int(v)
		}
		w.Lit(`]`)
	}
	w.Lit(`}`)
}

// plainEvent has no TraceAppender: the binary trace holds its JSON.
type plainEvent struct{ X string }

func (e *plainEvent) Name() string                    { return "plain" }
func (e *plainEvent) AppendCanonical(b []byte) []byte { return b }

var fieldStrings = []string{"", "a", "ab", "abc", "authorize PAY001 100", "<&>", "quote \" and \\", "tab\t", "é ü", "bad \xff utf8", "\u2028"}

func randomFieldsEvent(r *rand.Rand) *fieldsEvent {
	e := &fieldsEvent{N: r.Uint64() >> r.IntN(64), I: int64(r.Uint64()) >> r.IntN(64), B: r.IntN(2) == 0,
		S: fieldStrings[r.IntN(len(fieldStrings))]}
	if r.IntN(3) == 0 {
		e.S = fmt.Sprint("s", r.IntN(100000))
	}
	binary.LittleEndian.PutUint32(e.H[:], r.Uint32()&0x0f0f)
	if k := r.IntN(5); k > 0 {
		e.List = make([]int64, k-1)
		for i := range e.List {
			e.List[i] = r.Int64N(1000) - 500
		}
	}
	return e
}

// TestAppendJSONMatchesMarshal: the JSON a FieldWriter renders is
// encoding/json's for every placeholder kind and tricky strings.
func TestAppendJSONMatchesMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		e := randomFieldsEvent(r)
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendJSON(nil, e); !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON %s\n  Marshal %s", got, want)
		}
	}
}

// readEventRecords parses a binary trace of event records (no messages):
// their names and JSON.
func readEventRecords(t *testing.T, data []byte) ([]string, [][]byte, error) {
	t.Helper()
	if !bytes.HasPrefix(data, []byte(BinaryMagic)) {
		t.Fatalf("no magic")
	}
	br := bufio.NewReader(bytes.NewReader(data[len(BinaryMagic):]))
	var d FieldDecoder
	var names []string
	var out [][]byte
	for {
		head, err := br.ReadByte()
		if err == io.EOF {
			return names, out, nil
		}
		if head == BinEnd {
			continue
		}
		if head != byte(RecEvent)|BinEvent {
			t.Fatalf("head %#x", head)
		}
		for range 2 { // dt, from (consecutive seqs: no skip)
			if _, err := binary.ReadUvarint(br); err != nil {
				return names, out, noEOF(err)
			}
		}
		name, js, err := d.Value(br, 64, 1<<20)
		if err != nil {
			return names, out, err
		}
		names = append(names, name)
		out = append(out, js)
	}
}

// TestBinaryValuesRoundTrip: events written through shapes and the string
// table read back as their encoding/json text, also after the string slots
// are overwritten and after the shape table fills and starts again; the
// repeated strings make the trace smaller than writing each in full.
func TestBinaryValuesRoundTrip(t *testing.T) {
	defer func(m int) { maxShapes = m }(maxShapes)
	maxShapes = 3 // the lists' lengths make 5 shapes: the table restarts
	r := rand.New(rand.NewPCG(3, 4))
	var buf bytes.Buffer
	s := NewBinarySink(&buf)
	var want [][]byte
	var names []string
	for i := range 20000 {
		var ev Event = randomFieldsEvent(r)
		if i%97 == 0 {
			ev = &plainEvent{X: fmt.Sprint("p", i)}
		}
		js, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, js)
		names = append(names, ev.Name())
		s.Record(&Record{Seq: uint64(i), Time: Time(i), Kind: RecEvent, From: 1, Event: ev})
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	gotNames, got, err := readEventRecords(t, buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d values, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) || gotNames[i] != names[i] {
			t.Fatalf("value %d: %s %s, want %s %s", i, gotNames[i], got[i], names[i], want[i])
		}
	}
	// Without the string table every string is written in full: the table
	// must save bytes on this workload, where most strings repeat.
	var full bytes.Buffer
	s2 := NewBinarySink(&full)
	s2.fw.tab = nil
	r = rand.New(rand.NewPCG(3, 4))
	for i := range 20000 {
		var ev Event = randomFieldsEvent(r)
		if i%97 == 0 {
			ev = &plainEvent{X: fmt.Sprint("p", i)}
		}
		s2.Record(&Record{Seq: uint64(i), Time: Time(i), Kind: RecEvent, From: 1, Event: ev})
	}
	s2.Flush()
	if buf.Len() >= full.Len() {
		t.Errorf("with the string table %d bytes, without %d", buf.Len(), full.Len())
	}
}

// TestBinaryValuesDamaged: a cut or corrupted value is an error (truncation
// wraps io.ErrUnexpectedEOF, corruption is a *TraceFormatError or invalid
// JSON), never a panic.
func TestBinaryValuesDamaged(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var buf bytes.Buffer
	s := NewBinarySink(&buf)
	for i := range 200 {
		s.Record(&Record{Seq: uint64(i), Kind: RecEvent, From: 1, Event: randomFieldsEvent(r)})
	}
	s.Flush()
	data := buf.Bytes()
	for cut := len(BinaryMagic) + 1; cut < len(data); cut += 37 {
		_, _, err := readEventRecords(t, data[:cut])
		if err == nil {
			continue // cut between records
		}
		var fe *TraceFormatError
		if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.As(err, &fe) {
			t.Fatalf("cut at %d: %v (%T)", cut, err, err)
		}
	}
	// Shape 1 defined (name "x", shape: one string) with a value that refers
	// to the string 5 back, when none was written; the values of shape 3, not defined;
	// shape 2 defined first; a bool that is neither 0 nor 1.
	for _, bad := range []string{"\x03\x01x\x01\x04\x0b", "\x06\x00", "\x05\x01x\x01\x04\x00", "\x03\x01x\x01\x03\x07"} {
		var d FieldDecoder
		_, _, err := d.Value(bufio.NewReader(bytes.NewReader([]byte(bad))), 64, 1<<20)
		var fe *TraceFormatError
		if !errors.As(err, &fe) {
			t.Errorf("%q: %v, want a *TraceFormatError", bad, err)
		}
	}
}

// TestShapeRecentCollisions: two names whose first places in the shape
// table's recent entries are the same, used in turn, each keep a place: a
// repeated shape is found without a map lookup (with brokenShapeProbes
// every value but the first two is looked up).
func TestShapeRecentCollisions(t *testing.T) {
	for _, broken := range []bool{false, true} {
		brokenShapeProbes = broken
		lookups := shapeCollisionLookups(t)
		brokenShapeProbes = false
		if got := lookups > 2; got != broken {
			t.Errorf("brokenShapeProbes=%v: %d map lookups for 2 shapes used 2,000 times", broken, lookups)
		}
	}
}

// shapeCollisionLookups returns the map lookups of 1,000 values each of
// two names with the same first place, in turn, the same shape each.
func shapeCollisionLookups(t *testing.T) int {
	var tab shapeTable
	first := func(name string) int {
		tab.recent = [shapeRecent]struct {
			name  string
			shape []byte
			id    uint64
			gen   uint64
		}{}
		j, _ := tab.recentFor(name)
		return j
	}
	names := []string{}
	byPlace := map[int]string{}
	for i := 0; len(names) < 2; i++ {
		n := fmt.Sprint("name-", i) // on the heap: addresses differ
		p := first(n)
		if other, ok := byPlace[p]; ok {
			names = append(names, other, n)
		}
		byPlace[p] = n
	}
	tab = shapeTable{}
	shape := []byte(`{"x":` + placeholder(fieldUint) + `}`)
	for range 1000 {
		for _, n := range names {
			tab.id(n, shape)
		}
	}
	return tab.lookups
}

func placeholder(c byte) string { return string([]byte{c}) }

// TestSameBytes compares sameBytes with bytes.Equal on values that differ in
// one byte anywhere (32-byte ones compared word by word), and shows that a
// comparison that skips a word is caught.
func TestSameBytes(t *testing.T) {
	if bad := sameBytesMismatch(sameBytes); bad != "" {
		t.Error(bad)
	}
	skipsWord := func(a, b []byte) bool { // a broken variant: the last word not compared
		if len(a) == 32 && len(b) == 32 {
			return string(a[:24]) == string(b[:24])
		}
		return string(a) == string(b)
	}
	if sameBytesMismatch(skipsWord) == "" {
		t.Error("a comparison that skips the last word passed")
	}
}

// sameBytesMismatch returns where eq disagrees with bytes.Equal, or "".
func sameBytesMismatch(eq func(a, b []byte) bool) string {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 3, 8, 16, 31, 32, 33, 64} {
		a := make([]byte, n)
		for i := range a {
			a[i] = byte(r.Uint32())
		}
		cases := [][]byte{append([]byte(nil), a...), append(append([]byte(nil), a...), 0)}
		for i := range n {
			c := append([]byte(nil), a...)
			c[i] ^= 1 << (i % 8)
			cases = append(cases, c)
		}
		for _, c := range cases {
			if got, want := eq(a, c), bytes.Equal(a, c); got != want {
				return fmt.Sprintf("%x vs %x: %v, want %v", a, c, got, want)
			}
		}
	}
	return ""
}
