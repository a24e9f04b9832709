package spacetime

import (
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/pbftsim/pbftsim/sim"
)

// Zero-size messages of two types: every such value lies at one address.
type emptyA struct{}
type emptyB struct{}

var (
	typeEmptyA = sim.NewProtocol("spacetime-test-empty").MsgType("EMPTY-A")
	typeEmptyB = sim.NewProtocol("spacetime-test-empty-b").MsgType("EMPTY-B")
)

func (*emptyA) Type() sim.MsgType               { return typeEmptyA }
func (*emptyA) Size() int                       { return 0 }
func (*emptyA) AppendCanonical(b []byte) []byte { return b }
func (*emptyB) Type() sim.MsgType               { return typeEmptyB }
func (*emptyB) Size() int                       { return 0 }
func (*emptyB) AppendCanonical(b []byte) []byte { return b }

// TestBinaryMessagesReadBackExactly: a binary trace writes a message in
// full once and then refers to it (by age, as a copy, or through its send);
// whatever the writer's message cache finds, every record must read back
// with its own message. Sends and drops draw messages from a pool of
// messages of distinct content, reused within and beyond the writer's
// window, zero-size messages of two types at one address, and nil
// pointers; the reader's type and JSON of each record must be those of the
// message given.
func TestBinaryMessagesReadBackExactly(t *testing.T) {
	pool := []sim.Message{&emptyA{}, &emptyB{}, (*noteV3)(nil)}
	for i := range 2000 {
		pool = append(pool, &noteV3{N: i})
	}
	rng := rand.New(rand.NewPCG(11, 12))
	var recs []sim.Record
	for i := range 60_000 {
		var m sim.Message
		switch k := rng.IntN(10); {
		case k < 3 && len(recs) > 0:
			m = recs[len(recs)-1].Msg // a multicast's next copy
		case k < 6:
			m = pool[rng.IntN(3)]
		case k < 8:
			m = pool[3+(i/4+rng.IntN(40))%(len(pool)-3)] // recent ones, and ones just out of the window
		default:
			m = pool[3+rng.IntN(len(pool)-3)]
		}
		kind := sim.RecSend
		if rng.IntN(5) == 0 {
			kind = sim.RecDrop // no send reference: the message or its age
		}
		recs = append(recs, sim.Record{Seq: uint64(i), Time: sim.Time(i), Kind: kind, From: sim.NodeID(rng.IntN(3)), To: sim.NodeID(rng.IntN(4)), Msg: m})
	}
	rd := writeBinary(t, recs, "m.pbt")
	for i, w := range recs {
		r, err := rd.Next()
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		var want, typ string
		switch m := w.Msg.(type) {
		case *emptyA:
			want, typ = `{}`, "EMPTY-A"
		case *emptyB:
			want, typ = `{}`, "EMPTY-B"
		case *noteV3:
			want, typ = "null", "NOTE-V3"
			if m != nil {
				want = fmt.Sprintf(`{"N":%d}`, m.N)
			}
		}
		if r.Type != typ || string(r.Msg) != want || r.From != w.From || r.To != w.To {
			t.Fatalf("record %d: %d->%d %s %s, want %d->%d %s %s", i, r.From, r.To, r.Type, r.Msg, w.From, w.To, typ, want)
		}
	}
	if _, err := rd.Next(); err != io.EOF {
		t.Fatalf("after the records: %v", err)
	}
}
