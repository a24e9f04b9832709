package properties

import (
	"testing"

	"github.com/pbftsim/pbftsim/sim/pbft"
)

// TestCheckerVerifyCacheAcrossResets: a reset with the same keyring keeps
// the checker's signature cache (a message verified before is a hit), and a
// reset with another keyring clears it, so a message signed under the first
// keyring is not taken as genuine under the second (fails if the cache is
// kept across keyrings).
func TestCheckerVerifyCacheAcrossResets(t *testing.T) {
	ka, kb := pbft.NewKeyring(1, 5), pbft.NewKeyring(2, 5)
	m := &pbft.Prepare{View: 0, Seq: 1, Replica: 1}
	m.Sig = ka.Signer(1).Sign(m)
	c := New(Options{N: 4, Keyring: ka})
	if !c.verify(m) {
		t.Fatal("a genuine signature rejected")
	}
	c.Reset(Options{N: 4, Keyring: ka})
	if vc := c.sigCache; vc == nil || !vc.Verify(pbft.NewKeyring(3, 5), m) {
		t.Fatal("same keyring: the cache was cleared (a hit answers without the keyring)")
	}
	c.Reset(Options{N: 4, Keyring: kb})
	if c.verify(m) {
		t.Fatal("another keyring: a signature of the first keyring taken as genuine (the cache was kept)")
	}
}
