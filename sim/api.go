// Package sim is pbftsim's deterministic discrete-event simulation kernel.
//
// The kernel owns virtual time, timers and the network. Protocol code lives in
// nodes: pure state machines that take one Input at a time (a message, a timer
// or a lifecycle call) and append what they want to happen to an Output. Nodes
// never see the wall clock, never start goroutines and draw randomness only from
// the *rand.Rand stream the harness gives them, so one seed reproduces a run.
//
// This file is the contract between the kernel and everything built on it.
package sim

import (
	"fmt"
	"time"
)

// Time is virtual time in nanoseconds since the start of a run.
type Time int64

// Add returns t+d.
func (t Time) Add(d time.Duration) Time { return t + Time(d) }

// Duration returns t as a time.Duration since the start of the run.
func (t Time) Duration() time.Duration { return time.Duration(t) }

// String formats t as a duration since the start, e.g. "1.5ms".
func (t Time) String() string { return time.Duration(t).String() }

// NodeID names a node. Replicas are 0..n-1; clients follow them.
type NodeID int32

// MsgType is the interned type of a message ("PREPARE", "PING", ...).
// Obtain one from a protocol's namespace (Protocol.MsgType) at package
// initialisation.
type MsgType uint8

// Message is a protocol message. Implementations are immutable once sent:
// the kernel may deliver the same value to several nodes (multicast,
// duplication), so receivers must not modify it.
type Message interface {
	// Type returns the message's registered type.
	Type() MsgType
	// Size is the modelled size on the wire in bytes, used for byte counts.
	Size() int
	// AppendCanonical appends a canonical, deterministic binary encoding of the
	// message to b and returns the extended slice. It feeds the trace hash.
	AppendCanonical(b []byte) []byte
}

// Event is something a node reports about itself (a commit, an execution, a
// view change). Events are traced and handed to observers; they never affect
// the simulation.
type Event interface {
	// Name is a short stable name such as "execute" or "view-change".
	Name() string
	// AppendCanonical appends a canonical encoding of the event (for the hash).
	AppendCanonical(b []byte) []byte
}

// TimerID identifies one of a node's timers. Setting a timer with an ID that is
// already pending replaces it; the old deadline never fires.
type TimerID uint64

// InputKind says what an Input carries.
type InputKind uint8

const (
	// InputMessage delivers Input.Msg sent by Input.From.
	InputMessage InputKind = iota + 1
	// InputTimer fires the timer Input.Timer.
	InputTimer
	// InputRecover tells a node that it has just recovered from a crash. Its
	// timers did not fire while it was down and are all cancelled: it should
	// set again the ones it needs. Input.Crash says what the crash did to
	// its storage: under CrashKeep its state is as it was when it crashed;
	// under the other kinds the node itself drops what the kind loses (the
	// kernel owns no node state).
	InputRecover
)

// Input is one stimulus for a node.
type Input struct {
	Kind  InputKind
	From  NodeID    // sender, stamped by the network (authenticated), for InputMessage
	Msg   Message   // for InputMessage
	Timer TimerID   // for InputTimer
	Crash CrashKind // for InputRecover: the kind of the crash recovered from
}

// Send asks the kernel to send Msg to node To. A send to oneself is delivered
// locally (no network delay, never dropped) and counted apart.
type Send struct {
	To  NodeID
	Msg Message
}

// TimerOp sets (After >= 0, Cancel false) or cancels (Cancel true) a timer.
type TimerOp struct {
	ID     TimerID
	After  time.Duration
	Cancel bool
}

// Output is the batch of effects a node asks for in one step (etcd-io/raft's
// Ready). The kernel owns it and resets it between steps; nodes only append.
type Output struct {
	Sends  []Send
	Timers []TimerOp
	Events []Event
}

// Send appends a message send.
func (o *Output) Send(to NodeID, m Message) { o.Sends = append(o.Sends, Send{To: to, Msg: m}) }

// SetTimer appends a timer set (replacing any pending timer with the same id).
func (o *Output) SetTimer(id TimerID, after time.Duration) {
	o.Timers = append(o.Timers, TimerOp{ID: id, After: after})
}

// CancelTimer appends a timer cancellation.
func (o *Output) CancelTimer(id TimerID) { o.Timers = append(o.Timers, TimerOp{ID: id, Cancel: true}) }

// Report appends a node event.
func (o *Output) Report(e Event) { o.Events = append(o.Events, e) }

// Reset empties the batch, keeping its storage.
func (o *Output) Reset() {
	clear(o.Sends)
	clear(o.Events)
	o.Sends, o.Timers, o.Events = o.Sends[:0], o.Timers[:0], o.Events[:0]
}

// Node is a pure protocol state machine.
type Node interface {
	// Start is called once, at time 0, before any other input.
	Start(now Time, out *Output)
	// Step handles one input at virtual time now.
	Step(now Time, in Input, out *Output)
}

// Message types are registered per protocol: each protocol owns a
// namespace (a *Protocol) and interns its type names in it, so two protocols
// may both have a "PREPARE" and their counters, filters and statistics never
// merge. MsgType values are unique across all protocols of a binary; the
// registry is written only during package initialisation, so it is identical
// in every run of a binary. The trace hash folds a type's name (see
// tracer.typeHash), not its number, so it does not depend on which protocols
// are linked in or in what order they registered. For the same reason a
// protocol must not put MsgType numbers into its canonical encodings (what it
// signs, digests and hashes): it uses fixed wire tags of its own (PBFT's tag
// constants, HotStuff's letters).

// msgTypeInfo is one registered message type.
type msgTypeInfo struct {
	protocol *Protocol
	name     string
}

// msgTypes is the registry behind Protocol.MsgType; protocols the one behind
// NewProtocol.
var (
	msgTypes  []msgTypeInfo
	protocols []*Protocol
)

// Protocol is the namespace of one protocol's message types. Obtain one
// with NewProtocol from a package-level var declaration.
type Protocol struct {
	name string
}

// NewProtocol returns the message-type namespace of the protocol called
// name ("pbft", "hotstuff"). Calling it twice with the same name returns the
// same namespace. It panics on an empty name (a programming error at
// package initialisation).
func NewProtocol(name string) *Protocol {
	if name == "" {
		panic("sim: NewProtocol: empty protocol name")
	}
	for _, p := range protocols {
		if p.name == name {
			return p
		}
	}
	p := &Protocol{name: name}
	protocols = append(protocols, p)
	return p
}

// Name returns the protocol's name.
func (p *Protocol) Name() string { return p.name }

// MsgType interns a message type name in p's namespace. Call it from a
// package-level var declaration. Registering the same name twice in one
// namespace returns the same type; the same name in two namespaces gives two
// types.
func (p *Protocol) MsgType(name string) MsgType {
	for i, t := range msgTypes {
		if t.protocol == p && t.name == name {
			return MsgType(i)
		}
	}
	if len(msgTypes) >= 255 {
		panic("sim: too many message types")
	}
	msgTypes = append(msgTypes, msgTypeInfo{protocol: p, name: name})
	return MsgType(len(msgTypes) - 1)
}

// Types returns p's message types in registration order.
func (p *Protocol) Types() []MsgType {
	var out []MsgType
	for i, t := range msgTypes {
		if t.protocol == p {
			out = append(out, MsgType(i))
		}
	}
	return out
}

// Lookup returns p's message type called name.
func (p *Protocol) Lookup(name string) (MsgType, bool) {
	for i, t := range msgTypes {
		if t.protocol == p && t.name == name {
			return MsgType(i), true
		}
	}
	return 0, false
}

// String returns the registered name of the type (without its protocol).
func (t MsgType) String() string {
	if int(t) < len(msgTypes) {
		return msgTypes[t].name
	}
	return fmt.Sprintf("MsgType(%d)", t)
}

// Protocol returns the namespace t was registered in, or nil for a number
// that is no registered type.
func (t MsgType) Protocol() *Protocol {
	if int(t) < len(msgTypes) {
		return msgTypes[t].protocol
	}
	return nil
}

// QualifiedName returns "protocol/NAME", e.g. "pbft/PREPARE".
func (t MsgType) QualifiedName() string {
	if p := t.Protocol(); p != nil {
		return p.name + "/" + t.String()
	}
	return t.String()
}

// MsgTypes returns the number of registered message types (of all
// protocols); valid types are 0..MsgTypes()-1.
func MsgTypes() int { return len(msgTypes) }
