package ledger

// forget clears the cached Merkle hashes below n, as if no Digest had run.
func forget(n *node) {
	if n == nil {
		return
	}
	n.summed = false
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
	n.summed = false
	return true
}
