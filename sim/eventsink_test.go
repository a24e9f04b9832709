package sim_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// tagEv is a test event; its instances with different T, and their
// pointers, are different dynamic types of event.
type tagEv[T any] struct{ n int }

func (tagEv[T]) Name() string                      { return "tag" }
func (e tagEv[T]) AppendCanonical(b []byte) []byte { return append(b, byte(e.n)) }

// tagEvent returns an event of one of 20 dynamic types, by n mod 20.
func tagEvent(n int) sim.Event {
	switch n % 20 {
	case 0:
		return tagEv[[0]byte]{n}
	case 1:
		return &tagEv[[0]byte]{n}
	case 2:
		return tagEv[[1]byte]{n}
	case 3:
		return &tagEv[[1]byte]{n}
	case 4:
		return tagEv[[2]byte]{n}
	case 5:
		return &tagEv[[2]byte]{n}
	case 6:
		return tagEv[[3]byte]{n}
	case 7:
		return &tagEv[[3]byte]{n}
	case 8:
		return tagEv[[4]byte]{n}
	case 9:
		return &tagEv[[4]byte]{n}
	case 10:
		return tagEv[[5]byte]{n}
	case 11:
		return &tagEv[[5]byte]{n}
	case 12:
		return tagEv[[6]byte]{n}
	case 13:
		return &tagEv[[6]byte]{n}
	case 14:
		return tagEv[[7]byte]{n}
	case 15:
		return &tagEv[[7]byte]{n}
	case 16:
		return tagEv[[8]byte]{n}
	case 17:
		return &tagEv[[8]byte]{n}
	case 18:
		return tagEv[[9]byte]{n}
	}
	return &tagEv[[9]byte]{n}
}

// eventSink collects the event records of the types it wants.
type eventSink struct {
	collect
	want  func(reflect.Type) bool
	asked map[reflect.Type]int
}

func (s *eventSink) Wants(k sim.RecordKind) bool { return k == sim.RecEvent }

func (s *eventSink) WantsEvent(ev sim.Event) bool {
	s.asked[reflect.TypeOf(ev)]++
	return s.want(reflect.TypeOf(ev))
}

// TestEventSink checks that an EventSink receives exactly the event records
// whose event types it wants, in trace order, that it is asked once per
// type (20 types, more than the tracer's cache has slots, in a varying
// order), that other sinks still receive every record, and that filtering
// does not change the trace hash.
func TestEventSink(t *testing.T) {
	nodes := func() []sim.Node {
		n := 0
		tick := func(out *sim.Output) { out.SetTimer(1, time.Millisecond) }
		return []sim.Node{&script{
			start: func(_ sim.Time, out *sim.Output) { tick(out) },
			step: func(_ sim.Time, _ sim.Input, out *sim.Output) {
				for range 1 + n%3 {
					out.Report(tagEvent(n * 7 % 23))
					n++
				}
				if n < 300 {
					tick(out)
				}
			},
		}}
	}
	all := &collect{}
	some := &eventSink{asked: map[reflect.Type]int{}, want: func(t reflect.Type) bool {
		return t.Kind() == reflect.Pointer || t == reflect.TypeOf(tagEv[[4]byte]{})
	}}
	_, st := mustRun(t, sim.Config{Seed: 3, Nodes: nodes(), Sinks: []sim.Sink{all, some}})
	var want []sim.Record
	types := map[reflect.Type]bool{}
	for _, r := range all.recs {
		if r.Kind == sim.RecEvent {
			types[reflect.TypeOf(r.Event)] = true
			if some.want(reflect.TypeOf(r.Event)) {
				want = append(want, r)
			}
		}
	}
	if len(types) != 20 || len(want) == 0 || len(want) == all.count(sim.RecEvent, sim.DropNone) {
		t.Fatalf("test run has %d event types, %d of %d event records wanted; want 20 types, some records but not all",
			len(types), len(want), all.count(sim.RecEvent, sim.DropNone))
	}
	if len(some.recs) != len(want) {
		t.Fatalf("EventSink got %d records, want %d", len(some.recs), len(want))
	}
	for i := range want {
		if some.recs[i] != want[i] {
			t.Fatalf("record %d: EventSink got %+v, want %+v", i, some.recs[i], want[i])
		}
	}
	for typ := range types {
		if some.asked[typ] != 1 {
			t.Errorf("WantsEvent asked %d times for %v, want once", some.asked[typ], typ)
		}
	}
	if _, bare := mustRun(t, sim.Config{Seed: 3, Nodes: nodes()}); bare.TraceHash != st.TraceHash {
		t.Fatalf("trace hash %x without sinks, %x with them", bare.TraceHash, st.TraceHash)
	}
}
