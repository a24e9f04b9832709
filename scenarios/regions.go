package scenarios

import (
	_ "embed"
	"fmt"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// Regions places replicas and clients in the regions of a wide-area
// network: the one-way delay of a link is half the round-trip time between
// its ends' regions, plus an exponential jitter of mean Jitter. It sets the
// delay of every link; network.links[] still override single links.
type Regions struct {
	// Replicas[i mod len] is the region of replica i.
	Replicas []string `yaml:"replicas" scenario:"required"`
	// Clients[j mod len] is the region of client j (default: Replicas[0]).
	Clients []string `yaml:"clients,omitempty"`
	// Jitter is the mean of the exponential extra one-way delay (0: none).
	Jitter time.Duration `yaml:"jitter,omitempty"`
	// Matrix replaces the built-in round-trip times (BuiltinRTT).
	Matrix *Matrix `yaml:"matrix,omitempty"`
	// MatrixFile replaces them with a CSV file in the format of
	// scenarios/regions/rtt.csv (see ParseMatrixCSV), relative to the
	// scenario file's directory. Parse reads it into Matrix and clears
	// MatrixFile, so a scenario written back (a replay) is self-contained.
	MatrixFile string `yaml:"matrix_file,omitempty"`
}

// Matrix is a square matrix of round-trip times: RTT[i][j] between regions
// Names[i] and Names[j] (the diagonal: within one region).
type Matrix struct {
	Names []string          `yaml:"names" scenario:"required"`
	RTT   [][]time.Duration `yaml:"rtt" scenario:"required"`
}

//go:embed regions/rtt.csv
var builtinRTTCSV string

// BuiltinRTT returns the built-in inter-region round-trip times, shipped in
// scenarios/regions/rtt.csv (Azure's published 95th-percentile round-trip
// times between eight regions; the file cites the source and says how
// the values were derived).
func BuiltinRTT() (*Matrix, error) {
	return ParseMatrixCSV("regions/rtt.csv", []byte(builtinRTTCSV))
}

// index returns the position of region name in m, or -1.
func (m *Matrix) index(name string) int {
	for i, n := range m.Names {
		if n == name {
			return i
		}
	}
	return -1
}

// matrix returns the regions' matrix: their own or the built-in one.
func (r *Regions) matrix() (*Matrix, error) {
	if r.Matrix != nil {
		return r.Matrix, nil
	}
	return BuiltinRTT()
}

// validate checks the regions: a square matrix with distinct names and
// non-negative times, and only regions the matrix names.
func (v *validator) regions(r *Regions) error {
	const p = "network.regions"
	if r.MatrixFile != "" {
		return v.errf(p+".matrix_file", "%q was not read: a scenario's matrix file is read by scenarios.Parse or LoadFile", r.MatrixFile)
	}
	if m := r.Matrix; m != nil {
		if len(m.Names) == 0 {
			return v.errf(p+".matrix.names", "empty: want the names of the matrix's regions")
		}
		for i, name := range m.Names {
			if name == "" || m.index(name) != i {
				return v.errf(fmt.Sprintf("%s.matrix.names[%d]", p, i), "%q: want a distinct non-empty region name", name)
			}
		}
		if len(m.RTT) != len(m.Names) {
			return v.errf(p+".matrix.rtt", "%d rows for %d regions: want a square matrix, one row per region", len(m.RTT), len(m.Names))
		}
		for i, row := range m.RTT {
			if len(row) != len(m.Names) {
				return v.errf(fmt.Sprintf("%s.matrix.rtt[%d]", p, i), "%d values for %d regions: want a square matrix, one value per region", len(row), len(m.Names))
			}
			for j, d := range row {
				if d < 0 {
					return v.errf(fmt.Sprintf("%s.matrix.rtt[%d][%d]", p, i, j), "%v is out of range: want a round-trip time >= 0", d)
				}
			}
		}
	}
	m, err := r.matrix()
	if err != nil {
		return v.errf(p, "built-in matrix: %v", err)
	}
	if len(r.Replicas) == 0 {
		return v.errf(p+".replicas", "empty: want the region of each replica (cycled), from %s", strings.Join(m.Names, ", "))
	}
	for _, l := range []struct {
		field string
		names []string
	}{{"replicas", r.Replicas}, {"clients", r.Clients}} {
		for i, name := range l.names {
			if m.index(name) < 0 {
				return v.errf(fmt.Sprintf("%s.%s[%d]", p, l.field, i), "unknown region %q: want one of %s", name, strings.Join(m.Names, ", "))
			}
		}
	}
	return v.nonNegative(p+".jitter", r.Jitter)
}

// links returns the link model of every directed link between the n
// replicas and clients nodes (ids n..n+clients-1): def with the delay
// RTT/2 of the ends' regions, plus the jitter.
func (r *Regions) links(n, clients int, def sim.LinkConfig) (map[sim.Link]sim.LinkConfig, error) {
	m, err := r.matrix()
	if err != nil {
		return nil, err
	}
	region := make([]int, n+clients)
	for i := range region {
		name := ""
		switch {
		case i < n:
			name = r.Replicas[i%len(r.Replicas)]
		case len(r.Clients) > 0:
			name = r.Clients[(i-n)%len(r.Clients)]
		default:
			name = r.Replicas[0]
		}
		if region[i] = m.index(name); region[i] < 0 {
			return nil, fmt.Errorf("unknown region %q", name)
		}
	}
	out := make(map[sim.Link]sim.LinkConfig, len(region)*len(region))
	for a := range region {
		for b := range region {
			if a == b {
				continue
			}
			lc := def
			oneWay := m.RTT[region[a]][region[b]] / 2
			lc.Delay = sim.Delay{Kind: sim.DelayConst, Min: oneWay}
			if r.Jitter > 0 {
				lc.Delay = sim.Delay{Kind: sim.DelayExponential, Min: oneWay, Mean: r.Jitter}
			}
			out[sim.Link{From: sim.NodeID(a), To: sim.NodeID(b)}] = lc
		}
	}
	return out, nil
}

// clocks checks clocks[]: existing nodes, each at most once, drifts within
// ±sim.MaxDriftPPM, offsets and jumps within ±sim.MaxClockStep, jumps in
// increasing time order.
func (v *validator) clocks(cs []Clock, ns nodeSet) error {
	seen := map[int]int{}
	for i, c := range cs {
		p := fmt.Sprintf("clocks[%d]", i)
		if err := v.node(p+".node", c.Node, ns, false); err != nil {
			return err
		}
		if j, ok := seen[c.Node]; ok {
			return v.errf(p+".node", "node %d already has a clock (clocks[%d]): want each node at most once", c.Node, j)
		}
		seen[c.Node] = i
		if !(c.DriftPPM >= -sim.MaxDriftPPM && c.DriftPPM <= sim.MaxDriftPPM) {
			return v.errf(p+".drift_ppm", "%v is out of range: want a drift in [-%d, %d] parts per million", c.DriftPPM, sim.MaxDriftPPM, sim.MaxDriftPPM)
		}
		if c.Offset < -sim.MaxClockStep || c.Offset > sim.MaxClockStep {
			return v.errf(p+".offset", "%v is out of range: want an offset in [-%v, %v]", c.Offset, sim.MaxClockStep, sim.MaxClockStep)
		}
		for k, j := range c.Jumps {
			jp := fmt.Sprintf("%s.jumps[%d]", p, k)
			if j.At < 0 || (k > 0 && j.At <= c.Jumps[k-1].At) {
				return v.errf(jp+".at", "%v: want a time >= 0, later than the previous jump's", j.At)
			}
			if j.By == 0 || j.By < -sim.MaxClockStep || j.By > sim.MaxClockStep {
				return v.errf(jp+".by", "%v: want a non-zero step in [-%v, %v] (negative: backwards)", j.By, sim.MaxClockStep, sim.MaxClockStep)
			}
		}
	}
	return nil
}
