package scenarios

import (
	"slices"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/byzantine"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// Config validates s and converts it to a run configuration, with every
// omitted field set to its cluster default and Seed set from s.Seed.
func (s *Scenario) Config() (cluster.Config, error) {
	if err := s.Validate(); err != nil {
		return cluster.Config{}, err
	}
	c := cluster.Config{
		Seed:               s.Seed,
		Protocol:           s.Protocol.Name,
		N:                  s.N,
		F:                  s.F,
		Batch:              s.Protocol.Batch,
		CheckpointInterval: s.Protocol.CheckpointInterval,
		Window:             s.Protocol.Window,
		ViewChangeTimeout:  s.Protocol.ViewChangeTimeout,
		ClientTimeout:      s.Protocol.ClientTimeout,
		Variant:            s.Protocol.Variant,
		FullCertificates:   s.Protocol.FullCertificates,
		Clients:            s.Workload.Clients,
		Requests:           s.Workload.Requests,
		Payments:           s.Workload.Payments,
		DrawnFor:           s.Workload.DrawnFor,
		Issued:             slices.Clone(s.Workload.Issued),
		Interval:           s.Workload.Interval,
		Mix: cluster.Mix{
			Confirm: s.Workload.Mix.Confirm,
			Refund:  s.Workload.Mix.Refund,
			Cancel:  s.Workload.Mix.Cancel,
		},
		MaxTime:     sim.Time(s.Run.MaxTime),
		MaxEvents:   s.Run.MaxEvents,
		MaxPending:  s.Run.MaxPending,
		StallWindow: sim.Time(s.Run.Stall),
	}
	nw := &s.Network
	def := sim.LinkConfig{Drop: nw.Drop, Duplicate: nw.Duplicate}
	if nw.Delay != "" {
		d, err := sim.ParseDelay(nw.Delay)
		if err != nil { // unreachable after Validate
			return cluster.Config{}, &Error{Field: "network.delay", Msg: err.Error()}
		}
		def.Delay = d
	}
	c.Network = sim.NetworkConfig{
		Default: def,
		GST:     sim.Time(nw.GST),
		Delta:   nw.Delta,
	}
	var err error
	if c.Network.Bandwidth, c.Network.NodeBandwidth, err = rates("network.bandwidth", nw.Bandwidth, nw.NodeBandwidth); err != nil {
		return cluster.Config{}, err
	}
	if c.Network.IngressBandwidth, c.Network.NodeIngress, err = rates("network.ingress_bandwidth", nw.IngressBandwidth, nw.NodeIngress); err != nil {
		return cluster.Config{}, err
	}
	if nw.Regions != nil {
		clients := s.Workload.Clients
		if clients == 0 {
			clients = defaultClients
		}
		n := s.N
		if n == 0 {
			n = defaultN
		}
		links, err := nw.Regions.links(n, clients, def)
		if err != nil { // unreachable after Validate
			return cluster.Config{}, &Error{Field: "network.regions", Msg: err.Error()}
		}
		c.Network.Links = links
	}
	if len(nw.Links) > 0 {
		if c.Network.Links == nil {
			c.Network.Links = make(map[sim.Link]sim.LinkConfig, len(nw.Links))
		}
		for _, l := range nw.Links {
			lc, ok := c.Network.Links[sim.Link{From: sim.NodeID(l.From), To: sim.NodeID(l.To)}]
			if !ok {
				lc = def
			}
			if l.Delay != "" {
				d, err := sim.ParseDelay(l.Delay)
				if err != nil { // unreachable after Validate
					return cluster.Config{}, &Error{Field: "network.links.delay", Msg: err.Error()}
				}
				lc.Delay = d
			}
			if l.Drop != nil {
				lc.Drop = *l.Drop
			}
			if l.Duplicate != nil {
				lc.Duplicate = *l.Duplicate
			}
			c.Network.Links[sim.Link{From: sim.NodeID(l.From), To: sim.NodeID(l.To)}] = lc
		}
	}
	for _, p := range nw.Partitions {
		groups := make([][]sim.NodeID, len(p.Groups))
		for i, g := range p.Groups {
			groups[i] = ids(g)
		}
		c.Network.Partitions = append(c.Network.Partitions, sim.Partition{Groups: groups, From: sim.Time(p.From), To: sim.Time(p.To)})
	}
	for _, cr := range s.Crashes {
		kind, err := sim.ParseCrashKind("crashes.kind", cr.Kind)
		if err != nil {
			return c, err // Validate rejects it first
		}
		c.Crashes = append(c.Crashes, sim.Crash{Node: sim.NodeID(cr.Node), At: sim.Time(cr.At), Recover: sim.Time(cr.Recover), Kind: kind})
	}
	for _, f := range s.TimerFires {
		c.Fires = append(c.Fires, sim.Fire{Node: sim.NodeID(f.Node), Timer: sim.TimerID(f.Timer), At: sim.Time(f.At)})
	}
	for _, cl := range s.Clocks {
		sc := sim.Clock{Node: sim.NodeID(cl.Node), DriftPPM: cl.DriftPPM, Offset: cl.Offset}
		for _, j := range cl.Jumps {
			sc.Jumps = append(sc.Jumps, sim.ClockJump{At: sim.Time(j.At), By: j.By})
		}
		c.Clocks = append(c.Clocks, sc)
	}
	for _, b := range s.Byzantine {
		var params map[string]string
		if len(b.Params) > 0 {
			params = make(map[string]string, len(b.Params))
			for k, v := range b.Params {
				params[k] = v
			}
		}
		c.Byzantine = append(c.Byzantine, cluster.ByzantineSpec{Replica: sim.NodeID(b.Replica), Strategy: b.Strategy, Params: params})
	}
	for _, r := range s.Adversary {
		nr := byzantine.NetRule{
			Types:     append([]string(nil), r.Types...),
			From:      ids(r.From),
			To:        ids(r.To),
			Drop:      r.Drop,
			Delay:     r.Delay,
			Duplicate: r.Duplicate, DuplicateDelay: r.DuplicateDelay,
			DeliverAt: sim.Time(r.DeliverAt), Lose: r.Lose, DuplicateAt: sim.Time(r.DuplicateAt),
			Start:     sim.Time(r.Start),
			End:       sim.Time(r.End),
			StartView: r.StartView,
			Nth:       r.Nth,
		}
		if r.View != nil {
			v := *r.View
			nr.View = &v
		}
		if r.Seq != nil {
			q := *r.Seq
			nr.Seq = &q
		}
		c.NetRules = append(c.NetRules, nr)
	}
	return c.WithDefaults(), nil
}

func ids(xs []int) []sim.NodeID {
	if xs == nil {
		return nil
	}
	out := make([]sim.NodeID, len(xs))
	for i, x := range xs {
		out[i] = sim.NodeID(x)
	}
	return out
}
