package experiment

import (
	"errors"
	"fmt"
)

// InputError wraps an error caused by the experiment's input (a scenario
// that does not validate, an option out of range, an output that is an
// input or is locked): the CLI's exit status 2. Any other error of an
// experiment is a failure (exit status 1), unless it wraps ErrInterrupted.
type InputError struct {
	// Field names the option at fault as the CLI's flag without dashes
	// ("budget", "variant", "out"); "" when the fault is in a file.
	Field string
	Err   error
}

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// bad marks err as an input error.
func bad(err error) error {
	if err == nil {
		return nil
	}
	return &InputError{Err: err}
}

// badField returns an input error of the option field; the message is
// format and args (it names the flag itself, e.g. "--budget 0s: ...").
func badField(field, format string, args ...any) error {
	return &InputError{Field: field, Err: fmt.Errorf(format, args...)}
}

// ErrInterrupted is wrapped by the error of an experiment that its context
// stopped (Ctrl-C) before it finished: the CLI's exit status 130.
var ErrInterrupted = errors.New("interrupted")

// interruptedError keeps err's message and adds ErrInterrupted to its chain.
type interruptedError struct{ err error }

func (e interruptedError) Error() string   { return e.err.Error() }
func (e interruptedError) Unwrap() []error { return []error{e.err, ErrInterrupted} }

// interrupted marks err as the error of an interrupted experiment.
func interrupted(err error) error { return interruptedError{err} }
