package spacetime

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/sim"
)

// TestBinaryV2Readable: a trace written by the second binary version
// (testdata/v2.pbt, from and to on every record, no send references or
// copies; written with testdata/v2.jsonl.zst from one lossy run) still
// reads as the same records as its JSON Lines twin.
func TestBinaryV2Readable(t *testing.T) {
	want, err := readTrace(t, "testdata/v2.jsonl.zst")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readTrace(t, "testdata/v2.pbt")
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 300 || len(got) != len(want) {
		t.Fatalf("%d records, JSONL has %d", len(got), len(want))
	}
	for i := range want {
		w, g := *want[i], *got[i]
		w.Line, g.Line = 0, 0
		if !reflect.DeepEqual(w, g) {
			t.Fatalf("record %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

// TestBinaryV3Damaged: the record forms of version 3 that refer to earlier
// records (a send by distance, a copy of the previous message) and the end
// mark are checked: a reference to nothing, flags that do not belong to the
// kind and a file cut between two records are errors naming the record.
func TestBinaryV3Damaged(t *testing.T) {
	deliver, send, timer, crash := byte(sim.RecDeliver), byte(sim.RecSend), byte(sim.RecTimer), byte(sim.RecCrash)
	end := string([]byte{sim.BinEnd})
	for _, tc := range []struct {
		name, data, want string
		records          int // read before the error
	}{
		{"delivery of no send", string([]byte{deliver | sim.BinSend, 0, 1}) + end, "record 1: refers to a send record 1 back, which is not among the last", 0},
		{"delivery of a crash", string([]byte{crash, 0, 1, deliver | sim.BinSend, 0, 1}) + end, "record 2: refers to a send record 1 back, which is not among the last", 1},
		{"send by distance", string([]byte{crash, 0, 1, send | sim.BinSend, 0, 1}) + end, "record 2: a send record with a send reference", 1},
		{"copy of nothing", string([]byte{send | sim.BinCopy, 0, 2}) + end, "record 1: copies the previous message, but there is none", 0},
		{"message flags on a timer", string([]byte{timer | sim.BinRef, 0, 1, 3}) + end, "record 1: message flags on a timer record", 0},
		{"event flag on a crash", string([]byte{crash | sim.BinEvent, 0, 1}) + end, "record 1: event flag on a crash record", 0},
		{"cut between records", string([]byte{crash, 0, 1, crash, 5, 2}), "record 3: truncated: the file ends without its end mark", 2},
		{"cut in the header", "", "record 1: truncated: the file ends inside this record", 0},
		{"two flushes", string([]byte{crash, 0, 1}) + end + string([]byte{crash, 5, 2}) + end, "", 2},
	} {
		if tc.name == "cut in the header" {
			tc.data = sim.BinaryMagic[:5]
		} else {
			tc.data = sim.BinaryMagic + tc.data
		}
		rd := NewBinaryReader(strings.NewReader(tc.data), "x.pbt")
		n := 0
		var err error
		for {
			if _, err = rd.Next(); err != nil {
				break
			}
			n++
		}
		if tc.want == "" {
			if err != io.EOF || n != tc.records {
				t.Errorf("%s: %d records, then %v; want %d, then EOF", tc.name, n, err, tc.records)
			}
			continue
		}
		var pe *ParseError
		if n != tc.records || !errors.As(err, &pe) || !strings.Contains(err.Error(), "x.pbt: "+tc.want) {
			t.Errorf("%s: %d records, then %v; want %d, then %q", tc.name, n, err, tc.records, tc.want)
		}
	}
}

var typeNoteV3 = sim.NewProtocol("spacetime-test").MsgType("NOTE-V3")

type noteV3 struct{ N int }

func (*noteV3) Type() sim.MsgType                 { return typeNoteV3 }
func (*noteV3) Size() int                         { return 8 }
func (m *noteV3) AppendCanonical(b []byte) []byte { return append(b, byte(m.N)) }

// TestBinarySendRefsOnlyToWrittenSends: a record refers to its send
// (Record.Ref) only when this sink wrote that send within sim.SendRing
// seqs; otherwise (a sink given only some kinds, a send far back) the
// message is written, and every record reads back with its message.
func TestBinarySendRefsOnlyToWrittenSends(t *testing.T) {
	m1, m2, m3 := &noteV3{1}, &noteV3{2}, &noteV3{3}
	recs := []sim.Record{
		{Seq: 0, Kind: sim.RecSend, From: 1, To: 2, Msg: m1},
		{Seq: 1, Kind: sim.RecSend, From: 1, To: 3, Msg: m1},                                                 // a copy
		{Seq: 2, Kind: sim.RecDeliver, From: 1, To: 2, Msg: m1, Ref: 1},                                      // by distance
		{Seq: 9, Kind: sim.RecDeliver, From: 4, To: 5, Msg: m2, Ref: 5},                                      // its send (seq 4) was not given
		{Seq: 10, Kind: sim.RecSend, From: 2, To: 0, Msg: m3},                                                // takes slot 10 mod SendRing
		{Seq: 10 + sim.SendRing, Kind: sim.RecDrop, From: 1, To: 3, Msg: m1, Ref: 2, Reason: sim.DropRandom}, // too far back
		{Seq: 11 + sim.SendRing, Kind: sim.RecDeliver, From: 2, To: 0, Msg: m3, Ref: 11},                     // too far back
	}
	rd := writeBinary(t, recs, "r.pbt")
	for i, w := range recs {
		r, err := rd.Next()
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		want := fmt.Sprintf(`{"N":%d}`, w.Msg.(*noteV3).N)
		if r.Seq != w.Seq || r.From != w.From || r.To != w.To || r.Type != "NOTE-V3" || string(r.Msg) != want {
			t.Errorf("record %d: seq %d %d->%d %s %s, want seq %d %d->%d NOTE-V3 %s", i, r.Seq, r.From, r.To, r.Type, r.Msg, w.Seq, w.From, w.To, want)
		}
	}
	if _, err := rd.Next(); err != io.EOF {
		t.Fatalf("after the records: %v", err)
	}
}

// writeBinary writes recs through a binary trace sink and returns a reader
// of the bytes written, named name in its errors.
func writeBinary(t *testing.T, recs []sim.Record, name string) *Reader {
	t.Helper()
	var buf bytes.Buffer
	s := sim.NewBinarySink(&buf)
	for i := range recs {
		s.Record(&recs[i])
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	return NewBinaryReader(bytes.NewReader(buf.Bytes()), name)
}
