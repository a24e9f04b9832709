package experiment

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/sim/cluster"
	"github.com/pbftsim/pbftsim/sim/hotstuff"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// HuntOptions configures a hunt for a violation on a deliberately broken
// protocol variant (pbftsim hunt).
type HuntOptions struct {
	// Protocol whose variants are hunted: "" or "pbft", "hotstuff",
	// "chained-hotstuff".
	Protocol string
	// Variant is the variant to hunt (NewHunt; "correct" hunts the
	// correct protocol). NewHuntAll hunts every broken one.
	Variant string
	// Budget is the search's budget (per variant with NewHuntAll):
	// wall-clock time, or the process's CPU time with BudgetCPU.
	Budget    time.Duration
	BudgetCPU bool
	Seed      uint64
	// Generic searches with check's generator only; Guided (with Generic)
	// makes it coverage-guided.
	Generic, Guided bool
	// Out is the replay file of a violation, with its counterexample
	// beside it ("" writes none; NewHunt only); Version is recorded in it.
	Out, Version string
	// Progress, if set, is called with each variant's row as it is done
	// (NewHuntAll only).
	Progress func(properties.HuntRow)
}

// Variants returns the names of protocol's variants, one a line of
// pbftsim hunt --list (the broken ones and "correct" for PBFT).
func Variants(protocol string) ([]string, error) {
	if err := checkProtocol(protocol); err != nil {
		return nil, err
	}
	if cluster.IsHotStuff(protocol) {
		return properties.HotStuffVariantNames(protocol), nil
	}
	return properties.VariantNames(), nil
}

// checkProtocol checks a hunt's protocol.
func checkProtocol(protocol string) error {
	if protocol != "" && protocol != cluster.ProtocolPBFT && !cluster.IsHotStuff(protocol) {
		return badField("protocol", "--protocol: unknown protocol %q: want one of %s", protocol, strings.Join(cluster.Protocols, ", "))
	}
	return nil
}

// checkSearch checks the options both kinds of hunt share.
func (o *HuntOptions) checkSearch(all bool) error {
	if err := checkProtocol(o.Protocol); err != nil {
		return err
	}
	if all && o.Guided && cluster.IsHotStuff(o.Protocol) {
		return badField("guided", "--guided: PBFT only (its coverage probes are PBFT's); hunt %s --all without it", o.Protocol)
	}
	if o.Budget <= 0 {
		return badField("budget", "--budget %v: want a positive duration, e.g. 60s", o.Budget)
	}
	if o.Guided && !o.Generic {
		return badField("guided", "--guided: only with --generic")
	}
	return nil
}

// Hunt is a checked hunt for one variant, ready to run.
type Hunt struct{ o HuntOptions }

// NewHunt checks o (the protocol, the variant, the budget) and returns the
// hunt it describes.
func NewHunt(o HuntOptions) (*Hunt, error) {
	if err := o.checkSearch(false); err != nil {
		return nil, err
	}
	if o.Variant == "" {
		return nil, badField("variant", "--variant: required (one of the names from `pbftsim hunt --list`, or correct)")
	}
	if cluster.IsHotStuff(o.Protocol) {
		if _, err := hotstuff.ParseVariant(o.Variant, o.Protocol == cluster.ProtocolChainedHotStuff); err != nil && o.Variant != "correct" {
			return nil, badField("variant", "--variant: %w", err)
		}
	} else if _, err := pbft.ParseVariant(o.Variant); err != nil {
		return nil, badField("variant", "--variant: %w", err)
	}
	return &Hunt{o}, nil
}

// HuntResult is what a hunt found.
type HuntResult struct {
	// Finding is the search's result: Found, the shrunk failure, the
	// cases and times.
	*properties.Finding
	// Saved names the files written for the violation (nil when none).
	Saved *Saved
	// Interrupted is true when the context stopped the search before it
	// found a violation.
	Interrupted bool
}

// Run hunts (properties.HuntWith) and writes the violation's replay file
// and counterexample. The error says a violation was found, or the hunt
// was interrupted (ErrInterrupted); a budget that ran out without a
// violation is no error.
func (h *Hunt) Run(ctx context.Context) (*HuntResult, error) {
	o := h.o
	f, err := properties.HuntWith(ctx, properties.HuntSpec{Variant: o.Variant, Budget: o.Budget, BudgetCPU: o.BudgetCPU,
		Seed: o.Seed, Generic: o.Generic, Guided: o.Guided, Protocol: o.Protocol})
	if err != nil {
		return nil, err
	}
	r := &HuntResult{Finding: f}
	switch {
	case f.Found:
		if r.Saved, err = saveFinding(f, o.Out, o.Version); err != nil {
			return r, err
		}
		return r, fmt.Errorf("property %s violated", f.Property)
	case ctx.Err() != nil:
		r.Interrupted = true
		return r, interrupted(fmt.Errorf("hunt interrupted: %d cases run", f.Cases))
	}
	return r, nil
}

// HuntAll is a checked hunt of every broken variant, ready to run.
type HuntAll struct {
	o    HuntOptions
	spec properties.HuntAllSpec
}

// NewHuntAll checks o and returns the hunt of every broken variant of its
// protocol, one after the other (o.Variant and o.Out must be empty).
func NewHuntAll(o HuntOptions) (*HuntAll, error) {
	if err := o.checkSearch(true); err != nil {
		return nil, err
	}
	if o.Variant != "" {
		return nil, badField("variant", "--all and --variant: give one of them")
	}
	if o.Out != "" {
		return nil, badField("out", "--out: not with --all (each row names its seed; rerun one variant with --variant to write its replay file)")
	}
	spec := properties.HuntAllSpec{Budget: o.Budget, BudgetCPU: o.BudgetCPU, Seed: o.Seed, Generic: o.Generic,
		Guided: o.Guided, Progress: o.Progress}
	if cluster.IsHotStuff(o.Protocol) {
		spec.Protocol = o.Protocol
	}
	return &HuntAll{o: o, spec: spec}, nil
}

// Variants returns the variants the hunt will hunt, in order.
func (h *HuntAll) Variants() []string { return properties.HuntAllVariants(h.spec.Protocol) }

// Run hunts every variant in turn and returns one row each. The error
// says how many variants were not found.
func (h *HuntAll) Run(ctx context.Context) ([]properties.HuntRow, error) {
	rows, err := properties.HuntAll(ctx, h.spec)
	if err != nil {
		return nil, err
	}
	missed := 0
	for _, r := range rows {
		if !r.Found {
			missed++
		}
	}
	if missed > 0 {
		return rows, fmt.Errorf("%d of %d variants not found within %v each", missed, len(rows), h.o.Budget)
	}
	return rows, nil
}
