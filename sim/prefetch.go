package sim

// prefetcher is the kernel's software prefetch: before the kernel runs an
// event it touches the message of the event queued next, so that the
// message is being fetched from memory while the current event is
// processed (with many messages in flight the next one is usually not in
// cache).
//
// Invariant: it never changes what a run does. It only reads one byte of
// the value a live message's interface points to (a non-nil data pointer
// of an interface always points to valid memory; an interface value is a
// (type, data pointer) pair) and folds it into sink, which nothing reads,
// so that the load is not optimised away. A run has the same trace hash
// and statistics with it on or off (TestPrefetchInvisible).
type prefetcher struct {
	off  bool // for the test: do nothing
	sink byte
}

// touch reads one byte of m's value; m may be nil.
func (p *prefetcher) touch(m Message) {
	if p.off {
		return
	}
	if d := identOf(m).data; d != nil {
		p.sink += *(*byte)(d)
	}
}
