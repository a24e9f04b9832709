//go:build !invariants

package sim

// invariantsTag: build with -tags invariants to check that messages are not
// mutated after they are sent (see msgSeals).
const invariantsTag = false
