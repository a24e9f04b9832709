package explore

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/sim/cluster"
	engine "github.com/pbftsim/pbftsim/sim/explore"
)

// pbftNodeVectors explores c breadth-first with drops subsumed or not and
// returns the node vectors of the states it judges (each node's state
// hash, the down nodes and the pending timers: no flight, no budgets) and
// the result. quiet forces the subsumption under quiet timers (where it
// does not hold).
func pbftNodeVectors(t *testing.T, c Config, subsume, quiet bool) (map[string]bool, *engine.Result) {
	t.Helper()
	return pbftNodeVectorsOpts(t, c, 0, func(o *engine.Options) { o.SubsumeDrops, o.QuietTimers = subsume, quiet })
}

// pbftNodeVectorsOpts is pbftNodeVectors with the options as set by mod
// (breadth-first, or the one-pass depth-first search with c.DFS and a
// timer bound), states with more than maxFlight messages in flight not
// expanded (0: no limit).
func pbftNodeVectorsOpts(t *testing.T, c Config, maxFlight int, mod func(*engine.Options)) (map[string]bool, *engine.Result) {
	t.Helper()
	m, _, err := c.model()
	if err != nil {
		t.Fatal(err)
	}
	if maxFlight > 0 {
		prune := m.Prune
		m.Prune = func(w *engine.World) bool { return len(w.Flight) > maxFlight || prune(w) }
	}
	hashCp := m.Copier.Worker() // hashing here must not share the search's caches
	got := map[string]bool{}
	o := engine.Options{
		Bounds: engine.Bounds{Drops: c.Drops, Duplicates: c.Duplicates, Crashes: c.Crashes, Depth: c.Depth,
			TimerLimit: c.TimerLimit, Timers: c.Timers},
		DFS: c.DFS,
		Check: func(w *engine.World, _ []engine.Record) (string, string) {
			var b strings.Builder
			for i, nd := range w.Nodes {
				fmt.Fprintf(&b, "%x/%v ", hashCp.Hash(nd), w.Down[i])
			}
			ts := make([]string, 0, len(w.Timers))
			for _, tm := range w.Timers {
				ts = append(ts, fmt.Sprintf("%d/%d", tm.Node, tm.ID))
			}
			slices.Sort(ts)
			got[b.String()+strings.Join(ts, ",")] = true
			return "", ""
		},
	}
	mod(&o)
	res, err := engine.Run(m, o)
	if err != nil || !res.Complete {
		t.Fatalf("%s: %v", c.Describe(), err)
	}
	return got, res
}

// TestSubsumedDropsPBFTNodeStates: on PBFT configurations with
// asynchronous timers (a drop, a drop and an equivocating primary whose
// messages may also be withheld, a crash, a duplicate) the node vectors
// reached with explicit drops are exactly those reached with no Drop
// transition, in fewer states; with quiet timers (where a drop can let a
// timer fire) forcing the subsumption misses some, so the comparison can
// fail.
func TestSubsumedDropsPBFTNodeStates(t *testing.T) {
	equiv := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	cases := []Config{
		{Nodes: 4, Requests: 1, Drops: 1, Views: 1, Depth: 6, AsyncTimers: true},
		{Nodes: 4, Requests: 1, Drops: 1, Views: 1, Depth: 5, Byzantine: equiv, AsyncTimers: true, Inert: true},
		{Nodes: 4, Requests: 1, Drops: 1, Crashes: 1, Duplicates: 1, Views: 0, Depth: 4, AsyncTimers: true},
	}
	if !testing.Short() {
		cases = append(cases, Config{Nodes: 4, Requests: 1, Drops: 2, Views: 1, Depth: 6, Byzantine: equiv, AsyncTimers: true, Inert: true})
	}
	for _, c := range cases {
		if !c.DropsSubsumed() {
			t.Fatalf("%s: drops not subsumed", c.Describe())
		}
		explicit, re := pbftNodeVectors(t, c, false, false)
		subsumed, rs := pbftNodeVectors(t, c, true, false)
		onlyE, onlyS := 0, 0
		for v := range explicit {
			if !subsumed[v] {
				onlyE++
			}
		}
		for v := range subsumed {
			if !explicit[v] {
				onlyS++
			}
		}
		t.Logf("%s: explicit %d states, %d transitions, %d node vectors; subsumed %d states, %d transitions, %d node vectors",
			c.Describe(), re.States, re.Transitions, len(explicit), rs.States, rs.Transitions, len(subsumed))
		if onlyE != 0 || onlyS != 0 {
			t.Errorf("%s: %d node vectors only with explicit drops, %d only subsumed", c.Describe(), onlyE, onlyS)
		}
		if rs.States >= re.States {
			t.Errorf("%s: subsumed %d states, explicit %d: nothing saved", c.Describe(), rs.States, re.States)
		}
	}
	c := Config{Nodes: 4, Requests: 1, Drops: 1, Views: 1, Depth: 7, AsyncTimers: true}
	explicit, _ := pbftNodeVectors(t, c, false, true)
	subsumed, _ := pbftNodeVectors(t, c, true, true)
	miss := 0
	for v := range explicit {
		if !subsumed[v] {
			miss++
		}
	}
	t.Logf("quiet timers, depth 7: %d of %d node vectors only with explicit drops", miss, len(explicit))
	if miss == 0 {
		t.Error("quiet timers: subsumed drops miss no node vector: the comparison cannot fail")
	}
}

// TestSubsumedDropsVariantsFound: every broken variant found with explicit
// drops under asynchronous timers (one drop: every variant without a
// Byzantine replica, views <= 1, depth 6; and 3 variants with an equivocating primary, whose
// messages may be withheld, views 0, depth 7) is found with subsumed
// drops, of the same property, at a depth no larger (a path without its
// drops is shorter), and its counterexample replays; the correct protocol
// is found by neither. Under -short three variants without a Byzantine
// replica.
func TestSubsumedDropsVariantsFound(t *testing.T) {
	cs := variantsFoundConfigs()
	found, shorter := 0, 0
	for _, c := range cs {
		v := c.Variant
		sub, err := Explore(c)
		if err != nil {
			t.Fatal(err)
		}
		c.ExplicitDrops = true
		exp, err := Explore(c)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-28s explicit %-20q depth %d (%d states) | subsumed %-20q depth %d (%d states)",
			c.VariantName(), exp.Property, len(exp.Path), exp.States, sub.Property, len(sub.Path), sub.States)
		if exp.Found() && (sub.Property != exp.Property || len(sub.Path) > len(exp.Path)) {
			t.Errorf("%s: explicit drops found %q at depth %d, subsumed %q at depth %d", c.VariantName(), exp.Property, len(exp.Path), sub.Property, len(sub.Path))
		}
		if sub.Found() && !exp.Found() {
			t.Errorf("%s: found only with subsumed drops (%q)", c.VariantName(), sub.Property)
		}
		if sub.Found() && (sub.ReplayErr != nil || sub.Outcome.Property() != sub.Property) {
			t.Errorf("%s: the subsumed counterexample does not replay: %v", c.VariantName(), sub.ReplayErr)
		}
		if exp.Found() {
			found++
			if len(sub.Path) < len(exp.Path) {
				shorter++
			}
		}
		if v == "" && (exp.Found() || sub.Found()) {
			t.Errorf("correct protocol: found %q / %q", exp.Property, sub.Property)
		}
	}
	t.Logf("%d variants found with explicit drops, all with subsumed drops; %d at a smaller depth", found, shorter)
	if found == 0 {
		t.Error("no variant found: the comparison judged nothing")
	}
}

// TestDropsNote: the output says when drops were subsumed and not
// otherwise.
func TestDropsNote(t *testing.T) {
	equiv := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{Drops: 2, Byzantine: equiv, AsyncTimers: true}, "drops 2 and withholding by Byzantine replicas: subsumed for safety"},
		{Config{Byzantine: equiv, AsyncTimers: true}, "withholding by Byzantine replicas: subsumed for safety"},
		{Config{Drops: 2, AsyncTimers: true}, "drops 2: subsumed for safety"},
		{Config{Drops: 2}, ""},
		{Config{Drops: 2, AsyncTimers: true, QuietTimers: true}, ""},
		{Config{Drops: 2, AsyncTimers: true, LivenessSteps: 10}, ""},
		{Config{Drops: 2, AsyncTimers: true, ExplicitDrops: true}, ""},
		{Config{AsyncTimers: true}, ""},
	} {
		got := tc.c.DropsNote()
		if tc.want == "" && got != "" || !strings.HasPrefix(got, tc.want) || tc.c.DropsSubsumed() != (tc.want != "") {
			t.Errorf("%+v: note %q, want prefix %q", tc.c, got, tc.want)
		}
	}
}

// TestSubsumeBudgetsPBFT: on PBFT spaces (an equivocating primary, views
// <= 1, a drop, a timer expiration; states with more than 4 messages in
// flight not expanded, 3 under -short) the one-pass depth-first search with budget
// subsumption reaches the node vectors of the search without it, counts
// the same distinct states on 1 and 2 workers (no more than without it),
// and finds the same violations.
func TestSubsumeBudgetsPBFT(t *testing.T) {
	equiv := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	maxFlight := 4
	if testing.Short() {
		maxFlight = 3
	}
	for _, c := range []Config{
		{Nodes: 4, Requests: 1, Drops: 1, Views: 1, Timers: 1, Byzantine: equiv, Inert: true},
		{Nodes: 4, Requests: 1, Drops: 1, Views: 1, Timers: 1, Byzantine: equiv, Inert: true, AsyncTimers: true},
	} {
		c.DFS, c.TimerLimit = true, true
		prune := func(o *engine.Options) {}
		plainV, plain := pbftNodeVectorsOpts(t, c, maxFlight, prune)
		subV, sub := pbftNodeVectorsOpts(t, c, maxFlight, func(o *engine.Options) { o.SubsumeBudgets = true })
		onlyP, onlyS := 0, 0
		for v := range plainV {
			if !subV[v] {
				onlyP++
			}
		}
		for v := range subV {
			if !plainV[v] {
				onlyS++
			}
		}
		cc := c
		cc.SubsumeBudgets = true
		two, err := prunedOnePass(cc, maxFlight, 2)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: without %d states, %d transitions; with %d states, %d transitions, %d re-expanded; 2 workers %d states",
			c.Describe(), plain.States, plain.Transitions, sub.States, sub.Transitions, sub.Reexpanded, two.States)
		if onlyP != 0 || onlyS != 0 || two.States != sub.States || sub.States > plain.States {
			t.Errorf("%s: %d node vectors only without budget subsumption, %d only with; states %d (1 worker), %d (2), %d without",
				c.Describe(), onlyP, onlyS, sub.States, two.States, plain.States)
		}
	}
	for _, v := range []string{"prepare-ignores-digest", "commit-quorum-2f"} {
		c := Config{Nodes: 4, Requests: 1, Drops: 1, Views: 1, Timers: 1, Byzantine: equiv, Inert: true, AsyncTimers: true, Variant: v}
		plain, err := prunedOnePass(c, maxFlight, 1)
		if err != nil {
			t.Fatal(err)
		}
		c.SubsumeBudgets = true
		sub, err := prunedOnePass(c, maxFlight, 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: without %q (%d states), with %q (%d states)", v, plain.Property, plain.States, sub.Property, sub.States)
		if sub.Property != plain.Property {
			t.Errorf("%s: without budget subsumption %q, with %q", v, plain.Property, sub.Property)
		}
	}
}

// TestSubsumeBudgetsShortens: a counterexample of the one-pass search with
// budget subsumption is shortened breadth-first as one without it is: the
// same shortest depth, known to be shortest. It fails when the shortening
// search keeps SubsumeBudgets (the engine refuses it breadth-first, and
// the longer one-pass path is reported as "not ruled out").
func TestSubsumeBudgetsShortens(t *testing.T) {
	c := Config{Nodes: 4, Requests: 1, Drops: 1, Duplicates: 1, Views: 1, TimerLimit: true, Timers: 1, DFS: true, Workers: 1, Variant: "commit-quorum-2f"}
	plain, err := Explore(c)
	if err != nil {
		t.Fatal(err)
	}
	c.SubsumeBudgets = true
	sub, err := Explore(c)
	if err != nil {
		t.Fatal(err)
	}
	if !plain.Found() || !sub.Found() {
		t.Fatalf("found %q without budget subsumption, %q with: want both", plain.Property, sub.Property)
	}
	t.Logf("without: depth %d (shortest %v); with: depth %d (shortest %v)", len(plain.Path), plain.Shortest, len(sub.Path), sub.Shortest)
	if !sub.Shortest || len(sub.Path) != len(plain.Path) {
		t.Errorf("with budget subsumption: depth %d (shortest %v); without: depth %d (shortest %v)", len(sub.Path), sub.Shortest, len(plain.Path), plain.Shortest)
	}
}

// variantsFoundConfigs returns the configurations of the reductions'
// variants-found tests: the correct protocol and every broken variant (under
// -short three) with one drop, views <= 1, depth 6, asynchronous timers,
// no sleep sets and --inert; then the variants equiv (the default three if
// none) with an equivocating primary, whose messages may also be withheld,
// at views 0, depth 7.
func variantsFoundConfigs(equivVariants ...string) []Config {
	vs := append([]string{""}, properties.VariantNames()...)
	if testing.Short() {
		vs = []string{"", "prepare-2f-minus-1", "commit-quorum-2f", "execute-on-prepared"}
	}
	var cs []Config
	for _, v := range vs {
		cs = append(cs, Config{Nodes: 4, Requests: 1, Drops: 1, Views: 1, Depth: 6, Variant: v, AsyncTimers: true, NoSleep: true, Inert: true})
	}
	if len(equivVariants) == 0 {
		equivVariants = []string{"prepare-ignores-digest", "preprepare-digest-unchecked", "accept-second-preprepare"}
	}
	equiv := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	for _, v := range equivVariants {
		cs = append(cs, Config{Nodes: 4, Requests: 1, Drops: 1, Views: 0, Depth: 7, Variant: v, Byzantine: equiv, AsyncTimers: true, NoSleep: true, Inert: true})
	}
	return cs
}
