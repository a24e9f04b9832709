package spacetime

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/sim"
)

func readAll(t testing.TB, name string, data []byte) ([]*Record, error) {
	t.Helper()
	rd := NewReader(bytes.NewReader(data), name)
	var out []*Record
	for {
		r, err := rd.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
}

func TestReaderTinyFixture(t *testing.T) {
	data, err := os.ReadFile("testdata/tiny.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := readAll(t, "tiny.jsonl", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 32 {
		t.Fatalf("read %d records, want 32", len(recs))
	}
	r := recs[5]
	if r.Kind != KindDrop || r.From != 0 || r.To != 3 || r.Type != "PRE-PREPARE" || r.Reason != "random" || r.T != 1_000_000 || r.Line != 6 {
		t.Errorf("record 5 = %+v, want the random drop of PRE-PREPARE 0->3 at 1ms on line 6", r)
	}
	if f := Fields(recs[2].Msg); !f.HasView || !f.HasSeq || f.View != 0 || f.Seq != 1 {
		t.Errorf("Fields(PRE-PREPARE) = %+v, want view 0 seq 1", f)
	}
	if r := recs[12]; !r.Altered || len(r.Faulty) != 1 || r.Faulty[0] != 3 {
		t.Errorf(`record 12 with "faulty":true: Altered=%v Faulty=%v, want true [3]`, r.Altered, r.Faulty)
	}
	if r := recs[18]; r.Kind != KindTimer || r.To != 3 || r.Timer != 7 || r.Node() != 3 {
		t.Errorf("timer record = %+v, want timer 7 at node 3", r)
	}
}

func TestReaderErrors(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"not an object", `[1,2]`, "t.jsonl: record 1: want a JSON object"},
		{"bad json", `{"kind":"send",`, "t.jsonl: record 1: invalid JSON"},
		{"missing kind", `{"t":5}`, `t.jsonl: record 1: missing field "kind"`},
		{"unknown kind", `{"kind":"teleport"}`, `t.jsonl: record 1: field "kind": "teleport" is not one of send, deliver`},
		{"t wrong type", `{"kind":"crash","t":"soon"}`, `t.jsonl: record 1: field "t": want int64`},
		{"negative t", `{"kind":"crash","t":-1}`, `field "t": -1 is negative`},
		{"time goes back", "{\"kind\":\"crash\",\"t\":10}\n\n{\"kind\":\"recover\",\"t\":5}", `t.jsonl: record 2 (line 3): field "t": 5 goes back in time`},
		{"node out of range", `{"kind":"crash","from":99999}`, `field "from": node id 99999 out of range [0, 4095]`},
		{"negative node", `{"kind":"timer","to":-2}`, `field "to": node id -2 out of range`},
		{"message without type", `{"kind":"send","from":1,"to":2,"msg":{}}`, `a "send" record needs a "type"`},
		{"event without name", `{"kind":"event","from":1}`, `an "event" record needs an "event" field`},
		{"bad reason", `{"kind":"drop","type":"PREPARE","reason":"gremlins"}`, `field "reason": "gremlins" is not one of random, partition, filter, crashed`},
		{"reason on deliver", `{"kind":"deliver","type":"PREPARE","reason":"random"}`, `field "reason" is only allowed on "drop" records`},
		{"msg not object", `{"kind":"send","type":"PREPARE","msg":42}`, `field "msg": want a JSON object, got 42`},
		{"bad faulty", `{"kind":"crash","faulty":"yes"}`, `field "faulty": want a list of node ids`},
		{"faulty out of range", `{"kind":"crash","faulty":[1,5000]}`, `field "faulty": node id 5000 out of range`},
		{"long type", `{"kind":"send","type":"` + strings.Repeat("X", 65) + `"}`, `longer than 64 bytes`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAll(t, "t.jsonl", []byte(tc.input))
			if err == nil {
				t.Fatalf("no error for %s", tc.input)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is a %T, want *ParseError", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestReaderAbsentFieldsAreZero(t *testing.T) {
	recs, err := readAll(t, "t", []byte("{\"kind\":\"crash\"}\n  \n{\"seq\":1,\"t\":3,\"kind\":\"timer\",\"to\":2,\"timer\":9}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].From != 0 || recs[0].T != 0 || recs[1].Line != 3 || recs[1].To != 2 || recs[1].Timer != 9 {
		t.Fatalf("records = %+v %+v", recs[0], recs[1])
	}
}

func TestReaderErrorIsSticky(t *testing.T) {
	rd := NewReader(strings.NewReader("oops\n{\"kind\":\"crash\"}\n"), "f")
	_, err1 := rd.Next()
	_, err2 := rd.Next()
	if err1 == nil || err2 == nil || err1.Error() != err2.Error() {
		t.Fatalf("errors %v then %v, want the same error twice", err1, err2)
	}
}

func TestMatcherPairsSendsWithDeliveries(t *testing.T) {
	in := strings.Join([]string{
		`{"t":0,"kind":"send","from":0,"to":1,"type":"P","msg":{"Seq":1}}`,
		`{"t":0,"kind":"send","from":0,"to":1,"type":"P","msg":{"Seq":2}}`,
		`{"t":0,"kind":"duplicate","from":0,"to":1,"type":"P","msg":{"Seq":1}}`,
		`{"t":5,"kind":"deliver","from":0,"to":1,"type":"P","msg":{"Seq":2}}`,
		`{"t":6,"kind":"deliver","from":0,"to":1,"type":"P","msg":{"Seq":1}}`,
		`{"t":7,"kind":"deliver","from":0,"to":1,"type":"P","msg":{"Seq":1}}`,
		`{"t":8,"kind":"deliver","from":0,"to":1,"type":"P","msg":{"Seq":1}}`,
	}, "\n")
	m := NewMatcher()
	rd := NewReader(strings.NewReader(in), "m")
	var got []Entry
	for {
		r, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		e := Entry{Record: *r}
		m.Match(&e)
		got = append(got, e)
	}
	want := []struct {
		flow    uint64
		matched bool
		sentAt  sim.Time
	}{{1, false, 0}, {2, false, 0}, {1, true, 0}, {2, true, 0}, {1, true, 0}, {1, true, 0}, {3, false, 0}}
	for i, w := range want {
		if got[i].Flow != w.flow || got[i].Matched != w.matched || got[i].SentAt != w.sentAt {
			t.Errorf("entry %d (line %d): flow %d matched %v sentAt %v, want %+v", i, got[i].Line, got[i].Flow, got[i].Matched, got[i].SentAt, w)
		}
	}
	if m.InFlight() != 0 {
		t.Errorf("InFlight = %d, want 0", m.InFlight())
	}
}

func TestInfoInfersRoles(t *testing.T) {
	data := mustRead(t, "testdata/tiny.jsonl")
	info, err := Scan(NewReader(bytes.NewReader(data), "tiny"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Replicas != 4 || info.MaxNode != 4 || info.Records != 32 || info.Dropped != 2 || info.End != 8_000_000 {
		t.Errorf("info = %+v, want 4 replicas, max node 4, 32 records, 2 drops, end 8ms", info)
	}
	if len(info.Faulty) != 1 || info.Faulty[0] != 3 {
		t.Errorf("faulty = %v, want [3]", info.Faulty)
	}
	want := []string{"REQUEST", "PRE-PREPARE", "PREPARE", "COMMIT", "REPLY", "VIEW-CHANGE"}
	if strings.Join(info.Types, ",") != strings.Join(want, ",") {
		t.Errorf("types = %v, want %v", info.Types, want)
	}
	if info.Messages != 12 {
		t.Errorf("messages = %d, want 12 sends", info.Messages)
	}
}

// FuzzReader feeds arbitrary bytes through the reader and every renderer:
// errors are fine, panics are not.
func FuzzReader(f *testing.F) {
	data := mustRead(f, "testdata/tiny.jsonl")
	f.Add(data)
	f.Add([]byte(`{"kind":"send","type":"P","msg":{"View":1,"Seq":2}}`))
	f.Add([]byte(`{"kind":"drop","t":5,"from":3,"to":1,"type":"<&>","reason":"crashed","faulty":[1,2]}`))
	f.Add([]byte("{\"kind\":\"event\",\"event\":\"committed\",\"data\":{\"Seq\":-1}}\n{\"kind\":\"crash\",\"faulty\":true}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		opts := Options{MaxArrows: 5}
		d := NewDiagram(opts)
		p := NewPerfettoWriter(io.Discard, opts)
		s := NewShiVizWriter(io.Discard, opts)
		_ = Process(NewReader(bytes.NewReader(b), "fuzz"), d, p, s)
		_ = p.Close()
		_ = s.Close()
		_ = d.WriteSVG(io.Discard)
		_ = d.WriteHTML(io.Discard)
	})
}

// FuzzFastDecode checks the fast decoder against encoding/json: whatever it
// accepts, json.Unmarshal must decode to the same value.
func FuzzFastDecode(f *testing.F) {
	data := mustRead(f, "testdata/tiny.jsonl")
	for _, line := range bytes.Split(data, []byte("\n")) {
		f.Add(line)
	}
	for _, s := range []string{`{}`, `{"t":-0}`, `{"seq":01}`, `{"T":5,"kind":"crash"}`, `{"t":1.5}`, `{"msg":null}`,
		`{"kind":"send","x":[1,{"a":"\"}"}],"msg":{"a":"\\"}}`, `{"t":9223372036854775808}`, `{"seq":18446744073709551615}`,
		"{\"type\":\"\xff\"}", `{"faulty":[1,2] , "kind" : "crash" }  `, `{"kind":"a"}x`, `{"data":tru}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast, slow rawRecord
		if !fastDecode(b, &fast) {
			return
		}
		if err := json.Unmarshal(b, &slow); err != nil {
			t.Fatalf("fast decoder accepted %q, encoding/json rejects it: %v", b, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: fast %+v, encoding/json %+v", b, fast, slow)
		}
	})
}
