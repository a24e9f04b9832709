package properties

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/pbftsim/pbftsim/scenarios"
)

// FailingSeed is one failing seed of a sweep, as triage reads it.
type FailingSeed struct {
	Seed    uint64
	Verdict string // the violated property (or "error", "panic")
	Detail  string
	Knobs   map[string]string // swarm knobs (nil for a one-scenario sweep)
}

// TriageGroup is a set of failing seeds with one signature, and the replay
// of one of them, shrunk.
type TriageGroup struct {
	Signature string `json:"signature"`
	Property  string `json:"property"`
	// Message is the shape of the first violation (numbers masked): what
	// conflicted.
	Message    string   `json:"message"`
	Strategies string   `json:"strategies"`
	Faults     string   `json:"faults"`
	Seeds      []uint64 `json:"seeds"`
	// Shrunk is the first seed's scenario, shrunk (same property); Replay
	// the replay file written for it ("" when the rerun did not fail).
	Shrunk      *scenarios.Scenario `json:"-"`
	Replay      string              `json:"replay,omitempty"`
	N           int                 `json:"n,omitempty"`
	Requests    int                 `json:"requests,omitempty"`
	ShrinkSteps int                 `json:"shrink_steps,omitempty"`
	// Note says why a group has no replay file.
	Note string `json:"note,omitempty"`
}

var (
	hexes  = regexp.MustCompile(`\b[0-9a-f]*[0-9][0-9a-f]*[a-f][0-9a-f]*\b|\b[0-9a-f]*[a-f][0-9a-f]*[0-9][0-9a-f]*\b`)
	digits = regexp.MustCompile(`[0-9]+(\.[0-9]+)?(ns|µs|ms|s)?`)
)

// messageShape masks the numbers (times, ids, sequence numbers) of a
// violation's detail, so that violations of one kind compare equal.
func messageShape(detail string) string {
	s := digits.ReplaceAllString(hexes.ReplaceAllString(detail, "<d>"), "#")
	if i := strings.Index(s, "): "); i >= 0 { // past "(view #, seq #, nodes [#])"
		s = s[i+3:]
	}
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

// signature groups failing seeds: the property, the shape of the first
// conflicting message, the Byzantine strategy set and the fault families.
func signatureOf(f FailingSeed) (prop, msg, strategies, faults string) {
	prop, msg = f.Verdict, messageShape(f.Detail)
	strategies, faults = "-", "-"
	if f.Knobs != nil {
		strategies = f.Knobs["strategies"]
		var fs []string
		for _, k := range []string{"crashes", "partition", "oneway", "clog", "targeted", "leader_delay", "drop"} {
			if v, ok := f.Knobs[k]; ok && v != "off" && v != "0" && v != "false" {
				fs = append(fs, k)
			}
		}
		faults = strings.Join(fs, ",")
		if faults == "" {
			faults = "none"
		}
	}
	return
}

// Triage groups failing seeds by signature (property, shape of the first
// conflicting message, strategy set, fault families), reruns and shrinks
// the first seed of each group (scenarioOf gives a seed's scenario) and
// writes its replay file into dir as GROUP.replay.yaml. Groups come in
// order of their first seed.
func Triage(ctx context.Context, failing []FailingSeed, scenarioOf func(seed uint64) (scenarios.Scenario, error), dir string) ([]TriageGroup, error) {
	groups := GroupFailing(failing)
	for gi := range groups {
		if ctx.Err() != nil {
			return groups, ctx.Err()
		}
		g := &groups[gi]
		seed := g.Seeds[0]
		sc, err := scenarioOf(seed)
		if err != nil {
			return groups, fmt.Errorf("seed %d: %w", seed, err)
		}
		o, err := rerunSafely(sc)
		if err != nil {
			g.Note = err.Error()
			continue
		}
		if !o.Failed() {
			g.Note = "the rerun (stopped at the first violation) did not fail"
			continue
		}
		if o.Property() != g.Property && (slices.Contains(SafetyProperties, g.Property) || g.Property == Liveness) {
			g.Note = fmt.Sprintf("the rerun stopped at %s first", o.Property())
		}
		fd := shrinkFinding(ctx, o, seed, sc.Protocol.Variant)
		g.Shrunk = &fd.Scenario
		g.N, g.Requests, g.ShrinkSteps = max(fd.Scenario.N, 4), fd.Scenario.Workload.Requests, fd.ShrinkSteps
		name := fmt.Sprintf("%02d-%s-seed%d.replay.yaml", gi+1, fd.Property, seed)
		path := filepath.Join(dir, name)
		if err := fd.Outcome.WriteReplay(path); err != nil {
			return groups, err
		}
		g.Replay = path
	}
	return groups, nil
}

// rerunSafely reruns sc the way check does, turning a panic of the run
// into an error (a sweep records panics as verdicts).
func rerunSafely(sc scenarios.Scenario) (o *Outcome, err error) {
	defer func() {
		if p := recover(); p != nil {
			o, err = nil, fmt.Errorf("the rerun panicked: %v", p)
		}
	}()
	return RunScenario(sc, RunOptions{Liveness: true, StopOnViolation: true})
}

// GroupFailing groups failing seeds by signature as Triage does (property,
// shape of the first conflicting message, strategy set, fault families),
// without rerunning them. Groups come in order of their first seed.
func GroupFailing(failing []FailingSeed) []TriageGroup {
	var groups []TriageGroup
	index := map[string]int{}
	for _, f := range failing {
		prop, msg, strat, faults := signatureOf(f)
		sig := prop + " | " + msg + " | " + strat + " | " + faults
		i, ok := index[sig]
		if !ok {
			i = len(groups)
			index[sig] = i
			groups = append(groups, TriageGroup{Signature: sig, Property: prop, Message: msg, Strategies: strat, Faults: faults})
		}
		groups[i].Seeds = append(groups[i].Seeds, f.Seed)
	}
	return groups
}
