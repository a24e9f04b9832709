package byzantine

import "github.com/pbftsim/pbftsim/sim"

// ViewSeq returns the view and sequence number a NetRule's View and Seq
// matchers see in m (ok false when m carries none).
func ViewSeq(m sim.Message) (view uint64, hasView bool, seq uint64, hasSeq bool) {
	view, hasView = viewOf(m)
	seq, hasSeq = seqOf(m)
	return
}
