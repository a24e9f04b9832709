// Package cputime reads the CPU time the process has used (user plus
// system), for figures that must not depend on how loaded the machine is:
// a search's wall-clock seconds on a shared host say more about the other
// processes than about the search.
package cputime

import "time"

// Process returns the CPU time (user plus system) used by the process so
// far, and false where the platform does not report it.
func Process() (time.Duration, bool) { return process() }
