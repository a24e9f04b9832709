package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/byzantine"
	"github.com/pbftsim/pbftsim/sim/cluster"
	"github.com/pbftsim/pbftsim/sim/hotstuff"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// Limits that keep a scenario runnable; they are far above what a
// simulation of PBFT needs.
const (
	MaxN        = 256     // replicas
	MaxClients  = 1024    // clients
	MaxRequests = 1000000 // requests in total
	MaxBatch    = 10000   // requests per PRE-PREPARE
	// MinTimeout is the smallest view-change or client timeout: a timer
	// that fires faster than a message can cross the network only makes
	// every node restart its view change forever (a 1ns view-change
	// timeout ran for minutes at 1.4 GB before this bound).
	MinTimeout = time.Millisecond
)

// Defaults the validation needs to know which node ids exist.
const (
	defaultN       = cluster.DefaultN
	defaultClients = cluster.DefaultClients
	defaultK       = cluster.DefaultCheckpointInterval
)

// VariantValidator checks protocol.variant (and a replay's variant). It
// returns nil for a known variant and otherwise an error that lists the
// allowed names; "" is the correct protocol. It defaults to the PBFT
// package's variant parser; tests may replace it.
var VariantValidator = func(name string) error {
	_, err := pbft.ParseVariant(name)
	return err
}

// MessageTypes are the PBFT message type names an adversary rule may match.
var MessageTypes = []string{
	pbft.TypeRequest.String(), pbft.TypePrePrepare.String(), pbft.TypePrepare.String(),
	pbft.TypeCommit.String(), pbft.TypeReply.String(), pbft.TypeCheckpoint.String(),
	pbft.TypeViewChange.String(), pbft.TypeNewView.String(), pbft.TypeFetchState.String(),
	pbft.TypeState.String(),
}

// validator checks a decoded scenario; pos (may be nil) maps field paths to
// source positions.
type validator struct {
	file   string
	pos    map[string]position
	prefix string // "scenario" inside a replay file
}

// errf returns an *Error for path, at the position of path or of its
// nearest ancestor that appears in the file.
func (v *validator) errf(path, format string, args ...any) error {
	full := path
	if v.prefix != "" {
		full = join(v.prefix, path)
	}
	e := &Error{File: v.file, Field: full, Msg: fmt.Sprintf(format, args...)}
	for p := full; p != ""; p = parent(p) {
		if at, ok := v.pos[p]; ok {
			e.Line, e.Column = at.line, at.col
			break
		}
	}
	return e
}

// present reports whether path appears in the source file (false for a
// scenario that does not come from a file).
func (v *validator) present(path string) bool {
	if v.pos == nil {
		return false
	}
	if v.prefix != "" {
		path = join(v.prefix, path)
	}
	at, ok := v.pos[path]
	return ok && !at.null
}

// explicitZero rejects a field written in the file with the value 0: an
// omitted field takes its default, but 0 written out is never what a user
// means (n: 0, requests: 0, ...) and used to silently become the default.
func (v *validator) explicitZero(path string, isZero bool, want string) error {
	if isZero && v.present(path) {
		return v.errf(path, "0 is out of range: want %s (omit the field for the default)", want)
	}
	return nil
}

// parent strips the last component of a field path.
func parent(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

// Validate reports the first field of s that is out of range (field paths
// as in the YAML file; no line numbers, since s may not come from a file).
func (s *Scenario) Validate() error {
	return (&validator{}).scenario(s)
}

func (v *validator) probability(path string, p float64) error {
	if !(p >= 0 && p <= 1) {
		return v.errf(path, "%v is out of range: want a probability in [0, 1]", p)
	}
	return nil
}

func (v *validator) nonNegative(path string, d time.Duration) error {
	if d < 0 {
		return v.errf(path, "%v is out of range: want a duration >= 0", d)
	}
	return nil
}

func (v *validator) intRange(path string, x, lo, hi int, what string) error {
	if x < lo || x > hi {
		return v.errf(path, "%d is out of range: want %s", x, what)
	}
	return nil
}

func (v *validator) delay(path, spec string) error {
	if spec == "" {
		return nil
	}
	if _, err := sim.ParseDelay(spec); err != nil {
		return v.errf(path, "bad delay %q: %v", spec, err)
	}
	return nil
}

func (v *validator) scenario(s *Scenario) error {
	if err := v.explicitZeros(s); err != nil {
		return err
	}
	n := s.N
	if n == 0 {
		n = defaultN
	}
	if err := v.intRange("n", n, 4, MaxN, fmt.Sprintf("at least 4 replicas (n >= 3f+1 with f >= 1), at most %d", MaxN)); err != nil {
		return err
	}
	if s.F < 0 || n < 3*s.F+1 {
		return v.errf("f", "%d is out of range: want 0 <= f and n >= 3f+1 (f at most %d for n=%d; 0 means the maximum)", s.F, (n-1)/3, n)
	}
	if err := v.protocol(&s.Protocol); err != nil {
		return err
	}
	w := &s.Workload
	clients := w.Clients
	if clients == 0 {
		clients = defaultClients
	}
	switch {
	case w.Clients < 0 || w.Clients > MaxClients:
		return v.errf("workload.clients", "%d is out of range: want 1..%d clients (0: default %d)", w.Clients, MaxClients, defaultClients)
	case w.Requests < 0 || w.Requests > MaxRequests:
		return v.errf("workload.requests", "%d is out of range: want 0..%d requests (0: default)", w.Requests, MaxRequests)
	case w.Payments < 0 || w.Payments > MaxRequests:
		return v.errf("workload.payments", "%d is out of range: want 0..%d payment ids (0: derived from requests)", w.Payments, MaxRequests)
	}
	requests := w.Requests
	if requests == 0 {
		requests = cluster.DefaultRequests
	}
	if w.DrawnFor != 0 && (w.DrawnFor < requests || w.DrawnFor > MaxRequests) {
		return v.errf("workload.drawn_for", "%d is out of range: want workload.requests (%d)..%d, or 0 for the workload of workload.requests", w.DrawnFor, requests, MaxRequests)
	}
	if w.Issued != nil {
		if len(w.Issued) != clients {
			return v.errf("workload.issued", "has %d counts: want one per client (%d)", len(w.Issued), clients)
		}
		sum := 0
		for _, m := range w.Issued {
			if m < 0 {
				return v.errf("workload.issued", "%v has a negative count: want operations issued per client, each >= 0", w.Issued)
			}
			sum += m
		}
		if sum != requests {
			return v.errf("workload.issued", "%v adds up to %d: want workload.requests (%d)", w.Issued, sum, requests)
		}
	}
	if w.DrawnFor > requests {
		requests = w.DrawnFor // payments may be up to the drawn requests
	}
	if w.Payments > requests {
		return v.errf("workload.payments", "%d is out of range: want at most workload.requests (%d) payment ids (0: derived from requests)", w.Payments, requests)
	}
	if err := v.nonNegative("workload.interval", w.Interval); err != nil {
		return err
	}
	for _, m := range []struct {
		name string
		x    float64
	}{{"confirm", w.Mix.Confirm}, {"refund", w.Mix.Refund}, {"cancel", w.Mix.Cancel}} {
		if !(m.x >= 0) {
			return v.errf("workload.mix."+m.name, "%v is out of range: want a weight >= 0", m.x)
		}
	}
	nodes := nodeSet{n: n, clients: clients}
	if err := v.network(&s.Network, nodes); err != nil {
		return err
	}
	for i, c := range s.Crashes {
		p := fmt.Sprintf("crashes[%d]", i)
		if err := v.node(p+".node", c.Node, nodes, false); err != nil {
			return err
		}
		if err := v.nonNegative(p+".at", c.At); err != nil {
			return err
		}
		if c.Recover != 0 && c.Recover <= c.At {
			return v.errf(p+".recover", "%v is out of range: want a time after at (%v), or 0 to stay down", c.Recover, c.At)
		}
		if err := v.crashKind(p+".kind", c, n, s.Protocol.Name); err != nil {
			return err
		}
	}
	for i, f := range s.TimerFires {
		p := fmt.Sprintf("timer_fires[%d]", i)
		if err := v.node(p+".node", f.Node, nodes, false); err != nil {
			return err
		}
		if f.Timer == 0 {
			return v.errf(p+".timer", "0 is out of range: want a timer id >= 1")
		}
		if err := v.nonNegative(p+".at", f.At); err != nil {
			return err
		}
	}
	if err := v.clocks(s.Clocks, nodes); err != nil {
		return err
	}
	seen := map[int]int{}
	for i, b := range s.Byzantine {
		p := fmt.Sprintf("byzantine[%d]", i)
		if err := v.node(p+".replica", b.Replica, nodes, true); err != nil {
			return err
		}
		if j, dup := seen[b.Replica]; dup {
			return v.errf(p+".replica", "replica %d is already faulty in byzantine[%d]: want each replica at most once", b.Replica, j)
		}
		seen[b.Replica] = i
		if cluster.IsHotStuff(s.Protocol.Name) {
			if err := hotstuff.CheckStrategy(b.Strategy, b.Params, n); err != nil {
				return v.errf(p+".strategy", "%v: want one of the HotStuff strategies %s with valid params", err, quoteList(hotstuff.Strategies()))
			}
			continue
		}
		if err := v.strategy(p, b, n); err != nil {
			return err
		}
	}
	for i := range s.Adversary {
		if err := v.netRule(fmt.Sprintf("adversary[%d]", i), &s.Adversary[i], nodes, s.Protocol.Name); err != nil {
			return err
		}
	}
	if err := v.nonNegative("run.max_time", s.Run.MaxTime); err != nil {
		return err
	}
	if err := v.intRange("run.max_pending", s.Run.MaxPending, 0, math.MaxInt32, "a number of queued events >= 0 (0: derived from the workload)"); err != nil {
		return err
	}
	if err := v.nonNegative("run.stall", s.Run.Stall); err != nil {
		return err
	}
	if v.pos != nil && s.Network.Delay == "" && s.Network.Regions == nil {
		// Checked last, so that a file's other mistakes are named first.
		return v.errf("network.delay", "missing: want a delay spec such as const:2ms or uniform:1ms:5ms (without one every message arrives at the instant it is sent)")
	}
	return nil
}

// explicitZeros rejects the fields a file sets to 0 whose 0 would mean
// "the default", and a file without network.delay (every message would
// arrive at the instant it was sent).
func (v *validator) explicitZeros(s *Scenario) error {
	for _, z := range []struct {
		path   string
		isZero bool
		want   string
	}{
		{"n", s.N == 0, fmt.Sprintf("a number of replicas in [4, %d]", MaxN)},
		{"protocol.batch", s.Protocol.Batch == 0, fmt.Sprintf("1..%d requests per PRE-PREPARE", MaxBatch)},
		{"protocol.checkpoint_interval", s.Protocol.CheckpointInterval == 0, "a checkpoint interval in 1..1048576"},
		{"protocol.window", s.Protocol.Window == 0, "a multiple of checkpoint_interval"},
		{"protocol.view_change_timeout", s.Protocol.ViewChangeTimeout == 0, fmt.Sprintf("a duration in [%v, 1h]", MinTimeout)},
		{"protocol.client_timeout", s.Protocol.ClientTimeout == 0, fmt.Sprintf("a duration in [%v, 1h]", MinTimeout)},
		{"workload.clients", s.Workload.Clients == 0, fmt.Sprintf("1..%d clients", MaxClients)},
		{"workload.requests", s.Workload.Requests == 0, fmt.Sprintf("1..%d requests", MaxRequests)},
		{"workload.payments", s.Workload.Payments == 0, "1..requests payment ids"},
		{"run.max_time", s.Run.MaxTime == 0, "a virtual time > 0, e.g. 10s"},
		{"network.delay", s.Network.Delay == "", "a delay spec such as const:2ms or uniform:1ms:5ms"},
	} {
		if err := v.explicitZero(z.path, z.isZero, z.want); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) protocol(p *Protocol) error {
	if err := v.intRange("protocol.batch", p.Batch, 0, MaxBatch, fmt.Sprintf("1..%d requests per PRE-PREPARE (0: default 1)", MaxBatch)); err != nil {
		return err
	}
	if err := v.intRange("protocol.checkpoint_interval", p.CheckpointInterval, 0, 1<<20, "a checkpoint interval in 1..1048576 (0: default 16)"); err != nil {
		return err
	}
	k := p.CheckpointInterval
	if k == 0 {
		k = defaultK
	}
	if p.Window < 0 || (p.Window != 0 && (p.Window < k || p.Window%k != 0)) || p.Window > 1<<24 {
		return v.errf("protocol.window", "%d is out of range: want a multiple of checkpoint_interval (%d), at least it and at most 16777216 (0: default 2*checkpoint_interval)", p.Window, k)
	}
	for _, t := range []struct {
		path string
		d    time.Duration
		def  time.Duration
	}{{"protocol.view_change_timeout", p.ViewChangeTimeout, cluster.DefaultViewChangeTimeout},
		{"protocol.client_timeout", p.ClientTimeout, cluster.DefaultClientTimeout}} {
		if err := v.nonNegative(t.path, t.d); err != nil {
			return err
		}
		if t.d != 0 && (t.d < MinTimeout || t.d > time.Hour) {
			return v.errf(t.path, "%v is out of range: want a duration in [%v, 1h] (omit it for the default %v)", t.d, MinTimeout, t.def)
		}
	}
	switch p.Name {
	case "", cluster.ProtocolPBFT, cluster.ProtocolHotStuff, cluster.ProtocolChainedHotStuff:
	default:
		return v.errf("protocol.name", "unknown protocol %q: want one of %s", short(p.Name), quoteList(cluster.Protocols))
	}
	if err := validateVariant(p.Name, p.Variant); err != nil {
		return v.errf("protocol.variant", "%v", err)
	}
	return nil
}

// validateVariant checks a variant name of the named protocol.
func validateVariant(protocol, variant string) error {
	if cluster.IsHotStuff(protocol) {
		_, err := hotstuff.ParseVariant(variant, protocol == cluster.ProtocolChainedHotStuff)
		return err
	}
	return VariantValidator(variant)
}

// HotStuffMessageTypes are the HotStuff message type names an adversary
// rule of a HotStuff scenario may match.
var HotStuffMessageTypes = typeNames(hotstuff.Protocol.Types())

func typeNames(ts []sim.MsgType) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.String()
	}
	return out
}

// nodeSet says which node ids exist: replicas 0..n-1, then clients.
type nodeSet struct{ n, clients int }

func (ns nodeSet) String() string {
	return fmt.Sprintf("a node id in [0, %d] (replicas 0..%d, clients %d..%d)", ns.n+ns.clients-1, ns.n-1, ns.n, ns.n+ns.clients-1)
}

func (v *validator) node(path string, id int, ns nodeSet, replicaOnly bool) error {
	if replicaOnly {
		if id < 0 || id >= ns.n {
			return v.errf(path, "replica %d does not exist: want a replica id in [0, %d]", id, ns.n-1)
		}
		return nil
	}
	if id < 0 || id >= ns.n+ns.clients {
		return v.errf(path, "node %d does not exist: want %s", id, ns)
	}
	return nil
}

func (v *validator) network(nw *Network, ns nodeSet) error {
	if err := v.delay("network.delay", nw.Delay); err != nil {
		return err
	}
	if err := v.probability("network.drop", nw.Drop); err != nil {
		return err
	}
	if err := v.probability("network.duplicate", nw.Duplicate); err != nil {
		return err
	}
	if err := v.nonNegative("network.gst", nw.GST); err != nil {
		return err
	}
	if err := v.nonNegative("network.delta", nw.Delta); err != nil {
		return err
	}
	if nw.GST > 0 && nw.Delta == 0 {
		return v.errf("network.delta", "0 is out of range: want a delay bound > 0 when network.gst is set")
	}
	if nw.Regions != nil {
		if err := v.regions(nw.Regions); err != nil {
			return err
		}
	}
	if err := v.rates("network.bandwidth", "network.node_bandwidth", nw.Bandwidth, nw.NodeBandwidth, ns); err != nil {
		return err
	}
	if err := v.rates("network.ingress_bandwidth", "network.node_ingress", nw.IngressBandwidth, nw.NodeIngress, ns); err != nil {
		return err
	}
	type link struct{ from, to int }
	links := map[link]int{}
	for i, l := range nw.Links {
		p := fmt.Sprintf("network.links[%d]", i)
		if err := v.node(p+".from", l.From, ns, false); err != nil {
			return err
		}
		if err := v.node(p+".to", l.To, ns, false); err != nil {
			return err
		}
		if l.From == l.To {
			return v.errf(p+".to", "%d is the same node as from: want a link between two different nodes (a node's messages to itself never cross the network)", l.To)
		}
		if j, dup := links[link{l.From, l.To}]; dup {
			return v.errf(p, "link %d -> %d is already overridden by network.links[%d]: want each directed link at most once", l.From, l.To, j)
		}
		links[link{l.From, l.To}] = i
		if err := v.delay(p+".delay", l.Delay); err != nil {
			return err
		}
		if l.Drop != nil {
			if err := v.probability(p+".drop", *l.Drop); err != nil {
				return err
			}
		}
		if l.Duplicate != nil {
			if err := v.probability(p+".duplicate", *l.Duplicate); err != nil {
				return err
			}
		}
	}
	for i, pt := range nw.Partitions {
		p := fmt.Sprintf("network.partitions[%d]", i)
		if len(pt.Groups) == 0 {
			return v.errf(p+".groups", "no groups: want a list of node groups, e.g. [[0, 1], [2, 3]]")
		}
		in := map[int]int{}
		for g, group := range pt.Groups {
			if len(group) == 0 {
				return v.errf(fmt.Sprintf("%s.groups[%d]", p, g), "empty group: want at least one node id")
			}
			for j, id := range group {
				gp := fmt.Sprintf("%s.groups[%d][%d]", p, g, j)
				if err := v.node(gp, id, ns, false); err != nil {
					return err
				}
				if h, dup := in[id]; dup {
					return v.errf(gp, "node %d is already in groups[%d]: want each node in at most one group", id, h)
				}
				in[id] = g
			}
		}
		if err := v.nonNegative(p+".from", pt.From); err != nil {
			return err
		}
		if pt.To != 0 && pt.To <= pt.From {
			return v.errf(p+".to", "%v is out of range: want a time after from (%v), or 0 for never healed", pt.To, pt.From)
		}
	}
	return nil
}

func (v *validator) strategy(p string, b Byzantine, n int) error {
	// A strategy may be a composition "a+b" (see byzantine.New).
	var names []string
	for _, part := range strings.Split(b.Strategy, byzantine.ComposeSep) {
		name := strings.TrimSpace(part)
		if _, ok := byzantine.Lookup(name); !ok {
			return v.errf(p+".strategy", "unknown strategy %q: want one of %s (or several joined by %q)", short(name), quoteList(byzantine.Names()), byzantine.ComposeSep)
		}
		if slices.Contains(names, name) {
			return v.errf(p+".strategy", "strategy %q appears twice in %q: want each strategy at most once", name, b.Strategy)
		}
		if name == "twins" && len(names) > 0 {
			return v.errf(p+".strategy", "twins must come first in a composition: want %q", "twins"+byzantine.ComposeSep+strings.Join(names, byzantine.ComposeSep))
		}
		names = append(names, name)
	}
	for _, key := range sortedKeys(b.Params) {
		if key == byzantine.FromParam {
			continue // every strategy's: when it starts (checked by the strategy)
		}
		target, name := "", key
		if i := strings.Index(key, "."); i >= 0 {
			target, name = key[:i], key[i+1:]
			if !slices.Contains(names, target) {
				return v.errf(p+".params."+key, "parameter %q names strategy %q, which is not in %q: want one of %s", key, target, b.Strategy, quoteList(names))
			}
		}
		declared := false
		var all []string
		for _, s := range names {
			info, _ := byzantine.Lookup(s)
			for _, q := range info.Params {
				all = append(all, q.Name)
				if q.Name == name && (target == "" || target == s) {
					declared = true
				}
			}
		}
		if !declared {
			if len(all) == 0 {
				return v.errf(p+".params."+key, "unknown parameter %q: strategy %q takes no parameters", key, b.Strategy)
			}
			return v.errf(p+".params."+key, "unknown parameter %q of strategy %q: want one of %s", key, b.Strategy, quoteList(all))
		}
	}
	// Let the strategy itself check the parameter values, as a run would.
	if err := tryStrategy(b, n); err != nil {
		msg := strings.TrimPrefix(err.Error(), "byzantine: ")
		path := p + ".params"
		for _, key := range sortedKeys(b.Params) {
			_, short, _ := strings.Cut(key, ".")
			if strings.Contains(msg, "param "+key+"=") || (short != "" && strings.Contains(msg, "param "+short+"=")) {
				path = p + ".params." + key
				break
			}
		}
		if len(b.Params) == 0 {
			path = p + ".strategy"
		}
		return v.errf(path, "%s", msg)
	}
	return nil
}

// tryStrategy checks the strategy's parameter values exactly as a run
// would (byzantine.Check), turning a panic into an error.
func tryStrategy(b Byzantine, n int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("strategy %q cannot be built with these parameters: %v", b.Strategy, r)
		}
	}()
	return byzantine.Check(b.Strategy, b.Params, sim.NodeID(b.Replica), n)
}

func (v *validator) netRule(p string, r *NetRule, ns nodeSet, protocol string) error {
	types := MessageTypes
	if cluster.IsHotStuff(protocol) {
		types = HotStuffMessageTypes
	}
	for i, t := range r.Types {
		if !contains(types, t) {
			return v.errf(fmt.Sprintf("%s.types[%d]", p, i), "unknown message type %q: want one of %s", t, quoteList(types))
		}
	}
	for i, id := range r.From {
		if err := v.node(fmt.Sprintf("%s.from[%d]", p, i), id, ns, false); err != nil {
			return err
		}
	}
	for i, id := range r.To {
		if err := v.node(fmt.Sprintf("%s.to[%d]", p, i), id, ns, false); err != nil {
			return err
		}
	}
	if err := v.probability(p+".drop", r.Drop); err != nil {
		return err
	}
	if err := v.nonNegative(p+".delay", r.Delay); err != nil {
		return err
	}
	if err := v.nonNegative(p+".duplicate_delay", r.DuplicateDelay); err != nil {
		return err
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"deliver_at", r.DeliverAt}, {"duplicate_at", r.DuplicateAt}} {
		if err := v.nonNegative(p+"."+d.name, d.v); err != nil {
			return err
		}
	}
	if r.Drop == 0 && r.Delay == 0 && !r.Duplicate && r.DeliverAt == 0 && !r.Lose && r.DuplicateAt == 0 {
		return v.errf(p, "the rule has no effect: want drop > 0, delay > 0 or duplicate (or deliver_at, lose, duplicate_at)")
	}
	if r.Nth < 0 {
		return v.errf(p+".nth", "%d is out of range: want >= 1 (the Nth matching message on a link) or 0 (every one)", r.Nth)
	}
	if err := v.nonNegative(p+".start", r.Start); err != nil {
		return err
	}
	if r.End != 0 && r.End <= r.Start {
		return v.errf(p+".end", "%v is out of range: want a time after start (%v), or 0 for until GST", r.End, r.Start)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	if len(q) == 0 {
		return "(none registered)"
	}
	return strings.Join(q, ", ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// crashKind checks crashes[i].kind: one of sim.CrashKindNames, and a kind
// other than keep only for a PBFT replica (only PBFT models a stable store).
func (v *validator) crashKind(path string, c Crash, n int, protocol string) error {
	k, err := sim.ParseCrashKind(path, c.Kind)
	if err != nil {
		return v.errf(path, "%q is not a crash kind: want one of %s", c.Kind, strings.Join(sim.CrashKindNames, ", "))
	}
	if k == sim.CrashKeep {
		return nil
	}
	if c.Node >= n {
		return v.errf(path, "%q is for replicas only: node %d is a client (clients keep their state: want keep)", c.Kind, c.Node)
	}
	if protocol == cluster.ProtocolHotStuff {
		return v.errf(path, "%q needs a modelled stable store, which only pbft has: want keep for %s", c.Kind, protocol)
	}
	return nil
}
