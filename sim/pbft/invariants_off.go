//go:build !invariants

package pbft

// invariantsTag: build with -tags invariants to check the replica
// invariants after every step (tests of this package check them anyway).
const invariantsTag = false
