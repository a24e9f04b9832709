package pbft

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"reflect"
	"testing"
	"testing/quick"

	"github.com/pbftsim/pbftsim/sim"
)

// TestTraceFieldsMatchJSON: every message and event with a TraceAppender
// writes exactly encoding/json's text, for random values (random strings,
// nil and non-nil lists and pointers), so the binary and JSON Lines traces
// hold what encoding/json would.
func TestTraceFieldsMatchJSON(t *testing.T) {
	values := []sim.TraceAppender{
		&Request{}, &PrePrepare{}, &Prepare{}, &Commit{}, &Reply{}, &Checkpoint{},
		&Prepared{}, &Committed{}, &SentPrepare{}, &Executed{}, &StableCheckpoint{},
		&ViewChangeStarted{}, &NewViewEntered{}, &StateTransferred{}, &Submitted{}, &Accepted{}, &Probe{},
	}
	r := rand.New(rand.NewSource(1))
	for _, v := range values {
		typ := reflect.TypeOf(v).Elem()
		for i := range 300 {
			rv, ok := quick.Value(typ, r)
			if !ok {
				t.Fatalf("cannot generate a %v", typ)
			}
			p := reflect.New(typ)
			p.Elem().Set(rv)
			if i == 0 {
				p.Elem().Set(reflect.Zero(typ))
			}
			x := p.Interface()
			want, err := json.Marshal(x)
			if err != nil {
				t.Fatal(err)
			}
			if got := sim.AppendJSON(nil, x.(sim.TraceAppender)); !bytes.Equal(got, want) {
				t.Fatalf("%v:\nAppendTraceFields %s\n    json.Marshal %s", typ, got, want)
			}
		}
	}
}
