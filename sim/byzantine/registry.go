// Package byzantine holds faulty-replica strategies and adversarial network
// rules. A strategy wraps an honest replica's code and may rewrite, withhold,
// delay, duplicate or invent the messages it sends, only in its own name.
//
// New wraps an honest replica (any sim.Node) in a strategy named in the
// registry (Names, Lookup describe them and their parameters; Check validates
// a name and parameters without a replica). Strategies compose left to right
// with "+" ("equivocate+lying-reply"): each rewrites the sends of the honest
// code as already rewritten by the ones before it. A strategy only alters
// messages whose author field is its own replica, re-signs them with its own
// pbft.Signer, and never alters other nodes' messages nested in certificates
// (it may omit them). Randomness comes only from Env.Rand.
//
// NewRuleFilter turns NetRules into a sim.Filter: the adversary's control of
// the network schedule (drop or delay by message type, link, view, sequence
// number, in a time window or from a view on).
package byzantine

import (
	"sort"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// Param describes one strategy parameter.
type Param struct {
	Name    string
	Doc     string
	Allowed []string // allowed values; nil means free-form (Doc says the form)
}

// Info describes a strategy in the registry.
type Info struct {
	Name   string
	Doc    string
	Params []Param
	// Role is the role whose messages the strategy forges or withholds:
	// RolePrimary (the primary of view 0: it orders requests and sends
	// PRE-PREPAREs), RoleNewPrimary (the primary of view 1: it sends the
	// NEW-VIEW), or "" (any replica). At a replica without that role the
	// strategy does nothing until a view change gives it the role; a
	// generator may place it where it acts.
	Role string
}

// The roles of Info.Role.
const (
	RolePrimary    = "primary"
	RoleNewPrimary = "new-primary"
)

// RoleReplica returns the replica that has role in a cluster of n replicas
// (the primary of view 0 or of view 1), and false for no role.
func RoleReplica(role string, n int) (sim.NodeID, bool) {
	switch role {
	case RolePrimary:
		return 0, true
	case RoleNewPrimary:
		return sim.NodeID(1 % n), true
	}
	return 0, false
}

// registry lists every strategy by name. The implementation of each lives
// beside it in this package.
var registry = map[string]Info{}

// register adds a strategy description; call from a package-level var or init.
func register(i Info) { registry[i.Name] = i }

// Lookup returns the description of a strategy.
func Lookup(name string) (Info, bool) {
	i, ok := registry[name]
	return i, ok
}

// Names returns the registered strategy names, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// NetRule is a phase-aware adversarial network rule: it drops or delays the
// messages that match it while it is active. Zero-valued matchers match all.
type NetRule struct {
	Types    []string      // message type names, e.g. "PREPARE"; empty: all
	From, To []sim.NodeID  // senders / receivers; empty: all
	View     *uint64       // only messages of this view (when they carry one)
	Seq      *uint64       // only messages of this sequence number
	Drop     float64       // probability of dropping a matching message
	Delay    time.Duration // extra delay added to a matching message
	// Duplicate delivers one more copy of a matching message, DuplicateDelay
	// after the send (plus the link's sampled delay).
	Duplicate      bool
	DuplicateDelay time.Duration
	// DeliverAt (when > 0) delivers a matching message at that time
	// instead of its sampled arrival, Lose loses it on arrival, and
	// DuplicateAt (when > 0) delivers one more copy then (sim.Verdict's
	// At, Lose and DuplicateAt).
	DeliverAt   sim.Time
	Lose        bool
	DuplicateAt sim.Time
	Start       sim.Time // active from Start
	End         sim.Time // until End (exclusive); 0: until GST
	StartView   uint64   // or: active once a message of view >= StartView is seen (0: off)
	// Nth (when > 0) applies the rule only to the Nth message, counted from
	// 1 in send order, that matches its other fields (types, view, seq,
	// active window) on each link from -> to: it tells apart messages the
	// other fields cannot (two PRE-PREPAREs for one view and sequence number
	// sent at one moment). Every matching message is counted, also one an
	// earlier rule dropped. 0: every matching message.
	Nth int
}
