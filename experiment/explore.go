package experiment

import (
	"fmt"
	"path/filepath"

	pexplore "github.com/pbftsim/pbftsim/properties/explore"
)

// ExploreOptions describe an exhaustive exploration (pbftsim explore).
type ExploreOptions struct {
	// Config holds the bounds, the variant and the search mode.
	Config pexplore.Config
	// Out is the replay file of a counterexample; "" writes
	// OutDir/explore-VARIANT.replay.yaml.
	Out, OutDir string
	// Version is written into the replay file.
	Version string
}

// ExploreResult is what Explore found.
type ExploreResult struct {
	*pexplore.Result
	// Replay is the replay file written for the counterexample ("" when
	// none was written: no violation, or Result.ReplayErr says why).
	Replay string
}

// Explore runs the exploration o describes and writes the replay file of
// its counterexample. The error says how it ended when that is not "no
// violation within the bounds" (which includes a budget or Ctrl-C that
// stopped it: the result's verdict says how far it got): a violation, a
// replay file that could not be written, or bad options (*InputError).
// The result is non-nil whenever the exploration ran.
func Explore(o ExploreOptions) (*ExploreResult, error) {
	res, err := pexplore.Explore(o.Config)
	if err != nil {
		return nil, bad(err)
	}
	r := &ExploreResult{Result: res}
	if !res.Found() {
		return r, nil
	}
	name := o.Config.VariantName()
	violation := fmt.Errorf("variant %s violates %s", name, res.Property)
	if res.ReplayErr != nil {
		return r, violation
	}
	out := o.Out
	if out == "" {
		out = filepath.Join(o.OutDir, "explore-"+name+".replay.yaml")
	}
	if err := WriteReplay(res.Outcome, out, o.Version); err != nil {
		return r, err
	}
	r.Replay = out
	return r, violation
}

// ExploreAll explores the correct protocol and every broken variant with
// c's bounds (pexplore.AllVariants), handing each row to row as it is
// done, and returns how many broken variants were found. The error is a
// violation by the correct protocol, or bad options (*InputError).
func ExploreAll(c pexplore.Config, row func(pexplore.VariantRow)) (found int, err error) {
	correctFails := false
	err = pexplore.AllVariants(c, func(r pexplore.VariantRow) {
		if r.Found == "yes" {
			if r.Variant == "correct" {
				correctFails = true
			} else {
				found++
			}
		}
		row(r)
	})
	switch {
	case err != nil:
		return found, bad(err)
	case correctFails:
		return found, fmt.Errorf("the correct protocol violates a property within these bounds")
	}
	return found, nil
}
