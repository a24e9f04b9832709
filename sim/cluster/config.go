// Package cluster wires PBFT replicas, clients, a payments workload, Byzantine
// strategies and the network model into one simulation run, and summarises it.
package cluster

import (
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/byzantine"
	"github.com/pbftsim/pbftsim/sim/ledger"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// Config describes a whole PBFT experiment. Zero values take the documented
// defaults (see Defaults); Validate reports what is out of range.
type Config struct {
	Seed uint64

	// Protocol is the replication protocol: "" or "pbft" (the default),
	// "hotstuff" (Basic HotStuff, sim/hotstuff) or "chained-hotstuff"
	// (chained HotStuff, the same package).
	Protocol string

	N                  int           // replicas, >= 4
	F                  int           // tolerated faults; 0 means floor((N-1)/3); must satisfy N >= 3F+1
	Batch              int           // requests per PRE-PREPARE (B), default 1
	BatchTimeout       time.Duration // how long the primary waits to fill a batch, default 2ms
	CheckpointInterval int           // K, default 16
	Window             int           // L = H - h, default 2K
	ViewChangeTimeout  time.Duration // backup's request timer (HotStuff: the pacemaker's base view timeout), default 200ms
	ClientTimeout      time.Duration // client retransmission timeout, default 300ms
	Variant            string        // "" for the correct protocol; otherwise a deliberately broken variant
	// FullCertificates: PBFT certificates carry every matching vote held,
	// not the quorum of lowest replica id (pbft.Config.FullCertificates).
	FullCertificates bool
	// DropSpentVotes: PBFT replicas forget the votes an entry's
	// certificates no longer need (pbft.Config.DropSpentVotes) and clients
	// the replies and views they no longer read
	// (pbft.ClientConfig.DropSpentReplies): the same outputs, less state.
	DropSpentVotes bool

	// Workload.
	Clients  int // default 2
	Requests int // operations issued in total across clients, default 8
	Payments int // distinct payment ids; default derived from Requests
	// DrawnFor, when above Requests, draws the workload of DrawnFor requests
	// and issues a prefix of each client's operations (workload.Config).
	DrawnFor int
	// Issued, when not nil, is each client's count of operations issued
	// (workload.Config.Issued); they add up to Requests.
	Issued   []int
	Interval time.Duration // a client's think time between accepting a reply and sending its next request
	Mix      Mix

	// Environment.
	Network sim.NetworkConfig
	Crashes []sim.Crash
	// Fires fire pending timers early (sim.Config.Fires).
	Fires []sim.Fire
	// Clocks gives nodes drifting local clocks (sim.Clock).
	Clocks    []sim.Clock
	Byzantine []ByzantineSpec
	// NetRules are phase-aware adversarial network rules (drop or delay by
	// type, view, sequence number or link, in a time window). They apply
	// before GST, and after GST only to links of faulty replicas.
	NetRules []byzantine.NetRule

	// Run length.
	MaxTime sim.Time // default 60s of virtual time, no limit when StallWindow is set
	// MaxEvents is the run's event budget: the run stops after this many
	// processed events and its Result says the budget was exceeded.
	// 0 means the default derived from the workload (DefaultMaxEvents).
	MaxEvents uint64
	// MaxPending is the run's memory-conscious bound: the run stops when
	// more events than this are queued at once (messages in flight and
	// timers), before a runaway protocol grows to gigabytes. 0 means the
	// default derived from the workload (DefaultMaxPending).
	MaxPending int
	// StallWindow, if set, ends the run when no client request has been
	// accepted for this long after max(GST, the last acceptance): the run
	// stalled (Result.Ended "stall").
	StallWindow sim.Time

	// Ledgers, when set, is the SnapshotCache through which the replicas'
	// ledgers share their states (an online checker's reference ledger may
	// share it too); nil: the run makes its own. A cache belongs to one run.
	Ledgers *ledger.SnapshotCache

	// Sinks receive the trace (a JSON Lines file, online checkers).
	Sinks []sim.Sink
	// StopWhen, if set, is called after every event; the run stops when it
	// returns true (an online checker found a violation).
	StopWhen func() bool
}

// Mix weighs the payment operations a workload draws after authorizing a payment.
// All zero means the default mix.
type Mix struct {
	Confirm float64
	Refund  float64
	Cancel  float64
}

// ByzantineSpec makes replica Replica faulty with a named strategy.
type ByzantineSpec struct {
	Replica  sim.NodeID
	Strategy string            // a name from the byzantine package's registry
	Params   map[string]string // strategy parameters (strategy-specific)
}

// Result summarises a finished run. Its JSON form is the CLI's --json output.
type Result struct {
	Seed      uint64 `json:"seed"`
	Protocol  string `json:"protocol,omitempty"`
	N         int    `json:"n"`
	F         int    `json:"f"`
	Variant   string `json:"variant,omitempty"`
	TraceHash string `json:"trace_hash"`
	Events    uint64 `json:"events"`
	SimTimeNs int64  `json:"sim_time_ns"`

	Messages Messages `json:"messages"`
	Requests Requests `json:"requests"`
	// Payments has each payment's state in the ledger of the honest
	// replicas (or "diverged" when honest replicas disagree, see
	// PaymentStates); JSON: {id: state}.
	Payments  PaymentStates `json:"payments"`
	LatencyNs Latency       `json:"latency_ns"`
	Views     Views         `json:"views"`

	// Faulty are the faulty replicas: the Byzantine ones and the ones that
	// crash at some time (see Config.FaultyReplicas), sorted.
	Faulty    []sim.NodeID `json:"faulty"`
	Byzantine []sim.NodeID `json:"byzantine"`
	Crashed   []sim.NodeID `json:"crashed"`
	// WithinFaultModel is true when at most f replicas are faulty at any
	// time (see Config.FaultIntervals; a checked run replaces it by what
	// the run showed, see properties.Judge).
	WithinFaultModel bool `json:"within_fault_model"`
	// FaultIntervals say when each faulty replica counted against f
	// (filled by a checked run; a wipe's end is when it caught up).
	FaultIntervals []FaultInterval `json:"fault_intervals,omitempty"`
	// BudgetExceeded is set when the run was stopped by its event budget
	// or its bound on queued events ("budget exceeded after N events: ...").
	BudgetExceeded string `json:"budget_exceeded,omitempty"`

	Replicas []ReplicaSummary `json:"replicas"`

	// Completed is true when every client request was accepted before the
	// run ended (false: MaxTime or a budget stopped it first).
	Completed bool `json:"completed"`
	// Ended says why the run ended: EndCompleted, EndStall, EndMaxTime,
	// EndMaxEvents, EndMaxPending, EndStopped or EndIdle.
	Ended string `json:"ended"`
	// StalledAtNs is the stall deadline of a run that ended EndStall: the
	// virtual time by which no request had been accepted for StallWindow
	// after GST. Checkers judge liveness at this time.
	StalledAtNs int64 `json:"stalled_at_ns,omitempty"`

	// Stats are the kernel's raw counters (not part of the JSON).
	Stats sim.Stats `json:"-"`
}

// Messages counts network messages (self-deliveries excluded).
type Messages struct {
	Total        uint64            `json:"total"`
	Bytes        uint64            `json:"bytes"`
	Dropped      uint64            `json:"dropped"`
	Duplicated   uint64            `json:"duplicated"`
	Local        uint64            `json:"local"`
	ByType       map[string]uint64 `json:"by_type"`
	BytesByType  map[string]uint64 `json:"bytes_by_type"`
	PerCommitted float64           `json:"per_committed_request"`
	// Egress is set when a bandwidth limit is on (network.bandwidth or
	// network.ingress_bandwidth and their per-node overrides).
	Egress *Egress `json:"egress,omitempty"`
}

// Egress summarises the senders' link queues under a bandwidth limit.
type Egress struct {
	// QueueWaitMeanNs and QueueWaitMaxNs: how long a network message waited
	// behind its sender's earlier messages before its transmission began.
	QueueWaitMeanNs int64 `json:"queue_wait_mean_ns"`
	QueueWaitMaxNs  int64 `json:"queue_wait_max_ns"`
	// MaxBytesPerSec is the busiest sender's bytes sent per second of the
	// run's virtual time, and MaxSender that node.
	MaxBytesPerSec float64    `json:"max_sender_bytes_per_sec"`
	MaxSender      sim.NodeID `json:"max_sender"`
	// IngressWaitMeanNs and IngressWaitMaxNs: how long a message that
	// reached a rate-limited receiver waited behind earlier arrivals
	// (mean over those messages; set when an ingress limit is on).
	IngressWaitMeanNs int64 `json:"ingress_wait_mean_ns,omitempty"`
	IngressWaitMaxNs  int64 `json:"ingress_wait_max_ns,omitempty"`
}

// Requests counts client requests.
type Requests struct {
	Submitted int `json:"submitted"`
	Committed int `json:"committed"` // accepted by their client with f+1 matching replies
}

// Latency is client latency from first submission to acceptance, in virtual ns.
type Latency struct {
	P50 int64 `json:"p50"`
	P99 int64 `json:"p99"`
	Max int64 `json:"max"`
}

// Views summarises view changes.
type Views struct {
	Final      uint64 `json:"final"`   // highest view entered by an honest replica
	Changes    int    `json:"changes"` // NEW-VIEWs entered (counted once per view)
	NoProgress int64  `json:"no_progress_ns"`
}

// ReplicaSummary is one replica's end state.
type ReplicaSummary struct {
	ID          sim.NodeID `json:"id"`
	Faulty      bool       `json:"faulty"` // Byzantine
	Strategy    string     `json:"strategy,omitempty"`
	Crashed     bool       `json:"crashed,omitempty"`
	View        uint64     `json:"view"`
	Executed    uint64     `json:"executed"` // last executed sequence number
	Stable      uint64     `json:"stable"`   // last stable checkpoint
	StateDigest string     `json:"state_digest"`
	// Store counts the activity of the replica's modelled stable store
	// (only replicas with a crash of a kind other than keep have one).
	Store *pbft.StoreStats `json:"store,omitempty"`
}

// ledgerCache returns the cache the replicas' ledgers share: Ledgers, or a
// new one.
func (c Config) ledgerCache() *ledger.SnapshotCache {
	if c.Ledgers != nil {
		return c.Ledgers
	}
	return ledger.NewSnapshotCache()
}
