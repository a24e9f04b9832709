package byzantine

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// Env is what a strategy knows about the faulty replica it controls.
type Env struct {
	ID sim.NodeID // the faulty replica
	N  int        // replicas in the run (ids 0..N-1); clients follow
	F  int        // tolerated faults
	// Signer signs in the replica's own name; strategies re-sign the messages
	// they alter with it. It cannot sign for anyone else.
	Signer pbft.Signer
	// Rand is the strategy's private stream (e.g. Streams.Stream("byzantine/3")).
	Rand *rand.Rand
	// NewHonest builds another honest replica instance with the same identity
	// and keys (used by "twins"); may be nil for other strategies.
	NewHonest func() (sim.Node, error)
}

// rewriter is one strategy's effect on a step's sends. It gets the sends
// produced in the step (by the honest code and the strategies before it) and
// appends the list to send instead to out (empty, never aliasing sends). It must not modify the messages it is
// given (the honest replica keeps pointers to them): it copies what it alters.
type rewriter interface {
	rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send
}

// stepCtx describes the step being rewritten.
type stepCtx struct {
	now sim.Time
	in  *sim.Input // nil during Start
	env *Env
}

// builder makes a strategy's rewriter from its parameters.
type builder func(p params, env *Env) (rewriter, error)

// builders holds the implementation of every registered strategy except
// "twins", which replaces the honest node instead of rewriting its sends.
var builders = map[string]builder{}

// strategy registers a strategy's description and implementation.
func strategy(i Info, b builder) {
	register(i)
	if b != nil {
		builders[i.Name] = b
	}
}

// ComposeSep separates strategies composed in one name, e.g. "mutate+lying-reply".
const ComposeSep = "+"

// New wraps honest, the faulty replica's honest code, in the named strategy.
//
// Composition: strategy may name several strategies joined by "+"
// ("equivocate+lying-reply"). They apply left to right: the first rewrites the
// honest replica's sends, the next rewrites the result, and so on. "twins", if
// present, must come first (it replaces the honest node by two instances whose
// combined sends the rest rewrite). A strategy may appear once.
//
// Parameters: a key "k" is given to every strategy of the composition that
// declares k; "name.k" only to strategy name. A key no strategy declares is an
// error. Sends a replica addresses to itself are never rewritten.
//
// The key "from" (a duration, e.g. "120ms") is every strategy's: the replica
// runs its honest code unchanged before that virtual time and the strategy
// from then on (pbftsim serve switches a replica to a strategy mid-run this
// way). It cannot delay "twins", which replaces the replica from the start.
func New(strategyName string, params map[string]string, honest sim.Node, env Env) (sim.Node, error) {
	if honest == nil {
		return nil, fmt.Errorf("byzantine: replica %d: no honest node to wrap", env.ID)
	}
	if env.N < 1 || env.ID < 0 || int(env.ID) >= env.N {
		return nil, fmt.Errorf("byzantine: replica id %d out of range [0,%d)", env.ID, env.N)
	}
	if env.Rand == nil {
		return nil, fmt.Errorf("byzantine: replica %d: Env.Rand is nil", env.ID)
	}
	names, err := splitStrategy(strategyName)
	if err != nil {
		return nil, err
	}
	from, params, err := activation(params)
	if err != nil {
		return nil, err
	}
	if from > 0 && names[0] == "twins" {
		return nil, fmt.Errorf("byzantine: strategy %q: param from=%v: twins replaces the replica from the start, it cannot begin later", strategyName, from)
	}
	per, err := splitParams(names, params)
	if err != nil {
		return nil, err
	}
	w := &node{inner: honest, env: env, from: from}
	for i, name := range names {
		if name == "twins" {
			if i != 0 {
				return nil, fmt.Errorf("byzantine: strategy %q: twins must come first in a composition", strategyName)
			}
			t, err := newTwins(per[name], &w.env, honest)
			if err != nil {
				return nil, err
			}
			w.inner = t
			continue
		}
		r, err := builders[name](per[name], &w.env)
		if err != nil {
			return nil, err
		}
		w.chain = append(w.chain, r)
	}
	return w, nil
}

// Check validates a (possibly composed) strategy name and its parameters for
// replica id of n, without an honest node: what scenario validation should
// call. Lists ("to", "types", mutate's "kind") are comma-separated, so
// compare values against Info.Params[].Allowed item by item, or just call
// Check.
func Check(strategy string, params map[string]string, id sim.NodeID, n int) error {
	env := Env{ID: id, N: n, F: (n - 1) / 3, Rand: rand.New(rand.NewPCG(0, 0)),
		NewHonest: func() (sim.Node, error) { return nopNode{}, nil }}
	_, err := New(strategy, params, nopNode{}, env)
	return err
}

// nopNode stands in for the honest replica in Check.
type nopNode struct{}

func (nopNode) Start(sim.Time, *sim.Output)           {}
func (nopNode) Step(sim.Time, sim.Input, *sim.Output) {}

// splitStrategy splits and checks a (possibly composed) strategy name.
func splitStrategy(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("byzantine: empty strategy; allowed: %s (compose with %q)", strings.Join(Names(), ", "), ComposeSep)
	}
	var out []string
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ComposeSep) {
		name := strings.TrimSpace(part)
		if _, ok := registry[name]; !ok {
			return nil, fmt.Errorf("byzantine: unknown strategy %q; allowed: %s (compose with %q)", name, strings.Join(Names(), ", "), ComposeSep)
		}
		if seen[name] {
			return nil, fmt.Errorf("byzantine: strategy %q appears twice in %q", name, s)
		}
		seen[name] = true
		out = append(out, name)
	}
	return out, nil
}

// splitParams hands each parameter to the strategies that declare it.
func splitParams(names []string, all map[string]string) (map[string]params, error) {
	per := map[string]params{}
	for _, n := range names {
		per[n] = params{strategy: n, vals: map[string]string{}}
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		target, key := "", k
		if i := strings.Index(k, "."); i >= 0 {
			target, key = k[:i], k[i+1:]
			if _, ok := per[target]; !ok {
				return nil, fmt.Errorf("byzantine: param %q names strategy %q, which is not in %q", k, target, strings.Join(names, ComposeSep))
			}
		}
		used := false
		for _, n := range names {
			if target != "" && n != target {
				continue
			}
			if declares(n, key) {
				per[n].vals[key] = all[k]
				used = true
			}
		}
		if !used {
			return nil, fmt.Errorf("byzantine: unknown param %q for strategy %q; allowed: %s", k, strings.Join(names, ComposeSep), allowedParams(names))
		}
	}
	return per, nil
}

func declares(strategy, key string) bool {
	for _, p := range registry[strategy].Params {
		if p.Name == key {
			return true
		}
	}
	return false
}

func allowedParams(names []string) string {
	var ps []string
	for _, n := range names {
		for _, p := range registry[n].Params {
			ps = append(ps, p.Name)
		}
	}
	if len(ps) == 0 {
		return "none"
	}
	return strings.Join(ps, ", ")
}

// node is a faulty replica: honest code plus a chain of rewriters.
type node struct {
	inner sim.Node
	chain []rewriter
	env   Env
	bufs  [2][]sim.Send // scratch lists of sends, reused across steps
	ctx   stepCtx
	in    sim.Input
	from  sim.Time // the strategy acts from this time on (0: always)
}

// FromParam is the parameter that delays a strategy (see New).
const FromParam = "from"

// activation takes the "from" parameter out of params.
func activation(params map[string]string) (sim.Time, map[string]string, error) {
	v, ok := params[FromParam]
	if !ok {
		return 0, params, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, nil, fmt.Errorf("byzantine: param from=%q: want a duration >= 0 (the virtual time the strategy starts), e.g. 120ms", v)
	}
	rest := make(map[string]string, len(params)-1)
	for k, x := range params {
		if k != FromParam {
			rest[k] = x
		}
	}
	return sim.Time(d), rest, nil
}

// Start starts the honest code and rewrites what it sends.
func (w *node) Start(now sim.Time, out *sim.Output) {
	if now < w.from {
		w.inner.Start(now, out)
		return
	}
	base := len(out.Sends)
	w.inner.Start(now, out)
	w.ctx = stepCtx{now: now, env: &w.env}
	w.apply(&w.ctx, out, base)
}

// Step runs the honest code on in and rewrites what it sends.
func (w *node) Step(now sim.Time, in sim.Input, out *sim.Output) {
	if now < w.from {
		w.inner.Step(now, in, out)
		return
	}
	if w.ignores(&in) {
		return
	}
	base := len(out.Sends)
	w.inner.Step(now, in, out)
	w.in = in
	w.ctx = stepCtx{now: now, in: &w.in, env: &w.env}
	w.apply(&w.ctx, out, base)
	w.in = sim.Input{}
}

func (w *node) apply(c *stepCtx, out *sim.Output, base int) {
	if len(w.chain) == 0 {
		return
	}
	sends := append(w.bufs[0][:0], out.Sends[base:]...)
	spare := w.bufs[1][:0]
	for _, r := range w.chain {
		next := r.rewrite(c, sends, spare)
		clear(sends)
		sends, spare = next, sends[:0]
	}
	clear(out.Sends[base:])
	out.Sends = append(out.Sends[:base], sends...)
	clear(sends)
	w.bufs = [2][]sim.Send{sends[:0], spare}
}

// params are one strategy's parameters.
type params struct {
	strategy string
	vals     map[string]string
}

func (p params) errf(key, format string, a ...any) error {
	return fmt.Errorf("byzantine: strategy %q: param %s=%q: %s", p.strategy, key, p.vals[key], fmt.Sprintf(format, a...))
}

// oneOf returns the value of key, which must be one of the Allowed values
// registered for it; def when absent.
func (p params) oneOf(key, def string) (string, error) {
	v, ok := p.vals[key]
	if !ok {
		return def, nil
	}
	for _, q := range registry[p.strategy].Params {
		if q.Name == key {
			for _, a := range q.Allowed {
				if a == v {
					return v, nil
				}
			}
			return "", p.errf(key, "allowed: %s", strings.Join(q.Allowed, ", "))
		}
	}
	return v, nil
}

// prob returns a probability in [0,1].
func (p params) prob(key string, def float64) (float64, error) {
	v, ok := p.vals[key]
	if !ok {
		return def, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || !(f >= 0 && f <= 1) {
		return 0, p.errf(key, "want a probability in [0,1]")
	}
	return f, nil
}

// nodes parses a comma-separated list of node ids (>= 0).
func (p params) nodes(key string) ([]sim.NodeID, error) {
	v, ok := p.vals[key]
	if !ok {
		return nil, nil
	}
	ids, err := parseNodes(v)
	if err != nil {
		return nil, p.errf(key, "%v", err)
	}
	return ids, nil
}

func parseNodes(v string) ([]sim.NodeID, error) {
	var ids []sim.NodeID
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		i, err := strconv.ParseInt(f, 10, 32)
		if err != nil || i < 0 {
			return nil, fmt.Errorf("want comma-separated node ids >= 0, got %q", f)
		}
		ids = append(ids, sim.NodeID(i))
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("want at least one node id")
	}
	return ids, nil
}

// types parses a comma-separated list of message type names, each in allowed.
func (p params) types(key string, allowed []string) (map[string]bool, error) {
	v, ok := p.vals[key]
	if !ok {
		return nil, nil
	}
	set := map[string]bool{}
	for _, f := range strings.Split(v, ",") {
		f = strings.ToUpper(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		found := false
		for _, a := range allowed {
			if a == f {
				found = true
			}
		}
		if !found {
			return nil, p.errf(key, "unknown message type %q; allowed: %s", f, strings.Join(allowed, ", "))
		}
		set[f] = true
	}
	if len(set) == 0 {
		return nil, p.errf(key, "want at least one message type; allowed: %s", strings.Join(allowed, ", "))
	}
	return set, nil
}

// nodeSet is a set of node ids.
type nodeSet map[sim.NodeID]bool

func setOf(ids []sim.NodeID) nodeSet {
	s := nodeSet{}
	for _, id := range ids {
		s[id] = true
	}
	return s
}
