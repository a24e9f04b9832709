package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// event is a trace event for the tests.
type event struct{ n int }

func (event) Name() string                      { return "test" }
func (e event) AppendCanonical(b []byte) []byte { return append(b, byte(e.n)) }

// recorder keeps a copy of every record it sees.
type recorder struct {
	got   []sim.Record
	kinds []sim.RecordKind // the kinds it wants (nil: all)
}

func (r *recorder) Record(rec *sim.Record) { r.got = append(r.got, *rec) }

type kindRecorder struct{ recorder }

func (r *kindRecorder) Wants(k sim.RecordKind) bool { return slices.Contains(r.kinds, k) }

// msg is a message for the tests.
type msg struct{ n int }

func (*msg) Type() sim.MsgType                 { return 1 }
func (*msg) Size() int                         { return 1 }
func (m *msg) AppendCanonical(b []byte) []byte { return append(b, byte(m.n)) }

// records makes n records, each different, with every field set.
func records(n int) []sim.Record {
	out := make([]sim.Record, n)
	for i := range out {
		out[i] = sim.Record{Seq: uint64(i), Time: sim.Time(3 * i), Kind: sim.RecordKind(1 + i%9),
			From: sim.NodeID(i % 5), To: sim.NodeID(i % 7), Msg: &msg{i}, Timer: sim.TimerID(i % 11),
			Event: event{i}, Reason: sim.DropReason(i % 4), Local: sim.Time(5 * i), HasLocal: i%2 == 1,
			Ref: uint64(i / 2)}
	}
	return out
}

// TestRecordFields: Sink.Record copies sim.Record field by field; a field
// added to sim.Record must be added there (and to records above).
func TestRecordFields(t *testing.T) {
	if n := reflect.TypeFor[sim.Record]().NumField(); n != 12 {
		t.Errorf("sim.Record has %d fields, Sink.Record copies 12: copy the new ones too", n)
	}
	rs := []sim.Record{records(4)[3], {}}
	for i := range rs {
		v := reflect.ValueOf(rs[i])
		for f := 0; f < v.NumField(); f++ {
			if v.Field(f).IsZero() != (i == 1) {
				t.Errorf("records: field %s is not set", v.Type().Field(f).Name)
			}
		}
	}
}

// TestSinkInOrder: the consumer sees every record, in order and unchanged,
// whatever the batch size and depth, including the last partial batch; a
// damaged pipeline (a dropped or reordered record) is caught.
func TestSinkInOrder(t *testing.T) {
	in := records(10_000)
	for _, tc := range []struct{ size, depth int }{{1, 1}, {7, 2}, {2048, 4}, {10_000, 2}, {20_000, 3}, {0, 0}} {
		for _, damage := range []string{"", "drop", "swap"} {
			if damage == "swap" && tc.size == 1 {
				continue // the hook reorders within a batch
			}
			t.Run(fmt.Sprintf("size=%d,depth=%d,%s", tc.size, tc.depth, damage), func(t *testing.T) {
				switch damage {
				case "drop":
					DamageRecords = func(b []sim.Record) []sim.Record {
						return slices.DeleteFunc(b, func(r sim.Record) bool { return r.Seq == 4321 })
					}
				case "swap":
					DamageRecords = func(b []sim.Record) []sim.Record {
						if len(b) > 1 && b[len(b)-1].Seq == 9999 {
							b[0], b[len(b)-1] = b[len(b)-1], b[0]
						}
						return b
					}
				}
				defer func() { DamageRecords = nil }()
				var rec recorder
				s := NewSink(&rec, tc.size, tc.depth)
				for i := range in {
					r := in[i] // the kernel reuses its record: so does the test
					s.Record(&r)
					r = sim.Record{}
				}
				s.Close()
				s.Close() // a second Close does nothing
				same := slices.EqualFunc(rec.got, in, func(a, b sim.Record) bool { return a == b })
				if same != (damage == "") {
					t.Errorf("consumer saw %d records, the same as fed: %v (damage %q)", len(rec.got), same, damage)
				}
			})
		}
	}
}

// TestSinkKinds: the Sink wants what its consumer wants.
func TestSinkKinds(t *testing.T) {
	kr := &kindRecorder{recorder{kinds: []sim.RecordKind{sim.RecEvent}}}
	s := NewSink(kr, 0, 0)
	defer s.Close()
	if !s.Wants(sim.RecEvent) || s.Wants(sim.RecSend) {
		t.Error("the Sink does not want its consumer's kinds")
	}
	all := NewSink(&recorder{}, 0, 0)
	defer all.Close()
	if !all.Wants(sim.RecSend) {
		t.Error("a Sink of a consumer without Wants wants nothing")
	}
}

type panicky struct{ at uint64 }

func (p panicky) Record(r *sim.Record) {
	if r.Seq == p.at {
		panic("boom")
	}
}

// TestSinkPanic: a panic of the consumer is raised again by Close, on the
// caller's goroutine, with the consumer's stack at the panic (where the
// bug is), and the run is not blocked meanwhile.
func TestSinkPanic(t *testing.T) {
	s := NewSink(panicky{at: 10}, 4, 2)
	for _, r := range records(1000) {
		s.Record(&r)
	}
	defer func() {
		p := recover()
		if p == nil || !strings.Contains(fmt.Sprint(p), "boom") {
			t.Errorf("Close raised %v, want the consumer's panic", p)
		}
		if !strings.Contains(fmt.Sprint(p), "panicky.Record") {
			t.Errorf("Close raised %v, want the consumer's stack (panicky.Record)", p)
		}
	}()
	s.Close()
}

// chunks records each write it receives.
type chunks struct {
	writes [][]byte
	failAt int // the write that fails (from 1; 0: none)
}

func (c *chunks) Write(p []byte) (int, error) {
	c.writes = append(c.writes, bytes.Clone(p))
	if len(c.writes) == c.failAt {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

// TestWriterSameWrites: the destination receives the same writes, with the
// same boundaries and bytes, in order, although the writer reuses its
// buffers; a damaged pipeline is caught.
func TestWriterSameWrites(t *testing.T) {
	var want [][]byte
	for i := 0; i < 200; i++ {
		want = append(want, bytes.Repeat([]byte{byte(i)}, 1+i*37%5000))
	}
	for _, damage := range []bool{false, true} {
		if damage {
			DamageBytes = func(b []byte) []byte { return b[1:] }
		}
		var dst chunks
		w := NewWriter(&dst, 2)
		buf := make([]byte, 0, 8192)
		for _, p := range want {
			buf = append(buf[:0], p...) // the caller reuses its buffer
			if n, err := w.Write(buf); n != len(p) || err != nil {
				t.Fatalf("Write: %d, %v", n, err)
			}
			clear(buf)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		DamageBytes = nil
		same := slices.EqualFunc(dst.writes, want, bytes.Equal)
		if same == damage {
			t.Errorf("damage %v: the destination got the same writes: %v", damage, same)
		}
	}
}

// TestWriterError: the destination's first error comes back from a later
// Write and from Close, and no write after it reaches the destination.
func TestWriterError(t *testing.T) {
	dst := &chunks{failAt: 3}
	w := NewWriter(dst, 2)
	var werr error
	for i := 0; i < 100 && werr == nil; i++ {
		_, werr = w.Write([]byte("record"))
	}
	if err := w.Close(); err == nil || err.Error() != "disk full" {
		t.Errorf("Close: %v, want disk full", err)
	}
	if werr != nil && werr.Error() != "disk full" {
		t.Errorf("Write: %v, want disk full", werr)
	}
	if len(dst.writes) != 3 {
		t.Errorf("%d writes reached the destination, want 3 (none after the error)", len(dst.writes))
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("Write after Close: %v", err)
	}
}

// slowWriter counts writes in flight.
type slowWriter struct {
	release chan struct{}
	n       atomic.Int64
}

func (s *slowWriter) Write(p []byte) (int, error) {
	<-s.release
	s.n.Add(1)
	return len(p), nil
}

// TestWriterBounded: with the destination stalled, at most depth writes are
// taken; the next Write waits.
func TestWriterBounded(t *testing.T) {
	dst := &slowWriter{release: make(chan struct{})}
	w := NewWriter(dst, 3)
	done := make(chan int)
	go func() {
		for i := 0; i < 5; i++ {
			w.Write([]byte("abc"))
			done <- i
		}
	}()
	for i := 0; i < 3; i++ {
		<-done
	}
	select {
	case i := <-done:
		t.Fatalf("write %d went through with the destination stalled and 3 writes queued", i)
	default:
	}
	close(dst.release)
	<-done
	<-done
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if dst.n.Load() != 5 {
		t.Errorf("%d writes, want 5", dst.n.Load())
	}
}

// counter is a consumer that only counts.
type counter struct{ n, t uint64 }

func (c *counter) Record(r *sim.Record) { c.n++; c.t += uint64(r.Time) }

// BenchmarkSink measures what a Sink costs the run's goroutine per record
// (the copy into a batch and the hand-over), against calling the consumer
// inline ("inline"): ns/op is per record.
func BenchmarkSink(b *testing.B) {
	in := records(4096)
	for _, mode := range []string{"inline", "pipeline"} {
		b.Run(mode, func(b *testing.B) {
			c := &counter{}
			var dst sim.Sink = c
			var s *Sink
			if mode == "pipeline" {
				s = NewSink(c, 0, 0)
				dst = s
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				dst.Record(&in[i&4095])
			}
			if s != nil {
				s.Close()
			}
		})
	}
}

// seen counts records on the consumer's goroutine.
type seen struct{ n atomic.Int64 }

func (s *seen) Record(*sim.Record) { s.n.Add(1) }

// TestSinkWeigh: with Weigh, a batch is handed over once its records weigh
// the maximum, before it is full: the consumer sees the first 10 records
// (weight 1 each, maximum 5) without Close; records of weight 0 stay in
// the batch.
func TestSinkWeigh(t *testing.T) {
	c := &seen{}
	s := NewSink(c, 2048, 4)
	s.Weigh(func(r *sim.Record) int { return int(r.Seq % 2) }, 5)
	for _, r := range records(21) { // odd seqs 1..19 weigh 1: two batches of 10, one of 1 left
		s.Record(&r)
	}
	for i := 0; i < 10_000 && c.n.Load() < 20; i++ {
		time.Sleep(time.Millisecond)
	}
	if n := c.n.Load(); n != 20 {
		t.Errorf("the consumer saw %d records before Close, want 20 (two batches of weight 5)", n)
	}
	s.Close()
	if n := c.n.Load(); n != 21 {
		t.Errorf("the consumer saw %d records after Close, want 21", n)
	}
}
