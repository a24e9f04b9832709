package scenarios

import (
	"fmt"

	"github.com/pbftsim/pbftsim/sim/cluster"
)

// Check validates s and builds (without running) the cluster it
// describes, and returns its configuration: the one check that pbftsim
// validate, run and sweep apply (through experiment.Check), so that
// validate accepts exactly what the others run.
func (s *Scenario) Check() (cluster.Config, error) {
	cfg, err := s.Config()
	if err != nil {
		return cfg, err
	}
	if _, err := cluster.New(cfg); err != nil {
		return cfg, fmt.Errorf("scenario %s: %w", s.Name, err)
	}
	return cfg, nil
}
