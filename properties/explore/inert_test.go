package explore

import (
	"errors"
	"testing"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
	engine "github.com/pbftsim/pbftsim/sim/explore"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

var equivocate0 = []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}

// inertSet returns the hashes of the states judged by breadth-first
// exploration of c: with discard, of the reduced exploration (inert
// messages discarded, every declaration verified); without, of the
// unreduced one, each state taken without its inert messages. With
// noBudgets the budgets used are left out of the hash (a drop of a message
// that is inert spends a budget the reduced exploration keeps).
func inertSet(t *testing.T, c Config, discard, noBudgets, sleep bool) (map[uint64]bool, *engine.Result) {
	t.Helper()
	c.Inert = discard
	m, _, err := c.model()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	res, err := engine.Run(m, engine.Options{Bounds: engine.Bounds{Drops: c.Drops, Duplicates: c.Duplicates, Crashes: c.Crashes, Depth: c.Depth,
		TimerLimit: c.TimerLimit, Timers: c.Timers},
		Sleep: sleep, VerifyInert: discard, Check: func(w *engine.World, _ []engine.Record) (string, string) {
			if !discard {
				w = m.WithoutInert(w)
			}
			if noBudgets {
				cp := *w
				cp.Drops, cp.Dups = 0, 0
				w = &cp
			}
			seen[w.Hash()] = true
			return "", ""
		}})
	if err != nil || !res.Complete {
		t.Fatalf("%+v discard=%v: %v", c, discard, err)
	}
	return seen, res
}

// TestInertStateSets: discarding inert messages (every declaration verified
// by delivering it to a copy of the receiver, now and after each of its
// later steps) reaches exactly the states of the unreduced exploration
// taken without their inert messages, within the same depth bound, in
// fewer states; with drops, up to the budget spent dropping an inert
// message. So it loses no state property's violation. Sleep sets on top
// reach the same reduced states.
func TestInertStateSets(t *testing.T) {
	cs := []struct {
		c         Config
		noBudgets bool
	}{
		{Config{Nodes: 4, Requests: 1, Views: 0, TimerLimit: true, Depth: 9}, false},
		{Config{Nodes: 4, Requests: 1, Views: 1, Depth: 6, Byzantine: equivocate0}, false},
		{Config{Nodes: 4, Requests: 1, Crashes: 1, Views: 1, Depth: 5}, false},
		{Config{Nodes: 4, Requests: 1, Drops: 1, Views: 0, TimerLimit: true, Depth: 7}, true},
		{Config{Nodes: 4, Requests: 1, Duplicates: 1, Views: 0, TimerLimit: true, Depth: 7}, true},
	}
	if !testing.Short() {
		cs = append(cs, struct {
			c         Config
			noBudgets bool
		}{Config{Nodes: 4, Requests: 1, Views: 0, TimerLimit: true, Depth: 12}, false})
	}
	for _, tc := range cs {
		a, ra := inertSet(t, tc.c, false, tc.noBudgets, false)
		b, rb := inertSet(t, tc.c, true, tc.noBudgets, false)
		t.Logf("%s: unreduced %d states (%d without inert messages), %d transitions; reduced %d states, %d transitions, %d discarded",
			tc.c.Describe(), ra.States, len(a), ra.Transitions, rb.States, rb.Transitions, rb.Inert)
		if n, k := missing(a, b), missing(b, a); n > 0 || k > 0 || rb.Inert == 0 {
			t.Errorf("%s: %d unreduced states missing from the reduced exploration, %d reduced states not reached unreduced (%d discarded)",
				tc.c.Describe(), n, k, rb.Inert)
		}
		// With sleep sets as well: the same states.
		s, rs := inertSet(t, tc.c, true, tc.noBudgets, true)
		if n, k := missing(b, s), missing(s, b); n > 0 || k > 0 || rs.Slept == 0 {
			t.Errorf("%s: with sleep sets %d reduced states missing, %d extra (%d slept)", tc.c.Describe(), n, k, rs.Slept)
		}
	}
}

// TestInertVerifiedOnVariants: the replicas' and the client's declarations
// hold (VerifyInert) on the variants whose rules make fewer votes inert
// and on ones that break the quorums, with a Byzantine primary, drops,
// duplicates and a crash. Dropping the commit-counts-duplicates exception
// from Replica.Inert fails it (the COMMIT's duplicate counts again), and so
// does dropping the accept-second-preprepare one (here and in
// TestInertVerifiedOnEveryVariant).
func TestInertVerifiedOnVariants(t *testing.T) {
	for _, c := range []Config{
		{Nodes: 4, Requests: 1, Duplicates: 1, Views: 0, Depth: 6, Variant: "commit-counts-duplicates"},
		{Nodes: 4, Requests: 1, Drops: 1, Views: 1, Depth: 6, Variant: "accept-second-preprepare", Byzantine: equivocate0},
		{Nodes: 4, Requests: 2, Views: 0, Depth: 7, Variant: "execute-out-of-order"},
		{Nodes: 4, Requests: 2, Crashes: 1, Views: 1, Depth: 6, Variant: "client-single-reply"},
		// Asynchronous timers: a replica's timer may fire between any
		// two deliveries, and each firing is a step after which the
		// declarations are checked again.
		{Nodes: 4, Requests: 1, Drops: 1, Views: 1, Depth: 5, Byzantine: equivocate0, AsyncTimers: true},
	} {
		c.Inert, c.VerifyInert, c.MaxStates = true, true, 300_000
		res, err := Explore(c)
		if err != nil {
			t.Fatalf("%s: %v", c.Describe(), err)
		}
		t.Logf("%s: %d states, %d discarded, found %q", c.Describe(), res.States, res.Inert, res.Property)
	}
}

// TestInertVerifiedOnEveryVariant: the declarations hold on every broken
// variant (each changes some rule the declarations may rely on) with an
// equivocating primary, a drop, a duplicate and a view change allowed, to
// depth 5.
func TestInertVerifiedOnEveryVariant(t *testing.T) {
	discarded := 0
	for _, v := range properties.VariantNames() {
		c := Config{Nodes: 4, Requests: 1, Drops: 1, Duplicates: 1, Views: 1, Depth: 5, Byzantine: equivocate0, Variant: v,
			Inert: true, VerifyInert: true}
		res, err := Explore(c)
		if err != nil {
			t.Fatalf("%s: %v", c.Describe(), err)
		}
		discarded += res.Inert
	}
	if discarded == 0 {
		t.Error("no message was declared inert: nothing verified")
	}
}

// TestInertVerifiedWithCrashes: the declarations hold across a crash and
// recovery, also under recovery-forgets-signed, whose recovered replica
// drops its log and takes again the votes its entries held (a declaration
// from the entry then was wrong: found by review, depth 7).
func TestInertVerifiedWithCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("depth 7 with a crash: a few seconds")
	}
	for _, v := range []string{"correct", "recovery-forgets-signed"} {
		c := Config{Nodes: 4, Requests: 1, Crashes: 1, Views: 0, Depth: 7, Variant: v, Inert: true, VerifyInert: true}
		if _, err := Explore(c); err != nil {
			t.Errorf("%s: %v", c.Describe(), err)
		}
	}
}

// TestInertWrongDeclarationFails: a wrong declaration (every COMMIT inert)
// fails the verification; unverified, it hides the commit-quorum-2f
// violation the exploration otherwise finds at depth 6.
func TestInertWrongDeclarationFails(t *testing.T) {
	c := Config{Nodes: 4, Requests: 1, Views: 0, Depth: 6, Variant: "commit-quorum-2f", Inert: true}
	m, cfg, err := c.model()
	if err != nil {
		t.Fatal(err)
	}
	m.Inert = func(nd sim.Node, from sim.NodeID, msg sim.Message) bool {
		if _, ok := msg.(*pbft.Commit); ok {
			return true
		}
		in, ok := nd.(engine.Inerter)
		return ok && in.Inert(from, msg)
	}
	if _, err := engine.Run(m, engine.Options{Bounds: engine.Bounds{Depth: 6}, VerifyInert: true}); !errors.Is(err, engine.ErrInert) {
		t.Fatalf("a wrong declaration verified: %v", err)
	} else {
		t.Log(err)
	}
	found := func(m *engine.Model) string {
		res, err := engine.Run(m, engine.Options{Bounds: engine.Bounds{Depth: 6}, Records: true, Check: check(cfg)})
		if err != nil {
			t.Fatal(err)
		}
		return res.Property
	}
	if p := found(m); p != "" {
		t.Errorf("every COMMIT discarded, still found %q", p)
	}
	m.Inert = nil
	if p := found(m); p == "" {
		t.Errorf("the correct declarations lose the commit-quorum-2f violation")
	}
}

// TestInertVariantsFound: the variants found within small bounds are found
// with inert messages discarded too, with the same property, at a depth no
// larger (discarding removes deliveries from paths, never adds), and the
// counterexample replays in the kernel with the same verdict.
func TestInertVariantsFound(t *testing.T) {
	for _, c := range []Config{
		{Nodes: 4, Requests: 1, Views: 0, Variant: "prepare-ignores-digest", Byzantine: equivocate0},
		{Nodes: 4, Requests: 1, Views: 0, Variant: "prepare-2f-minus-1"},
		{Nodes: 4, Requests: 1, Views: 0, Variant: "execute-on-prepared"},
		{Nodes: 4, Requests: 1, Views: 0, Variant: "commit-quorum-2f"},
	} {
		var depth [2]int
		for i, inert := range []bool{false, true} {
			cc := c
			cc.Inert, cc.MaxStates = inert, 200_000
			res, err := Explore(cc)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Found() || res.ReplayErr != nil || res.Outcome.Property() != res.Property {
				t.Fatalf("%s inert=%v: found %q (replay: %v)", c.Variant, inert, res.Property, res.ReplayErr)
			}
			depth[i] = len(res.Path)
		}
		t.Logf("%s: depth %d unreduced, %d with inert messages discarded", c.Variant, depth[0], depth[1])
		if depth[1] > depth[0] {
			t.Errorf("%s: found at depth %d with inert messages discarded, %d without", c.Variant, depth[1], depth[0])
		}
	}
}
