package pbft

// VariantBatchDigest is the digest D(m) that replicas of variant v compute
// for batch (BatchDigest for the correct protocol), for the transcript
// tests' injected PRE-PREPAREs.
func VariantBatchDigest(v Variant, batch []*Request) Digest {
	d, _ := rulesOf(v).batchDigest(nil, batch)
	return d
}
