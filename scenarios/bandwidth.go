package scenarios

import (
	"fmt"

	"github.com/pbftsim/pbftsim/sim"
)

// rates checks a default link rate (field def, "" for unlimited) and its
// per-node overrides (field per): parseable rates, existing nodes, each at
// most once.
func (v *validator) rates(def, per, rate string, nodes []NodeBandwidth, ns nodeSet) error {
	if rate != "" {
		if _, err := sim.ParseBandwidth(rate); err != nil {
			return v.errf(def, "bad bandwidth %q: %v", rate, err)
		}
	}
	seen := map[int]int{}
	for i, nb := range nodes {
		p := fmt.Sprintf("%s[%d]", per, i)
		if err := v.node(p+".node", nb.Node, ns, false); err != nil {
			return err
		}
		if j, ok := seen[nb.Node]; ok {
			return v.errf(p+".node", "node %d already has a bandwidth (%s[%d]): want each node at most once", nb.Node, per, j)
		}
		seen[nb.Node] = i
		if _, err := sim.ParseBandwidth(nb.Bandwidth); err != nil {
			return v.errf(p+".bandwidth", "bad bandwidth %q: %v", nb.Bandwidth, err)
		}
	}
	return nil
}

// rates converts a validated default rate and its per-node overrides
// (indexed by node id, 0: the default).
func rates(field, rate string, nodes []NodeBandwidth) (sim.Bandwidth, []sim.Bandwidth, error) {
	var def sim.Bandwidth
	if rate != "" {
		b, err := sim.ParseBandwidth(rate)
		if err != nil { // unreachable after Validate
			return 0, nil, &Error{Field: field, Msg: err.Error()}
		}
		def = b
	}
	var per []sim.Bandwidth
	for _, nb := range nodes {
		b, err := sim.ParseBandwidth(nb.Bandwidth)
		if err != nil { // unreachable after Validate
			return 0, nil, &Error{Field: field, Msg: err.Error()}
		}
		for len(per) <= nb.Node {
			per = append(per, 0)
		}
		per[nb.Node] = b
	}
	return def, per, nil
}
