package byzantine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/pbftsim/pbftsim/sim"
)

// Validate checks a rule for a run with n nodes (replicas and clients, ids
// 0..n-1): known message type names, node ids in range, a probability in
// [0,1], a non-negative delay, a well-formed window, and an effect.
func (r NetRule) Validate(n int) error {
	for _, t := range r.Types {
		if !knownType(t) {
			return fmt.Errorf("net rule: types: unknown message type %q; allowed: %s", t, strings.Join(registeredTypes(), ", "))
		}
	}
	for _, f := range []struct {
		name string
		ids  []sim.NodeID
	}{{"from", r.From}, {"to", r.To}} {
		for _, id := range f.ids {
			if id < 0 || int(id) >= n {
				return fmt.Errorf("net rule: %s: node %d out of range [0,%d)", f.name, id, n)
			}
		}
	}
	if math.IsNaN(r.Drop) || r.Drop < 0 || r.Drop > 1 {
		return fmt.Errorf("net rule: drop: %v is not a probability in [0,1]", r.Drop)
	}
	if r.Delay < 0 {
		return fmt.Errorf("net rule: delay: %v is negative; want >= 0", r.Delay)
	}
	if r.DuplicateDelay < 0 {
		return fmt.Errorf("net rule: duplicate_delay: %v is negative; want >= 0", r.DuplicateDelay)
	}
	if r.DeliverAt < 0 || r.DuplicateAt < 0 {
		return fmt.Errorf("net rule: deliver_at %v, duplicate_at %v: want times >= 0", r.DeliverAt, r.DuplicateAt)
	}
	if r.Drop == 0 && r.Delay == 0 && !r.Duplicate && r.DeliverAt == 0 && !r.Lose && r.DuplicateAt == 0 {
		return fmt.Errorf("net rule: drop and delay are both 0 and no duplicate: the rule would do nothing; set drop in (0,1], delay > 0 or duplicate")
	}
	if r.Nth < 0 {
		return fmt.Errorf("net rule: nth: %d is negative; want >= 1 (the Nth matching message on a link) or 0 (every one)", r.Nth)
	}
	if r.Start < 0 {
		return fmt.Errorf("net rule: start: %v is negative; want >= 0", r.Start)
	}
	if r.End != 0 && r.End <= r.Start {
		return fmt.Errorf("net rule: end: %v is not after start %v (0 means no end)", r.End, r.Start)
	}
	return nil
}

// typeMatches reports whether a rule's type name selects t: its bare name
// (every protocol's type of that name: a run uses one protocol) or its
// qualified name ("hotstuff/PREPARE").
func typeMatches(t sim.MsgType, name string) bool {
	return t.String() == name || t.QualifiedName() == name
}

func knownType(name string) bool {
	for i := 0; i < sim.MsgTypes(); i++ {
		if typeMatches(sim.MsgType(i), name) {
			return true
		}
	}
	return false
}

// registeredTypes lists the bare type names of all protocols, once each.
func registeredTypes() []string {
	var out []string
	for i := 0; i < sim.MsgTypes(); i++ {
		if name := sim.MsgType(i).String(); !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// ruleFilter applies NetRules; see NewRuleFilter.
type ruleFilter struct {
	rules []compiledRule
	r     *rand.Rand
	// maxView is the highest view seen in any message filtered so far.
	maxView  uint64
	seenView bool
	// counting is set when a rule has Nth: the evaluation then goes on
	// after a drop to count the message for the later rules.
	counting bool
}

type compiledRule struct {
	NetRule
	types    map[sim.MsgType]bool
	from, to nodeSet
	// seen counts the messages matching the rule per link (Nth > 0 only);
	// looked up, never iterated.
	seen map[[2]sim.NodeID]int
}

// NewRuleFilter returns a sim.Filter applying rules in order. A rule is
// active at time now when Start <= now and (End == 0 or now < End), and, if
// StartView > 0, once the filter has seen a message of view >= StartView (the
// message that first shows such a view is itself subject to the rule). A
// message matches when its type name, sender, receiver, view and sequence
// number pass every non-empty matcher; a rule with View or Seq set never
// matches messages that carry none (VIEW-CHANGE's view is the view it asks
// for; NEW-VIEW's the view it starts). A matching message is dropped with
// probability Drop (a draw from r for each match when 0 < Drop < 1) and
// otherwise delayed by Delay; the delays of all matching rules add up, and
// the first drop ends the evaluation (a rule with Nth still counts the
// message). A rule with Nth > 0 applies only to the Nth matching message on
// each link. Rules are assumed valid (Validate).
// The kernel applies the verdicts before GST, and after it only to links of
// faulty nodes, so End == 0 means "until GST".
func NewRuleFilter(rules []NetRule, r *rand.Rand) sim.Filter {
	f := &ruleFilter{r: r}
	for _, rule := range rules {
		c := compiledRule{NetRule: rule}
		if len(rule.Types) > 0 {
			c.types = map[sim.MsgType]bool{}
			for i := 0; i < sim.MsgTypes(); i++ {
				for _, name := range rule.Types {
					if typeMatches(sim.MsgType(i), name) {
						c.types[sim.MsgType(i)] = true
					}
				}
			}
		}
		if len(rule.From) > 0 {
			c.from = setOf(rule.From)
		}
		if len(rule.To) > 0 {
			c.to = setOf(rule.To)
		}
		if rule.Nth > 0 {
			c.seen = map[[2]sim.NodeID]int{}
			f.counting = true
		}
		f.rules = append(f.rules, c)
	}
	return f
}

// Filter implements sim.Filter.
func (f *ruleFilter) Filter(now sim.Time, from, to sim.NodeID, m sim.Message) sim.Verdict {
	view, hasView := viewOf(m)
	if hasView && (!f.seenView || view > f.maxView) {
		f.maxView, f.seenView = view, true
	}
	seq, hasSeq := seqOf(m)
	var v sim.Verdict
	dropped := false
	for i := range f.rules {
		c := &f.rules[i]
		if now < c.Start || (c.End != 0 && now >= c.End) {
			continue
		}
		if c.StartView > 0 && (!f.seenView || f.maxView < c.StartView) {
			continue
		}
		if c.types != nil && (m == nil || !c.types[m.Type()]) {
			continue
		}
		if c.from != nil && !c.from[from] {
			continue
		}
		if c.to != nil && !c.to[to] {
			continue
		}
		if c.View != nil && (!hasView || view != *c.View) {
			continue
		}
		if c.Seq != nil && (!hasSeq || seq != *c.Seq) {
			continue
		}
		if c.Nth > 0 {
			link := [2]sim.NodeID{from, to}
			c.seen[link]++
			if c.seen[link] != c.Nth {
				continue
			}
		}
		if dropped {
			continue
		}
		if c.Drop >= 1 || (c.Drop > 0 && f.r.Float64() < c.Drop) {
			if !f.counting {
				return sim.Verdict{Drop: true}
			}
			dropped = true
			continue
		}
		v.ExtraDelay += c.Delay
		if c.DeliverAt > 0 {
			v.At = c.DeliverAt
		}
		if c.DuplicateAt > 0 {
			v.DuplicateAt = c.DuplicateAt
		}
		v.Lose = v.Lose || c.Lose
		if c.Duplicate {
			v.Duplicate = true
			v.DuplicateDelay += c.DuplicateDelay
		}
	}
	if dropped {
		return sim.Verdict{Drop: true}
	}
	return v
}
