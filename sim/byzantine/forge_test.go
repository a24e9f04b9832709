package byzantine

import (
	"fmt"
	"testing"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// forgedIn reports whether vc breaks a rule of VIEW-CHANGE validation
// (checked here independently of forge's own isForged): a checkpoint proof
// short of 2f+1, of mixed digests or seqs, or repeating a signer; a prepared
// certificate short of 2f, with a PREPARE of another digest or a repeated
// signer.
func forgedIn(vc *pbft.ViewChange) bool {
	if vc.StableSeq > 0 {
		if len(vc.Checkpoints) < 2*testF+1 {
			return true
		}
		seen := map[sim.NodeID]bool{}
		for _, c := range vc.Checkpoints {
			if seen[c.Replica] || c.Seq != vc.StableSeq || c.StateDigest != vc.Checkpoints[0].StateDigest {
				return true
			}
			seen[c.Replica] = true
		}
	}
	for _, pc := range vc.Prepared {
		if len(pc.Prepares) < 2*testF {
			return true
		}
		seen := map[sim.NodeID]bool{}
		for _, p := range pc.Prepares {
			if seen[p.Replica] || p.Digest != pc.PrePrepare.Digest {
				return true
			}
			seen[p.Replica] = true
		}
	}
	return false
}

// TestForgeSurvived runs the correct protocol with one replica forging
// certificates and checkpoint proofs (each kind, and all drawn at random),
// as a backup and as the primary of the view a network rule forces: the
// forgeries are really sent, every message it sends in another's name is
// one that node signed (it forges nothing it cannot), and the honest
// replicas agree and, without the rule, finish the workload.
func TestForgeSurvived(t *testing.T) {
	kinds := append([]string{""}, forgeKinds...)
	for _, kind := range kinds {
		for _, vcRule := range []bool{false, true} {
			name := fmt.Sprintf("kind=%s/view-change=%v", kind, vcRule)
			t.Run(name, func(t *testing.T) {
				var params map[string]string
				if kind != "" {
					params = map[string]string{"kind": kind}
				}
				id, rules := sim.NodeID(2), []NetRule(nil)
				if vcRule {
					id, rules = 1, commitsOfView0 // replica 1 is the next primary
				}
				cr := runCluster(t, 3, []faulty{{id, "forge", params}}, rules)
				var honest []sim.NodeID
				for i := 0; i < testN; i++ {
					if sim.NodeID(i) != id {
						honest = append(honest, sim.NodeID(i))
					}
				}
				if !cr.agree(honest) {
					t.Fatalf("honest replicas disagree: %v", cr.log.executed)
				}
				if !vcRule && !cr.completed() {
					t.Fatalf("clients did not finish: %v", cr.log.accepted)
				}
				forged, relayed, nvs := 0, 0, 0 // nvs: NEW-VIEWs carrying a forged VIEW-CHANGE
				for _, st := range cr.byz[id].steps {
					for _, s := range st {
						walk(s.Msg, func(m sim.Message) {
							if sg, ok := m.(pbft.Signable); ok && !testKeys.Verify(sg) {
								t.Errorf("sent a %s with a bad signature: %+v", typeName(m), m)
							}
						})
						switch m := s.Msg.(type) {
						case *pbft.ViewChange:
							if m.Replica == id && forgedIn(m) {
								forged++
							}
						case *pbft.NewView:
							for _, vc := range m.ViewChanges {
								if vc.Replica == id && forgedIn(vc) {
									nvs++
								}
							}
						}
						if a, ok := claimedID(s.Msg); ok && a != id {
							relayed++
						}
					}
				}
				t.Logf("forged VIEW-CHANGEs %d, NEW-VIEWs with one %d, relayed %d, views %v", forged, nvs, relayed, cr.log.views)
				switch {
				case kind == "replay" && relayed == 0:
					t.Fatal("replay relayed nothing")
				case kind != "replay" && kind != "" && forged == 0:
					t.Fatal("no forged VIEW-CHANGE sent")
				case kind != "replay" && kind != "" && relayed > 0:
					t.Fatalf("%d messages relayed in others' names", relayed)
				}
				if nvs > 0 && cr.log.views[0] < 2 {
					t.Errorf("replica 0 reached view %d; the forged NEW-VIEW of view 1 must be rejected", cr.log.views[0])
				}
			})
		}
	}
}

func TestForgeParams(t *testing.T) {
	if err := Check("forge", map[string]string{"kind": "short-proof,replay"}, 1, 4); err != nil {
		t.Fatal(err)
	}
	if err := Check("forge", map[string]string{"kind": "nonsense"}, 1, 4); err == nil {
		t.Fatal("unknown forgery accepted")
	}
}
