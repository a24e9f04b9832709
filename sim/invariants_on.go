//go:build invariants

package sim

// invariantsTag: this build checks that messages are not mutated after they
// are sent (see msgSeals).
const invariantsTag = true
