package explore

import (
	"testing"

	"github.com/pbftsim/pbftsim/sim/cluster"
	engine "github.com/pbftsim/pbftsim/sim/explore"
)

// TestKeepSentPBFTNodeVectors: on PBFT configurations with asynchronous
// timers and drops subsumed (a drop, an equivocating primary, a crash),
// the node vectors (replica and client state hashes, down replicas,
// pending timers) reached with the monotone network (Config.KeepSent)
// contain those of the consuming network and
// those of the consuming network with a duplicate. The monotone network
// reaches more: re-delivered messages (a client's REQUEST relayed again,
// say) are not all no-ops.
func TestKeepSentPBFTNodeVectors(t *testing.T) {
	equiv := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	cases := []Config{
		{Nodes: 4, Requests: 1, Drops: 1, Views: 1, Depth: 6, AsyncTimers: true},
		{Nodes: 4, Requests: 1, Drops: 1, Views: 1, Depth: 5, Byzantine: equiv, AsyncTimers: true, Inert: true},
		{Nodes: 4, Requests: 1, Drops: 1, Crashes: 1, Views: 0, Depth: 4, AsyncTimers: true},
	}
	subsume := func(o *engine.Options) { o.SubsumeDrops = true }
	for _, c := range cases {
		c.KeepSent = true
		if !c.Monotone() {
			t.Fatalf("%s: not a monotone network", c.Describe())
		}
		mono, rm := pbftNodeVectorsOpts(t, c, 0, subsume)
		cc := c
		cc.KeepSent = false
		consuming, rc := pbftNodeVectorsOpts(t, cc, 0, subsume)
		cc.Duplicates = 1
		dups, rd := pbftNodeVectorsOpts(t, cc, 0, subsume)
		miss, missD, extra := 0, 0, 0
		for v := range consuming {
			if !mono[v] {
				miss++
			}
		}
		for v := range dups {
			if !mono[v] {
				missD++
			}
		}
		for v := range mono {
			if !consuming[v] {
				extra++
			}
		}
		t.Logf("%s: consuming %d states, %d node vectors; with a duplicate %d states, %d node vectors; monotone %d states, %d transitions, %d node vectors (%d not reached consuming)",
			c.Describe(), rc.States, len(consuming), rd.States, len(dups), rm.States, rm.Transitions, len(mono), extra)
		if miss != 0 || missD != 0 {
			t.Errorf("%s: %d node vectors of the consuming network, %d with a duplicate, not reached by the monotone one", c.Describe(), miss, missD)
		}
	}
}

// TestKeepSentVariantsFound: every broken variant that the consuming
// network (drops subsumed, asynchronous timers; one drop, views <= 1,
// depth 6, and 3 variants with an equivocating primary at views 0, depth
// 7) finds is found with the monotone network, of the same property, at a
// depth no larger (a consuming path is a monotone one), and its
// counterexample replays to the same verdict in the kernel (re-deliveries
// as identical sends or duplicates); the correct protocol is found by
// neither. Under -short three variants without a Byzantine replica.
func TestKeepSentVariantsFound(t *testing.T) {
	cs := variantsFoundConfigs("prepare-ignores-digest", "preprepare-digest-unchecked", "accept-second-preprepare", "commit-counts-duplicates")
	found, onlyMono := 0, 0
	for _, c := range cs {
		c.KeepSent = true
		mono, err := Explore(c)
		if err != nil {
			t.Fatal(err)
		}
		cc := c
		cc.KeepSent = false
		cons, err := Explore(cc)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-28s consuming %-20q depth %d (%d states) | monotone %-20q depth %d (%d states)",
			c.VariantName(), cons.Property, len(cons.Path), cons.States, mono.Property, len(mono.Path), mono.States)
		if cons.Found() && (mono.Property != cons.Property || len(mono.Path) > len(cons.Path)) {
			t.Errorf("%s: consuming found %q at depth %d, monotone %q at depth %d", c.VariantName(), cons.Property, len(cons.Path), mono.Property, len(mono.Path))
		}
		if mono.Found() && (mono.ReplayErr != nil || mono.Outcome.Property() != mono.Property) {
			t.Errorf("%s: the monotone counterexample does not replay: %v", c.VariantName(), mono.ReplayErr)
		}
		if cons.Found() {
			found++
		}
		if mono.Found() && !cons.Found() {
			onlyMono++
		}
		if c.Variant == "" && (cons.Found() || mono.Found()) {
			t.Errorf("correct protocol: found %q / %q", cons.Property, mono.Property)
		}
	}
	t.Logf("%d variants found by the consuming network, all by the monotone one; %d found only by the monotone one", found, onlyMono)
	if found == 0 {
		t.Error("no variant found: the comparison judged nothing")
	}
}
