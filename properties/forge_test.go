package properties

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/scenarios"
)

// forgeYAML: COMMITs are lost before GST, so a view change to view 1 (whose
// primary is replica 1) happens with prepared certificates around; replica 1
// forges certificates and checkpoint proofs.
const forgeYAML = `
name: forge
seed: 1
n: 4
protocol: {checkpoint_interval: 4, window: 8}
workload: {clients: 2, requests: 8, payments: 3}
network: {delay: "uniform:1ms:5ms", gst: 400ms, delta: 10ms}
adversary:
  - {types: [COMMIT], drop: 1, start: 200ms, end: 400ms}
byzantine:
  - {replica: 1, strategy: forge, params: {kind: KIND}}
run: {max_time: 8s}
`

// TestForgeAccused: the correct protocol survives a replica forging
// certificates and checkpoint proofs (safety and liveness checked), and
// the forger, only the forger, is named from its forged VIEW-CHANGEs; the
// replay kind (relaying others' genuine messages) proves nothing against it.
func TestForgeAccused(t *testing.T) {
	for _, kind := range []string{"short-proof", "wrong-digest", "dup-signer", "short-cert", "replay"} {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("%s/seed=%d", kind, seed), func(t *testing.T) {
				sc, err := scenarios.Parse("forge", []byte(strings.ReplaceAll(forgeYAML, "KIND", kind)))
				if err != nil {
					t.Fatal(err)
				}
				sc.Seed = seed
				o, err := RunScenario(*sc, RunOptions{Liveness: true})
				if err != nil {
					t.Fatal(err)
				}
				if o.Failed() || !o.LivenessChecked {
					t.Fatalf("correct protocol failed (liveness checked %v): %s", o.LivenessChecked, o.Summary())
				}
				for _, a := range o.Accused {
					if a.Replica != 1 {
						t.Fatalf("replica %d accused: %v", a.Replica, a)
					}
				}
				if accused := len(o.Accused) > 0; accused != (kind != "replay") {
					t.Fatalf("forger accused = %v (%v), want %v", accused, o.Accused, kind != "replay")
				}
			})
		}
	}
}
