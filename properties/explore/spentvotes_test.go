package explore

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/sim/cluster"
	engine "github.com/pbftsim/pbftsim/sim/explore"
)

// recordKey is what a trace record says, with messages and events by their
// canonical encodings (absolute times included: both runs have the same).
func recordKey(cp *engine.Copier, r *engine.Record) string {
	k := fmt.Sprintf("%d %v %d>%d t%d r%d", r.Time, r.Kind, r.From, r.To, r.Timer, r.Reason)
	if r.Msg != nil {
		k += fmt.Sprintf(" m%x", cp.MessageHash(r.Msg))
	}
	if r.Event != nil {
		k += " " + r.Event.Name() + fmt.Sprintf(" %x", r.Event.AppendCanonical(nil))
	}
	return k
}

// lockstep runs the same random schedules on the models of a and b (which
// must differ only in how much state their replicas keep) and reports the
// first transition whose enabled choices or trace records differ, and the
// distinct node states each reached. Both worlds must offer the same choices
// (the same messages in flight, the same timers) and every transition must
// trace the same records: the same sends, timers and events.
func lockstep(t *testing.T, a, b Config, schedules, steps int, seed uint64) (statesA, statesB int, err error) {
	t.Helper()
	ma, _, e1 := a.model()
	mb, _, e2 := b.model()
	if e1 != nil || e2 != nil {
		t.Fatal(e1, e2)
	}
	ea, eb := engine.NewEngine(ma), engine.NewEngine(mb)
	for _, e := range []*engine.Engine{ea, eb} {
		e.KeepRecords(true)
		e.CountFires(true)
	}
	bounds := engine.Bounds{Drops: a.Drops, Duplicates: a.Duplicates, Crashes: a.Crashes, TimerLimit: a.TimerLimit, Timers: a.Timers}
	seenA, seenB := map[uint64]bool{}, map[uint64]bool{}
	same := func(ra, rb []engine.Record) bool {
		if len(ra) != len(rb) {
			return false
		}
		for i := range ra {
			if recordKey(ea.Copier(), &ra[i]) != recordKey(eb.Copier(), &rb[i]) {
				return false
			}
		}
		return true
	}
	rng := rand.New(rand.NewPCG(seed, 0x5e))
	for s := 0; s < schedules; s++ {
		wa, ra, err1 := ea.Initial()
		wb, rb, err2 := eb.Initial()
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if !same(ra, rb) {
			return 0, 0, fmt.Errorf("schedule %d: the initial worlds trace different records", s)
		}
		for step := 0; step < steps; step++ {
			for i := range wa.Nodes {
				seenA[ea.Copier().Hash(wa.Nodes[i])^uint64(i)], seenB[eb.Copier().Hash(wb.Nodes[i])^uint64(i)] = true, true
			}
			ca, cb := ea.Choices(nil, wa, bounds), eb.Choices(nil, wb, bounds)
			if !slices.Equal(ca, cb) {
				return 0, 0, fmt.Errorf("schedule %d step %d: choices %v, reduced %v", s, step, ca, cb)
			}
			if len(ca) == 0 {
				break
			}
			c := ca[rng.IntN(len(ca))]
			wa, _ = ea.Apply(wa, c)
			wb, _ = eb.Apply(wb, c)
			if ra, rb := ea.Records(), eb.Records(); !same(ra, rb) {
				return 0, 0, fmt.Errorf("schedule %d step %d (%v): the transition traces different records", s, step, c)
			}
		}
	}
	return len(seenA), len(seenB), nil
}

// TestDropSpentVotesSameOutputs is the soundness test of
// pbft.Config.DropSpentVotes and pbft.ClientConfig.DropSpentReplies (on
// in every exploration): on random
// schedules (drops, duplicates, crashes, timer expirations into view 1 and
// beyond, an equivocating primary) of the correct protocol and of every
// broken variant, replicas and clients that forget their spent votes and
// replies send, arm and report exactly what those that keep them do, at every step, while
// fewer distinct replica states are reached. Forgetting a vote that is still read
// (the replica's own, resent on a retransmitted PRE-PREPARE; PREPAREs
// before the prepared certificate is taken; COMMITs under a variant that
// reopens the entry; a client's replies before it accepts its last request) changes
// some output on these schedules. Inert messages are not discarded here
// (forgetting makes more of them inert: the inertness tests verify those
// declarations): both worlds must hold the same messages.
func TestDropSpentVotesSameOutputs(t *testing.T) {
	variants := append([]string{""}, properties.VariantNames()...)
	schedules, steps := 12, 80
	if testing.Short() {
		schedules = 4
	}
	eq := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	fewer := 0
	for i, v := range variants {
		for _, byz := range [][]cluster.ByzantineSpec{nil, eq} {
			keep := Config{Nodes: 4, Requests: 2, Drops: 2, Duplicates: 1, Crashes: 1, TimerLimit: true, Timers: 4,
				Byzantine: byz, Variant: v, KeepSpentVotes: true}
			drop := keep
			drop.KeepSpentVotes = false
			na, nb, err := lockstep(t, keep, drop, schedules, steps, uint64(i))
			if err != nil {
				t.Errorf("%s (byzantine %v): %v", keep.VariantName(), byz, err)
				continue
			}
			if nb > na {
				t.Errorf("%s: %d states with spent votes forgotten, %d kept", keep.VariantName(), nb, na)
			}
			if nb < na {
				fewer++
			}
		}
	}
	if fewer == 0 {
		t.Errorf("forgetting spent votes merged no states on any schedule")
	}
}

// TestDropSpentVotesLosesNoViolation: explorations of the correct protocol
// and of every broken variant (views 0 and 1, one drop, depth 6, plus two
// variants found deeper) with replicas that keep every vote and with the
// default (spent votes forgotten) find the same verdict, property and
// shortest depth; the reduced counterexamples replay; the reduced state
// count is never larger. -short runs the correct protocol and 4 variants.
func TestDropSpentVotesLosesNoViolation(t *testing.T) {
	variants := append([]string{""}, properties.VariantNames()...)
	views := []int{0, 1}
	if testing.Short() {
		variants = []string{"", "commit-quorum-2f", "execute-on-prepared", "accept-second-preprepare"}
		views = []int{1}
	}
	var cs []Config
	for _, views := range views {
		for _, v := range variants {
			cs = append(cs, Config{Nodes: 4, Requests: 1, Drops: 1, Views: views, Depth: 6, Variant: v})
		}
	}
	eq := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	if !testing.Short() {
		cs = append(cs, Config{Nodes: 4, Requests: 1, Views: 0, Variant: "prepare-ignores-digest", Byzantine: eq, MaxStates: 200_000},
			Config{Nodes: 4, Requests: 1, Views: 0, Variant: "prepare-2f-minus-1", MaxStates: 200_000})
	}
	reduced, found := 0, 0
	for _, base := range cs {
		base.NoSleep, base.Inert = true, true
		keep := base
		keep.KeepSpentVotes = true
		rk, err := Explore(keep)
		if err != nil {
			t.Fatal(err)
		}
		rd, err := Explore(base)
		if err != nil {
			t.Fatal(err)
		}
		name := base.Describe()
		if rk.Found() != rd.Found() || rk.Property != rd.Property || len(rk.Path) != len(rd.Path) {
			t.Errorf("%s: keeping votes found %q at depth %d, forgetting %q at depth %d", name, rk.Property, len(rk.Path), rd.Property, len(rd.Path))
		}
		if !rd.Found() && (!rd.Complete || !rk.Complete) {
			t.Errorf("%s: not complete (%v, %v)", name, rk.Complete, rd.Complete)
		}
		if rd.Found() {
			found++
			if rd.ReplayErr != nil || rd.Outcome.Property() != rd.Property {
				t.Errorf("%s: the counterexample does not replay: %v", name, rd.ReplayErr)
			}
		} else if rd.States > rk.States {
			t.Errorf("%s: %d states forgetting spent votes, %d keeping them", name, rd.States, rk.States)
		} else if rd.States < rk.States {
			reduced++
		}
		t.Logf("%-28s views %d: found %-5v %-22q depth %2d; states %7d -> %7d", base.VariantName(), base.Views, rd.Found(), rd.Property, len(rd.Path), rk.States, rd.States)
	}
	if reduced == 0 || found == 0 {
		t.Errorf("of %d explorations, %d reduced, %d found: want some of each", len(cs), reduced, found)
	}
}
