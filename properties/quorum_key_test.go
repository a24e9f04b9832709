package properties

import (
	"testing"

	"github.com/pbftsim/pbftsim/sim/pbft"
)

// A vote for a digest changed in any single byte must not count as a vote
// for the original: the audit keys digests by all their bytes.
func TestQuorumDigestKeySeesEveryByte(t *testing.T) {
	d := pbft.BatchDigest(nil)
	for i := range d {
		e := d
		e[i] ^= 0x40
		if digestKey(e) == digestKey(d) {
			t.Fatalf("digests differing in byte %d share the audit's key", i)
		}
	}
}
