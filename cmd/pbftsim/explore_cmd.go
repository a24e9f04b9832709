package main

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/experiment"
	"github.com/pbftsim/pbftsim/properties"
	pexplore "github.com/pbftsim/pbftsim/properties/explore"
	engine "github.com/pbftsim/pbftsim/sim/explore"
)

func newExploreCmd() *cobra.Command {
	var (
		c           pexplore.Config
		byz         []string
		out         string
		allVariants bool
		quiet       bool
		sleep       bool
		nodes       nodesValue
	)
	cmd := &cobra.Command{
		Use:   "explore [--nodes 4] [--requests 1] [--drops K] [--duplicates K] [--crashes K] [--timers K] [--byzantine ID:STRATEGY] [--views V] [--depth D] [--budget T] [--variant NAME | --all-variants]",
		Short: "Explore every schedule of a small cluster within bounds, on the real replica code",
		Long: `explore enumerates every schedule of n replicas and one client issuing the
given requests, within the bounds: at each step it delivers one in-flight
message, drops or duplicates one (within --drops / --duplicates), fires the
earliest pending timer, crashes or recovers a replica (within --crashes), and a
Byzantine replica (--byzantine ID:STRATEGY) runs its strategy and may withhold
any of its messages. States beyond view --views are not expanded; paths are at
most --depth transitions long and have at most --timers timer expirations.
Without --depth or --timers the state space is infinite (the client's retry
timer can expire again and again while its requests are delayed). States are recognised by a hash of every node's
state, the in-flight messages and the order of the pending timers. --sleep
turns on sleep sets (reorderings of independent deliveries skipped, about
17% fewer transitions at --depth 8 of the target configuration, where they
reach the same 440,565 states as plain breadth-first search); they are off by
default because their margin near timer deadlines is measured, not proven
(the state hash leaves out how far apart deadlines are). --inert discards
every in-flight message its receiver declares inert (a vote of an older view,
a vote past the entry's certificate or from a sender already counted, a reply
to a request the client already accepted): delivering it would change
nothing, so it is treated as delivered after the end of the path, and states
that differ only in such messages merge (the fault-free slice --dfs --timers 0
--views 0 completes with it).

--async-timers makes timers asynchronous: any pending timer may fire at any
transition, nothing forces it to, and no deadline constrains the other
transitions (the model under which PBFT's safety must hold: a timer that
fires early is indistinguishable from messages slower than the timeout).
The state hash then holds the set of pending timers and no deadline, so
merging is exact. It over-approximates the timed runs: two timers, even of
one replica, may fire in either order whatever their deadlines. The replay
file fires each timer at its explored time (timer_fires). It is not the
default: with an equivocating primary, a view change and 3 timer
expirations it explores 1.5x the states of --exact-timers and 18x those of
timers merged by order (with 2 expirations, 0.2x and 1.6x).

With --async-timers, and neither --quiet-timers nor --liveness-steps, no
Drop transition is explored (neither a --drops drop nor a Byzantine
replica's withholding): for safety a lost message is one never delivered.
Removing the drops from a path leaves a path that is enabled (a delivery
needs its message in flight, a timer only to be pending) and steps every
replica identically, so it reaches the same replica states (with more
messages in flight) and the same records but the drops', which the
checkers do not need (a drop record stands for a send already traced).
The output says so; --explicit-drops explores them anyway. With timed or
quiet timers (a drop can change when a timer may fire) or a liveness check
(a lost message can stop a fair continuation) drops stay explicit.
There --keep-sent makes the network monotone (the message set of TLA+ and
Ivy models): a delivery does not remove its message, which may be
delivered again at any later step (a network may duplicate it), and
identical sends are one message. Every schedule of the consuming network
is one of the monotone network (each message delivered once), so a "no
violation" covers it; a violation found re-delivers messages, which the
replay file gives as later identical sends or a send's duplicate (the
kernel duplicates a send once: a counterexample that needs more says so).
--duplicates is subsumed. States collapse to replica states, pending
timers and the set of messages sent (off by default: see the README).

--quiet-timers lets a timer expire only when no
message is in flight (timeouts longer than message delays): fewer schedules,
and the description says so. The declarations are verified in the tests by
delivering every declared message to a copy of its receiver.

--symmetry (off by default) identifies states that differ by a renaming of
interchangeable replicas: correct replicas that are not the primary of any
view up to --views (view v's primary is v mod n), all permutations of up to 4
of them, kept only if they leave the initial state unchanged (one client:
clients are not permuted). A state's key is the least hash of its renamings
(ids renamed in every node's state, message and timer; a valid signature
hashes as valid, an invalid one by its bytes); the search keeps the real
states, so counterexamples are real paths. It explores replicas with
--full-certificates (certificates carry every matching vote held: choosing
the 2f of lowest id is not invariant under renaming); --full-certificates
alone gives the same protocol unreduced, for comparison. The output names the
group ("symmetry: replicas {2,3} interchangeable (2 permutations)").

Every reached state is judged by the safety checkers (on the trace of the path
that first reached it). With --liveness-steps N, from every reached state a
fair fault-free continuation (crashed replicas recover, messages delivered in
send order, timers fire when nothing is in flight) must complete the requests
within N transitions.

Breadth-first (the default) finds a shortest counterexample, on --workers
goroutines (default: the CPUs; not with --sleep): the queue is expanded in
rounds of 512 states, the successors merged into the visited set in the
one-worker order and the new states judged in parallel, so the states, the
counters, the counterexample and the output are the same for any number of
workers (each replica step stays single-threaded). So does --dfs,
iterative deepening that keeps only 64-bit fingerprints (with their depth)
of the visited states and the worlds of the current path: about 12-20 bytes
a state instead of 1-4.5 KB, at the cost of re-exploring shallower levels.
With --timers and no --depth the state space is finite and --dfs explores
it in one pass (every state judged when first reached; a counterexample is
not necessarily a shortest one), on --workers goroutines: each runs
depth-first on a path of its own and an idle one takes half of the
unexplored choices of the shallowest level of another's path; the visited
fingerprints are one table. With --exact-timers (or --timers 0) the states
reached, and so the states, transitions, revisits, pruned and inert counts,
are those of one worker; the longest first-visit path depends on which
worker got where first. Otherwise a state is merged with another that
differs only in its timers' time left, and what is explored below it
depends on which path reached it first: the counts may then differ from
run to run, so without --exact-timers a one-pass --dfs with timers that
can fire runs on one worker unless --workers is given (it says so). When
the workers meet a violation, the one-worker search is run again and its
result (counters, counterexample, replay file) is the one reported, so the
output is that of --workers 1 (at the cost of that run; should it not find
one within --budget or --max-states, the parallel search's is reported). A
one-pass search stopped by --budget, --max-states or Ctrl-C has covered a
part that depends on the workers' interleaving. --dpor explores depth-first with dynamic partial-order
reduction (source sets and sleep sets): of the orders of transitions that
touch different replicas and set no timer, one is explored; visited states
are kept as 64-bit fingerprints, with no frontier. --depth (required with
--dpor) then bounds the causal depth, the longest chain of dependent
transitions, not the path length: every path of D transitions is within
causal depth D, and so are many longer ones. Every state at the end of a
maximal path within the bounds is reached, not every intermediate state; a
counterexample found is shrunk to one none of whose transitions can be
removed (--dpor --dfs deepens the bound from 1, so it is found at the
smallest causal depth). A counterexample is written as an ordinary replay file
(--out): the same scenario with network rules and crashes that make the
kernel follow the explored schedule; pbftsim replay reruns it.

Ctrl-C (or --budget) stops the exploration and prints the coverage so far.
--all-variants explores the correct protocol and every broken variant with
the same bounds (--budget applies to each) and prints a table: found, the
violated property and the depth of the shortest counterexample, the states
explored and the seconds; for a variant not found within the budget, the
depth up to which every state was checked (its counterexample, if any within
the other bounds, is longer).

Exit status: 0 no violation within the bounds (or the budget ran out), 1 a
violation was found (with --all-variants: in the correct protocol), 2 bad
input, 130 interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(nodes.ns) != 1 {
				return usage(fmt.Errorf("--nodes %s: explore takes one n", nodes.String()))
			}
			c.Nodes = nodes.ns[0]
			c.TimerLimit = cmd.Flags().Changed("timers")
			c.NoSleep = !sleep
			for _, s := range byz {
				b, err := pexplore.ParseByzantine(s, c.Nodes)
				if err != nil {
					return usage(err)
				}
				c.Byzantine = append(c.Byzantine, b)
			}
			if err := c.Validate(); err != nil {
				return usage(err)
			}
			if c.Symmetry && sleep {
				return usage(fmt.Errorf("--symmetry: not with --sleep (sleep sets name transitions of one state, not of its renamings)"))
			}
			if (c.DPOR || c.DFS) && !cmd.Flags().Changed("max-states") {
				c.MaxStates = 0 // fingerprints only: no default limit
			}
			if c.Workers == 0 {
				c.Workers = runtime.NumCPU()
				if c.DFS && c.Depth == 0 && c.TimersMerged() {
					// The parallel one-pass search reaches the
					// one-worker states only with exact timers.
					c.Workers = 1
				}
			}
			if c.MaxStates < 0 {
				return usage(fmt.Errorf("--max-states %d: out of range: want 0 (no limit) or more", c.MaxStates))
			}
			_, interrupted, release := stopOnSignal(cmd)
			defer release()
			c.Stop = interrupted
			errw := cmd.ErrOrStderr()
			w := cmd.OutOrStdout()
			if !quiet {
				// redrawn on a terminal, a plain line every 5 s in a log;
				// a redrawn line ends before any other output
				pl := newProgressLine(errw, false)
				c.Progress = func(s engine.Stats) { pl.show("  "+pexplore.StatsLine(c, s), false) }
				w, errw = pl.before(w), pl.before(errw)
			}
			var err error
			if allVariants {
				err = exploreAll(w, c)
			} else {
				err = exploreOne(w, errw, c, out)
			}
			if err == nil && interrupted() {
				return errInterrupted("explore", "the coverage so far is printed above")
			}
			return err
		},
	}
	fl := cmd.Flags()
	addNodesFlag(fl, &nodes, []int{4}, fmt.Sprintf("explore takes one n in 4..%d", pexplore.MaxNodes))
	fl.IntVar(&c.Requests, "requests", 1, fmt.Sprintf("client requests (1..%d)", pexplore.MaxRequests))
	fl.IntVar(&c.Drops, "drops", 0, fmt.Sprintf("messages that may be lost (0..%d)", pexplore.MaxBudget))
	fl.IntVar(&c.Duplicates, "duplicates", 0, fmt.Sprintf("messages that may be duplicated (0..%d)", pexplore.MaxBudget))
	fl.IntVar(&c.Crashes, "crashes", 0, fmt.Sprintf("replica crashes, each may recover (0..%d)", pexplore.MaxBudget))
	fl.IntVar(&c.Timers, "timers", 0, fmt.Sprintf("timer expirations on a path (0..%d; default no limit: the state space is then infinite, so only --depth or --budget ends it)", pexplore.MaxTimers))
	fl.BoolVar(&c.QuietTimers, "quiet-timers", false, "a timer expires only when no message is in flight (timeouts longer than message delays); timers racing in-flight messages are not explored")
	fl.StringArrayVar(&byz, "byzantine", nil, "a Byzantine replica and its strategy, ID:STRATEGY (repeatable)")
	fl.IntVar(&c.Views, "views", 1, fmt.Sprintf("highest view explored (0..%d)", pexplore.MaxViews))
	fl.IntVar(&c.Depth, "depth", 0, fmt.Sprintf("maximum path length (0: no limit, at most %d)", pexplore.MaxDepth))
	fl.DurationVar(&c.Budget, "budget", 0, "wall-clock budget (0: none)")
	fl.IntVar(&c.MaxStates, "max-states", defaultMaxStates, "stop after this many states (0: no limit; breadth-first about 4.5 KB of memory each, about 1 KB with --depth; --dpor and --dfs 9-21 bytes each, no limit unless given)")
	fl.StringVar(&c.Variant, "variant", "", "protocol variant (see pbftsim hunt --list; default correct)")
	addSeedFlag(fl, &c.Seed, 1, "here the keys and the workload")
	fl.BoolVar(&c.DFS, "dfs", false, "depth-first iterative deepening keeping fingerprints only, instead of breadth-first (no --max-states limit unless given)")
	fl.BoolVar(&sleep, "sleep", false, "breadth-first with sleep sets: fewer transitions, exactness near timer deadlines not proven (see above)")
	fl.Bool("no-sleep", true, "")
	_ = fl.MarkDeprecated("no-sleep", "sleep sets are off by default (--sleep turns them on)")
	fl.BoolVar(&c.Inert, "inert", false, "discard in-flight messages their receiver declares inert (a vote past its certificate, a reply to an accepted request): states differing only in them merge")
	fl.BoolVar(&c.ExactTimers, "exact-timers", false, "put each pending timer's time left (deadline minus now) into the state hash: without it states that differ only in how far apart their timers' deadlines are merge, so what is explored below one depends on the path that reached it first (a verdict says so); with it the merging is exact, with more states")
	fl.BoolVar(&c.AsyncTimers, "async-timers", false, "asynchronous timers: any pending timer may fire at any transition, whatever its deadline (timers firing early are messages slower than the timeout); the state hash holds the set of pending timers, so merging is exact; not with --exact-timers")
	fl.BoolVar(&c.ExplicitDrops, "explicit-drops", false, "explore Drop transitions (--drops, a Byzantine replica's withholding) even where they are subsumed for safety: with --async-timers, no --quiet-timers and no --liveness-steps a lost message is one never delivered, so by default no Drop is explored there (the output says so)")
	fl.BoolVar(&c.KeepSent, "keep-sent", false, "monotone network, only where drops are subsumed (--async-timers, no --quiet-timers, --liveness-steps or --explicit-drops; not --dpor): a delivered message stays in flight and may be delivered again later (a network duplicating it), identical sends are one message, so --duplicates is subsumed too and states collapse to the replica states, pending timers and the set of messages sent")
	fl.BoolVar(&c.ExplicitNoops, "explicit-noops", false, "explore the successors of no-op deliveries and timer expirations (the node's state unchanged, no output) even where drops are subsumed for safety: such a successor is its parent less one message or timer, so by default it is not explored there (not with --dpor or breadth-first sleep sets; the output says so)")
	fl.BoolVar(&c.SubsumeBudgets, "subsume-budgets", false, "one-pass --dfs only: states are identified without their budgets used (timer expirations, drops, duplicates, crashes); a state reached again with at least as much of every budget used is skipped, one with less of some is judged and expanded again (counted as re-expanded); states counts distinct states without budgets")
	fl.BoolVar(&c.Symmetry, "symmetry", false, "symmetry reduction (off by default): states that differ by a renaming of interchangeable replicas (correct, not the primary of any view explored) are one state; counts are of the quotient; implies --full-certificates; not with --dpor or --sleep")
	fl.BoolVar(&c.FullCertificates, "full-certificates", false, "replicas whose prepared certificates and NEW-VIEWs carry every matching vote they hold, not the quorum of lowest replica id (as --symmetry needs; alone: the same protocol unreduced)")
	fl.BoolVar(&c.DPOR, "dpor", false, "depth-first with dynamic partial-order reduction; --depth then bounds the causal depth (with --dfs it deepens from 1)")
	fl.IntVar(&c.LivenessSteps, "liveness-steps", 0, "check from every state that a fair fault-free continuation completes within N transitions (0: off)")
	fl.IntVar(&c.Workers, "workers", 0, "simulations run at once (0: one per CPU); here the goroutines of a breadth-first search (not with --sleep) or of the one-pass --dfs (--timers, no --depth); not with --dpor: the result is the same for any number (see above), but with --subsume-budgets the transition and re-expansion counts depend on the workers' order")
	fl.BoolVar(&allVariants, "all-variants", false, "explore every broken variant and print a table")
	addQuietFlag(fl, &quiet)
	addOutFlag(fl, &out, "", "the replay file of a counterexample (default "+outDir+"/explore-VARIANT.replay.yaml)")
	return cmd
}

// defaultMaxStates bounds the states an exploration keeps: each costs about
// 4.5 KB of live memory in a breadth-first search without a depth bound
// (the frontier holds a copy of the node its last transition stepped; with
// --depth the states at the bound are not kept, about 1 KB per state), so
// the default stays near 3 GB. DPOR keeps 64-bit fingerprints only.
const defaultMaxStates = 750_000

func exploreOne(w, errw io.Writer, c pexplore.Config, out string) error {
	fmt.Fprintf(errw, "exploring %s\n", c.Describe())
	if w := c.ParallelWorkers(); w > 1 {
		if c.DFS && c.TimersMerged() {
			fmt.Fprintf(errw, "depth-first search (one pass) on %d workers; timers merged by order (no --exact-timers): the states reached may differ from run to run\n", w)
		} else if c.DFS {
			fmt.Fprintf(errw, "depth-first search (one pass) on %d workers\n", w)
		} else {
			fmt.Fprintf(errw, "breadth-first search on %d workers\n", w)
		}
	}
	r, err := experiment.Explore(experiment.ExploreOptions{Config: c, Out: out, OutDir: outDir, Version: version})
	if r == nil {
		return exitStatus(err)
	}
	fmt.Fprintln(w, pexplore.StatsLine(c, r.Stats))
	if c.Symmetry {
		fmt.Fprintln(w, pexplore.SymmetryLine(r.Symmetry))
	}
	fmt.Fprintln(w, r.LivenessLine())
	if !r.Found() {
		fmt.Fprintln(w, r.Verdict())
		return exitStatus(err)
	}
	fmt.Fprintf(w, "VIOLATION of %s at depth %d:\n  %s\n", r.Property, len(r.Path), r.Detail)
	fmt.Fprintf(w, "  (%s)\n", r.Note())
	switch {
	case r.ReplayErr != nil:
		fmt.Fprintf(w, "counterexample not written: %v\n", r.ReplayErr)
	case r.Replay != "":
		fmt.Fprintf(w, "kernel run of the counterexample: %s\n", r.Outcome.Summary())
		fmt.Fprintf(w, "replay file %s (trace hash %s): pbftsim replay %s\n", r.Replay, r.Result.Replay.TraceHash, r.Replay)
	}
	return exitStatus(err)
}

func exploreAll(w io.Writer, c pexplore.Config) error {
	fmt.Fprintf(w, "exploring every variant: %s\n", strings.TrimPrefix(c.Describe(), "variant "+c.VariantName()+": "))
	fmt.Fprintf(w, "%-26s %-5s %-20s %5s %9s %8s  %s\n", "variant", "found", "property", "depth", "states", "seconds", "note")
	found, err := experiment.ExploreAll(c, func(r pexplore.VariantRow) {
		fmt.Fprintf(w, "%-26s %-5s %-20s %5s %9d %8.1f  %s\n", r.Variant, r.Found, r.Property, r.Depth, r.States, r.Seconds, r.Note)
	})
	var ie *experiment.InputError
	if !errors.As(err, &ie) {
		msg := fmt.Sprintf("%d of %d broken variants found within these bounds", found, len(properties.VariantNames()))
		if c.QuietTimers {
			msg += " (timers expired only with no message in flight: --quiet-timers)"
		}
		if c.TimersMerged() {
			msg += " (states differing only in their timers' time left merged: --exact-timers keeps them apart)"
		}
		if t := c.AsyncText(); t != "" {
			msg += " (" + t + ")"
		}
		if n := c.DropsNote(); n != "" {
			msg += " (" + n + ")"
		}
		fmt.Fprintln(w, msg)
	}
	return exitStatus(err)
}
