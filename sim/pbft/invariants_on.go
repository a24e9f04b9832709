//go:build invariants

package pbft

// invariantsTag: this build checks the replica invariants after every step.
const invariantsTag = true
