package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

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

// checkJSON prints the summary as JSON (writing the replay file of a
// failure) and returns the command's exit error.
func checkJSON(w io.Writer, rep *properties.SearchReport, seed uint64, out string) error {
	s := checkSummary{Cases: rep.Cases, Seconds: rep.Elapsed.Seconds(), Seed: seed, Probes: rep.Probes,
		Corpus: rep.Corpus, Coverage: rep.Coverage}
	var exit error
	if f := rep.Failure; f != nil {
		if err := writeReplayFile(f.Outcome, out); err != nil {
			return &exitError{code: 1, err: err}
		}
		s.Failure = &checkFailure{Property: f.Property, Violation: f.Violation.String(), Seed: f.Scenario.Seed,
			Knobs: properties.ParseKnobs(f.Original.Description).String(), TraceHash: f.Outcome.TraceHash(), Replay: out}
		exit = &exitError{code: 1, err: fmt.Errorf("property %s violated", f.Property)}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return &exitError{code: 1, err: err}
	}
	return exit
}
