package sim

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ConfigError reports a configuration value that is out of range or cannot
// be parsed. Its message names the field, the value and what is allowed:
//
//	network.drop: -0.1 is out of range: want a probability in [0, 1]
type ConfigError struct {
	Field   string // dotted path of the field, e.g. "network.links[0->1].drop"
	Value   string // the offending value as text
	Allowed string // what would be accepted
}

// Error implements error.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s: %s is out of range: want %s", e.Field, e.Value, e.Allowed)
}

func cfgErr(field string, value any, allowed string) *ConfigError {
	var v string
	switch x := value.(type) {
	case string:
		v = x
	case float64:
		v = strconv.FormatFloat(x, 'g', -1, 64)
	case time.Duration:
		v = x.String()
	case Time:
		v = x.String()
	default:
		v = fmt.Sprint(x)
	}
	return &ConfigError{Field: field, Value: v, Allowed: allowed}
}

// Validate checks a run configuration: at least one node, no nil node, names
// matching the nodes, a valid network model (see NetworkConfig.Validate),
// crashes naming existing nodes at non-negative times with Recover after At,
// and non-negative MaxTime. It returns a *ConfigError for the first problem.
func (c *Config) Validate() error {
	n := len(c.Nodes)
	if n < 1 {
		return cfgErr("nodes", n, "at least 1 node")
	}
	for i, nd := range c.Nodes {
		if nd == nil {
			return cfgErr(fmt.Sprintf("nodes[%d]", i), "nil", "a non-nil Node")
		}
	}
	if len(c.Names) != 0 && len(c.Names) != n {
		return cfgErr("names", len(c.Names), fmt.Sprintf("0 or %d names (one per node)", n))
	}
	if err := c.Network.Validate(n); err != nil {
		return err
	}
	for i, cr := range c.Crashes {
		f := fmt.Sprintf("crashes[%d]", i)
		if err := checkNode(f+".node", cr.Node, n); err != nil {
			return err
		}
		if cr.At < 0 {
			return cfgErr(f+".at", cr.At, "a time >= 0")
		}
		if cr.Recover != 0 && cr.Recover <= cr.At {
			return cfgErr(f+".recover", cr.Recover, fmt.Sprintf("0 (never) or a time after at=%v", cr.At))
		}
		if int(cr.Kind) >= len(CrashKindNames) {
			return cfgErr(f+".kind", cr.Kind, "one of "+strings.Join(CrashKindNames, ", "))
		}
	}
	for i, fi := range c.Fires {
		f := fmt.Sprintf("fires[%d]", i)
		if err := checkNode(f+".node", fi.Node, n); err != nil {
			return err
		}
		if fi.At < 0 {
			return cfgErr(f+".at", fi.At, "a time >= 0")
		}
	}
	if err := validateClocks(c.Clocks, n); err != nil {
		return err
	}
	if c.MaxTime < 0 {
		return cfgErr("max_time", c.MaxTime, "a time >= 0 (0: no limit)")
	}
	for i, s := range c.Sinks {
		if s == nil {
			return cfgErr(fmt.Sprintf("sinks[%d]", i), "nil", "a non-nil Sink")
		}
	}
	return nil
}

// Validate checks the network model for a run of nodes nodes: probabilities
// in [0, 1], valid delays, links, partitions and faulty nodes naming existing
// nodes, partitions with To after From (or To = 0), non-negative GST and
// Delta, Delta > 0 when GST is set, and no nil filter.
func (nc *NetworkConfig) Validate(nodes int) error {
	if err := nc.Default.validate("network"); err != nil {
		return err
	}
	links := make([]Link, 0, len(nc.Links))
	for l := range nc.Links {
		links = append(links, l)
	}
	sort.Slice(links, func(i, j int) bool {
		if links[i].From != links[j].From {
			return links[i].From < links[j].From
		}
		return links[i].To < links[j].To
	})
	for _, l := range links {
		f := fmt.Sprintf("network.links[%d->%d]", l.From, l.To)
		if err := checkNode(f+".from", l.From, nodes); err != nil {
			return err
		}
		if err := checkNode(f+".to", l.To, nodes); err != nil {
			return err
		}
		if err := nc.Links[l].validate(f); err != nil {
			return err
		}
	}
	for i, p := range nc.Partitions {
		if err := p.validate(fmt.Sprintf("network.partitions[%d]", i), nodes); err != nil {
			return err
		}
	}
	if nc.GST < 0 {
		return cfgErr("network.gst", nc.GST, "a time >= 0")
	}
	if nc.Delta < 0 {
		return cfgErr("network.delta", nc.Delta, "a duration >= 0")
	}
	if nc.GST > 0 && nc.Delta == 0 {
		return cfgErr("network.delta", nc.Delta, "a duration > 0 when network.gst is set")
	}
	for i, id := range nc.Faulty {
		if err := checkNode(fmt.Sprintf("network.faulty[%d]", i), id, nodes); err != nil {
			return err
		}
	}
	if err := validateRates("network.bandwidth", "network.node_bandwidth", nc.Bandwidth, nc.NodeBandwidth, nodes); err != nil {
		return err
	}
	if err := validateRates("network.ingress_bandwidth", "network.node_ingress", nc.IngressBandwidth, nc.NodeIngress, nodes); err != nil {
		return err
	}
	for i, f := range nc.Filters {
		if f == nil {
			return cfgErr(fmt.Sprintf("network.filters[%d]", i), "nil", "a non-nil Filter")
		}
	}
	return nil
}

func checkNode(field string, id NodeID, nodes int) error {
	if id < 0 || int(id) >= nodes {
		return cfgErr(field, int(id), fmt.Sprintf("a node id in [0, %d)", nodes))
	}
	return nil
}

// validate checks one link's fault model; prefix is e.g. "network".
func (lc LinkConfig) validate(prefix string) error {
	if err := checkProb(prefix+".drop", lc.Drop); err != nil {
		return err
	}
	if err := checkProb(prefix+".duplicate", lc.Duplicate); err != nil {
		return err
	}
	return lc.Delay.validate(prefix + ".delay")
}

func checkProb(field string, p float64) error {
	if !(p >= 0 && p <= 1) { // also rejects NaN
		return cfgErr(field, p, "a probability in [0, 1]")
	}
	return nil
}

// validate checks a delay distribution; field is e.g. "network.delay".
func (d Delay) validate(field string) error {
	if d.Min < 0 {
		return cfgErr(field+".min", d.Min, "a duration >= 0")
	}
	switch d.Kind {
	case DelayConst:
	case DelayUniform:
		if d.Max < d.Min {
			return cfgErr(field+".max", d.Max, fmt.Sprintf("a duration >= min (%v)", d.Min))
		}
	case DelayExponential:
		if d.Mean < 0 {
			return cfgErr(field+".mean", d.Mean, "an exponential mean >= 0")
		}
	case DelayLogNormal:
		if d.Mean <= 0 {
			return cfgErr(field+".median", d.Mean, "a log-normal median > 0")
		}
		if !(d.Sigma > 0) || math.IsInf(d.Sigma, 0) {
			return cfgErr(field+".sigma", d.Sigma, "a log-normal sigma > 0 (finite)")
		}
	case DelayPareto:
		if d.Mean <= 0 {
			return cfgErr(field+".scale", d.Mean, "a Pareto scale > 0")
		}
		if !(d.Alpha > 0) || math.IsInf(d.Alpha, 0) {
			return cfgErr(field+".alpha", d.Alpha, "a Pareto alpha > 0 (finite)")
		}
	default:
		return cfgErr(field+".kind", int(d.Kind), "a DelayKind in [0, 4] (const, uniform, exp, lognormal, pareto)")
	}
	return nil
}

// validate checks a partition for a run of nodes nodes (nodes < 0: skip the
// upper bound check on node ids).
func (p Partition) validate(field string, nodes int) error {
	if p.From < 0 {
		return cfgErr(field+".from", p.From, "a time >= 0")
	}
	if p.To != 0 && p.To <= p.From {
		return cfgErr(field+".to", p.To, fmt.Sprintf("0 (never heals) or a time after from=%v", p.From))
	}
	seen := map[NodeID]bool{}
	for g, grp := range p.Groups {
		for j, id := range grp {
			f := fmt.Sprintf("%s.groups[%d][%d]", field, g, j)
			if nodes >= 0 {
				if err := checkNode(f, id, nodes); err != nil {
					return err
				}
			} else if id < 0 {
				return cfgErr(f, int(id), "a node id >= 0")
			}
			if seen[id] {
				return cfgErr(f, int(id), "each node in at most one group")
			}
			seen[id] = true
		}
	}
	return nil
}

// partitionSyntax is the Allowed text of partition parse errors.
const partitionSyntax = "GROUPS@FROM[-TO], groups of comma-separated node ids separated by |, e.g. 0,1|2,3@100ms-2s (no -TO: never heals)"

// ParsePartition parses "0,1|2,3@100ms-2s": groups separated by '|', node
// ids by ',', then '@' and the window FROM-TO. "@100ms" without "-TO" never
// heals. Node ids are checked against the run later, by Config.Validate.
// Errors are *ConfigError.
func ParsePartition(s string) (Partition, error) {
	bad := func() (Partition, error) {
		return Partition{}, cfgErr("partition", strconv.Quote(s), partitionSyntax)
	}
	groups, window, ok := strings.Cut(s, "@")
	if !ok || groups == "" || window == "" {
		return bad()
	}
	var p Partition
	for _, g := range strings.Split(groups, "|") {
		var grp []NodeID
		for _, f := range strings.Split(g, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(f), 10, 32)
			if err != nil {
				return bad()
			}
			grp = append(grp, NodeID(id))
		}
		p.Groups = append(p.Groups, grp)
	}
	from, to := window, ""
	if i := strings.Index(window[1:], "-"); i >= 0 {
		from, to = window[:i+1], window[i+2:]
	}
	d, err := time.ParseDuration(from)
	if err != nil {
		return bad()
	}
	p.From = Time(d)
	if to != "" {
		d, err := time.ParseDuration(to)
		if err != nil {
			return bad()
		}
		if d == 0 {
			return Partition{}, cfgErr("partition.to", d, "a time after from (omit -TO for a partition that never heals)")
		}
		p.To = Time(d)
	} else if strings.HasSuffix(window, "-") {
		return bad()
	}
	if err := p.validate("partition", -1); err != nil {
		return Partition{}, err
	}
	return p, nil
}

// ParseCrash parses "NODE@TIME[:RECOVER][:KIND]", e.g. "0@1s" (stays
// down), "0@1s:3s" (recovers at 3s), "0@1s:3s:amnesia" or "0@1s:wipe" (a
// kind without a recovery). KIND is one of CrashKindNames (default keep).
// Errors are *ConfigError.
func ParseCrash(s string) (Crash, error) {
	const syntax = "NODE@TIME[:RECOVER][:KIND], e.g. 0@1s, 0@1s:3s or 0@1s:3s:amnesia (KIND: keep, amnesia, lose-unsynced, wipe)"
	bad := func() (Crash, error) { return Crash{}, cfgErr("crash", strconv.Quote(s), syntax) }
	node, when, ok := strings.Cut(s, "@")
	if !ok {
		return bad()
	}
	id, err := strconv.ParseInt(strings.TrimSpace(node), 10, 32)
	if err != nil {
		return bad()
	}
	if id < 0 {
		return Crash{}, cfgErr("crash.node", int(id), "a node id >= 0")
	}
	parts := strings.Split(when, ":")
	if len(parts) > 3 {
		return bad()
	}
	kind := ""
	if last := parts[len(parts)-1]; len(parts) > 1 && (len(parts) == 3 || !startsWithDigit(last)) {
		kind, parts = last, parts[:len(parts)-1]
	}
	d, err := time.ParseDuration(parts[0])
	if err != nil {
		return bad()
	}
	c := Crash{Node: NodeID(id), At: Time(d)}
	if c.At < 0 {
		return Crash{}, cfgErr("crash.at", c.At, "a time >= 0")
	}
	if c.Kind, err = ParseCrashKind("crash.kind", kind); err != nil {
		return Crash{}, err
	}
	if len(parts) == 2 {
		d, err := time.ParseDuration(parts[1])
		if err != nil {
			return bad()
		}
		c.Recover = Time(d)
		if c.Recover <= c.At {
			return Crash{}, cfgErr("crash.recover", c.Recover, fmt.Sprintf("a time after at=%v", c.At))
		}
	}
	return c, nil
}

// startsWithDigit reports whether s begins with a digit, a sign or a dot
// (a duration, not a crash kind).
func startsWithDigit(s string) bool {
	return s != "" && strings.ContainsRune("0123456789+-.", rune(s[0]))
}

// validateRates checks a default link rate (field def) and its per-node
// overrides (field per).
func validateRates(def, per string, b Bandwidth, node []Bandwidth, nodes int) error {
	if b < 0 {
		return cfgErr(def, int64(b), "a rate >= 0 bits per second (0: unlimited)")
	}
	if len(node) > nodes {
		return cfgErr(per, len(node), fmt.Sprintf("at most %d entries (one per node)", nodes))
	}
	for i, b := range node {
		if b < 0 {
			return cfgErr(fmt.Sprintf("%s[%d]", per, i), int64(b), "a rate >= 0 bits per second (0: the default)")
		}
	}
	return nil
}
