package explore

import (
	"slices"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/sim/cluster"
	engine "github.com/pbftsim/pbftsim/sim/explore"
)

// splitVectors turns pbftNodeVectors' node vectors (node hashes and down
// nodes, then the pending timers) into the pending-timer sets reached with
// each node state.
func splitVectors(vs map[string]bool) map[string][][]string {
	out := map[string][][]string{}
	for v := range vs {
		i := strings.LastIndexByte(v, ' ')
		var ts []string
		if v[i+1:] != "" {
			ts = strings.Split(v[i+1:], ",")
		}
		out[v[:i]] = append(out[v[:i]], ts)
	}
	return out
}

// noopCover returns how many node vectors of the full search (all) no
// vector of the reduced one covers (same node states, a superset of
// pending timers: a no-op Fire's timer stays pending in the parent), and
// how many of the reduced one's the full search lacks.
func noopCover(all, reduced map[string]bool) (lost, extra int) {
	r := splitVectors(reduced)
	for v := range all {
		i := strings.LastIndexByte(v, ' ')
		var ts []string
		if v[i+1:] != "" {
			ts = strings.Split(v[i+1:], ",")
		}
		if !slices.ContainsFunc(r[v[:i]], func(big []string) bool {
			for _, x := range ts {
				if !slices.Contains(big, x) {
					return false
				}
			}
			return true
		}) {
			lost++
		}
	}
	for v := range reduced {
		if !all[v] {
			extra++
		}
	}
	return lost, extra
}

// TestSubsumedNoopsPBFTNodeStates: on PBFT configurations with
// asynchronous timers and drops subsumed (an equivocating primary, views
// <= 1, a correct one, a crash, full certificates with iterative deepening), the
// node vectors reached with the successors of no-op deliveries and timer
// expirations skipped cover those reached without (same replica and client
// states, a superset of pending timers) and add none, and some no-op is
// skipped (REQUESTs retried by the client or relayed by a backup to a
// primary that holds the request already).
func TestSubsumedNoopsPBFTNodeStates(t *testing.T) {
	equiv := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	cases := []Config{
		{Nodes: 4, Requests: 1, Drops: 1, Views: 1, Depth: 6, Byzantine: equiv, AsyncTimers: true, Inert: true},
		{Nodes: 4, Requests: 1, Drops: 1, Views: 1, Depth: 6, AsyncTimers: true, Inert: true},
		{Nodes: 4, Requests: 1, Drops: 1, Crashes: 1, Views: 0, Depth: 5, AsyncTimers: true},
		{Nodes: 4, Requests: 1, Drops: 2, Views: 1, Depth: 6, Byzantine: equiv, AsyncTimers: true, Inert: true, FullCertificates: true, DFS: true},
	}
	if testing.Short() {
		cases = cases[:2]
	}
	skipped := 0
	for _, c := range cases {
		if !c.DropsSubsumed() {
			t.Fatalf("%s: drops not subsumed", c.Describe())
		}
		run := func(noops bool) (map[string]bool, *engine.Result) {
			return pbftNodeVectorsOpts(t, c, 0, func(o *engine.Options) { o.SubsumeDrops, o.SubsumeNoops = true, noops })
		}
		all, ra := run(false)
		reduced, rr := run(true)
		skipped += rr.Noops
		t.Logf("%s: %d states, %d transitions, %d node vectors; no-ops skipped: %d states, %d transitions (%d no-ops), %d node vectors",
			c.Describe(), ra.States, ra.Transitions, len(all), rr.States, rr.Transitions, rr.Noops, len(reduced))
		if lost, extra := noopCover(all, reduced); lost != 0 || extra != 0 {
			t.Errorf("%s: %d node vectors not covered with no-ops skipped, %d reached only then", c.Describe(), lost, extra)
		}
	}
	if skipped == 0 {
		t.Error("no no-op skipped: the comparison shows nothing")
	}
}

// TestSubsumedNoopsVariantsFound: every broken variant found with the
// successors of no-op transitions explored (drops subsumed, asynchronous
// timers; one drop, views <= 1, depth 6; and 3 variants with an
// equivocating primary, views 0, depth 7) is found with them skipped, of
// the same property at the same depth (a shortest violating path has no
// no-op: without it the path is shorter and its checkers' verdict no
// better), and its counterexample replays; the correct protocol is found
// by neither. Under -short three variants.
func TestSubsumedNoopsVariantsFound(t *testing.T) {
	cs := variantsFoundConfigs()
	found, noops := 0, 0
	for _, c := range cs {
		if !c.NoopsSubsumed() {
			t.Fatalf("%s: no-ops not subsumed", c.Describe())
		}
		red, err := Explore(c)
		if err != nil {
			t.Fatal(err)
		}
		c.ExplicitNoops = true
		all, err := Explore(c)
		if err != nil {
			t.Fatal(err)
		}
		noops += red.Noops
		t.Logf("%-28s all %-20q depth %d (%d states) | no-ops skipped %-20q depth %d (%d states, %d no-ops)",
			c.VariantName(), all.Property, len(all.Path), all.States, red.Property, len(red.Path), red.States, red.Noops)
		if all.Found() && (red.Property != all.Property || len(red.Path) != len(all.Path)) {
			t.Errorf("%s: found %q at depth %d, with no-ops skipped %q at depth %d", c.VariantName(), all.Property, len(all.Path), red.Property, len(red.Path))
		}
		if red.Found() && !all.Found() {
			t.Errorf("%s: found only with no-ops skipped (%q)", c.VariantName(), red.Property)
		}
		if red.Found() && (red.ReplayErr != nil || red.Outcome.Property() != red.Property) {
			t.Errorf("%s: the counterexample does not replay: %v", c.VariantName(), red.ReplayErr)
		}
		if all.Found() {
			found++
		}
		if c.Variant == "" && (all.Found() || red.Found()) {
			t.Errorf("correct protocol: found %q / %q", all.Property, red.Property)
		}
	}
	t.Logf("%d variants found with no-ops explored, all with them skipped; %d no-ops skipped in all", found, noops)
	if found == 0 || noops == 0 {
		t.Errorf("%d variants found, %d no-ops skipped: the comparison judged nothing", found, noops)
	}
}

// TestNoopsNote: the output says when no-op transitions were skipped and
// not otherwise.
func TestNoopsNote(t *testing.T) {
	equiv := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	for _, tc := range []struct {
		c    Config
		want bool
	}{
		{Config{Drops: 2, Byzantine: equiv, AsyncTimers: true, DFS: true}, true},
		{Config{Drops: 2, AsyncTimers: true, Symmetry: true}, true},
		{Config{Drops: 2, AsyncTimers: true, NoSleep: true}, true},
		{Config{Drops: 2, AsyncTimers: true}, false}, // breadth-first sleep sets
		{Config{Drops: 2, AsyncTimers: true, DFS: true, ExplicitNoops: true}, false},
		{Config{Drops: 2, AsyncTimers: true, DFS: true, ExplicitDrops: true}, false},
		{Config{Drops: 2, AsyncTimers: true, DPOR: true, DFS: true}, false},
		{Config{Drops: 2, DFS: true}, false},
	} {
		note := tc.c.DropsNote()
		if tc.c.NoopsSubsumed() != tc.want || strings.Contains(note, "no-op") != tc.want {
			t.Errorf("%+v: subsumed %v, note %q; want %v", tc.c, tc.c.NoopsSubsumed(), note, tc.want)
		}
	}
}
