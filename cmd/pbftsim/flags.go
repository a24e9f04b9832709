package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/pbftsim/pbftsim/reports/sweep"
	"github.com/pbftsim/pbftsim/scenarios"
)

// Shared flags: a flag name means one thing in every command that has it,
// with one parser and one help text (README "CLI reference"). Commands
// register them through these helpers only; TestSharedFlags checks that
// every command parses each one the same way.

// outDir is the folder where commands write the files they write by
// default (replay files of violations, counterexample traces and
// diagrams, hunt results). It is relative to the working directory and
// listed in .gitignore.
const outDir = "pbftsim-out"

// seedsValue is --seeds: "A..B" (inclusive) or "N", which means the N
// seeds 1..N.
type seedsValue struct{ r sweep.Range }

func (s *seedsValue) String() string { return s.r.String() }
func (s *seedsValue) Type() string   { return "A..B|N" }
func (s *seedsValue) Set(v string) error {
	r, err := sweep.ParseRange(v)
	if err != nil {
		return err
	}
	s.r = r
	return nil
}

// seedsUsage is the help text of --seeds in every command.
const seedsUsage = "seeds to run: an inclusive range A..B, or N for the N seeds 1..N"

func addSeedsFlag(f *pflag.FlagSet, v *seedsValue, def sweep.Range) {
	v.r = def
	f.Var(v, "seeds", seedsUsage)
}

// nodesValue is --nodes: a comma-separated list of replica counts n, each
// in [4, scenarios.MaxN]; a single n is a list of one.
type nodesValue struct{ ns []int }

func (n *nodesValue) String() string {
	s := make([]string, len(n.ns))
	for i, x := range n.ns {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}
func (n *nodesValue) Type() string { return "N[,N...]" }
func (n *nodesValue) Set(v string) error {
	ns, err := parseNodes(v)
	if err != nil {
		return err
	}
	n.ns = ns
	return nil
}

// nodesUsage is the help text of --nodes in every command.
var nodesUsage = fmt.Sprintf("replica counts n: one n or a comma-separated list like 4,7,10, each in [4, %d]", scenarios.MaxN)

func addNodesFlag(f *pflag.FlagSet, v *nodesValue, def []int, note string) {
	v.ns = def
	u := nodesUsage
	if note != "" {
		u += "; " + note
	}
	f.Var(v, "nodes", u)
}

// parseNodes parses a --nodes list: each n an integer in [4, MaxN], no
// duplicates, at least one.
func parseNodes(list string) ([]int, error) {
	var ns []int
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer: want one n or a comma-separated list such as 4,7,10", f)
		}
		if n < 4 || n > scenarios.MaxN {
			return nil, fmt.Errorf("n=%d is out of range: want each n in [4, %d] (PBFT needs n >= 3f+1 with f >= 1)", n, scenarios.MaxN)
		}
		for _, m := range ns {
			if m == n {
				return nil, fmt.Errorf("n=%d is listed twice", n)
			}
		}
		ns = append(ns, n)
	}
	if len(ns) == 0 {
		return nil, fmt.Errorf("%q: want one n or a comma-separated list such as 4,7,10", list)
	}
	return ns, nil
}

// addOutFlag registers --out, the command's primary output; what it is
// (file or folder) and its default are said in what.
func addOutFlag(f *pflag.FlagSet, v *string, def, what string) {
	f.StringVar(v, "out", def, "primary output: "+what)
}

// addSeedFlag registers --seed, the seed everything random in the command
// derives from.
func addSeedFlag(f *pflag.FlagSet, v *uint64, def uint64, what string) {
	u := "the seed everything random in the command derives from"
	if what != "" {
		u += "; " + what
	}
	f.Uint64Var(v, "seed", def, u)
}

// addScenarioFlag registers --scenario.
func addScenarioFlag(f *pflag.FlagSet, v *string, def string) {
	f.StringVar(v, "scenario", def, "built-in scenario name (pbftsim scenarios) or scenario file")
}

// addWorkersFlag registers --workers.
func addWorkersFlag(f *pflag.FlagSet, v *int) {
	f.IntVar(v, "workers", 0, "simulations run at once (0: one per CPU)")
}

// addQuietFlag registers --quiet.
func addQuietFlag(f *pflag.FlagSet, v *bool) {
	f.BoolVar(v, "quiet", false, "no progress output on stderr")
}

// addListFlag registers --list: print the command's choices and exit.
func addListFlag(f *pflag.FlagSet, v *bool, what string) {
	f.BoolVar(v, "list", false, "print "+what+", one a line, and exit")
}

// addFailuresFlag registers --failures, the number of failing seeds a
// sweep summary lists.
func addFailuresFlag(f *pflag.FlagSet, v *int) {
	f.IntVar(v, "failures", 20, "failing seeds listed in the summary (each with the command that replays it)")
}

// addJSONFlag registers --json.
func addJSONFlag(f *pflag.FlagSet, v *bool, note string) {
	u := "print JSON on stdout instead of text"
	if note != "" {
		u += " (" + note + ")"
	}
	f.BoolVar(v, "json", false, u)
}
