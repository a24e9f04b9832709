package explore

import (
	"testing"

	"github.com/pbftsim/pbftsim/properties"

	"github.com/pbftsim/pbftsim/sim/cluster"
	engine "github.com/pbftsim/pbftsim/sim/explore"
)

// symConfigs are the configurations the symmetry tests run: views 0 and 1,
// an equivocating primary, drops, duplicates, a crash, timers.
func symConfigs() []Config {
	eq := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	return []Config{
		{Nodes: 4, Requests: 1, Drops: 2, Views: 0, TimerLimit: true, Timers: 3},
		{Nodes: 4, Requests: 1, Drops: 2, Views: 1, TimerLimit: true, Timers: 3, Byzantine: eq},
		{Nodes: 4, Requests: 2, Drops: 1, Duplicates: 1, Views: 0, Byzantine: eq},
		{Nodes: 4, Requests: 1, Drops: 1, Crashes: 1, Views: 1, TimerLimit: true, Timers: 4},
		{Nodes: 5, Requests: 1, Drops: 1, Views: 1, TimerLimit: true, Timers: 3},
	}
}

// TestSymmetrySchedulesCommute is the soundness test of the renaming: for
// random schedules s of the real replicas and every permutation π of the
// group, the world after s renamed by π hashes as the world after π(s).
func TestSymmetrySchedulesCommute(t *testing.T) {
	paths, depth := 40, 60
	if testing.Short() {
		paths = 15
	}
	for i, c := range symConfigs() {
		c.Symmetry = true
		m, _, err := c.model()
		if err != nil {
			t.Fatal(err)
		}
		b := engine.Bounds{Drops: c.Drops, Duplicates: c.Duplicates, Crashes: c.Crashes, TimerLimit: c.TimerLimit, Timers: c.Timers}
		if err := engine.VerifySymmetry(m, b, paths, depth, uint64(i+1)); err != nil {
			t.Errorf("%s: %v", c.Describe(), err)
		}
		// With asynchronous timers any pending timer may fire: the
		// renamed schedule fires the renamed replica's timer.
		c.AsyncTimers = true
		if m, _, err = c.model(); err != nil {
			t.Fatal(err)
		}
		if err := engine.VerifySymmetry(m, b, paths/3+1, depth, uint64(i+1)); err != nil {
			t.Errorf("%s: %v", c.Describe(), err)
		}
	}
}

// TestSymmetryCatchesWrongRenaming: the side-by-side check fails when the
// renaming misses a per-replica slice (the VIEW-CHANGEs by sender, the
// PREPAREs and COMMITs of a log entry), and when the replicas choose
// certificates by replica id (without FullCertificates).
func TestSymmetryCatchesWrongRenaming(t *testing.T) {
	c := symConfigs()[1] // views <= 1, equivocating primary, 2 drops, 3 timers
	c.Symmetry = true
	// Replicas and the client keep every vote and reply, so that the
	// random schedules reach states where an unrenamed slice shows (a
	// client that forgets its replies on acceptance holds at most one).
	c.KeepSpentVotes = true
	b := engine.Bounds{Drops: c.Drops, TimerLimit: true, Timers: c.Timers}
	for _, field := range []string{"Replica.vcs", "entry.prepares", "entry.commits", "Client.replies"} {
		m, _, err := c.model()
		if err != nil {
			t.Fatal(err)
		}
		delete(m.Symmetry.Indexed, field)
		if err := engine.VerifySymmetry(m, b, 40, 60, 7); err == nil {
			t.Errorf("%s not renamed: VerifySymmetry passes", field)
		}
	}
	// The same model on replicas that pick the 2f PREPAREs of lowest id.
	plain := c
	plain.Symmetry = false
	m, cfg, err := plain.model()
	if err != nil {
		t.Fatal(err)
	}
	m.Symmetry = c.symmetry(cfg)
	if err := engine.VerifySymmetry(m, b, 40, 60, 7); err == nil {
		t.Errorf("certificates chosen by replica id: VerifySymmetry passes")
	} else {
		t.Logf("without FullCertificates: %v", err)
	}
}

// TestSymmetryLosesNoViolation: for the correct protocol and every broken
// variant at small bounds (views 0 and 1, one drop, depth 6), and for two
// variants found deeper (as in TestVariantsReducedUnreduced), breadth-first
// search with symmetry reduction finds a violation exactly when the
// unreduced search of the same protocol (full certificates) does, of the
// same property at the same (shortest) depth, its counterexample replays,
// and it never reaches more states.
func TestSymmetryLosesNoViolation(t *testing.T) {
	if testing.Short() {
		t.Skip("explores every variant twice")
	}
	var cs []Config
	for _, views := range []int{0, 1} {
		for _, v := range append([]string{""}, properties.VariantNames()...) {
			cs = append(cs, Config{Nodes: 4, Requests: 1, Drops: 1, Views: views, Depth: 6, Variant: v})
		}
	}
	eq := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	cs = append(cs, Config{Nodes: 4, Requests: 1, Views: 0, Variant: "prepare-ignores-digest", Byzantine: eq, MaxStates: 200_000},
		Config{Nodes: 4, Requests: 1, Views: 0, Variant: "prepare-2f-minus-1", MaxStates: 200_000})
	reduced, found := 0, 0
	for _, base := range cs {
		base.NoSleep = true
		plain, sym := base, base
		plain.FullCertificates = true
		sym.Symmetry = true
		rp, err := Explore(plain)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := Explore(sym)
		if err != nil {
			t.Fatal(err)
		}
		name := sym.Describe()
		if rp.Found() != rs.Found() || rp.Property != rs.Property || len(rp.Path) != len(rs.Path) {
			t.Errorf("%s: unreduced found %q at depth %d, reduced %q at depth %d", name, rp.Property, len(rp.Path), rs.Property, len(rs.Path))
		}
		if !rs.Found() && (!rs.Complete || !rp.Complete) {
			t.Errorf("%s: not complete (%v, %v)", name, rp.Complete, rs.Complete)
		}
		if rs.Found() {
			found++
			if rs.ReplayErr != nil || rs.Outcome.Property() != rs.Property {
				t.Errorf("%s: the reduced counterexample does not replay: %v", name, rs.ReplayErr)
			}
		} else if rs.States > rp.States {
			t.Errorf("%s: %d states reduced, %d unreduced", name, rs.States, rp.States)
		} else if rs.States < rp.States {
			reduced++
		}
		t.Logf("%-28s views %d: found %-5v %-22q depth %2d; states %7d -> %7d (%d permutations)", base.VariantName(), base.Views, rs.Found(), rs.Property, len(rs.Path), rp.States, rs.States, len(rs.Symmetry))
	}
	if reduced == 0 || found == 0 {
		t.Errorf("of %d explorations, %d reduced, %d found: want some of each", len(cs), reduced, found)
	}
}

// BenchmarkSymmetry measures the cost of the canonical state hash: the same
// bounds explored unreduced (full certificates) and with symmetry reduction
// (6 permutations in view 0, 2 with views <= 1), with the states of each
// and the CPU time per executed transition and per distinct state. The
// difference per transition is what the renamed hashes and the key cost.
func BenchmarkSymmetry(b *testing.B) {
	eq := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	for _, bc := range []struct {
		name string
		c    Config
	}{
		{"slice/depth=8", Config{Nodes: 4, Requests: 1, Views: 0, TimerLimit: true, Depth: 8, Inert: true}},
		{"target/timers=0/depth=7", Config{Nodes: 4, Requests: 1, Drops: 2, Views: 1, TimerLimit: true, Depth: 7, Inert: true, Byzantine: eq}},
	} {
		for _, sym := range []bool{false, true} {
			c := bc.c
			c.NoSleep, c.Workers = true, 1
			name := bc.name + "/full-certificates"
			if c.Symmetry = sym; sym {
				name = bc.name + "/symmetry"
			}
			c.FullCertificates = true
			b.Run(name, func(b *testing.B) {
				trans, states, _, cpu := exploreLoop(b, c)
				b.ReportMetric(float64(states)/float64(b.N), "states")
				if cpu > 0 {
					b.ReportMetric(cpu*1e6/float64(trans), "cpu-µs/transition")
					b.ReportMetric(cpu*1e6/float64(states), "cpu-µs/state")
				}
			})
		}
	}
}

// TestSymmetryGroup: the group is computed from the model: the correct
// replicas that are no primary of a view explored, less the permutations a
// per-replica difference breaks (the equivocating primary's split set: by
// default the upper half of the other replicas, {2,3}).
func TestSymmetryGroup(t *testing.T) {
	eq := func(split string) []cluster.ByzantineSpec {
		b := cluster.ByzantineSpec{Replica: 0, Strategy: "equivocate"}
		if split != "" {
			b.Params = map[string]string{"split": split}
		}
		return []cluster.ByzantineSpec{b}
	}
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{Nodes: 4, Views: 0}, "symmetry: replicas {1,2,3} interchangeable (6 permutations)"},
		{Config{Nodes: 4, Views: 1}, "symmetry: replicas {2,3} interchangeable (2 permutations)"},
		{Config{Nodes: 4, Views: 2}, "symmetry: on, but no replicas are interchangeable (1 permutation)"},
		{Config{Nodes: 4, Views: 0, Byzantine: eq("")}, "symmetry: replicas {2,3} interchangeable (2 permutations)"},
		{Config{Nodes: 4, Views: 1, Byzantine: eq("")}, "symmetry: replicas {2,3} interchangeable (2 permutations)"},
		{Config{Nodes: 4, Views: 1, Byzantine: eq("3")}, "symmetry: on, but no replicas are interchangeable (1 permutation)"},
		{Config{Nodes: 4, Views: 0, Byzantine: eq("alternate")}, "symmetry: replicas {1,3} interchangeable (2 permutations)"},
		{Config{Nodes: 7, Views: 1}, "symmetry: replicas {2,3,4,5} interchangeable (24 permutations)"},
	} {
		c := tc.c
		c.Requests, c.Symmetry = 1, true
		m, _, err := c.model()
		if err != nil {
			t.Fatal(err)
		}
		w, _, err := engine.NewEngine(m).Initial()
		if err != nil {
			t.Fatal(err)
		}
		if got := SymmetryLine(w.Symmetry()); got != tc.want {
			t.Errorf("%s: %s, want %s", c.Describe(), got, tc.want)
		}
	}
}

// TestSymmetryWorkers: with symmetry reduction the parallel searches
// (breadth-first, one-pass depth-first) reach the states of one worker:
// each worker renames with its own caches.
func TestSymmetryWorkers(t *testing.T) {
	eq := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	for _, c := range []Config{
		{Nodes: 4, Requests: 1, Drops: 1, Views: 0, Depth: 6, NoSleep: true},
		{Nodes: 4, Requests: 1, Drops: 1, Views: 1, TimerLimit: true, Timers: 0, Inert: true, DFS: true, Byzantine: eq},
	} {
		c.Symmetry = true
		var states []int
		for _, w := range []int{1, 2} {
			cc := c
			cc.Workers = w
			if cc.ParallelWorkers() != w {
				t.Fatalf("%s: %d workers, want %d", c.Describe(), cc.ParallelWorkers(), w)
			}
			res, err := Explore(cc)
			if err != nil || res.Found() || !res.Complete {
				t.Fatalf("%s: %v, found %q, complete %v", c.Describe(), err, res.Property, res.Complete)
			}
			states = append(states, res.States)
		}
		if states[0] != states[1] {
			t.Errorf("%s: %d states on one worker, %d on two", c.Describe(), states[0], states[1])
		}
		t.Logf("%s: %d states", c.Describe(), states[0])
	}
}
