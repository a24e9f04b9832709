package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/pbftsim/pbftsim/experiment"
	"github.com/pbftsim/pbftsim/properties"
)

// writeProbes prints the coverage probes a search reached: hit ones with
// their counts, then the names of those never hit.
func writeProbes(w io.Writer, rep *properties.SearchReport) {
	var missed []string
	fmt.Fprintln(w, "coverage probes (reports, cases):")
	for _, p := range rep.Probes {
		if p.Hits == 0 {
			missed = append(missed, p.Probe)
			continue
		}
		fmt.Fprintf(w, "  %-40s %9d %7d\n", p.Probe, p.Hits, p.Cases)
	}
	if len(missed) > 0 {
		fmt.Fprintf(w, "  never hit: %s\n", strings.Join(missed, ", "))
	}
	if rep.Coverage > 0 {
		fmt.Fprintf(w, "guided: %d (probe, view) combinations reached, corpus of %d cases\n", rep.Coverage, rep.Corpus)
	}
}

// checkSummary is the JSON form of check's result.
type checkSummary struct {
	Cases    int                    `json:"cases"`
	Seconds  float64                `json:"seconds"`
	Seed     uint64                 `json:"seed"`
	Probes   []properties.ProbeStat `json:"probes"`
	Corpus   int                    `json:"corpus,omitempty"`
	Coverage int                    `json:"coverage,omitempty"`
	// Failure is the shrunk failure (absent when every case passed).
	Failure *checkFailure `json:"failure,omitempty"`
}

type checkFailure struct {
	Property  string `json:"property"`
	Violation string `json:"violation"`
	Seed      uint64 `json:"seed"`
	Knobs     string `json:"knobs,omitempty"`
	TraceHash string `json:"trace_hash"`
	Replay    string `json:"replay"`
}

// newCheckSummary is the JSON form of a search's result.
func newCheckSummary(r *experiment.SearchResult) checkSummary {
	s := checkSummary{Cases: r.Cases, Seconds: r.Elapsed.Seconds(), Seed: r.Seed, Probes: r.Probes,
		Corpus: r.Corpus, Coverage: r.Coverage}
	if f := r.Failure; f != nil {
		s.Failure = &checkFailure{Property: f.Property, Violation: f.Violation.String(), Seed: f.Scenario.Seed,
			Knobs: properties.ParseKnobs(f.Original.Description).String(), TraceHash: f.Outcome.TraceHash()}
		if r.Saved != nil {
			s.Failure.Replay = r.Saved.Replay
		}
	}
	return s
}
