package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/pbftsim/pbftsim/experiment"
	"github.com/pbftsim/pbftsim/properties"
)

// writeCounterexample writes the counterexample's trace and diagrams next
// to the replay file (experiment.WriteCounterexample) and names them.
func writeCounterexample(w io.Writer, o *properties.Outcome, ro properties.RunOptions, replayPath string) error {
	ce, err := experiment.WriteCounterexample(o, ro, replayPath)
	if err != nil || ce == nil {
		return err
	}
	fmt.Fprintf(w, "counterexample trace: %s\ndiagram: %s, %s\n", ce.Trace, ce.SVG, ce.HTML)
	return nil
}

// writeReplayFile writes the replay file of o (experiment.WriteReplay); an
// output that is an input is bad input.
func writeReplayFile(o *properties.Outcome, path string, inputs ...string) error {
	return cliError(experiment.WriteReplay(o, path, version, inputs...))
}

// cliError maps an experiment's input error to exit status 2.
func cliError(err error) error {
	var ie *experiment.InputError
	if errors.As(err, &ie) {
		return usage(err)
	}
	return err
}
