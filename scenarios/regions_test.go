package scenarios

import (
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// wanLatencyBound is a lower bound of any request's latency in the
// wan-5-regions scenario, from the built-in matrix alone: a client accepts
// a result on f+1 = 2 replies, so one comes from a backup j; j commits only
// with a COMMIT from some k outside {primary, j}, sent after k received the
// PRE-PREPARE. So latency >= min over clients c and such j, k of
// c->p + p->k + k->j + j->c (one-way = RTT/2; jitter only adds).
func wanLatencyBound(t *testing.T) time.Duration {
	t.Helper()
	s, err := Builtin("wan-5-regions")
	if err != nil {
		t.Fatal(err)
	}
	m, err := BuiltinRTT()
	if err != nil {
		t.Fatal(err)
	}
	r := s.Network.Regions
	ow := func(a, b string) time.Duration { return m.RTT[m.index(a)][m.index(b)] / 2 }
	p := r.Replicas[0]
	best := time.Duration(1 << 62)
	for _, c := range r.Clients {
		for j := 1; j < len(r.Replicas); j++ {
			for k := 1; k < len(r.Replicas); k++ {
				if k == j {
					continue
				}
				rj, rk := r.Replicas[j], r.Replicas[k]
				best = min(best, ow(c, p)+ow(p, rk)+ow(rk, rj)+ow(rj, c))
			}
		}
	}
	if best < 100*time.Millisecond {
		t.Fatalf("bound %v: the five regions should be far apart", best)
	}
	return best
}

func TestBuiltinRTT(t *testing.T) {
	m, err := BuiltinRTT()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Names) < 5 || len(m.RTT) != len(m.Names) {
		t.Fatalf("%d regions, %d rows", len(m.Names), len(m.RTT))
	}
	for i := range m.RTT {
		for j := range m.RTT[i] {
			if m.RTT[i][j] != m.RTT[j][i] {
				t.Errorf("%s<->%s not symmetric: %v vs %v", m.Names[i], m.Names[j], m.RTT[i][j], m.RTT[j][i])
			}
			if i != j && (m.RTT[i][j] < 10*time.Millisecond || m.RTT[i][j] > 400*time.Millisecond) {
				t.Errorf("%s<->%s: %v is not a plausible inter-region RTT", m.Names[i], m.Names[j], m.RTT[i][j])
			}
		}
	}
}

// TestRegionLinks: each link's delay is RTT/2 of its ends' regions (plus
// the jitter), clients take their own regions, and a links[] override
// still wins.
func TestRegionLinks(t *testing.T) {
	src := `n: 4
workload: {clients: 2}
network:
  regions:
    replicas: [a, b]
    clients: [b]
    jitter: 3ms
    matrix:
      names: [a, b]
      rtt: [[2ms, 100ms], [100ms, 4ms]]
  links:
    - {from: 0, to: 1, delay: const:7ms}
`
	s, err := Parse("regions.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := s.Config()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		from, to sim.NodeID
		want     sim.Delay
	}{
		{0, 2, sim.Delay{Kind: sim.DelayExponential, Min: time.Millisecond, Mean: 3 * time.Millisecond}},      // a -> a
		{1, 3, sim.Delay{Kind: sim.DelayExponential, Min: 2 * time.Millisecond, Mean: 3 * time.Millisecond}},  // b -> b
		{2, 1, sim.Delay{Kind: sim.DelayExponential, Min: 50 * time.Millisecond, Mean: 3 * time.Millisecond}}, // a -> b
		{4, 0, sim.Delay{Kind: sim.DelayExponential, Min: 50 * time.Millisecond, Mean: 3 * time.Millisecond}}, // client (b) -> a
		{5, 3, sim.Delay{Kind: sim.DelayExponential, Min: 2 * time.Millisecond, Mean: 3 * time.Millisecond}},  // client (b) -> b
		{0, 1, sim.Delay{Kind: sim.DelayConst, Min: 7 * time.Millisecond}},                                    // override
	} {
		if got := cfg.Network.Links[sim.Link{From: c.from, To: c.to}].Delay; got != c.want {
			t.Errorf("link %d->%d: delay %v, want %v", c.from, c.to, got, c.want)
		}
	}
}

func TestRegionsBadInput(t *testing.T) {
	for _, c := range []struct{ name, src, field, want string }{
		{"unknown region", "network:\n  regions:\n    replicas: [eastus, mars-1]\n", "network.regions.replicas[1]", `unknown region "mars-1": want one of eastus`},
		{"unknown client region", "network:\n  regions:\n    replicas: [eastus]\n    clients: [moon]\n", "network.regions.clients[0]", `unknown region "moon"`},
		{"no replicas", "network:\n  regions:\n    replicas: []\n", "network.regions.replicas", "want the region of each replica"},
		{"non-square rows", "network:\n  regions:\n    replicas: [a]\n    matrix: {names: [a, b], rtt: [[1ms, 2ms]]}\n", "network.regions.matrix.rtt", "1 rows for 2 regions: want a square matrix"},
		{"non-square row", "network:\n  regions:\n    replicas: [a]\n    matrix: {names: [a, b], rtt: [[1ms, 2ms], [2ms]]}\n", "network.regions.matrix.rtt[1]", "want a square matrix"},
		{"negative rtt", "network:\n  regions:\n    replicas: [a]\n    matrix: {names: [a, b], rtt: [[1ms, 2ms], [-2ms, 1ms]]}\n", "network.regions.matrix.rtt[1][0]", "round-trip time >= 0"},
		{"duplicate name", "network:\n  regions:\n    replicas: [a]\n    matrix: {names: [a, a], rtt: [[1ms, 2ms], [2ms, 1ms]]}\n", "network.regions.matrix.names[1]", "distinct"},
		{"region of own matrix", "network:\n  regions:\n    replicas: [eastus]\n    matrix: {names: [a], rtt: [[1ms]]}\n", "network.regions.replicas[0]", "want one of a"},
		{"negative jitter", "network:\n  regions:\n    replicas: [a]\n    jitter: -1ms\n    matrix: {names: [a], rtt: [[1ms]]}\n", "network.regions.jitter", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(c.src))
			if err == nil {
				t.Fatal("accepted")
			}
			e, ok := err.(*Error)
			if !ok || e.Field != c.field || !strings.Contains(e.Msg, c.want) || e.Line == 0 {
				t.Fatalf("error %#v: want field %s, a line, and %q", err, c.field, c.want)
			}
		})
	}
}

// TestWANBoundDiscriminates: the wan-5-regions check fails when the
// regions are ignored (all nodes in one region), and the bound is below
// what the scenario measures.
func TestWANBoundDiscriminates(t *testing.T) {
	bound := wanLatencyBound(t)
	p50 := func(edit func(*Scenario)) time.Duration {
		s, err := Builtin("wan-5-regions")
		if err != nil {
			t.Fatal(err)
		}
		edit(s)
		cfg, err := s.Config()
		if err != nil {
			t.Fatal(err)
		}
		cl, err := cluster.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r := cl.Run()
		if r.Requests.Committed != cfg.Requests {
			t.Fatalf("committed %d of %d", r.Requests.Committed, cfg.Requests)
		}
		return time.Duration(r.LatencyNs.P50)
	}
	wan := p50(func(*Scenario) {})
	local := p50(func(s *Scenario) {
		s.Network.Regions.Replicas = []string{"eastus"}
		s.Network.Regions.Clients = nil
	})
	t.Logf("bound %v, WAN p50 %v, one-region p50 %v", bound, wan, local)
	if wan < bound || local >= bound {
		t.Fatalf("bound %v: WAN p50 %v must be above it, one-region p50 %v below", bound, wan, local)
	}
}

// runBuiltin runs the built-in name after edit.
func runBuiltin(t *testing.T, name string, edit func(*Scenario)) (*cluster.Result, *cluster.Cluster, int) {
	t.Helper()
	s, err := Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	edit(s)
	cfg, err := s.Config()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cl.Run(), cl, cfg.Requests
}

// driftlessViewChanges is the number of view changes of drifting-clocks
// with perfect clocks.
func driftlessViewChanges(t *testing.T) int {
	r, _, _ := runBuiltin(t, "drifting-clocks", func(s *Scenario) { s.Clocks = nil })
	return r.Views.Changes
}

// TestDriftSafety: over seeds and extreme drifts (every node ±500000 ppm,
// alternating, or all fast, or all slow), no honest replica diverges and,
// the drift being bounded, every request commits after GST.
func TestDriftSafety(t *testing.T) {
	for _, pattern := range [][2]float64{{500000, -500000}, {500000, 500000}, {-500000, -500000}} {
		for seed := uint64(1); seed <= 6; seed++ {
			r, cl, want := runBuiltin(t, "drifting-clocks", func(s *Scenario) {
				s.Seed, s.Clocks = seed, nil
				for id := 0; id < s.N+s.Workload.Clients; id++ {
					s.Clocks = append(s.Clocks, Clock{Node: id, DriftPPM: pattern[id%2]})
				}
			})
			if d := cl.Diverged(); len(d) > 0 || !r.Completed || r.Requests.Committed != want {
				t.Errorf("drift %v seed %d: diverged %v, committed %d of %d", pattern, seed, d, r.Requests.Committed, want)
			}
		}
	}
}

// TestNodeBandwidth: network.node_bandwidth overrides one node's rate, and
// bad entries are errors with their field.
func TestNodeBandwidth(t *testing.T) {
	s, err := Parse("bw.yaml", []byte("network:\n  delay: const:1ms\n  bandwidth: 1Gbit\n  node_bandwidth:\n    - {node: 2, bandwidth: 10Mbit}\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := s.Config()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Network.Bandwidth != 1e9 || len(cfg.Network.NodeBandwidth) != 3 || cfg.Network.NodeBandwidth[2] != 10e6 || cfg.Network.NodeBandwidth[0] != 0 {
		t.Fatalf("bandwidth %v, per node %v", cfg.Network.Bandwidth, cfg.Network.NodeBandwidth)
	}
	for _, c := range []struct{ src, field string }{
		{"network:\n  node_bandwidth:\n    - {node: 99, bandwidth: 10Mbit}\n", "network.node_bandwidth[0].node"},
		{"network:\n  node_bandwidth:\n    - {node: 1, bandwidth: -1Mbit}\n", "network.node_bandwidth[0].bandwidth"},
		{"network:\n  node_bandwidth:\n    - {node: 1, bandwidth: 1Mbit}\n    - {node: 1, bandwidth: 2Mbit}\n", "network.node_bandwidth[1].node"},
	} {
		_, err := Parse("bad.yaml", []byte(c.src))
		if e, ok := err.(*Error); !ok || e.Field != c.field || e.Line == 0 {
			t.Errorf("%q: error %v, want field %s with a line", c.src, err, c.field)
		}
	}
}
