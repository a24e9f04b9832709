package cluster

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/byzantine"
	"github.com/pbftsim/pbftsim/sim/events"
	"github.com/pbftsim/pbftsim/sim/hotstuff"
	"github.com/pbftsim/pbftsim/sim/ledger"
	"github.com/pbftsim/pbftsim/sim/pbft"
	"github.com/pbftsim/pbftsim/sim/workload"
)

// Protocol names (Config.Protocol).
const (
	ProtocolPBFT            = "pbft"
	ProtocolHotStuff        = "hotstuff"
	ProtocolChainedHotStuff = "chained-hotstuff"
)

// Protocols lists the protocol names a Config accepts.
var Protocols = []string{ProtocolPBFT, ProtocolHotStuff, ProtocolChainedHotStuff}

// IsHotStuff reports whether protocol is one of the HotStuff family (Basic
// or chained; sim/hotstuff runs both): the same message types, Byzantine
// strategies and variants (a chained-only variant aside).
func IsHotStuff(protocol string) bool {
	return protocol == ProtocolHotStuff || protocol == ProtocolChainedHotStuff
}

// Default values of Config's zero fields.
const (
	DefaultN                  = 4
	DefaultBatch              = 1
	DefaultCheckpointInterval = 16
	DefaultBatchTimeout       = 2 * time.Millisecond
	DefaultViewChangeTimeout  = 200 * time.Millisecond
	DefaultClientTimeout      = 300 * time.Millisecond
	DefaultClients            = 2
	DefaultRequests           = 8
	DefaultMaxTime            = sim.Time(60 * time.Second)
	// DrainTime is how long a run goes on after the last client request was
	// accepted, so that messages still in flight are delivered and counted.
	DrainTime = sim.Time(time.Second)
)

// ConfigError reports a Config field that is out of range.
type ConfigError struct {
	Field   string
	Value   string
	Allowed string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s: %s is out of range: want %s", e.Field, e.Value, e.Allowed)
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.N == 0 {
		c.N = DefaultN
	}
	if c.F == 0 && c.N >= 1 {
		c.F = (c.N - 1) / 3
	}
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	if c.CheckpointInterval == 0 {
		c.CheckpointInterval = DefaultCheckpointInterval
	}
	if c.Window == 0 {
		c.Window = 2 * c.CheckpointInterval
	}
	if c.BatchTimeout == 0 {
		c.BatchTimeout = DefaultBatchTimeout
	}
	if c.ViewChangeTimeout == 0 {
		c.ViewChangeTimeout = DefaultViewChangeTimeout
	}
	if c.ClientTimeout == 0 {
		c.ClientTimeout = DefaultClientTimeout
	}
	if c.Clients == 0 {
		c.Clients = DefaultClients
	}
	if c.Requests == 0 {
		c.Requests = DefaultRequests
	}
	if c.MaxTime == 0 && c.StallWindow == 0 {
		c.MaxTime = DefaultMaxTime
	}
	if c.MaxEvents == 0 {
		c.MaxEvents = DefaultMaxEvents(c)
	}
	if c.MaxPending == 0 {
		c.MaxPending = DefaultMaxPending(c)
	}
	return c
}

// DefaultMaxEvents is the event budget of a run whose Config leaves
// MaxEvents zero: 1,000,000 events plus 200 per request and ordered pair of
// nodes (a request costs about 3n^2 messages in the normal case; the margin
// covers view changes, retransmissions and timers over a long MaxTime).
// For n=4, two clients and 8 requests it is 1,057,600 events, where the
// fault-free run needs about 230.
func DefaultMaxEvents(c Config) uint64 {
	nodes := uint64(max(c.N, 1) + max(c.Clients, 0))
	return 1_000_000 + 200*uint64(max(c.Requests, 0))*nodes*nodes
}

// DefaultMaxPending is the bound on queued events of a run whose Config
// leaves MaxPending zero: 65,536 plus 4 per ordered pair of nodes and
// sequence number of the window (a full window of pipelined requests has
// about 2n^2 PREPAREs and COMMITs per sequence number in flight). Each
// queued event is a few dozen bytes plus its share of a message, so the
// bound keeps the queue in the tens of MB for n=4 and a few hundred MB at
// n=100.
func DefaultMaxPending(c Config) int {
	nodes := max(c.N, 1) + max(c.Clients, 0)
	return 1<<16 + 4*max(c.Window, 1)*nodes*nodes
}

// Crashed returns the replicas (not clients) that crash at some time, sorted.
func (c Config) Crashed() []sim.NodeID {
	var out []sim.NodeID
	n := c.N
	if n == 0 {
		n = DefaultN
	}
	for _, cr := range c.Crashes {
		if int(cr.Node) >= 0 && int(cr.Node) < n {
			out = append(out, cr.Node)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// FaultyReplicas returns the replicas that count against f at some time:
// the Byzantine ones and the ones that crash, sorted. When they count is
// FaultIntervals': a crashed replica while it is down (keep, amnesia,
// lose-unsynced), a wiped one until it has caught up. Safety is still
// judged at crashed replicas (see properties.CheckerOptions): a replica
// that recovers with what it persisted must never contradict itself or
// the others.
func (c Config) FaultyReplicas() []sim.NodeID {
	out := append(c.Faulty(), c.Crashed()...)
	slices.Sort(out)
	return slices.Compact(out)
}

// WithinFaultModel reports whether at most f replicas are faulty at any
// time (FaultIntervals, a wiped replica counted until its recovery: the
// run's checker decides when it caught up, see properties.Judge).
func (c Config) WithinFaultModel() bool { return c.WithDefaults().withinFaultModel() }

// withinFaultModel is WithinFaultModel of a configuration with its defaults.
func (c Config) withinFaultModel() bool {
	most, _, _ := MaxFaulty(c.FaultIntervals())
	return most <= c.F
}

// Validate reports the first field of c (after defaults) that is out of range.
func (c Config) Validate() error { return c.WithDefaults().validate() }

// validate is Validate of a configuration that has its defaults.
func (c Config) validate() error {
	switch {
	case c.N < 4:
		return &ConfigError{"n", fmt.Sprint(c.N), "at least 4 replicas"}
	case c.F < 0 || c.N < 3*c.F+1:
		return &ConfigError{"f", fmt.Sprint(c.F), fmt.Sprintf("f >= 0 with n >= 3f+1 (at most %d for n=%d)", (c.N-1)/3, c.N)}
	case c.Batch < 1:
		return &ConfigError{"protocol.batch", fmt.Sprint(c.Batch), "at least 1"}
	case c.CheckpointInterval < 1:
		return &ConfigError{"protocol.checkpoint_interval", fmt.Sprint(c.CheckpointInterval), "at least 1"}
	case c.Window < c.CheckpointInterval || c.Window%c.CheckpointInterval != 0:
		return &ConfigError{"protocol.window", fmt.Sprint(c.Window), fmt.Sprintf("a multiple of checkpoint_interval (%d), at least it", c.CheckpointInterval)}
	case c.BatchTimeout < 0:
		return &ConfigError{"protocol.batch_timeout", c.BatchTimeout.String(), "a positive duration"}
	case c.ViewChangeTimeout < 0:
		return &ConfigError{"protocol.view_change_timeout", c.ViewChangeTimeout.String(), "a positive duration"}
	case c.ClientTimeout < 0:
		return &ConfigError{"protocol.client_timeout", c.ClientTimeout.String(), "a positive duration"}
	case c.Clients < 1:
		return &ConfigError{"workload.clients", fmt.Sprint(c.Clients), "at least 1"}
	case c.Requests < 0:
		return &ConfigError{"workload.requests", fmt.Sprint(c.Requests), "at least 0"}
	case c.Interval < 0:
		return &ConfigError{"workload.interval", c.Interval.String(), "a duration >= 0"}
	case c.MaxTime < 0:
		return &ConfigError{"run.max_time", c.MaxTime.String(), "a duration >= 0"}
	case c.MaxPending < 0:
		return &ConfigError{"run.max_pending", fmt.Sprint(c.MaxPending), "a number of events >= 0 (0: the default)"}
	case c.StallWindow < 0:
		return &ConfigError{"run.stall", c.StallWindow.String(), "a duration >= 0"}
	}
	switch c.Protocol {
	case "", ProtocolPBFT, ProtocolHotStuff, ProtocolChainedHotStuff:
	default:
		return &ConfigError{"protocol", fmt.Sprintf("%q", c.Protocol), fmt.Sprintf("one of %v", Protocols)}
	}
	if c.Variant != "" {
		if IsHotStuff(c.Protocol) {
			if _, err := hotstuff.ParseVariant(c.Variant, c.Protocol == ProtocolChainedHotStuff); err != nil {
				return &ConfigError{"protocol.variant", c.Variant, err.Error()}
			}
		} else if _, err := pbft.ParseVariant(c.Variant); err != nil {
			return &ConfigError{"protocol.variant", c.Variant, err.Error()}
		}
	}
	seen := map[sim.NodeID]bool{}
	for i, b := range c.Byzantine {
		field := fmt.Sprintf("byzantine[%d]", i)
		if b.Replica < 0 || int(b.Replica) >= c.N {
			return &ConfigError{field + ".replica", fmt.Sprint(b.Replica), fmt.Sprintf("a replica id in [0, %d]", c.N-1)}
		}
		if seen[b.Replica] {
			return &ConfigError{field + ".replica", fmt.Sprint(b.Replica), "each replica at most once"}
		}
		seen[b.Replica] = true
		if IsHotStuff(c.Protocol) {
			if err := hotstuff.CheckStrategy(b.Strategy, b.Params, c.N); err != nil {
				return &ConfigError{field + ".strategy", fmt.Sprintf("%q", b.Strategy), fmt.Sprintf("one of the HotStuff strategies %v with valid params (%v)", hotstuff.Strategies(), err)}
			}
			continue
		}
		if err := byzantine.Check(b.Strategy, b.Params, b.Replica, c.N); err != nil {
			return &ConfigError{field + ".strategy", fmt.Sprintf("%q", b.Strategy), fmt.Sprintf("one of %v, or several joined with %q, with valid params (%v)", byzantine.Names(), byzantine.ComposeSep, err)}
		}
	}
	for i, r := range c.NetRules {
		if err := r.Validate(c.N + c.Clients); err != nil {
			return fmt.Errorf("adversary[%d]: %w", i, err)
		}
	}
	for i, cr := range c.Crashes {
		if cr.Node < 0 || int(cr.Node) >= c.N+c.Clients {
			return &ConfigError{fmt.Sprintf("crashes[%d].node", i), fmt.Sprint(cr.Node), fmt.Sprintf("a node id in [0, %d]", c.N+c.Clients-1)}
		}
		switch {
		case int(cr.Kind) >= len(sim.CrashKindNames):
			return &ConfigError{fmt.Sprintf("crashes[%d].kind", i), cr.Kind.String(), "one of " + strings.Join(sim.CrashKindNames, ", ")}
		case cr.Kind != sim.CrashKeep && int(cr.Node) >= c.N:
			return &ConfigError{fmt.Sprintf("crashes[%d].kind", i), cr.Kind.String(), "keep for a client (kinds other than keep model a replica's stable store)"}
		case cr.Kind != sim.CrashKeep && c.Protocol == ProtocolHotStuff:
			return &ConfigError{fmt.Sprintf("crashes[%d].kind", i), cr.Kind.String(), "keep for hotstuff (only pbft models a stable store)"}
		}
	}
	return nil
}

// Faulty returns the ids of the Byzantine replicas, sorted.
func (c Config) Faulty() []sim.NodeID {
	out := make([]sim.NodeID, 0, len(c.Byzantine))
	for _, b := range c.Byzantine {
		out = append(out, b.Replica)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Run builds the cluster described by cfg, runs it to completion (every
// client request accepted and in-flight messages drained, or MaxTime,
// MaxEvents, StopWhen) and summarises it.
func Run(cfg Config) (*Result, error) {
	r, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return r.Run(), nil
}

// Cluster is one built, runnable experiment. Most callers use Run; Cluster
// lets tests and debuggers step a run and inspect replicas.
type Cluster struct {
	cfg      Config
	kernel   *sim.Kernel
	replicas []*pbft.Replica // PBFT runs only
	hs       []*hotstuff.Replica
	states   []replicaState // every protocol's replicas, for the summary
	ledgers  []*ledger.Ledger
	clients  []*pbft.Client
	faulty   map[sim.NodeID]string
	payN     int // the workload's payments: ids workload.PaymentID(1..payN, payN)
	obs      *observer
	budget   string        // why a budget stopped the run ("" if none did)
	stores   []*pbft.Store // per replica: its modelled stable store (nil: none)

	// end-of-run state (see Step)
	// (zero values are the start state: every constructor gets it)
	ended      string
	draining   bool // every request accepted; the run ends after drainUntil
	drainUntil sim.Time
	stallSet   bool     // stallAt is set (StallWindow > 0)
	stallAt    sim.Time // the stall deadline
	stallSeen  int      // acceptances when stallAt was computed
}

// newCluster returns the protocol-independent part of a cluster for c.
func newCluster(c Config, plan *workload.Plan) *Cluster {
	cl := &Cluster{cfg: c, faulty: map[sim.NodeID]string{}, payN: plan.Payments()}
	for _, b := range c.Byzantine {
		cl.faulty[b.Replica] = b.Strategy
	}
	return cl
}

// New builds the cluster for cfg without running it.
func New(cfg Config) (*Cluster, error) {
	c := cfg.WithDefaults() // once: what follows takes c completed
	if err := c.validate(); err != nil {
		return nil, err
	}
	streams := sim.Streams{Seed: c.Seed}
	wl := workload.Config{Clients: c.Clients, Requests: c.Requests, Payments: c.Payments, DrawnFor: c.DrawnFor, Issued: c.Issued,
		Mix: workload.Mix{Confirm: c.Mix.Confirm, Refund: c.Mix.Refund, Cancel: c.Mix.Cancel}}
	if err := wl.Validate(); err != nil {
		return nil, fmt.Errorf("workload: %w", err)
	}
	plan := workload.NewPlan(wl, streams.Stream("workload"))
	if IsHotStuff(c.Protocol) {
		return newHotStuff(c, streams, plan)
	}
	variant, err := pbft.ParseVariant(c.Variant)
	if err != nil {
		return nil, &ConfigError{"protocol.variant", c.Variant, err.Error()}
	}

	cl := newCluster(c, plan)
	keys := pbft.NewKeyring(c.Seed, c.N+c.Clients)
	verified := pbft.NewVerifyCache(c.N)
	snapshots := c.ledgerCache()
	cl.stores = c.stores()
	cl.replicas, err = buildNodes(cl, streams, protocolNodes[*pbft.Replica]{
		replica: func(id sim.NodeID) (*pbft.Replica, *ledger.Ledger, error) {
			l := ledger.NewShared(snapshots)
			r, err := pbft.NewReplica(pbft.Config{
				ID: id, N: c.N, F: c.F,
				CheckpointInterval: c.CheckpointInterval, Window: c.Window, Batch: c.Batch,
				ViewChangeTimeout: c.ViewChangeTimeout, BatchTimeout: c.BatchTimeout,
				Keyring: keys, SM: l, Variant: variant, VerifyCache: verified, Store: cl.stores[id],
				FullCertificates: c.FullCertificates, DropSpentVotes: c.DropSpentVotes,
			})
			return r, l, err
		},
		byzantine: func(b ByzantineSpec, r *pbft.Replica, rnd *rand.Rand, newHonest func() (*pbft.Replica, error)) (sim.Node, error) {
			return byzantine.New(b.Strategy, b.Params, r, byzantine.Env{
				ID: b.Replica, N: c.N, F: c.F, Signer: keys.Signer(b.Replica), Rand: rnd,
				NewHonest: func() (sim.Node, error) {
					r, err := newHonest()
					return r, err
				},
			})
		},
		client: func(j int, id sim.NodeID) (sim.Node, error) {
			cli, err := pbft.NewClient(pbft.ClientConfig{
				ID: id, N: c.N, F: c.F, Source: plan.Client(j),
				Interval: c.Interval, Timeout: c.ClientTimeout, Variant: variant, Keyring: keys,
				DropSpentReplies: c.DropSpentVotes,
			})
			if err != nil {
				return nil, err
			}
			cl.clients = append(cl.clients, cli)
			return cli, nil
		},
	})
	if err != nil {
		return nil, err
	}
	return cl, nil
}

// build makes the kernel of a cluster whose nodes are built.
func (cl *Cluster) build(nodes []sim.Node, names []string, streams sim.Streams) error {
	c := cl.cfg
	netw := c.Network
	netw.Faulty = append(slices.Clone(netw.Faulty), c.Faulty()...)
	if len(c.NetRules) > 0 {
		netw.Filters = append(slices.Clone(netw.Filters), byzantine.NewRuleFilter(c.NetRules, streams.Stream("adversary/network")))
	}
	cl.obs = newObserver(c, cl.faulty)
	sinks := append([]sim.Sink{cl.obs}, c.Sinks...)
	k, err := sim.New(sim.Config{
		Seed: c.Seed, Nodes: nodes, Names: names, Network: netw, Crashes: c.Crashes, Fires: c.Fires, Clocks: c.Clocks,
		MaxTime: c.MaxTime, MaxEvents: c.MaxEvents, Sinks: sinks,
	})
	if err != nil {
		return err
	}
	cl.kernel = k
	return nil
}

// Kernel returns the simulation kernel (for stepping and inspection).
func (cl *Cluster) Kernel() *sim.Kernel { return cl.kernel }

// Replica returns honest replica code of replica i (for a Byzantine replica,
// the honest core its strategy wraps) of a PBFT run; nil for HotStuff.
func (cl *Cluster) Replica(i int) *pbft.Replica {
	if i < len(cl.replicas) {
		return cl.replicas[i]
	}
	return nil
}

// HotStuffReplica returns replica i of a HotStuff run (nil for PBFT).
func (cl *Cluster) HotStuffReplica(i int) *hotstuff.Replica {
	if i < len(cl.hs) {
		return cl.hs[i]
	}
	return nil
}

// ReplicaState returns replica i's last executed sequence number and the
// digest of its replicated state right after it, for any protocol (false
// when there is no replica i). For a Byzantine replica it is the state of
// the honest core its strategy wraps.
func (cl *Cluster) ReplicaState(i int) (seq uint64, digest pbft.Digest, ok bool) {
	if i < 0 || i >= len(cl.states) {
		return 0, pbft.Digest{}, false
	}
	r := cl.states[i]
	return r.LastExecuted(), r.StateDigest(), true
}

// Ledger returns replica i's ledger.
func (cl *Cluster) Ledger(i int) *ledger.Ledger { return cl.ledgers[i] }

// Config returns the configuration with defaults applied.
func (cl *Cluster) Config() Config { return cl.cfg }

// Why a run ended (Result.Ended).
const (
	EndCompleted = "completed"  // every request accepted, in-flight messages drained
	EndStall     = "stall"      // no request accepted for StallWindow after GST
	EndMaxTime   = "max-time"   // MaxTime reached first
	EndMaxEvents = "max-events" // the event budget (MaxEvents) ran out
	// EndMaxPending: more events were queued at once than MaxPending.
	EndMaxPending = "max-pending"
	EndStopped    = "stopped" // StopWhen (a checker's first violation)
	EndIdle       = "idle"    // no event left to process
)

// Run runs the cluster to its end and returns the summary.
func (cl *Cluster) Run() *Result {
	for cl.Step() {
		if cl.cfg.StopWhen != nil && cl.cfg.StopWhen() {
			cl.ended = EndStopped
			break
		}
		if cl.ended != "" {
			break
		}
	}
	return cl.Result()
}

// Step processes one event and reports whether it did. After the step that
// ends the run by the cluster's own rules (every request accepted and
// DrainTime passed, or the stall deadline, MaxTime, MaxEvents, no events),
// Ended is set; Step then returns false. StopWhen is the caller's to check
// (Run does).
func (cl *Cluster) Step() bool {
	if cl.ended != "" {
		return false
	}
	c := &cl.cfg
	if c.StallWindow > 0 && !cl.draining && (!cl.stallSet || cl.obs.accepted != cl.stallSeen) {
		cl.stallSet, cl.stallSeen = true, cl.obs.accepted
		cl.stallAt = max(c.Network.GST, cl.obs.lastProg) + c.StallWindow
		limit := cl.stallAt
		if c.MaxTime > 0 && c.MaxTime < limit {
			limit = c.MaxTime
		}
		cl.kernel.SetMaxTime(limit)
	}
	if !cl.kernel.Step() {
		cl.ended = cl.endReason()
		return false
	}
	if p := cl.kernel.Pending(); p > c.MaxPending {
		cl.ended = EndMaxPending
		cl.budget = fmt.Sprintf("budget exceeded after %d events: %d events queued at once, the bound (run.max_pending) is %d", cl.kernel.Stats().Events, p, c.MaxPending)
		return true
	}
	now := cl.kernel.Now()
	if !cl.draining {
		if cl.obs.accepted >= c.Requests {
			cl.draining, cl.drainUntil = true, now+DrainTime
			if c.StallWindow > 0 {
				cl.kernel.SetMaxTime(c.MaxTime)
			}
		}
	} else if now > cl.drainUntil {
		cl.ended = EndCompleted
	}
	return true
}

// Ended says why the run ended (one of EndCompleted, EndStall, EndMaxTime,
// EndMaxEvents, EndStopped, EndIdle), or "" while it goes on.
func (cl *Cluster) Ended() string { return cl.ended }

// endReason says why the kernel stopped stepping: a limit, or no events.
func (cl *Cluster) endReason() string {
	c := &cl.cfg
	k := cl.kernel
	switch {
	case cl.obs.accepted >= c.Requests:
		return EndCompleted
	case c.MaxEvents > 0 && k.Stats().Events >= c.MaxEvents:
		return EndMaxEvents
	case k.Pending() == 0:
		if c.StallWindow > 0 {
			return EndStall // idle with requests outstanding: nothing will ever happen
		}
		return EndIdle
	case c.StallWindow > 0 && (c.MaxTime == 0 || cl.stallAt < c.MaxTime):
		return EndStall
	}
	return EndMaxTime
}

// StallDeadline returns the virtual time at which a run that ended with
// EndStall was declared stalled (-1 when StallWindow is not set).
func (cl *Cluster) StallDeadline() sim.Time {
	if !cl.stallSet {
		return -1
	}
	return cl.stallAt
}

// Result summarises the run so far (normally once it has ended).
func (cl *Cluster) Result() *Result {
	c := cl.cfg
	st := cl.kernel.Stats()
	if cl.budget == "" && cl.ended == EndMaxEvents {
		cl.budget = fmt.Sprintf("budget exceeded after %d events: the event budget (run.max_events) is %d", st.Events, c.MaxEvents)
	}
	res := &Result{
		Seed: c.Seed, Protocol: c.Protocol, N: c.N, F: c.F, Variant: c.Variant,
		TraceHash: st.HashHex(), Events: st.Events, SimTimeNs: int64(st.SimTime),
		Faulty:           c.FaultyReplicas(),
		Byzantine:        c.Faulty(),
		Crashed:          c.Crashed(),
		WithinFaultModel: c.withinFaultModel(),
		BudgetExceeded:   cl.budget,
		Completed:        cl.obs.accepted >= c.Requests,
		Ended:            cl.ended,
		Stats:            *st,
	}
	if cl.ended == EndStall {
		res.StalledAtNs = int64(cl.stallAt)
	}
	res.Messages = Messages{
		Total: st.Sent.Messages, Bytes: st.Sent.Bytes, Dropped: st.Dropped.Messages,
		Duplicated: st.Duplicated.Messages, Local: st.Local.Messages,
		ByType: map[string]uint64{}, BytesByType: map[string]uint64{},
	}
	for t, ctr := range st.SentByType {
		if ctr.Messages > 0 {
			name := sim.MsgType(t).String()
			res.Messages.ByType[name] = ctr.Messages
			res.Messages.BytesByType[name] = ctr.Bytes
		}
	}
	res.Requests = Requests{Submitted: cl.obs.submitted, Committed: cl.obs.accepted}
	if cl.obs.accepted > 0 {
		res.Messages.PerCommitted = float64(st.Sent.Messages) / float64(cl.obs.accepted)
	}
	if nw := &c.Network; nw.Bandwidth != 0 || len(nw.NodeBandwidth) > 0 || nw.IngressBandwidth != 0 || len(nw.NodeIngress) > 0 {
		res.Messages.Egress = egressSummary(st)
	}
	res.LatencyNs = cl.obs.latencies.summary()
	res.Views = Views{Final: cl.obs.maxView, Changes: len(cl.obs.views), NoProgress: int64(cl.obs.maxGap)}

	for i, r := range cl.states {
		id := sim.NodeID(i)
		d := r.StateDigest()
		res.Replicas = append(res.Replicas, ReplicaSummary{
			ID: id, Faulty: cl.faulty[id] != "", Strategy: cl.faulty[id], Crashed: slices.Contains(res.Crashed, id),
			View: r.View(), Executed: r.LastExecuted(), Stable: r.StableCheckpoint(),
			StateDigest: fmt.Sprintf("%x", d[:8]), Store: cl.storeStats(i),
		})
	}
	res.Payments = cl.payments()
	return res
}

// payments reports each payment's state in the ledgers of the honest
// replicas that executed the most: one state when they agree, "diverged"
// when they do not, "unknown" when none of them has the payment.
func (cl *Cluster) payments() PaymentStates {
	var most uint64
	for i, r := range cl.states {
		if cl.faulty[sim.NodeID(i)] == "" && r.LastExecuted() > most {
			most = r.LastExecuted()
		}
	}
	// the ledgers judged: one of each group holding the same trie (the
	// replicas' ledgers share it when they agree), which answers for all
	var ls []*ledger.Ledger
	for i, r := range cl.states {
		if cl.faulty[sim.NodeID(i)] != "" || r.LastExecuted() != most {
			continue
		}
		if !slices.ContainsFunc(ls, cl.ledgers[i].Shares) {
			ls = append(ls, cl.ledgers[i])
		}
	}
	// each ledger's states, by one walk of its trie; a payment is
	// unknown where a ledger lacks it, and diverged where they differ
	out := newPaymentStates(cl.payN)
	for k, l := range ls {
		st := &out
		if k > 0 {
			other := newPaymentStates(cl.payN)
			st = &other
		}
		l.EachState(func(id []byte, s string) {
			if i, ok := workload.PaymentIndex(id, cl.payN); ok {
				st.set(i-1, s)
			}
		})
		if k > 0 {
			for i := range cl.payN {
				if s := st.state(i); s != out.state(i) {
					out.set(i, StateDiverged)
				}
			}
		}
	}
	return out
}

// Diverged reports the honest replicas whose ledger digest differs from
// that of honest replica with the lowest id among those that executed the
// most; nil when honest replicas agree.
func (cl *Cluster) Diverged() []sim.NodeID {
	var out []sim.NodeID
	var ref *[32]byte
	var most uint64
	for i, r := range cl.states {
		if cl.faulty[sim.NodeID(i)] == "" && r.LastExecuted() > most {
			most = r.LastExecuted()
		}
	}
	for i, r := range cl.states {
		if cl.faulty[sim.NodeID(i)] != "" || r.LastExecuted() != most {
			continue
		}
		d := cl.ledgers[i].Digest()
		if ref == nil {
			ref = &d
		} else if d != *ref {
			out = append(out, sim.NodeID(i))
		}
	}
	return out
}

// observer is the cluster's own sink: it follows client acceptances,
// latencies and view changes.
type observer struct {
	faulty    map[sim.NodeID]string
	submitted int
	accepted  int
	latencies latencies
	views     map[uint64]bool
	maxView   uint64
	lastProg  sim.Time
	maxGap    sim.Time
}

func newObserver(c Config, faulty map[sim.NodeID]string) *observer {
	return &observer{faulty: faulty, views: map[uint64]bool{}}
}

// Wants implements sim.KindSink: the observer follows node events only.
func (o *observer) Wants(k sim.RecordKind) bool { return k == sim.RecEvent }

// WantsEvent implements sim.EventSink: the observer follows the events
// observe reads, by type.
func (o *observer) WantsEvent(ev sim.Event) bool { return o.observe(ev, 0, false) }

// Record implements sim.Sink.
func (o *observer) Record(r *sim.Record) {
	if r.Kind == sim.RecEvent {
		o.observe(r.Event, r.Time, true)
	}
}

// observe reports whether the observer follows events of ev's type and,
// with apply, takes ev (at now) into account: one switch serves WantsEvent
// and Record, so a type Record reads is never filtered out.
func (o *observer) observe(ev sim.Event, now sim.Time, apply bool) bool {
	switch e := ev.(type) {
	case events.Submitted:
		if apply {
			o.submitted++
		}
	case events.Accepted:
		if apply {
			o.accepted++
			o.latencies.add(e.Acceptance().Latency)
			o.progress(now)
		}
	case *pbft.NewViewEntered:
		if apply && o.faulty[e.Replica] == "" {
			o.views[e.View] = true
			o.maxView = max(o.maxView, e.View)
		}
	case *hotstuff.ViewEntered:
		// HotStuff enters a new view after every decision: only the views
		// that a correct replica entered after timing out count as view
		// changes.
		if apply && o.faulty[e.Replica] == "" {
			if e.TimedOut {
				o.views[e.View] = true
			}
			o.maxView = max(o.maxView, e.View)
		}
	default:
		return false
	}
	return true
}

func (o *observer) progress(now sim.Time) {
	o.maxGap = max(o.maxGap, now-o.lastProg)
	o.lastProg = now
}

// egressSummary summarises the egress queues of a bandwidth-limited run.
func egressSummary(st *sim.Stats) *Egress {
	n := int(math.Round(math.Sqrt(float64(len(st.SentByLink))))) // SentByLink has n*n entries
	e := &Egress{QueueWaitMaxNs: int64(st.MaxQueueWait)}
	if st.Sent.Messages > 0 {
		e.QueueWaitMeanNs = int64(st.QueueWait) / int64(st.Sent.Messages)
	}
	if st.IngressQueued > 0 {
		e.IngressWaitMeanNs = int64(st.IngressWait) / int64(st.IngressQueued)
		e.IngressWaitMaxNs = int64(st.MaxIngressWait)
	}
	if st.SimTime > 0 {
		var best uint64
		for from := 0; from < n; from++ {
			var b uint64
			for to := 0; to < n; to++ {
				b += st.SentByLink[from*n+to].Bytes
			}
			if b > best {
				best, e.MaxSender = b, sim.NodeID(from)
			}
		}
		e.MaxBytesPerSec = float64(best) / st.SimTime.Duration().Seconds()
	}
	return e
}
