package properties

import (
	"fmt"
	"testing"

	"github.com/pbftsim/pbftsim/scenarios"
)

// The HotStuff scenarios the broken variants are tested on.
const (
	// hsEquivocation: replica 0 proposes conflicting blocks of one height to
	// replica 1 and to replicas 2, 3 (the built-in equivocating leader).
	hsEquivocation = `
protocol: hotstuff
n: 4
workload: {clients: 2, requests: 8, payments: 4}
network: {delay: "uniform:1ms:5ms"}
byzantine:
  - {replica: 0, strategy: equivocate, params: {groups: "1|2,3"}}
run: {max_time: 10s}
`
	// hsForkAttack: replica 0 decides its view-1 block only at replica 1,
	// which the network then isolates until GST; when replica 0 leads again
	// (view 5) it proposes a block at height 1 that conflicts with the one
	// replicas 2 and 3 are locked on, justified by the genesis QC.
	hsForkAttack = `
protocol: hotstuff
n: 4
workload: {clients: 1, requests: 4, payments: 2}
network: {delay: "const:1ms", gst: 5s, delta: 10ms}
byzantine:
  - {replica: 0, strategy: fork, params: {groups: "1|2,3"}}
adversary:
  - {from: [1], drop: 1, start: 30ms}
  - {to: [1], drop: 1, start: 30ms}
run: {max_time: 30s}
`
	// hsSlowNetwork: every message takes 40ms, so a view needs about 320ms,
	// more than the 200ms base view timeout.
	hsSlowNetwork = `
protocol: hotstuff
n: 4
workload: {clients: 1, requests: 4, payments: 2}
network: {delay: "const:40ms"}
run: {max_time: 30s}
`
)

func parseHS(t *testing.T, src string, seed uint64, variant string) scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Parse("hotstuff.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	sc.Seed, sc.Protocol.Variant = seed, variant
	return *sc
}

// TestHotStuffVariantsCaught shows that the generic checkers catch each
// broken HotStuff variant on a scenario where the correct protocol passes.
func TestHotStuffVariantsCaught(t *testing.T) {
	tests := []struct {
		variant, scenario, property string
	}{
		{"small-qc", hsEquivocation, Agreement},
		{"no-safenode", hsForkAttack, Agreement},
		{"unlock-lower", hsForkAttack, Agreement},
		{"fixed-timeout", hsSlowNetwork, Liveness},
	}
	for _, tc := range tests {
		t.Run(tc.variant, func(t *testing.T) {
			for seed := uint64(1); seed <= 3; seed++ {
				good, err := RunScenario(parseHS(t, tc.scenario, seed, ""), RunOptions{Liveness: true})
				if err != nil {
					t.Fatal(err)
				}
				if good.Failed() || !good.LivenessChecked || !good.Result.Completed {
					t.Fatalf("seed %d: the correct protocol fails the scenario: %s (completed %v)", seed, good.Summary(), good.Result.Completed)
				}
				bad, err := RunScenario(parseHS(t, tc.scenario, seed, tc.variant), RunOptions{Liveness: true})
				if err != nil {
					t.Fatal(err)
				}
				if bad.Property() != tc.property {
					t.Fatalf("seed %d: variant %s: first violation %q, want %q (%s)", seed, tc.variant, bad.Property(), tc.property, bad.Summary())
				}
			}
		})
	}
}

// TestHotStuffBuiltins runs the built-in HotStuff scenarios under every
// checker (liveness included) over a few seeds.
func TestHotStuffBuiltins(t *testing.T) {
	for _, name := range []string{"hotstuff-fault-free", "hotstuff-crashed-leader", "hotstuff-equivocating-leader", "hotstuff-lossy-wan", "hotstuff-partition"} {
		for seed := uint64(1); seed <= 4; seed++ {
			t.Run(fmt.Sprintf("%s/seed=%d", name, seed), func(t *testing.T) {
				sc, err := scenarios.Builtin(name)
				if err != nil {
					t.Fatal(err)
				}
				sc.Seed = seed
				o, err := RunScenario(*sc, RunOptions{Liveness: true})
				if err != nil {
					t.Fatal(err)
				}
				if o.Failed() || !o.LivenessChecked || !o.Result.Completed || o.Result.Protocol != "hotstuff" {
					t.Fatalf("%s (liveness checked %v, completed %v, protocol %q)", o.Summary(), o.LivenessChecked, o.Result.Completed, o.Result.Protocol)
				}
			})
		}
	}
}
