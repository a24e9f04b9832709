// Package pipeline moves work that only reads a run's output off the
// simulation's goroutine: a Sink hands copies of trace records, in batches
// and in order, to a consumer sink (the online checker) on its own
// goroutine, and a Writer hands the bytes a trace encoder wrote, in order,
// to the compressor and the file on another.
//
// Neither touches the run: the simulation computes its events and its
// trace hash exactly as without them, and nothing it does depends on what
// a consumer did (a consumer that could stop the run, such as a checker
// that stops at the first violation, must not be put behind a Sink). A
// consumer sees the same records, or bytes, in the same order as it would
// inline, so its results are the same; only when it sees them changes.
// Both queues are bounded (a few batches or buffers), so memory stays flat
// and a slow consumer slows the run down rather than letting it run ahead.
package pipeline

import (
	"fmt"
	"io"
	"runtime/debug"
	"sync"

	"github.com/pbftsim/pbftsim/sim"
)

// Default sizes: records per batch and batches (or buffers) in flight.
const (
	DefaultBatch = 2048
	DefaultDepth = 4
)

// Sink is a sim.Sink that copies records into batches and hands them to
// its consumer sink on another goroutine, in order. Call Close when the run
// has ended: it waits until the consumer has seen every record. A Sink, as
// a sim.Sink, is used from one goroutine (the simulation's); the consumer
// must not be used by anyone else until Close returns.
type Sink struct {
	dst   sim.Sink
	kinds sim.KindSink // dst's kinds, if it says
	size  int
	batch []sim.Record
	full  chan []sim.Record
	free  chan []sim.Record
	done  chan struct{}
	fault any    // a panic of the consumer, raised again by Close
	stack []byte // the consumer's stack at the panic
	open  bool
	// Weigh, if set, weighs each record; a batch is handed over once its
	// records weigh MaxWeight, even if it is not full (see NewSink).
	weigh     func(*sim.Record) int
	maxWeight int
	weight    int // the current batch's
}

// NewSink starts a consumer goroutine feeding dst, with batches of size
// records and at most depth batches queued or being consumed (<= 0:
// DefaultBatch, DefaultDepth).
func NewSink(dst sim.Sink, size, depth int) *Sink {
	if size <= 0 {
		size = DefaultBatch
	}
	if depth <= 0 {
		depth = DefaultDepth
	}
	s := &Sink{dst: dst, size: size, full: make(chan []sim.Record, depth),
		free: make(chan []sim.Record, depth), done: make(chan struct{}), open: true}
	s.kinds, _ = dst.(sim.KindSink)
	for i := 1; i < depth; i++ {
		s.free <- make([]sim.Record, 0, size)
	}
	s.batch = make([]sim.Record, 0, size)
	go s.consume()
	return s
}

// Weigh bounds the consumer's lag by weight as well as by records: the
// current batch is handed over once its records weigh max (weigh(r) for
// each record r), so at most depth*max weight is in flight. The checker
// weighs the executions (its reference ledger shares the replicas' recent
// versions only while it lags them by fewer operations than the cache
// keeps). Call it before the first record.
func (s *Sink) Weigh(weigh func(*sim.Record) int, max int) {
	s.weigh, s.maxWeight = weigh, max
}

// Wants implements sim.KindSink: the consumer's kinds.
func (s *Sink) Wants(k sim.RecordKind) bool { return s.kinds == nil || s.kinds.Wants(k) }

// Record implements sim.Sink: it copies r (the messages and events it
// refers to are immutable once traced, see sim.Record).
func (s *Sink) Record(r *sim.Record) {
	n := len(s.batch)
	s.batch = s.batch[:n+1]
	// field by field (every field: TestRecordFields), cheaper than a
	// struct copy's bulk write barrier
	e := &s.batch[n]
	e.Seq, e.Time, e.Kind, e.From, e.To = r.Seq, r.Time, r.Kind, r.From, r.To
	e.Msg, e.Timer, e.Event, e.Reason, e.Ref = r.Msg, r.Timer, r.Event, r.Reason, r.Ref
	e.Local, e.HasLocal = r.Local, r.HasLocal
	if s.weigh != nil {
		s.weight += s.weigh(r)
	}
	if n+1 == s.size || s.weigh != nil && s.weight >= s.maxWeight {
		s.weight = 0
		s.full <- s.batch
		s.batch = <-s.free
	}
}

// consume feeds the batches to dst in order and recycles them. After a
// panic of dst it drops the rest (Close raises the panic).
func (s *Sink) consume() {
	defer close(s.done)
	for b := range s.full {
		if s.fault == nil {
			s.feed(b)
		}
		// b is not cleared: the run's goroutine overwrites it (its
		// references keep at most depth batches of messages alive a
		// little longer)
		s.free <- b[:0]
	}
}

// DamageRecords and DamageBytes, for tests only, break the pipeline on
// purpose: when set, every batch of records, or every write, passes
// through them before its consumer sees it, so a test can show that a
// reordered, dropped or altered batch is caught. Set them before the run
// and reset them after it.
var (
	DamageRecords func([]sim.Record) []sim.Record
	DamageBytes   func([]byte) []byte
)

func (s *Sink) feed(b []sim.Record) {
	if DamageRecords != nil {
		b = DamageRecords(b)
	}
	defer func() {
		if p := recover(); p != nil {
			s.fault, s.stack = p, debug.Stack()
		}
	}()
	for i := range b {
		s.dst.Record(&b[i])
	}
}

// Close hands over the last batch and waits until the consumer has seen
// every record. A panic of the consumer is raised again here, on the
// caller's goroutine. Later calls do nothing.
func (s *Sink) Close() {
	if !s.open {
		return
	}
	s.open = false
	if len(s.batch) > 0 {
		s.full <- s.batch
		s.batch = nil
	}
	close(s.full)
	<-s.done
	if s.fault != nil {
		panic(fmt.Sprintf("pipeline: the consumer sink panicked: %v\n\nconsumer goroutine's stack at the panic:\n%s", s.fault, s.stack))
	}
}

// Writer is an io.WriteCloser that copies each Write and writes it to its
// destination on another goroutine, in order and with the same boundaries
// (the destination sees exactly the calls it would see inline, so a
// compressor writes the same bytes). At most depth writes are queued or
// being written. The first error of the destination is returned by the
// next Write and by Close; the writes after it are dropped.
type Writer struct {
	dst  io.Writer
	full chan []byte
	free chan []byte
	done chan struct{}
	mu   sync.Mutex
	err  error // the destination's first error (mu)
	open bool
}

// NewWriter starts a goroutine writing to dst, with at most depth writes
// in flight (<= 0: DefaultDepth).
func NewWriter(dst io.Writer, depth int) *Writer {
	if depth <= 0 {
		depth = DefaultDepth
	}
	w := &Writer{dst: dst, full: make(chan []byte, depth), free: make(chan []byte, depth),
		done: make(chan struct{}), open: true}
	for i := 0; i < depth; i++ {
		w.free <- nil
	}
	go w.write()
	return w
}

func (w *Writer) write() {
	defer close(w.done)
	failed := false
	for b := range w.full {
		if !failed {
			out := b
			if DamageBytes != nil {
				out = DamageBytes(b)
			}
			if _, err := w.dst.Write(out); err != nil {
				failed = true
				w.mu.Lock()
				w.err = err
				w.mu.Unlock()
			}
		}
		w.free <- b[:0]
	}
}

// Error returns the destination's first error, if any yet.
func (w *Writer) Error() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Write queues a copy of p. It returns the destination's first error, if
// one has happened (p is then dropped), or io.ErrClosedPipe after Close.
func (w *Writer) Write(p []byte) (int, error) {
	if !w.open {
		return 0, io.ErrClosedPipe
	}
	if err := w.Error(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	b := <-w.free
	w.full <- append(b, p...)
	return len(p), nil
}

// Close waits until every queued write is written and returns the
// destination's first error. Later calls return the same error.
func (w *Writer) Close() error {
	if w.open {
		w.open = false
		close(w.full)
		<-w.done
	}
	return w.Error()
}
