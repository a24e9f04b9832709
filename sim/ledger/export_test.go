package ledger

// forget clears the cached Merkle hashes below n, as if no Digest had run.
func forget(n *node) {
	if n == nil {
		return
	}
	n.summed = false
	for _, k := range n.kids {
		forget(k.n)
	}
}
