// Package scenarios reads, validates and writes declarative PBFT experiments.
//
// A scenario is a YAML file describing a whole run: the replicas and their
// protocol settings, the payments workload, the network model (delays, loss,
// per-link overrides, partitions, GST), crashes, Byzantine replicas with their
// strategies, adversarial network rules, the run length and the seed.
// Decoding is strict: unknown fields, wrong types, out-of-range values and
// references to nodes that do not exist are errors (*Error) that name the
// file, the line and column, the field path and what is allowed.
//
// Built-in scenarios are embedded in the binary (see List, Builtin and Load).
// A Replay is a scenario with the seed, trace hash and verdict of one run, so
// that the run can be reproduced.
package scenarios

import "time"

// Scenario is the YAML schema of a whole experiment. Zero or omitted fields
// take the cluster defaults (see cluster.Config.WithDefaults). Durations are Go
// duration strings such as "150ms".
type Scenario struct {
	Name        string `yaml:"name,omitempty"`
	Description string `yaml:"description,omitempty"`
	// Seed of the run; the CLI may override it.
	Seed uint64 `yaml:"seed,omitempty"`
	// N is the number of replicas (>= 4, default 4).
	N int `yaml:"n,omitempty"`
	// F is the number of tolerated faults; 0 means floor((n-1)/3).
	F        int      `yaml:"f,omitempty"`
	Protocol Protocol `yaml:"protocol,omitempty"`
	Workload Workload `yaml:"workload,omitempty"`
	Network  Network  `yaml:"network,omitempty"`
	Crashes  []Crash  `yaml:"crashes,omitempty"`
	// TimerFires fire pending timers early (a schedule driven in pbftsim
	// serve, forked as a replay file).
	TimerFires []TimerFire `yaml:"timer_fires,omitempty"`
	// Clocks gives nodes (replicas, then clients) drifting, offset or
	// jumping clocks.
	Clocks    []Clock     `yaml:"clocks,omitempty"`
	Byzantine []Byzantine `yaml:"byzantine,omitempty"`
	// Adversary lists phase-aware network rules (byzantine.NetRule).
	Adversary []NetRule `yaml:"adversary,omitempty"`
	Run       Run       `yaml:"run,omitempty"`
}

// Protocol names the replication protocol and holds its settings. In a
// file, "protocol: hotstuff" is short for "protocol: {name: hotstuff}".
type Protocol struct {
	// Name is "pbft" (the default when empty), "hotstuff" or
	// "chained-hotstuff".
	Name               string        `yaml:"name,omitempty"`
	Batch              int           `yaml:"batch,omitempty"`               // requests per PRE-PREPARE
	CheckpointInterval int           `yaml:"checkpoint_interval,omitempty"` // K
	Window             int           `yaml:"window,omitempty"`              // L = H - h, a multiple of K
	ViewChangeTimeout  time.Duration `yaml:"view_change_timeout,omitempty"`
	ClientTimeout      time.Duration `yaml:"client_timeout,omitempty"`
	// Variant selects a deliberately broken protocol variant ("" is correct).
	Variant string `yaml:"variant,omitempty"`
	// FullCertificates (PBFT): certificates carry every matching vote a
	// replica holds, not the quorum of lowest replica id (set by explore
	// --symmetry; see pbft.Config.FullCertificates).
	FullCertificates bool `yaml:"full_certificates,omitempty"`
}

// Workload describes the payments clients.
type Workload struct {
	Clients  int `yaml:"clients,omitempty"`
	Requests int `yaml:"requests,omitempty"` // operations issued in total
	Payments int `yaml:"payments,omitempty"` // distinct payment ids
	// DrawnFor, when above Requests, is the request count the workload is
	// drawn for; each client issues a prefix of its operations in that
	// workload (the shrinker sets it so that fewer requests keep the first
	// ones). 0 means Requests.
	DrawnFor int `yaml:"drawn_for,omitempty"`
	// Issued, when set, is how many operations each client issues (a
	// prefix of its operations in the drawn workload); they add up to
	// Requests. Unset shares Requests evenly.
	Issued   []int         `yaml:"issued,omitempty,flow"`
	Interval time.Duration `yaml:"interval,omitempty"` // client think time
	Mix      Mix           `yaml:"mix,omitempty"`
}

// Mix weighs the operations drawn after authorizing a payment (weights >= 0;
// all zero means the default mix).
type Mix struct {
	Confirm float64 `yaml:"confirm,omitempty"`
	Refund  float64 `yaml:"refund,omitempty"`
	Cancel  float64 `yaml:"cancel,omitempty"`
}

// Network is the network fault model.
type Network struct {
	// Delay is the default delay distribution in sim.ParseDelay syntax
	// ("const:2ms", "uniform:1ms:20ms", "exp:5ms[:min]", ...).
	Delay     string  `yaml:"delay,omitempty"`
	Drop      float64 `yaml:"drop,omitempty"`      // probability in [0, 1]
	Duplicate float64 `yaml:"duplicate,omitempty"` // probability in [0, 1]
	// GST is the global stabilisation time; after it, messages between
	// correct nodes are never lost and take at most Delta.
	GST        time.Duration `yaml:"gst,omitempty"`
	Delta      time.Duration `yaml:"delta,omitempty"`
	Links      []Link        `yaml:"links,omitempty"`
	Partitions []Partition   `yaml:"partitions,omitempty"`
	// Bandwidth is every node's egress rate in sim.ParseBandwidth syntax
	// ("100Mbit", "1Gbit/s"); empty: unlimited. A message occupies its
	// sender's link for size/bandwidth, queued behind its earlier ones.
	Bandwidth string `yaml:"bandwidth,omitempty"`
	// NodeBandwidth overrides Bandwidth for single nodes.
	NodeBandwidth []NodeBandwidth `yaml:"node_bandwidth,omitempty"`
	// IngressBandwidth is every node's ingress rate (same syntax; empty:
	// unlimited): a message that reaches its receiver occupies the
	// receiver's link for size/bandwidth, queued behind earlier arrivals.
	IngressBandwidth string `yaml:"ingress_bandwidth,omitempty"`
	// NodeIngress overrides IngressBandwidth for single nodes.
	NodeIngress []NodeBandwidth `yaml:"node_ingress,omitempty"`
	// Regions places the nodes in a wide-area network with a matrix of
	// inter-region round-trip times (see Regions); it sets every link's
	// delay, and network.delay may then be omitted.
	Regions *Regions `yaml:"regions,omitempty"`
}

// Link overrides the network model of the directed link From -> To. Omitted
// fields inherit the network's defaults.
type Link struct {
	From      int      `yaml:"from" scenario:"required"`
	To        int      `yaml:"to" scenario:"required"`
	Delay     string   `yaml:"delay,omitempty"`
	Drop      *float64 `yaml:"drop,omitempty"`
	Duplicate *float64 `yaml:"duplicate,omitempty"`
}

// NodeBandwidth is one node's egress (or, in node_ingress, ingress) rate
// (sim.ParseBandwidth syntax).
type NodeBandwidth struct {
	Node      int    `yaml:"node" scenario:"required"`
	Bandwidth string `yaml:"bandwidth" scenario:"required"`
}

// Partition separates Groups of nodes from From until To (0: never healed).
// Nodes in no group form one more group.
type Partition struct {
	Groups [][]int       `yaml:"groups" scenario:"required"`
	From   time.Duration `yaml:"from,omitempty"`
	To     time.Duration `yaml:"to,omitempty"`
}

// Crash stops Node at At and, if Recover > At, restarts it at Recover.
type Crash struct {
	Node    int           `yaml:"node" scenario:"required"`
	At      time.Duration `yaml:"at,omitempty"`
	Recover time.Duration `yaml:"recover,omitempty"`
	// Kind is what the crash does to the node's storage: keep (default:
	// all state kept), amnesia (volatile state lost, stable store kept),
	// lose-unsynced (also the writes after the last sync lost) or wipe (a
	// new, empty disk). Kinds other than keep apply to PBFT replicas.
	Kind string `yaml:"kind,omitempty"`
}

// TimerFire makes node Node's timer Timer fire at At, earlier than it was
// set for; nothing happens when it is not pending then or Node is down.
type TimerFire struct {
	Node  int           `yaml:"node" scenario:"required"`
	Timer uint64        `yaml:"timer" scenario:"required"`
	At    time.Duration `yaml:"at,omitempty"`
}

// Clock makes Node's local clock run DriftPPM parts per million fast
// (negative: slow), start at Offset and step by Jumps; its timers fire by
// local time (see sim.Clock).
type Clock struct {
	Node     int           `yaml:"node" scenario:"required"`
	DriftPPM float64       `yaml:"drift_ppm"`
	Offset   time.Duration `yaml:"offset,omitempty"`
	Jumps    []ClockJump   `yaml:"jumps,omitempty"`
}

// ClockJump steps a clock by By (negative: backwards) at simulated time At.
type ClockJump struct {
	At time.Duration `yaml:"at"`
	By time.Duration `yaml:"by" scenario:"required"`
}

// Byzantine makes Replica faulty with a strategy from the byzantine registry.
type Byzantine struct {
	Replica  int               `yaml:"replica" scenario:"required"`
	Strategy string            `yaml:"strategy" scenario:"required"`
	Params   map[string]string `yaml:"params,omitempty"`
}

// NetRule is an adversarial network rule: it drops (with probability Drop)
// or delays the messages it matches while active. Empty matchers match all.
type NetRule struct {
	Types []string      `yaml:"types,omitempty"` // message types, e.g. PREPARE
	From  []int         `yaml:"from,omitempty"`
	To    []int         `yaml:"to,omitempty"`
	View  *uint64       `yaml:"view,omitempty"`
	Seq   *uint64       `yaml:"seq,omitempty"`
	Drop  float64       `yaml:"drop,omitempty"`
	Delay time.Duration `yaml:"delay,omitempty"`
	// Duplicate delivers one more copy of a matching message,
	// DuplicateDelay after its send (an explored schedule's duplication).
	Duplicate      bool          `yaml:"duplicate,omitempty"`
	DuplicateDelay time.Duration `yaml:"duplicate_delay,omitempty"`
	// DeliverAt, when set, delivers a matching message at that time
	// instead of its sampled arrival (never before it was sent); Lose loses
	// it then instead; DuplicateAt delivers one more copy at that time.
	// The link's random draws are made as usual, so other messages keep
	// their timing: a schedule driven in pbftsim serve.
	DeliverAt   time.Duration `yaml:"deliver_at,omitempty"`
	Lose        bool          `yaml:"lose,omitempty"`
	DuplicateAt time.Duration `yaml:"duplicate_at,omitempty"`
	Start       time.Duration `yaml:"start,omitempty"`
	End         time.Duration `yaml:"end,omitempty"`        // 0: until GST
	StartView   uint64        `yaml:"start_view,omitempty"` // active once view >= StartView is seen
	// Nth, when set, applies the rule only to the Nth message (counted from
	// 1 in send order) that matches its other fields on each link from ->
	// to: it tells apart messages those fields cannot, e.g. two
	// PRE-PREPAREs for one view and sequence number that an equivocating
	// primary sends at one moment. 0: every matching message.
	Nth int `yaml:"nth,omitempty"`
}

// Run bounds the run.
type Run struct {
	MaxTime   time.Duration `yaml:"max_time,omitempty"`   // virtual time; default 60s (no limit when stall is set)
	MaxEvents uint64        `yaml:"max_events,omitempty"` // event budget; 0: derived from the workload (cluster.DefaultMaxEvents)
	// MaxPending bounds the events queued at once (memory); 0: derived
	// from the workload (cluster.DefaultMaxPending).
	MaxPending int `yaml:"max_pending,omitempty"`
	// Stall ends the run when no client request has been accepted for this
	// long after max(GST, the last acceptance): the run is reported as
	// stalled. With Stall set and MaxTime 0 the run has no time limit: it
	// ends when the workload completes or stalls.
	Stall time.Duration `yaml:"stall,omitempty"`
}

// Replay records one run so that it can be reproduced: the scenario, the seed
// it ran with, the trace hash it produced and what the checkers concluded.
type Replay struct {
	Scenario  Scenario `yaml:"scenario" scenario:"required"`
	Seed      uint64   `yaml:"seed"`
	TraceHash string   `yaml:"trace_hash,omitempty"`
	Verdict   string   `yaml:"verdict,omitempty"`  // e.g. "ok" or "violation"
	Property  string   `yaml:"property,omitempty"` // the violated property, if any
	Variant   string   `yaml:"variant,omitempty"`  // protocol variant of the run
	Version   string   `yaml:"version,omitempty"`  // pbftsim version that wrote the file
}
