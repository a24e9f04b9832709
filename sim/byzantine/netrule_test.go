package byzantine

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

func u64(x uint64) *uint64 { return &x }

func TestRuleFilterMatching(t *testing.T) {
	d := pbft.Digest{1}
	prepare := prep(1, 2, 7, d)
	commitMsg := commit(1, 2, 7, d)
	ck := ckpt(1, 7)
	vc := signed(&pbft.ViewChange{NewView: 3, Replica: 1})
	const delay = 5 * time.Millisecond
	type probe struct {
		now      sim.Time
		from, to sim.NodeID
		m        sim.Message
		want     bool // matched: delayed by `delay`
	}
	ms := sim.Time(time.Millisecond)
	cases := []struct {
		name   string
		rule   NetRule
		probes []probe
	}{
		{"all", NetRule{Delay: delay}, []probe{{0, 1, 2, prepare, true}, {0, 3, 0, ck, true}}},
		{"type", NetRule{Types: []string{"PREPARE", "VIEW-CHANGE"}, Delay: delay}, []probe{
			{0, 1, 2, prepare, true}, {0, 1, 2, commitMsg, false}, {0, 1, 2, vc, true}}},
		{"from", NetRule{From: []sim.NodeID{1}, Delay: delay}, []probe{{0, 1, 2, prepare, true}, {0, 2, 1, prepare, false}}},
		{"to", NetRule{To: []sim.NodeID{2, 3}, Delay: delay}, []probe{{0, 1, 2, prepare, true}, {0, 1, 3, prepare, true}, {0, 1, 0, prepare, false}}},
		{"view", NetRule{View: u64(2), Delay: delay}, []probe{
			{0, 1, 2, prepare, true}, {0, 1, 2, prep(1, 3, 7, d), false}, {0, 1, 2, ck, false}, {0, 1, 2, vc, false}}},
		{"view of VIEW-CHANGE is the new view", NetRule{View: u64(3), Delay: delay}, []probe{{0, 1, 2, vc, true}}},
		{"seq", NetRule{Seq: u64(7), Delay: delay}, []probe{
			{0, 1, 2, prepare, true}, {0, 1, 2, ck, true}, {0, 1, 2, prep(1, 2, 8, d), false}, {0, 1, 2, vc, false}}},
		{"window", NetRule{Start: 10 * ms, End: 20 * ms, Delay: delay}, []probe{
			{9 * ms, 1, 2, prepare, false}, {10 * ms, 1, 2, prepare, true}, {19 * ms, 1, 2, prepare, true}, {20 * ms, 1, 2, prepare, false}}},
		{"open window", NetRule{Start: 10 * ms, Delay: delay}, []probe{{9 * ms, 1, 2, prepare, false}, {1000 * ms, 1, 2, prepare, true}}},
		{"start view", NetRule{StartView: 3, Delay: delay}, []probe{
			{0, 1, 2, prepare, false}, {0, 1, 2, ck, false}, {0, 1, 2, vc, true}, {0, 1, 2, prepare, true}, {0, 1, 2, ck, true}}},
		{"all matchers", NetRule{Types: []string{"COMMIT"}, From: []sim.NodeID{1}, To: []sim.NodeID{2}, View: u64(2), Seq: u64(7), Delay: delay}, []probe{
			{0, 1, 2, commitMsg, true}, {0, 1, 3, commitMsg, false}, {0, 0, 2, commitMsg, false}, {0, 1, 2, prepare, false},
			{0, 1, 2, commit(1, 2, 6, d), false}, {0, 1, 2, commit(1, 1, 7, d), false}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.rule.Validate(testNodes); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			f := NewRuleFilter([]NetRule{c.rule}, rand.New(rand.NewPCG(1, 2)))
			for i, p := range c.probes {
				v := f.Filter(p.now, p.from, p.to, p.m)
				want := sim.Verdict{}
				if p.want {
					want.ExtraDelay = delay
				}
				if v != want {
					t.Errorf("probe %d (%s %d->%d at %v): %+v, want %+v", i, typeName(p.m), p.from, p.to, p.now, v, want)
				}
			}
		})
	}
}

func TestRuleFilterDropAndCombine(t *testing.T) {
	p := prep(1, 0, 1, pbft.Digest{})
	f := NewRuleFilter([]NetRule{
		{Types: []string{"PREPARE"}, Delay: time.Millisecond},
		{From: []sim.NodeID{1}, Delay: 2 * time.Millisecond},
		{To: []sim.NodeID{3}, Drop: 1},
	}, rand.New(rand.NewPCG(1, 2)))
	if v := f.Filter(0, 1, 2, p); v.Drop || v.ExtraDelay != 3*time.Millisecond {
		t.Errorf("delays should add: %+v", v)
	}
	if v := f.Filter(0, 1, 3, p); !v.Drop {
		t.Errorf("drop 1 did not drop: %+v", v)
	}
	if v := f.Filter(0, 2, 0, ckpt(2, 1)); v != (sim.Verdict{}) {
		t.Errorf("unmatched message touched: %+v", v)
	}
}

func TestRuleFilterDropRate(t *testing.T) {
	const n = 10000
	run := func(seed uint64) (int, []bool) {
		f := NewRuleFilter([]NetRule{{Drop: 0.3}}, rand.New(rand.NewPCG(seed, 0)))
		p := prep(1, 0, 1, pbft.Digest{})
		dropped, seq := 0, make([]bool, n)
		for i := range seq {
			seq[i] = f.Filter(0, 1, 2, p).Drop
			if seq[i] {
				dropped++
			}
		}
		return dropped, seq
	}
	d1, s1 := run(42)
	if rate := float64(d1) / n; rate < 0.28 || rate > 0.32 {
		t.Fatalf("dropped %d of %d (%.3f), want about 0.3", d1, n, rate)
	}
	d2, s2 := run(42)
	if d1 != d2 {
		t.Fatalf("same seed, different drops: %d vs %d", d1, d2)
	}
	for i := range s1 {
		if s1[i] != s2[i] {
			t.Fatalf("same seed, drop %d differs", i)
		}
	}
	if _, s3 := run(43); equalBools(s1, s3) {
		t.Fatal("another seed gave the same drops")
	}
}

func equalBools(a, b []bool) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

func TestNetRuleValidate(t *testing.T) {
	ok := NetRule{Types: []string{"PREPARE"}, From: []sim.NodeID{0}, To: []sim.NodeID{5}, Drop: 0.5, Start: 1, End: 2}
	if err := ok.Validate(testNodes); err != nil {
		t.Fatalf("valid rule: %v", err)
	}
	cases := []struct {
		rule NetRule
		want []string
	}{
		{NetRule{Types: []string{"PING!"}, Drop: 1}, []string{"types", "PING!", "PRE-PREPARE"}},
		{NetRule{From: []sim.NodeID{6}, Drop: 1}, []string{"from", "6", "[0,6)"}},
		{NetRule{To: []sim.NodeID{-1}, Drop: 1}, []string{"to", "-1"}},
		{NetRule{Drop: 1.5}, []string{"drop", "[0,1]"}},
		{NetRule{Drop: -0.1}, []string{"drop", "[0,1]"}},
		{NetRule{Delay: -time.Second}, []string{"delay", "negative"}},
		{NetRule{}, []string{"nothing"}},
		{NetRule{Drop: 1, Start: -1}, []string{"start"}},
		{NetRule{Drop: 1, Nth: -1}, []string{"nth", "-1", ">= 1"}},
		{NetRule{Drop: 1, Start: 5, End: 5}, []string{"end", "after start"}},
	}
	for i, c := range cases {
		err := c.rule.Validate(testNodes)
		if err == nil {
			t.Errorf("case %d: %+v accepted", i, c.rule)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("case %d: %q does not mention %q", i, err, w)
			}
		}
	}
}

// TestRuleFilterDuplicate: a duplicate rule asks the kernel for one more
// copy, with its own delay; a rule that only duplicates is valid.
func TestRuleFilterDuplicate(t *testing.T) {
	r := NetRule{Types: []string{"PREPARE"}, Delay: time.Microsecond, Duplicate: true, DuplicateDelay: 3 * time.Microsecond}
	f := NewRuleFilter([]NetRule{r}, rand.New(rand.NewPCG(1, 2)))
	v := f.Filter(0, 1, 2, prep(1, 0, 1, pbft.Digest{1}))
	if !v.Duplicate || v.DuplicateDelay != 3*time.Microsecond || v.ExtraDelay != time.Microsecond {
		t.Fatalf("verdict %+v", v)
	}
	if v := f.Filter(0, 1, 2, ckpt(1, 7)); v.Duplicate {
		t.Fatalf("unmatched message duplicated: %+v", v)
	}
	if err := (NetRule{Duplicate: true}).Validate(4); err != nil {
		t.Fatalf("duplicate-only rule: %v", err)
	}
	if err := (NetRule{Duplicate: true, DuplicateDelay: -1}).Validate(4); err == nil {
		t.Fatal("negative duplicate_delay accepted")
	}
}

// TestRuleFilterNth: a rule with Nth applies to the Nth matching message on
// each link only (counted also when an earlier rule dropped it); without
// Nth both rules would apply to every message.
func TestRuleFilterNth(t *testing.T) {
	a, b := prep(1, 0, 1, pbft.Digest{1}), prep(1, 0, 1, pbft.Digest{2})
	pp := []string{"PREPARE"}
	f := NewRuleFilter([]NetRule{
		{Types: pp, Drop: 1, Nth: 1},
		{Types: pp, Delay: time.Millisecond, Nth: 2},
		{Types: pp, Delay: time.Microsecond, Nth: 3},
	}, rand.New(rand.NewPCG(1, 2)))
	probes := []struct {
		from, to sim.NodeID
		m        sim.Message
		want     sim.Verdict
	}{
		{1, 2, a, sim.Verdict{Drop: true}},
		{1, 3, a, sim.Verdict{Drop: true}}, // another link counts on its own
		{1, 2, ckpt(1, 7), sim.Verdict{}},  // not matching: not counted
		{1, 2, b, sim.Verdict{ExtraDelay: time.Millisecond}},
		{1, 2, a, sim.Verdict{ExtraDelay: time.Microsecond}},
		{1, 2, b, sim.Verdict{}},
		{1, 3, b, sim.Verdict{ExtraDelay: time.Millisecond}},
	}
	for i, p := range probes {
		if v := f.Filter(0, p.from, p.to, p.m); v != p.want {
			t.Errorf("probe %d (%d->%d): %+v, want %+v", i, p.from, p.to, v, p.want)
		}
	}
	// A drop by an earlier rule still counts for a later Nth rule.
	g := NewRuleFilter([]NetRule{{Types: pp, Drop: 1, Nth: 1}, {Types: pp, Delay: time.Millisecond, Nth: 2}}, rand.New(rand.NewPCG(1, 2)))
	g.Filter(0, 1, 2, a)
	if v := g.Filter(0, 1, 2, a); v.ExtraDelay != time.Millisecond {
		t.Errorf("second message after a drop: %+v, want the Nth-2 delay", v)
	}
}
