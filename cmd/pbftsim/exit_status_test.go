package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/experiment"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// TestExitStatus: the one mapping from an experiment's error to the exit
// status (bad input 2, interrupted 130, any other failure 1), and a report
// whose run fails exits 1 as its help says.
func TestExitStatus(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int
	}{
		{&experiment.InputError{Field: "out", Err: errors.New("--out: x")}, 2},
		{experiment.ErrInterrupted, exitInterrupted},
		{errors.New("property agreement violated"), 1},
	} {
		var ee *exitError
		if err := exitStatus(c.err); !errors.As(err, &ee) || ee.code != c.code || err.Error() != c.err.Error() {
			t.Errorf("%v: %v, want exit %d with the same message", c.err, err, c.code)
		}
	}
	if exitStatus(nil) != nil {
		t.Error("no error is exit 0")
	}
	old := reportRunner
	defer func() { reportRunner = old }()
	reportRunner = func(cluster.Config) (*cluster.Result, error) { return nil, errors.New("boom") }
	_, errs, code := cli(t, "report", "--quick", "--quiet", "--out", filepath.Join(t.TempDir(), "r"))
	if code != 1 || !strings.Contains(errs, "boom") {
		t.Errorf("report with a failing run: exit %d %q, want 1", code, errs)
	}
}
