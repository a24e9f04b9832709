// Package explore runs the exhaustive explorer (sim/explore) on the real
// PBFT replicas and clients of a small cluster, judges every reached state
// with the properties checkers, and turns the shortest counterexample into an
// ordinary replay file (a scenario whose adversarial network rules and
// crashes reproduce the explored schedule in the kernel).
package explore

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/byzantine"
	"github.com/pbftsim/pbftsim/sim/cluster"
	engine "github.com/pbftsim/pbftsim/sim/explore"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// Config bounds one exploration of a PBFT cluster.
type Config struct {
	Nodes      int // replicas (n), >= 4
	Requests   int // client requests (one client), >= 1
	Drops      int // network messages that may be lost
	Duplicates int // network messages that may be duplicated
	Crashes    int // replica crashes (each may recover)
	// TimerLimit bounds the timer expirations on a path to Timers (without
	// it the state space is infinite: see engine.Bounds).
	TimerLimit bool
	Timers     int
	// QuietTimers lets a timer expire only when no message is in flight
	// (engine.Bounds.QuietTimers).
	QuietTimers bool
	// Byzantine replicas with their strategies ("ID:STRATEGY"): a faulty
	// replica runs its strategy and may also withhold any of its messages.
	Byzantine []cluster.ByzantineSpec
	Views     int           // highest view explored (states beyond are not expanded)
	Depth     int           // maximum path length (0: no limit)
	Budget    time.Duration // wall-clock budget (0: none)
	MaxStates int           // 0: no limit
	Variant   string        // protocol variant ("" correct)
	Seed      uint64        // keys and workload (default 1)
	DFS       bool          // iterative deepening instead of BFS
	NoSleep   bool          // turn sleep-set reduction off
	// Inert discards in-flight messages their receivers declare inert
	// (late votes, replies to an accepted request: see pbft.Replica.Inert
	// and engine.Inerter), merging states that differ only in them.
	Inert bool
	// VerifyInert delivers every message declared inert to a copy of its
	// receiver and fails the exploration if that is not a no-op (tests).
	VerifyInert bool
	// DPOR explores depth-first with dynamic partial-order reduction;
	// Depth (required) then bounds the causal depth (see engine.Options).
	// With DFS the bound deepens from 1.
	DPOR bool
	// LivenessSteps bounds the fair fault-free continuation checked from
	// every reached state (0: liveness not checked).
	LivenessSteps int
	// Workers runs a breadth-first search (without sleep sets) or the
	// one-pass depth-first search on that many goroutines; 0 or 1: one.
	// The result is the same for any number, except (one-pass DFS without
	// a violation) the longest first-visit path, and the partial coverage
	// of a stopped one-pass search.
	Workers int
	// StepMemo is the number of slots of the engine's step memo (0: the
	// default, negative: off; see engine.Model.StepMemo). The exploration
	// is the same with any; only its speed and memory change.
	StepMemo int
	// Symmetry identifies states that differ by a renaming of
	// interchangeable replicas (see Interchangeable); it turns sleep sets
	// off and does not combine with DPOR. It implies FullCertificates.
	Symmetry bool
	// FullCertificates explores replicas whose certificates carry every
	// matching vote they hold (pbft.Config.FullCertificates), as Symmetry
	// does; alone it gives the unreduced exploration of that protocol.
	FullCertificates bool
	// ExactTimers puts each pending timer's time left into the state
	// hash (engine.Model.ExactTimers): without it, states that differ
	// only in how far apart their deadlines are merge, and what is
	// explored below them depends on the path that reached them first.
	ExactTimers bool
	// AsyncTimers explores asynchronous timers (engine.Model.AsyncTimers):
	// any pending timer may fire at any transition, no deadline
	// constrains anything, and the state hash holds the set of pending
	// timers, so merging is exact without ExactTimers (which it does not
	// take). Otherwise timers are timed: the earliest fires at its
	// deadline.
	AsyncTimers bool
	// ExplicitDrops explores Drop transitions (drops and the Byzantine
	// replicas' withholding) even where they are subsumed for safety (see
	// DropsSubsumed).
	ExplicitDrops bool
	// ExplicitNoops explores the successors of no-op deliveries and timer
	// expirations even where they are subsumed for safety (see
	// NoopsSubsumed).
	ExplicitNoops bool
	// SubsumeBudgets makes the one-pass depth-first search (DFS, a timer
	// bound, no depth bound) identify states without their budgets used,
	// skipping a state reached again with at least as much of every
	// budget used and expanding again one reached with less of some
	// (engine.Options.SubsumeBudgets).
	SubsumeBudgets bool
	// KeepSent explores a monotone network (engine.Model.KeepSent): a
	// delivered message stays in flight and may be delivered again, and
	// identical sends are one message. Only where drops are subsumed
	// (DropsSubsumed) and not with DPOR (Validate says so).
	KeepSent bool
	// KeepSpentVotes explores replicas that keep every vote they took
	// (tests compare it with the default, pbft.Config.DropSpentVotes: the
	// same outputs, fewer states).
	KeepSpentVotes bool
	Progress       func(engine.Stats)
	Stop           func() bool
}

// Limits of the bounds (flags outside them are rejected with these ranges).
const (
	MaxNodes    = 7
	MaxRequests = 3
	MaxBudget   = 6 // drops, duplicates, crashes each
	MaxViews    = 3
	MaxDepth    = 200
	MaxTimers   = 20 // timer expirations on a path
)

// Validate reports the first bound out of range, naming the allowed values.
func (c Config) Validate() error {
	bad := func(flag string, v int, allowed string) error {
		return fmt.Errorf("--%s %d: out of range: want %s", flag, v, allowed)
	}
	switch {
	case c.Nodes < 4 || c.Nodes > MaxNodes:
		return bad("nodes", c.Nodes, fmt.Sprintf("4..%d", MaxNodes))
	case c.Requests < 1 || c.Requests > MaxRequests:
		return bad("requests", c.Requests, fmt.Sprintf("1..%d", MaxRequests))
	case c.Drops < 0 || c.Drops > MaxBudget:
		return bad("drops", c.Drops, fmt.Sprintf("0..%d", MaxBudget))
	case c.Duplicates < 0 || c.Duplicates > MaxBudget:
		return bad("duplicates", c.Duplicates, fmt.Sprintf("0..%d", MaxBudget))
	case c.Crashes < 0 || c.Crashes > MaxBudget:
		return bad("crashes", c.Crashes, fmt.Sprintf("0..%d", MaxBudget))
	case c.Views < 0 || c.Views > MaxViews:
		return bad("views", c.Views, fmt.Sprintf("0..%d", MaxViews))
	case c.Depth < 0 || c.Depth > MaxDepth:
		return bad("depth", c.Depth, fmt.Sprintf("0 (no limit) or 1..%d", MaxDepth))
	case c.TimerLimit && (c.Timers < 0 || c.Timers > MaxTimers):
		return bad("timers", c.Timers, fmt.Sprintf("0..%d", MaxTimers))
	case c.TimerLimit && c.DPOR:
		return fmt.Errorf("--timers %d: not with --dpor (its dependency relation has no timer budget); use breadth-first or --dfs", c.Timers)
	case c.DPOR && c.QuietTimers:
		return fmt.Errorf("--quiet-timers: not with --dpor (its dependency relation does not know it); use breadth-first or --dfs")
	case c.DPOR && c.Inert:
		return fmt.Errorf("--inert: not with --dpor (its races are computed on deliveries); use breadth-first or --dfs")
	case c.DPOR && c.Symmetry:
		return fmt.Errorf("--symmetry: not with --dpor (its sleep sets name transitions of one world, not of its renamings); use breadth-first or --dfs")
	case c.AsyncTimers && c.ExactTimers:
		return fmt.Errorf("--exact-timers: only with timed timers (asynchronous timers hash no deadlines: their merging is exact already)")
	case c.KeepSent && (!c.DropsSubsumed() || c.DPOR):
		return fmt.Errorf("--keep-sent: only where drops are subsumed for safety (--async-timers with --drops or a Byzantine replica, no --quiet-timers, --liveness-steps or --explicit-drops) and not with --dpor")
	case c.SubsumeBudgets && !c.onePass():
		return fmt.Errorf("--subsume-budgets: only with the one-pass depth-first search (--dfs --timers K, no --depth, no --dpor)")
	case c.DPOR && c.Depth == 0:
		return fmt.Errorf("--dpor needs --depth: want a causal depth bound in 1..%d", MaxDepth)
	case c.Workers < 0:
		return bad("workers", c.Workers, "0 or more")
	case c.LivenessSteps < 0:
		return bad("liveness-steps", c.LivenessSteps, "0 (off) or more")
	case c.Budget < 0:
		return fmt.Errorf("--budget %v: out of range: want a duration >= 0 (0: no limit)", c.Budget)
	}
	if _, err := pbft.ParseVariant(c.Variant); err != nil {
		return fmt.Errorf("--variant: %w", err)
	}
	seen := map[sim.NodeID]bool{}
	for _, b := range c.Byzantine {
		if b.Replica < 0 || int(b.Replica) >= c.Nodes {
			return fmt.Errorf("--byzantine %d:%s: replica out of range: want 0..%d", b.Replica, b.Strategy, c.Nodes-1)
		}
		if seen[b.Replica] {
			return fmt.Errorf("--byzantine %d:%s: replica given twice", b.Replica, b.Strategy)
		}
		seen[b.Replica] = true
		if err := byzantine.Check(b.Strategy, b.Params, b.Replica, c.Nodes); err != nil {
			return fmt.Errorf("--byzantine %d:%s: %v (strategies: %s)", b.Replica, b.Strategy, err, strings.Join(byzantine.Names(), ", "))
		}
	}
	return nil
}

// ParseByzantine parses "ID:STRATEGY".
func ParseByzantine(s string, n int) (cluster.ByzantineSpec, error) {
	id, strat, ok := strings.Cut(s, ":")
	v, err := strconv.Atoi(id)
	if !ok || err != nil || strat == "" {
		return cluster.ByzantineSpec{}, fmt.Errorf("--byzantine %q: want ID:STRATEGY with ID a replica in 0..%d and STRATEGY one of %s", s, n-1, strings.Join(byzantine.Names(), ", "))
	}
	return cluster.ByzantineSpec{Replica: sim.NodeID(v), Strategy: strat}, nil
}

// Scenario returns the base scenario of an exploration: n replicas, one
// client issuing the requests, the variant and the Byzantine replicas.
func (c Config) Scenario() scenarios.Scenario {
	seed := c.Seed
	if seed == 0 {
		seed = 1
	}
	sc := scenarios.Scenario{
		Name:        "explore",
		Description: "a schedule found by pbftsim explore",
		Seed:        seed, N: c.Nodes,
		// Symmetry reduction needs replicas whose choices do not follow
		// replica ids (see pbft.Config.FullCertificates).
		Protocol: scenarios.Protocol{Variant: c.Variant, FullCertificates: c.Symmetry || c.FullCertificates},
		Workload: scenarios.Workload{Clients: 1, Requests: c.Requests},
	}
	for _, b := range c.Byzantine {
		sc.Byzantine = append(sc.Byzantine, scenarios.Byzantine{Replica: int(b.Replica), Strategy: b.Strategy, Params: b.Params})
	}
	return sc
}

// copier returns the copying and hashing rules for PBFT nodes.
func copier() *engine.Copier {
	return &engine.Copier{
		// The run-wide signature cache is written by every replica's
		// step: each worker of a parallel search has its own (an empty
		// cache only costs verifications again).
		Private: map[reflect.Type]func() any{
			reflect.TypeFor[*pbft.VerifyCache](): func() any { return pbft.NewVerifyCache(MaxNodes) },
		},
		Shared: engine.TypeNamed("Keyring", "VerifyCache", "SnapshotCache", "Ops"),
		Zero:   engine.TypeNamed("slab["),
		// The ledger's trie nodes cache their Merkle hash once asked for.
		Skip: map[string]bool{"Replica.out": true, "node.sum": true, "node.own": true},
		// Scratch buffers and free lists: a copy starts without them. A
		// copied ledger or frozen ledger state starts unshared (the
		// version memo is a cache, not state).
		Reset: map[string]bool{"Replica.buf": true, "Replica.free": true, "Client.buf": true, "Client.scratch": true,
			"Ledger.ver": true, "Ledger.own": true, "Ledger.buf": true, "Ledger.hashed": true, "Frozen.ver": true},
	}
}

// model builds the explorer's model of the cluster.
func (c Config) model() (*engine.Model, cluster.Config, error) {
	sc := c.Scenario()
	cfg, err := sc.Config()
	if err != nil {
		return nil, cfg, err
	}
	cfg = cfg.WithDefaults()
	// Replicas forget the votes their certificates no longer need: their
	// outputs are the same, so the replay file (a kernel run without it)
	// gives the explored trace, and states that differ only in which spent
	// votes arrived merge.
	cfg.DropSpentVotes = !c.KeepSpentVotes
	faulty := cfg.Faulty()
	m := &engine.Model{
		New: func() ([]sim.Node, error) {
			cl, err := cluster.New(cfg)
			if err != nil {
				return nil, err
			}
			nodes := make([]sim.Node, cfg.N+cfg.Clients)
			for i := range nodes {
				nodes[i] = cl.Kernel().Node(sim.NodeID(i))
			}
			return nodes, nil
		},
		Copier:       copier(),
		Faulty:       faulty,
		DiscardInert: c.Inert,
		StepMemo:     c.StepMemo,
		Prune: func(w *engine.World) bool {
			for i := 0; i < cfg.N; i++ {
				if r, ok := w.Nodes[i].(*pbft.Replica); ok && r.View() > uint64(c.Views) {
					return true
				}
			}
			return false
		},
		Done: func(w *engine.World) bool {
			for _, nd := range w.Nodes[cfg.N:] {
				if cl, ok := nd.(*pbft.Client); ok && !cl.Done() {
					return false
				}
			}
			return true
		},
	}
	if c.Symmetry {
		m.Symmetry = c.symmetry(cfg)
	}
	m.ExactTimers, m.AsyncTimers = c.ExactTimers, c.AsyncTimers
	m.KeepSent = c.Monotone()
	if c.Crashes > 0 {
		for i := 0; i < cfg.N; i++ {
			m.Crashable = append(m.Crashable, sim.NodeID(i))
		}
	}
	return m, cfg, nil
}

// DropsSubsumed reports whether c's exploration offers no Drop transition
// because, for safety, a lost message is one never delivered
// (engine.Bounds.SubsumeDrops): with asynchronous timers (a timer needs
// no message to be gone to fire, and no replica reads the clock), without
// --quiet-timers (where a drop can let a timer fire) and without a
// liveness check (where a drop can stop a fair continuation), unless
// ExplicitDrops. Then every path with drops or withheld messages reaches
// the replica states, down replicas and pending timers of the same path
// without them (more messages stay in flight), with the same records but
// the drops'. The checkers read a drop record only as the sending of its
// message (a kernel filter traces a send it drops as RecDrop), which the
// explorer has traced as RecSend already, and handling a message again is
// a no-op for them (own and sentPrepare compare digests, VIEW-CHANGEs and
// NEW-VIEWs are judged once per message, state reports compare digests);
// times shrink but keep their order, and the only checker that reads
// times (timeliness) bounds how late a replica may act, which no explored
// path (997 ns a transition) approaches. Only with drops or Byzantine
// replicas to subsume.
func (c Config) DropsSubsumed() bool {
	return c.AsyncTimers && !c.QuietTimers && c.LivenessSteps == 0 && !c.ExplicitDrops && (c.Drops > 0 || len(c.Byzantine) > 0)
}

// NoopsSubsumed reports whether c's exploration skips the successor of a
// no-op delivery or timer expiration (engine.Bounds.SubsumeNoops): one
// node step that leaves the node's state hash unchanged and outputs
// nothing (no send, no event, no timer armed or cancelled but the fired
// one re-armed). Its successor is its parent less one in-flight message or
// one pending timer, which the parent subsumes for safety where drops are
// subsumed (the message can stay in flight forever, the timer never fire);
// the checkers read no timer record, and a PREPARE or COMMIT delivered to a
// replica that ignored it only adds to the votes its quorum audit may
// count, so no path loses a violation by leaving it out. Where
// DropsSubsumed holds, unless ExplicitNoops, and not with DPOR or the
// breadth-first search's sleep sets (on unless --no-sleep or --symmetry).
func (c Config) NoopsSubsumed() bool {
	return c.DropsSubsumed() && !c.ExplicitNoops && !c.DPOR && (c.DFS || c.NoSleep || c.Symmetry)
}

// DropsNote says what DropsSubsumed did ("" when it did not).
func (c Config) DropsNote() string {
	if !c.DropsSubsumed() {
		return ""
	}
	what := fmt.Sprintf("drops %d", c.Drops)
	switch {
	case c.Drops == 0:
		what = "withholding by Byzantine replicas"
	case len(c.Byzantine) > 0:
		what += " and withholding by Byzantine replicas"
	}
	note := what + ": subsumed for safety (a lost message is one never delivered; asynchronous timers, no liveness check), so no Drop transitions were explored (--explicit-drops explores them)"
	if c.NoopsSubsumed() {
		note += "; no-op deliveries and timer expirations (the node's state unchanged, no output) subsumed likewise: their successors were not explored (--explicit-noops explores them)"
	}
	if c.Monotone() {
		note += "; monotone network (--keep-sent): a delivered message stays in flight and may be delivered again at any later step (a network duplicating it), identical sends are one message, so --duplicates is subsumed too"
	}
	return note
}

// Monotone reports whether c explores a monotone network
// (engine.Model.KeepSent): KeepSent where drops are subsumed
// (DropsSubsumed: asynchronous timers, safety only), not with DPOR. Every
// schedule of the consuming network with drops subsumed is one of the
// monotone network (each message delivered once), so no violation there
// is none here; the extra schedules re-deliver messages, as a network that
// duplicates them may (so --duplicates is subsumed too), and the states
// collapse to the replica states, pending timers and the set of messages
// sent and not inert.
func (c Config) Monotone() bool {
	return c.KeepSent && c.DropsSubsumed() && !c.DPOR
}

// ParallelWorkers returns the number of goroutines the exploration of c
// uses: c.Workers for a breadth-first search without sleep sets and for
// the one-pass depth-first search (DFS with a timer bound and no depth
// bound), else 1.
func (c Config) ParallelWorkers() int {
	switch {
	case c.Workers < 1 || c.DPOR:
		return 1
	case c.DFS:
		if c.onePass() {
			return c.Workers
		}
		return 1
	case !c.NoSleep && !c.Symmetry:
		return 1
	}
	return c.Workers
}

// Result is an exploration's outcome.
type Result struct {
	*engine.Result
	Config Config
	// Replay is the counterexample's replay record (nil when none, or when
	// the schedule could not be expressed, see ReplayErr), and Outcome the
	// checked kernel run of it.
	Replay    *scenarios.Replay
	Outcome   *properties.Outcome
	ReplayErr error
	// Shortest reports that the counterexample is known to be a shortest
	// one: always breadth-first and with iterative deepening; with DPOR or the
	// one-pass depth-first search (--dfs --timers K, no --depth) when a
	// breadth-first search to
	// one transition less than its length (at most ShortenStates states)
	// completed, either finding a shorter one (which replaces it) or none.
	Shortest bool
}

// ShortenStates bounds the breadth-first search that looks for a shorter
// counterexample than the one DPOR found.
const ShortenStates = 200_000

// Explore runs the exploration c describes.
func Explore(c Config) (*Result, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	m, cfg, err := c.model()
	if err != nil {
		return nil, err
	}
	opts := properties.CheckerOptions(cfg)
	// An asynchronous timer may fire before its deadline.
	opts.TimersForced = c.AsyncTimers && !brokenAsyncWait
	o := engine.Options{
		Bounds: engine.Bounds{Drops: c.Drops, Duplicates: c.Duplicates, Crashes: c.Crashes, Depth: c.Depth,
			TimerLimit: c.TimerLimit, Timers: c.Timers, QuietTimers: c.QuietTimers, SubsumeDrops: c.DropsSubsumed(),
			SubsumeNoops: c.NoopsSubsumed()},
		DFS:            c.DFS,
		Workers:        c.Workers,
		NewCheck:       func() func(*engine.World, []engine.Record) (string, string) { return checkWith(opts) },
		Sleep:          !c.NoSleep && !c.Symmetry && !c.Monotone(),
		SubsumeBudgets: c.SubsumeBudgets,
		DPOR:           c.DPOR,
		MaxStates:      c.MaxStates,
		VerifyInert:    c.VerifyInert,
		Records:        true,
		Check:          checkWith(opts),
		NewJudge:       func() engine.Judge { return newJudge(opts) },
		LivenessSteps:  c.LivenessSteps,
		Progress:       c.Progress,
		ProgressEvery:  time.Second,
		Stop:           c.Stop,
	}
	if c.Budget > 0 {
		deadline := time.Now().Add(c.Budget)
		stop := c.Stop
		o.Stop = func() bool { return time.Now().After(deadline) || stop != nil && stop() }
	}
	res, err := engine.Run(m, o)
	if err != nil {
		return nil, err
	}
	// DPOR and the one-pass depth-first search do not find the shortest
	// counterexample first.
	onePass := c.onePass()
	out := &Result{Result: res, Config: c, Shortest: !c.DPOR && !onePass}
	if res.Found() && !out.Shortest && res.Property != engine.Liveness {
		out.Shortest = shorten(m, o, res)
	}
	if res.Found() {
		out.Replay, out.Outcome, out.ReplayErr = c.counterexample(m, res)
	}
	return out, nil
}

// brokenAsyncWait judges newview-wait with asynchronous timers too
// (tests: the false alarm it raises).
var brokenAsyncWait = false

// newJudge returns the depth-first searches' judge of reached worlds:
// check's verdicts, computed incrementally (a variable: tests compare
// it with check on every state, or turn it off).
var newJudge = func(opts properties.Options) engine.Judge { return newIncJudgeWith(opts).judge }

// check returns the judge of a reached world: the properties checkers over
// the records of its path (crashed replicas count as faulty, as in a run),
// and accountability of the replicas configured as correct.
func check(cfg cluster.Config) func(*engine.World, []engine.Record) (string, string) {
	return checkWith(properties.CheckerOptions(cfg))
}

// checkWith is check with checker options opts.
func checkWith(opts properties.Options) func(*engine.World, []engine.Record) (string, string) {
	chk := properties.New(opts)
	var crashed []sim.NodeID
	return func(w *engine.World, recs []engine.Record) (string, string) {
		// Crashed replicas are faulty for the checkers (as in a run).
		crashed = crashed[:0]
		for _, r := range recs {
			if r.Kind == sim.RecCrash && !slices.Contains(crashed, r.From) {
				crashed = append(crashed, r.From)
			}
		}
		oo := opts
		if len(crashed) > 0 {
			oo.Faulty = faultyWith(opts.Faulty, crashed)
		}
		chk.Reset(oo)
		for i := range recs {
			chk.Record(&recs[i])
		}
		if len(recs) > 0 {
			chk.Finish(recs[len(recs)-1].Time)
		}
		return verdict(chk, oo.Faulty)
	}
}

// faultyWith returns the faulty replicas with the crashed ones added (a new
// sorted slice).
func faultyWith(faulty, crashed []sim.NodeID) []sim.NodeID {
	out := append(slices.Clone(faulty), crashed...)
	slices.Sort(out)
	return slices.Compact(out)
}

// verdict is the judgement of a finished checker whose faulty replicas
// are faulty: its first violation, else an accusation of a replica
// configured as correct.
func verdict(chk *properties.Checker, faulty []sim.NodeID) (string, string) {
	if v := chk.Violations(); len(v) > 0 {
		return v[0].Property, v[0].String()
	}
	for _, a := range chk.Accused() {
		if !slices.Contains(faulty, a.Replica) {
			return properties.Accountability, "a replica configured as correct provably misbehaved: " + a.Reason
		}
	}
	return "", ""
}

// shorten looks for a counterexample shorter than res.Path breadth-first
// (to one transition less, at most ShortenStates states); it replaces
// res's violation with a shorter one found and reports whether the result
// is known to be a shortest counterexample.
func shorten(m *engine.Model, o engine.Options, res *engine.Result) bool {
	if len(res.Path) <= 1 {
		return true
	}
	b := o
	// (Sleep sets do not take SubsumeNoops; no shortest violating path
	// has a no-op, see NoopsSubsumed.)
	b.DPOR, b.DFS, b.Sleep, b.Depth, b.MaxStates = false, false, m.Symmetry == nil && !o.SubsumeNoops, len(res.Path)-1, ShortenStates
	// Budget subsumption is for the one-pass depth-first search only; the
	// breadth-first search reaches every state by a shortest path anyway.
	b.SubsumeBudgets = false
	b.Progress = nil
	r, err := engine.Run(m, b)
	if err != nil || r.Interrupted {
		return false
	}
	if r.Found() {
		res.Property, res.Detail, res.Path = r.Property, r.Detail, r.Path
		return true
	}
	return r.Complete
}

// counterexample turns the explored path into a scenario the kernel
// replays: base delay 0, one adversarial network rule per network send of
// the path (matching its type, sender, receiver and send time) that delays
// it to the time the explorer delivered it, or drops it; crashes at the
// times the explorer crashed and recovered nodes. It runs the scenario with
// the checkers and returns its replay record when the run finds the same
// violated property.
func (c Config) counterexample(m *engine.Model, res *engine.Result) (*scenarios.Replay, *properties.Outcome, error) {
	sc, err := c.scheduleScenario(m, res.Path)
	if err != nil {
		return nil, nil, err
	}
	o, err := properties.RunScenario(sc, properties.RunOptions{Liveness: true, StopOnViolation: true})
	if err != nil {
		return nil, nil, fmt.Errorf("running the counterexample: %w", err)
	}
	rp := o.Replay()
	if res.Property == engine.Liveness {
		if o.Result.Completed {
			return rp, o, fmt.Errorf("the kernel run of the liveness counterexample completed its requests")
		}
		return rp, o, nil
	}
	if !o.Failed() || o.Property() != res.Property {
		return rp, o, fmt.Errorf("the kernel run of the counterexample gives verdict %s (property %q), not the explored violation %q", o.Verdict(), o.Property(), res.Property)
	}
	return rp, o, nil
}

// scheduleScenario returns the scenario whose kernel run follows path.
func (c Config) scheduleScenario(m *engine.Model, path []engine.Choice) (scenarios.Scenario, error) {
	sched, err := engine.Replay(m, path)
	if err != nil {
		return scenarios.Scenario{}, err
	}
	sc := c.Scenario()
	sc.Network.Delay = "const:0s"
	type key struct {
		typ       sim.MsgType
		from, to  sim.NodeID
		at        sim.Time
		view, seq uint64
	}
	// One rule per send, matching its type, link, send time, view and
	// sequence number; sends those fields do not tell apart share one rule
	// when their fates agree, and otherwise get one rule each, told apart by
	// Nth (their order of sending on the link).
	rules := make([]scenarios.NetRule, len(sched.Sends))
	keys := make([]key, len(sched.Sends))
	fates := map[key][]string{}
	for i, s := range sched.Sends {
		// The engine duplicates a send at most once (Flight.Duped), as
		// the kernel does.
		if s.Copies > 1 {
			return sc, fmt.Errorf("the counterexample duplicates one message twice: not expressible by network rules")
		}
		view, hasView, seq, hasSeq := byzantine.ViewSeq(s.Msg)
		keys[i] = key{s.Msg.Type(), s.From, s.To, s.SentAt, view, seq}
		rule := scenarios.NetRule{Types: []string{s.Msg.Type().String()}, From: []int{int(s.From)}, To: []int{int(s.To)},
			Start: time.Duration(s.SentAt), End: time.Duration(s.SentAt + 1)}
		// View and sequence number tell apart two messages of one type on
		// one link sent in the same step.
		if hasView {
			rule.View = &view
		}
		if hasSeq {
			rule.Seq = &seq
		}
		// The kernel delivers the original at SentAt+Delay and a duplicate
		// at SentAt+DuplicateDelay; copies still in flight at the end of the
		// path arrive an hour later (never, within the replayed run).
		at := slices.Clone(s.Delivered)
		for len(at) < 1+s.Copies-s.Dropped {
			at = append(at, s.SentAt+sim.Time(time.Hour))
		}
		switch len(at) {
		case 0:
			rule.Drop = 1
		case 1:
			rule.Delay = time.Duration(at[0] - s.SentAt)
		case 2:
			rule.Delay = time.Duration(at[0] - s.SentAt)
			rule.Duplicate, rule.DuplicateDelay = true, time.Duration(at[1]-s.SentAt)
		default:
			// A monotone network's path (--keep-sent) delivers one
			// message more often than its identical sends and their
			// duplicates can (engine.Replay shares the deliveries out).
			return sc, fmt.Errorf("the counterexample delivers one %v from %d to %d %d times, more than its identical sends and a duplicate each can carry: not expressible by network rules", s.Msg.Type(), s.From, s.To, len(at))
		}
		rules[i] = rule
		fates[keys[i]] = append(fates[keys[i]], fmt.Sprintf("%v %v %v %v", rule.Drop, rule.Delay, rule.Duplicate, rule.DuplicateDelay))
	}
	written := map[key]bool{}
	nth := map[key]int{}
	for i, k := range keys {
		nth[k]++
		if f := fates[k]; slices.ContainsFunc(f, func(x string) bool { return x != f[0] }) {
			rules[i].Nth = nth[k]
		} else if written[k] {
			continue
		}
		written[k] = true
		sc.Adversary = append(sc.Adversary, rules[i])
	}
	// Asynchronous timers fire before their deadlines: the kernel fires
	// them at the explored times.
	for _, f := range sched.Fires {
		sc.TimerFires = append(sc.TimerFires, scenarios.TimerFire{Node: int(f.Node), Timer: uint64(f.Timer), At: time.Duration(f.At)})
	}
	for _, cr := range sched.Crashes {
		sc.Crashes = append(sc.Crashes, scenarios.Crash{Node: int(cr.Node), At: time.Duration(cr.At), Recover: time.Duration(cr.Recover)})
	}
	sc.Run.MaxTime = time.Duration(sched.End) + time.Millisecond
	return sc, nil
}
