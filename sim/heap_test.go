package sim

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// qMsg is a message whose identity a test can follow through the queue.
type qMsg struct{ id uint64 }

func (*qMsg) Type() MsgType                     { return typeBench }
func (*qMsg) Size() int                         { return 8 }
func (m *qMsg) AppendCanonical(b []byte) []byte { return b }

// cmpEvent orders events by (at, key), the order of the kernel's queue.
func cmpEvent(a, b event) int {
	if c := cmp.Compare(a.at, b.at); c != 0 {
		return c
	}
	return cmp.Compare(a.key, b.key)
}

// sortedRef is the reference queue: the queued events kept sorted by (at,
// key). Pushes are buffered and sorted in before the next pop or peek, so
// bursts of pushes stay cheap.
type sortedRef struct {
	q    []event // sorted
	head int     // q[head:] is queued
	add  []event // pushed since the last merge
}

func (r *sortedRef) Len() int     { return len(r.q) - r.head + len(r.add) }
func (r *sortedRef) push(e event) { r.add = append(r.add, e) }

func (r *sortedRef) merge() {
	if len(r.add) == 0 {
		return
	}
	r.q = append(r.q[r.head:], r.add...)
	r.head = 0
	r.add = r.add[:0]
	slices.SortFunc(r.q, cmpEvent)
}

func (r *sortedRef) peek() event { r.merge(); return r.q[r.head] }

func (r *sortedRef) pop() event {
	r.merge()
	e := r.q[r.head]
	r.head++
	return e
}

// checkQueue verifies every invariant of q (see radixQueue): the bucket of
// every event, the masks, counts and min pointers, the key order of equal
// times within a bucket, and that no slot that is not queued (popped, moved
// out or free) still references a message.
func checkQueue(t *testing.T, q *radixQueue) {
	t.Helper()
	total := 0
	var lastKeys map[Time]uint64
	for i := range q.b {
		bk := &q.b[i]
		if bit := i > 0 && q.mask[(i-1)/64]>>((i-1)%64)&1 == 1; i > 0 && bit != (bk.n > 0) {
			t.Fatalf("bucket %d: mask bit %v but %d events", i, bit, bk.n)
		}
		lastKeys = map[Time]uint64{}
		n := 0
		var min *event
		for c := bk.head; c != nil; c = c.next {
			lo, hi := 0, chunkLen
			if c == bk.head {
				lo = bk.lo
			}
			if c == bk.tail {
				hi = bk.hi
			}
			for j := range c.ev {
				e := &c.ev[j]
				if j < lo || j >= hi {
					if e.msg != nil {
						t.Fatalf("bucket %d: slot %d outside [%d,%d) still holds a message", i, j, lo, hi)
					}
					continue
				}
				n++
				if want := refBucket(t, e.at, q.last); want != i {
					t.Fatalf("event at %d is in bucket %d, want %d (last %d)", e.at, i, want, q.last)
				}
				if k, ok := lastKeys[e.at]; ok && e.key <= k {
					t.Fatalf("bucket %d: key %d after key %d at the same time %d", i, e.key, k, e.at)
				}
				lastKeys[e.at] = e.key
				if min == nil || e.at < min.at {
					min = e
				}
			}
			if c == bk.tail && c.next != nil {
				t.Fatalf("bucket %d: tail has a successor", i)
			}
		}
		if n != bk.n {
			t.Fatalf("bucket %d holds %d events, counts %d", i, n, bk.n)
		}
		if i > 0 && n > 0 && (bk.min != min || bk.minAt != min.at) {
			t.Fatalf("bucket %d: min is (%p, %d), want (%p, %d)", i, bk.min, bk.minAt, min, min.at)
		}
		total += n
	}
	if total != q.n || total != q.Len() {
		t.Fatalf("buckets hold %d events, Len is %d", total, q.Len())
	}
	for c := q.free; c != nil; c = c.next {
		for j := range c.ev {
			if c.ev[j] != (event{}) {
				t.Fatalf("free chunk slot %d is not cleared", j)
			}
		}
	}
}

// refBucket returns the bucket an event at at belongs in when the last
// popped time is last: 0 if at == last, else 1 + 16l + d, l being the most
// significant 4-bit digit where at and last differ (as order-preserving
// unsigned numbers) and d the digit of at there, which must exceed last's.
func refBucket(t *testing.T, at, last Time) int {
	t.Helper()
	if at == last {
		return 0
	}
	ua, ul := uint64(at)^(1<<63), uint64(last)^(1<<63)
	for l := 15; l >= 0; l-- {
		da, dl := ua>>(4*l)&15, ul>>(4*l)&15
		if da != dl {
			if da < dl {
				t.Fatalf("event at %d is queued before last %d", at, last)
			}
			return 1 + 16*l + int(da)
		}
	}
	panic("unreachable")
}

// queueScenario drives a differential test: a random sequence of monotone
// pushes (times at or after the last popped one) and pops.
type queueScenario struct {
	name string
	ops  int
	// next draws the time of a push, given the last popped time.
	next func(r *rand.Rand, last Time) Time
	// pushBurst and popBurst bound the lengths of runs of pushes and pops.
	pushBurst, popBurst int
	start               Time // time of the pushes before the first pop
	check               int  // run checkQueue every check operations (0: never)
}

// satAdd returns t+d (d >= 0), saturating at MaxInt64.
func satAdd(t, d Time) Time {
	if t > math.MaxInt64-d {
		return math.MaxInt64
	}
	return t + d
}

var queueScenarios = []queueScenario{
	{name: "equal-times", ops: 20000, pushBurst: 8, popBurst: 8, check: 97,
		next: func(r *rand.Rand, last Time) Time { return last + Time(r.IntN(3)/2) }},
	{name: "small-deltas", ops: 20000, pushBurst: 16, popBurst: 12, check: 101,
		next: func(r *rand.Rand, last Time) Time { return last + Time(r.IntN(16)) }},
	{name: "ms-delays", ops: 50000, pushBurst: 3, popBurst: 3, check: 997,
		next: func(r *rand.Rand, last Time) Time { return last + Time(1e6+r.IntN(9e6+1)) }},
	{name: "all-bit-widths", ops: 20000, pushBurst: 10, popBurst: 10, check: 211,
		next: func(r *rand.Rand, last Time) Time {
			return satAdd(last, Time(r.Uint64N(1<<r.IntN(63))))
		}},
	{name: "few-times-far-apart", ops: 30000, pushBurst: 50, popBurst: 30, check: 499,
		// a handful of grid times, so the same time is pushed both long
		// before and right before it is popped
		next: func(r *rand.Rand, last Time) Time { return (last/1000 + Time(r.IntN(5))) * 1000 }},
	{name: "bursts", ops: 60000, pushBurst: 5000, popBurst: 5000, check: 4999,
		next: func(r *rand.Rand, last Time) Time { return last + Time(r.IntN(1<<r.IntN(30))) }},
	{name: "zero-time", ops: 5000, pushBurst: 20, popBurst: 20, check: 50,
		next: func(r *rand.Rand, last Time) Time { return 0 }},
	{name: "near-max", ops: 20000, pushBurst: 10, popBurst: 10, start: math.MaxInt64 - 1000, check: 101,
		next: func(r *rand.Rand, last Time) Time { return satAdd(last, Time(r.IntN(200))) }},
	{name: "max-only", ops: 5000, pushBurst: 10, popBurst: 10, start: math.MaxInt64, check: 51,
		next: func(r *rand.Rand, last Time) Time { return math.MaxInt64 }},
	{name: "negative", ops: 20000, pushBurst: 10, popBurst: 10, start: math.MinInt64 + 5, check: 103,
		next: func(r *rand.Rand, last Time) Time {
			if last < 0 && r.IntN(50) == 0 {
				return last / 2 // sometimes jump far up, across the sign
			}
			return satAdd(last, Time(r.IntN(1<<20)))
		}},
}

// TestEventQueueDifferential runs every scenario on the radix queue, on the
// heap (eventHeap, popped by pop and, a second one, by the kernel's popTo)
// and on a sorted reference, and checks that all four pop the same events,
// by (at, key), that peek agrees with pop, and that popTo leaves no
// message reference behind the heap's end.
func TestEventQueueDifferential(t *testing.T) {
	for si, sc := range queueScenarios {
		t.Run(sc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(si), 99))
			var q radixQueue
			var h, h2 eventHeap
			var ref sortedRef
			var seq uint64
			last := sc.start
			push := func(at Time) {
				seq++
				e := event{at: at, key: seq<<8 | uint64(evDeliver), msg: &qMsg{id: seq}, arg: seq, from: NodeID(seq % 7), to: NodeID(seq % 5)}
				q.push(e)
				h.push(e)
				h2.push(e)
				ref.push(e)
			}
			pop := func(op int) {
				want := ref.peek()
				if p := q.peek(); *p != want {
					t.Fatalf("op %d: peek gave (%d, %d), want (%d, %d)", op, p.at, p.key, want.at, want.key)
				}
				if a, m := q.peekAt(), q.peekMsg(); a != want.at || m != want.msg {
					t.Fatalf("op %d: peekAt/peekMsg gave (%d, %v), want (%d, %v)", op, a, m, want.at, want.msg)
				}
				got, hg := q.pop(), h.pop()
				var h2g event
				h2.popTo(&h2g)
				ref.pop()
				if got != want || hg != want || h2g != want {
					t.Fatalf("op %d: pop gave (%d, %d), heap (%d, %d), popTo (%d, %d), want (%d, %d)",
						op, got.at, got.key, hg.at, hg.key, h2g.at, h2g.key, want.at, want.key)
				}
				if end := h2.a[:len(h2.a)+1][len(h2.a)]; end.msg != nil {
					t.Fatalf("op %d: popTo left a message behind the heap's end", op)
				}
				last = got.at
			}
			pops := 0
			for op := 0; op < sc.ops; {
				for range 1 + r.IntN(sc.pushBurst) {
					if pops == 0 {
						push(sc.start)
					} else {
						push(sc.next(r, last))
					}
					op++
				}
				for range 1 + r.IntN(sc.popBurst) {
					if q.Len() == 0 {
						break
					}
					pop(op)
					pops++
					op++
					if sc.check > 0 && op%sc.check == 0 {
						checkQueue(t, &q)
					}
				}
				if q.Len() != ref.Len() || h.Len() != ref.Len() {
					t.Fatalf("op %d: Len is %d (heap %d), want %d", op, q.Len(), h.Len(), ref.Len())
				}
			}
			checkQueue(t, &q)
			for q.Len() > 0 { // drain
				pop(-1)
			}
			checkQueue(t, &q)
			if ref.Len() != 0 || h.Len() != 0 || h2.Len() != 0 {
				t.Fatalf("queue empty but the reference holds %d events", ref.Len())
			}
		})
	}
}

// TestEventQueueSteadyLarge keeps about 20k and then 100k events in flight
// (as the kernel does at n=100 and in BenchmarkKernel), one push per pop,
// and checks every pop against the binary heap (itself checked against the
// sorted reference above) and, once drained, the whole pop sequence against
// a sort of everything pushed.
func TestEventQueueSteadyLarge(t *testing.T) {
	for _, size := range []int{20_000, 100_000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(size), 7))
			var q radixQueue
			var h eventHeap
			var seq uint64
			var pushed, popped []event
			push := func(at Time) {
				seq++
				e := event{at: at, key: seq<<8 | uint64(evDeliver), arg: seq}
				q.push(e)
				h.push(e)
				pushed = append(pushed, e)
			}
			delay := func() Time {
				if r.IntN(4) == 0 {
					return 0 // a local event at the same time
				}
				return Time(1e6 + r.IntN(4e6+1))
			}
			for range size {
				push(delay())
			}
			ops := 3 * size
			if testing.Short() {
				ops = size / 2
			}
			for range ops {
				e := q.pop()
				if hg := h.pop(); e != hg {
					t.Fatalf("pop %d gave (%d, %d), heap (%d, %d)", len(popped), e.at, e.key, hg.at, hg.key)
				}
				popped = append(popped, e)
				push(e.at + delay())
			}
			checkQueue(t, &q)
			for q.Len() > 0 {
				popped = append(popped, q.pop())
			}
			slices.SortFunc(pushed, cmpEvent)
			if !slices.Equal(popped, pushed) {
				i := 0
				for popped[i] == pushed[i] {
					i++
				}
				t.Fatalf("pop %d gave (%d, %d), want (%d, %d)", i, popped[i].at, popped[i].key, pushed[i].at, pushed[i].key)
			}
		})
	}
}

// TestEventQueueEdges covers the empty queue, a single event, time 0 and
// the extreme times, restarting an emptied queue below the last popped time,
// and the panic on a push into the past of a non-empty queue.
func TestEventQueueEdges(t *testing.T) {
	var seq uint64
	ev := func(at Time) event {
		seq++
		return event{at: at, key: seq<<8 | uint64(evCrash), msg: &qMsg{id: seq}}
	}
	var q radixQueue
	if q.Len() != 0 {
		t.Fatalf("new queue has Len %d", q.Len())
	}
	checkQueue(t, &q)

	cases := []struct {
		name string
		ats  []Time // pushed in this order into an empty queue
	}{
		{"single-zero", []Time{0}},
		{"single-max", []Time{math.MaxInt64}},
		{"single-min", []Time{math.MinInt64}},
		{"zero-and-max", []Time{math.MaxInt64, 0, math.MaxInt64, 0}},
		{"min-and-max", []Time{math.MaxInt64, math.MinInt64, -1, 0, 1, math.MinInt64}},
		{"max-neighbours", []Time{math.MaxInt64, math.MaxInt64 - 1, math.MaxInt64, math.MaxInt64 - 2}},
		{"equal", []Time{5, 5, 5, 5, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var q radixQueue
			// pushing into an empty queue moves it to any time: start it
			// at the least time, so that every push below is monotone
			q.push(ev(slices.Min(c.ats)))
			q.pop()
			var want []event
			for _, at := range c.ats {
				e := ev(at)
				q.push(e)
				want = append(want, e)
				if q.Len() != len(want) {
					t.Fatalf("Len %d after %d pushes", q.Len(), len(want))
				}
			}
			slices.SortFunc(want, cmpEvent)
			checkQueue(t, &q)
			for i, w := range want {
				if p := q.peek(); *p != w {
					t.Fatalf("peek %d gave (%d, %d), want (%d, %d)", i, p.at, p.key, w.at, w.key)
				}
				if got := q.pop(); got != w {
					t.Fatalf("pop %d gave (%d, %d), want (%d, %d)", i, got.at, got.key, w.at, w.key)
				}
				checkQueue(t, &q)
			}
			if q.Len() != 0 {
				t.Fatalf("Len %d after draining", q.Len())
			}
		})
	}

	t.Run("past-panics", func(t *testing.T) {
		var q radixQueue
		q.push(ev(10))
		q.push(ev(20))
		q.pop() // last = 10
		defer func() {
			if recover() == nil {
				t.Error("push into the past of a non-empty queue did not panic")
			}
		}()
		q.push(ev(9))
	})
	t.Run("restart-below-last", func(t *testing.T) {
		var q radixQueue
		q.push(ev(100))
		q.pop() // last = 100, empty
		a, b := ev(50), ev(50)
		q.push(a)
		q.push(b)
		if x, y := q.pop(), q.pop(); x != a || y != b {
			t.Fatalf("got keys %d, %d, want %d, %d", x.key, y.key, a.key, b.key)
		}
	})
}

// TestEventQueueReuse checks that the queue reaches a steady state: once it
// has held its peak, pushes and pops allocate nothing, and its chunks are
// recycled.
func TestEventQueueReuse(t *testing.T) {
	var q radixQueue
	r := rand.New(rand.NewPCG(1, 2))
	var seq uint64
	m := &qMsg{}
	step := func() {
		e := q.pop()
		seq++
		e.key = seq<<8 | uint64(evDeliver)
		e.at += Time(1e6 + r.IntN(9e6+1))
		q.push(e)
	}
	for range 5000 {
		seq++
		q.push(event{at: Time(r.IntN(1e7)), key: seq<<8 | uint64(evDeliver), msg: m})
	}
	for range 200_000 {
		step()
	}
	if a := testing.AllocsPerRun(20_000, step); a != 0 {
		t.Errorf("%.3f allocations per pop+push, want 0", a)
	}
	chunks := 0
	for i := range q.b {
		for c := q.b[i].head; c != nil; c = c.next {
			chunks++
		}
	}
	for c := q.free; c != nil; c = c.next {
		chunks++
	}
	if chunks != q.chunks {
		t.Errorf("queue holds %d chunks, allocated %d", chunks, q.chunks)
	}
	// at most Len/chunkLen+1 full or partial chunks, plus one partial per
	// bucket, plus what one batch allocation may add beyond the need
	if limit := (q.Len()/chunkLen+1+len(q.b))*5/4 + 16; chunks > limit {
		t.Errorf("queue of %d events holds %d chunks, want at most %d", q.Len(), chunks, limit)
	}
}

// TestRunsBefore checks the heap's branch-free comparison against before
// on edge times (negative, zero, the extremes), equal times with keys in
// either order, and random pairs.
func TestRunsBefore(t *testing.T) {
	times := []Time{math.MinInt64, math.MinInt64 + 1, -1 << 40, -1, 0, 1, 1 << 40, math.MaxInt64 - 1, math.MaxInt64}
	keys := []uint64{0, 1, 1 << 8, 1<<63 - 1, 1 << 63, math.MaxUint64}
	var evs []event
	for _, at := range times {
		for _, k := range keys {
			evs = append(evs, event{at: at, key: k})
		}
	}
	r := rand.New(rand.NewPCG(8, 9))
	for range 2000 {
		evs = append(evs, event{at: Time(r.Uint64()), key: r.Uint64()})
	}
	for i := range evs {
		for j := range evs {
			a, b := &evs[i], &evs[j]
			want := uint64(0)
			if a.before(b) {
				want = 1
			}
			if got := runsBefore(a, b); got != want {
				t.Fatalf("runsBefore((%d, %d), (%d, %d)) = %d, want %d", a.at, a.key, b.at, b.key, got, want)
			}
		}
	}
}
