package sim

import (
	"fmt"
	"unsafe"
)

// msgSeals checks the invariant that every identity-keyed cache of the
// simulator relies on: a message is never mutated once sent. The tracer
// hashes a multicast message once and its deliveries by reference, the
// binary trace writes it once, and a replica's verify cache remembers a
// signature as checked by the message's address; all of them would give
// wrong answers if a node changed a message after sending it. In builds
// with -tags invariants (enabled, see invariantsTag) the kernel seals each
// message it is handed, keeping the hash of its canonical encoding, and
// checks the hash again at every delivery; a changed message fails the run
// with an error naming it. Otherwise it does nothing. The table keeps its
// messages alive (so an address is not reused while sealed) and is cleared
// when it reaches maxSeals entries (older messages are then no longer
// checked; a check never reports a message that was not changed).
type msgSeals struct {
	enabled bool
	seals   map[msgIdent]uint64
	buf     []byte
}

// msgIdent is an interface value's (type, data pointer) pair: the
// identity of a message.
type msgIdent struct{ tab, data unsafe.Pointer }

func identOf(m Message) msgIdent { return *(*msgIdent)(unsafe.Pointer(&m)) }

// maxSeals bounds the sealed messages kept.
const maxSeals = 1 << 20

func (s *msgSeals) hash(m Message) uint64 {
	s.buf = m.AppendCanonical(s.buf[:0])
	return hashBytes(hashInit, s.buf)
}

// seal records m's content when m is sent; a message sent again must not
// have changed since it was first sealed.
func (s *msgSeals) seal(m Message) error {
	if !s.enabled {
		return nil
	}
	if s.seals == nil || len(s.seals) >= maxSeals {
		s.seals = make(map[msgIdent]uint64)
	}
	id, h := identOf(m), s.hash(m)
	if old, ok := s.seals[id]; ok && old != h {
		return fmt.Errorf("sim: a %v message was changed after it was sent (it is sent again with another content); messages must be immutable once sent", m.Type())
	}
	s.seals[id] = h
	return nil
}

// check reports an error if m changed since it was sealed.
func (s *msgSeals) check(m Message) error {
	if !s.enabled {
		return nil
	}
	if old, ok := s.seals[identOf(m)]; ok && old != s.hash(m) {
		return fmt.Errorf("sim: a %v message was changed between its send and its delivery; messages must be immutable once sent", m.Type())
	}
	return nil
}

// checkSeal fails the run if e's message changed since it was sent (see
// msgSeals).
func (k *Kernel) checkSeal(e *event) {
	if k.seals.enabled { // inlined: a delivery pays one test when checks are off
		k.checkSealOn(e)
	}
}

// checkSealOn is checkSeal's check.
func (k *Kernel) checkSealOn(e *event) {
	if err := k.seals.check(e.msg); err != nil {
		k.fail(fmt.Errorf("%w (from node %d to %d at %v)", err, e.from, e.to, k.now))
	}
}
