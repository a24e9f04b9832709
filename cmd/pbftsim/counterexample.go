package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/pbftsim/pbftsim/experiment"
)

// printCounterexample names a counterexample's files (nothing for nil).
func printCounterexample(w io.Writer, ce *experiment.Counterexample) {
	if ce != nil {
		fmt.Fprintf(w, "counterexample trace: %s\ndiagram: %s, %s\n", ce.Trace, ce.SVG, ce.HTML)
	}
}

// cliError maps an experiment's input error to exit status 2.
func cliError(err error) error {
	var ie *experiment.InputError
	if errors.As(err, &ie) {
		return usage(err)
	}
	return err
}

// exitStatus maps the error an experiment ended with to the exit status:
// bad input 2, interrupted 130, any other error (a violation, nothing
// checked, a failed run) 1.
func exitStatus(err error) error {
	var ie *experiment.InputError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ie):
		return usage(err)
	case errors.Is(err, experiment.ErrInterrupted):
		return &exitError{code: exitInterrupted, err: err}
	}
	return &exitError{code: 1, err: err}
}
