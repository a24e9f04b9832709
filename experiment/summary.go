package experiment

import (
	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// Summary is the JSON object of a run (pbftsim run --json): the cluster
// result plus the scenario and the checkers' verdict.
type Summary struct {
	*cluster.Result
	Scenario   string                 `json:"scenario"`
	Verdict    string                 `json:"verdict"`
	Properties []properties.Judgement `json:"properties"`
	// FullyJudged is true when every property was judged in full and not
	// vacuously (the only case "properties: ok" is printed).
	FullyJudged bool            `json:"fully_judged"`
	Violations  []JSONViolation `json:"violations"`
	Accused     []JSONAccused   `json:"accused"`
}

// JSONAccused is an accusation in the JSON of a run.
type JSONAccused struct {
	Replica sim.NodeID `json:"replica"`
	View    uint64     `json:"view"`
	Seq     uint64     `json:"seq"`
	TimeNs  int64      `json:"time_ns"`
	Reason  string     `json:"reason"`
}

// NewSummary returns the JSON summary of the run o of the scenario named
// scenario; checked says whether the checkers ran (else the verdict is
// "unchecked").
func NewSummary(o *properties.Outcome, scenario string, checked bool) Summary {
	s := Summary{Result: o.Result, Scenario: scenario, Verdict: o.Verdict(), Properties: o.Judgements,
		Violations: []JSONViolation{}, Accused: []JSONAccused{}}
	s.FullyJudged = o.FullyJudged()
	if s.Properties == nil {
		s.Properties = []properties.Judgement{}
	}
	if !checked {
		s.Verdict = "unchecked"
	}
	for _, v := range o.Violations {
		s.Violations = append(s.Violations, NewJSONViolation(v))
	}
	for _, a := range o.Accused {
		s.Accused = append(s.Accused, JSONAccused{a.Replica, a.View, a.Seq, int64(a.Time), a.Reason})
	}
	return s
}

// JSONViolation is a violation in the JSON of run --json and replay --json.
type JSONViolation struct {
	Property string       `json:"property"`
	Replicas []sim.NodeID `json:"replicas"`
	View     uint64       `json:"view"`
	Seq      uint64       `json:"seq"`
	TimeNs   int64        `json:"time_ns"`
	Detail   string       `json:"detail"`
}

// NewJSONViolation converts a violation for JSON.
func NewJSONViolation(v properties.Violation) JSONViolation {
	return JSONViolation{v.Property, v.Replicas, v.View, v.Seq, int64(v.Time), v.Detail}
}
