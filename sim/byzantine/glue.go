package byzantine

import (
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// batchDigest is D(batch), as replicas compute it.
func batchDigest(batch []*pbft.Request) pbft.Digest { return pbft.BatchDigest(batch) }

// sign (re-)signs m, a fresh copy made by a strategy, with the replica's own
// signer. Messages without a signature field (REPLY) are left alone.
func sign(s pbft.Signer, m any) {
	switch m := m.(type) {
	case *pbft.Request:
		m.Sig = s.Sign(m)
	case *pbft.PrePrepare:
		m.Sig = s.Sign(m)
	case *pbft.Prepare:
		m.Sig = s.Sign(m)
	case *pbft.Commit:
		m.Sig = s.Sign(m)
	case *pbft.Checkpoint:
		m.Sig = s.Sign(m)
	case *pbft.ViewChange:
		m.Sig = s.Sign(m)
	case *pbft.NewView:
		m.Sig = s.Sign(m)
	}
}
