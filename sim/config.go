package sim

import (
	"math/rand/v2"
	"time"
)

// DelayKind names a delay distribution.
type DelayKind uint8

// Delay distributions.
const (
	DelayConst       DelayKind = iota // always Min
	DelayUniform                      // uniform in [Min, Max]
	DelayExponential                  // Min + Exp(mean = Mean)
	DelayLogNormal                    // Min + LogNormal(Mu, Sigma) where Mu, Sigma are of ln(nanoseconds)
	DelayPareto                       // Min + Pareto(scale Mean, shape Alpha) - Mean  (so the smallest extra delay is 0)
)

// Delay is a message delay distribution. Its zero value is a constant 0 delay.
// Parse one from a flag with ParseDelay ("const:2ms", "uniform:1ms:20ms",
// "exp:5ms[:min]", "lognormal:MEDIAN:SIGMA[:min]", "pareto:SCALE:ALPHA[:min]").
type Delay struct {
	Kind  DelayKind
	Min   time.Duration
	Max   time.Duration // uniform only
	Mean  time.Duration // exponential mean, Pareto scale, log-normal median
	Sigma float64       // log-normal shape
	Alpha float64       // Pareto shape
}

// LinkConfig is the fault model of one directed link (or the default of all).
type LinkConfig struct {
	Delay     Delay
	Drop      float64 // probability in [0,1] that a message is lost
	Duplicate float64 // probability in [0,1] that a message is delivered twice (the copy has its own delay)
}

// Link is a directed link.
type Link struct{ From, To NodeID }

// Partition cuts the network into groups that cannot reach each other from
// From (inclusive) to To (exclusive); To == 0 means never healed. Nodes not
// named in any group form one more group of their own.
type Partition struct {
	Groups   [][]NodeID
	From, To Time
}

// NetworkConfig is the network's fault model.
type NetworkConfig struct {
	Default LinkConfig
	// Links overrides Default for individual directed links.
	Links map[Link]LinkConfig
	// Partitions scheduled over time.
	Partitions []Partition
	// GST is the global stabilisation time. At or after GST, a message
	// between two nodes neither of which is in Faulty is never dropped by the
	// random model or by a partition, and its delay is capped at Delta. Zero
	// GST with Delta 0 means "no partial-synchrony rule" (the model applies
	// all run long).
	GST   Time
	Delta time.Duration
	// Faulty nodes are not protected by the GST rule (their links stay lossy).
	Faulty []NodeID
	// Filters are adversarial schedule hooks (phase-aware faults), consulted
	// in order for every network send before the random model.
	Filters []Filter
	// Bandwidth is every node's egress rate (0: unlimited). A message
	// occupies its sender's link for Bandwidth.TxTime(size), queued behind
	// the sender's earlier messages (FIFO per sender, lost messages
	// included); its sampled delay starts when its last bit has left. The
	// GST bound Delta caps that delay, not the queueing.
	Bandwidth Bandwidth
	// NodeBandwidth overrides Bandwidth per node (index = NodeID; 0 entries
	// and missing entries keep Bandwidth).
	NodeBandwidth []Bandwidth
	// IngressBandwidth is every node's ingress rate (0: unlimited): a
	// message that arrives at a limited receiver occupies its link for
	// TxTime(size), queued in arrival order behind earlier arrivals, and
	// is delivered when it has crossed it. Δ caps the network delay, not
	// this queueing. NodeIngress overrides it per node (0: keep).
	IngressBandwidth Bandwidth
	NodeIngress      []Bandwidth
}

// Verdict is what a Filter decides about one message.
type Verdict struct {
	Drop       bool
	ExtraDelay time.Duration
	// Duplicate makes the network deliver one more copy of the message
	// (traced RecDuplicate), DuplicateDelay plus a sampled delay after the
	// send (an explored schedule's duplication; see sim/explore).
	Duplicate      bool
	DuplicateDelay time.Duration
	// At, when positive, is the time the message arrives instead of its
	// sampled arrival (never before it leaves the sender). The link's
	// random draws are made as usual, so every other message keeps its
	// timing: an explorer's "deliver this message next" (pbftsim serve).
	At Time
	// Lose makes the network lose the message when it arrives (traced
	// RecDrop, DropFilter, at that time) instead of delivering it; the
	// link's random draws are made as usual: an explorer's "drop this
	// message in flight".
	Lose bool
	// DuplicateAt, when positive, delivers one more copy of the message at
	// that time (traced RecDuplicate at the send), without a random draw.
	DuplicateAt Time
}

// Filter lets an adversary control the network schedule: targeted drops or
// delays by message type, view, sequence number, link or phase. It must be
// deterministic given its inputs and the stream it was built with. Before GST
// its verdicts apply to every message; at or after GST, only to messages from
// or to faulty nodes.
type Filter interface {
	Filter(now Time, from, to NodeID, m Message) Verdict
}

// Crash schedules a node crash at At and, when Recover > At, its recovery.
type Crash struct {
	Node    NodeID
	At      Time
	Recover Time // 0: stays down
	// Kind says what the crash does to the node's storage (CrashKeep by
	// default); the node learns it at recovery (Input.Crash).
	Kind CrashKind
}

// Fire makes node Node's timer Timer fire At, earlier than it was set for
// (an explorer's "fire this timer now"). When the timer is not pending
// then, or the node is down, nothing happens.
type Fire struct {
	Node  NodeID
	Timer TimerID
	At    Time
}

// Config describes one simulation run.
type Config struct {
	Seed  uint64
	Nodes []Node // Nodes[i] has NodeID i
	// Names are optional labels for nodes in traces ("r0", "c1"); may be nil.
	Names   []string
	Network NetworkConfig
	Crashes []Crash
	// Fires fire pending timers early (scheduled after the crashes, before
	// anything else: a fire at t runs before other events at t).
	Fires []Fire
	// Clocks gives nodes drifting, offset or jumping local clocks (others
	// keep perfect ones).
	Clocks []Clock
	// MaxTime stops the run when virtual time would pass it (0: no limit).
	MaxTime Time
	// MaxEvents stops the run after this many processed events (0: no limit).
	MaxEvents uint64
	// Sinks receive every trace record, in order, after the hash sink.
	Sinks []Sink
}

// RecordKind is the kind of a trace record.
type RecordKind uint8

// Trace record kinds.
const (
	RecSend      RecordKind = iota + 1 // a network send was accepted by the network model
	RecDeliver                         // a message was delivered to To
	RecDrop                            // a message was dropped (random loss, partition, filter, crashed receiver)
	RecDuplicate                       // the network made an extra copy of a message
	RecLocal                           // a node delivered a message to itself
	RecTimer                           // a timer fired at node To
	RecEvent                           // node From reported Event
	RecCrash                           // node From crashed
	RecRecover                         // node From recovered
)

// DropReason says why a message was dropped.
type DropReason uint8

// Drop reasons.
const (
	DropNone      DropReason = iota
	DropRandom               // the link's drop probability
	DropPartition            // a partition separated the nodes
	DropFilter               // an adversarial Filter
	DropCrashed              // the receiver was down at delivery time
)

// Record is one trace record. Sinks must not retain it (copy what they keep);
// Msg and Event values themselves are immutable and may be kept.
type Record struct {
	Seq    uint64 // position in the trace, from 0
	Time   Time
	Kind   RecordKind
	From   NodeID
	To     NodeID
	Msg    Message // send, deliver, drop, duplicate, local
	Timer  TimerID // timer; for crash and recover records the CrashKind (0: keep)
	Event  Event   // event
	Reason DropReason
	// Local is the node's local clock reading (see Clock) on a timer
	// record of a run that configures clocks; HasLocal says it is set.
	Local    Time
	HasLocal bool
	// Ref, on a deliver, drop or duplicate record of a network message, is
	// the Seq+1 of the send record of the same message, from the same node
	// to the same node; 0 for records with no send (a local message, a
	// timer, an event, ...).
	Ref uint64
}

// Sink consumes trace records.
type Sink interface {
	Record(r *Record)
}

// KindSink is a Sink that needs only some kinds of records; the kernel
// calls its Record only for kinds for which Wants returns true (asked once
// per kind, when the kernel is created). A sink that follows node events
// only, say, then costs nothing per message.
type KindSink interface {
	Sink
	Wants(k RecordKind) bool
}

// EventSink is a Sink that needs the event records of only some types of
// events: the kernel calls its Record with an event record only if
// WantsEvent returned true for the record's event, asked once per dynamic
// type of event (so the answer must depend on the type alone, not on the
// event's value). A sink that follows a few kinds of events then costs
// nothing for the others. It applies to event records only, and only if the
// sink takes them (see KindSink).
type EventSink interface {
	Sink
	WantsEvent(ev Event) bool
}

// CopySink is a Sink that may not need the later copies of a multicast:
// when SkipsCopies (asked once, when the kernel is created) is true, the
// kernel does not pass it a send record whose time, sender and message (the
// same value) are those of the record just before it, itself a send (a
// node's step sending one message to several nodes). Which records are copies
// depends on the trace alone, and the trace and its hash are the same
// whatever the sinks skip.
type CopySink interface {
	Sink
	SkipsCopies() bool
}

// Streams derives independent, named random streams from one run seed.
// Turning one fault on must not reshuffle the draws of unrelated streams.
type Streams struct{ Seed uint64 }

// Stream returns a new generator for name (e.g. "network", "node/3",
// "workload", "adversary"). The same seed and name always give the same
// sequence; different names give independent sequences.
func (s Streams) Stream(name string) *rand.Rand {
	h := uint64(14695981039346656037) // FNV-1a 64 of the name
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	return rand.New(rand.NewPCG(s.Seed, h^0x9e3779b97f4a7c15))
}
