package ledger

// forget clears the cached Merkle hashes below n, as if no Digest had run.
func forget(n *node) {
	if n == nil {
		return
	}
	n.sum = [32]byte{}
	for _, c := range n.subs {
		forget(c)
	}
}

// mutate changes payment id's record in l by f, in place and bypassing
// every rule (tests of CheckInvariants and CheckPayment); it reports
// whether id was found.
func mutate(l *Ledger, id string, f func(p *payment)) bool {
	n, off, end := find(l.root, keyOf(id), id)
	if n == nil {
		return false
	}
	p := decodeRec(id, n.recs[off:end])
	f(&p)
	n.recs = splice(n.recs, off, end, appendRecord(nil, &p), false)
	n.sum = [32]byte{}
	return true
}

// put is seek.put after seek.find: the trie root with the payment id's
// record rec (key h) added or in place of the record with that id.
func put(root *node, h uint64, id string, rec []byte, key func([]byte) uint64, own *owner) (*node, bool) {
	var s seek
	s.find(root, h, id)
	return s.put(root, h, id, rec, key, own)
}
