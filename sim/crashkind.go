package sim

import (
	"fmt"
	"strings"
)

// CrashKind says what a crash does to a node's storage. The kernel only
// carries it: it hands the kind to the node with InputRecover (Input.Crash)
// and the node's protocol models its stable store accordingly (for PBFT see
// package sim/pbft, Store). The zero value is CrashKeep.
type CrashKind uint8

// The crash kinds.
const (
	// CrashKeep: the node keeps its whole state, volatile or not (a
	// paused process); only its timers are lost. The default.
	CrashKeep CrashKind = iota
	// CrashAmnesia: the process dies; its volatile state is lost, its
	// stable store is kept, including writes not yet synced (the
	// operating system still flushes them).
	CrashAmnesia
	// CrashLoseUnsynced: the machine loses power; the volatile state and
	// every write to the stable store after its last sync are lost.
	CrashLoseUnsynced
	// CrashWipe: the node comes back with a new, empty disk: everything is
	// lost and it must catch up from the others.
	CrashWipe
)

// CrashKindNames are the spellings of the crash kinds, in order.
var CrashKindNames = []string{"keep", "amnesia", "lose-unsynced", "wipe"}

// String returns the kind's name ("keep", "amnesia", ...).
func (k CrashKind) String() string {
	if int(k) < len(CrashKindNames) {
		return CrashKindNames[k]
	}
	return fmt.Sprintf("CrashKind(%d)", k)
}

// ParseCrashKind parses a crash kind name; "" is CrashKeep. Errors are
// *ConfigError naming field and the allowed values.
func ParseCrashKind(field, s string) (CrashKind, error) {
	if s == "" {
		return CrashKeep, nil
	}
	for i, n := range CrashKindNames {
		if s == n {
			return CrashKind(i), nil
		}
	}
	return 0, cfgErr(field, fmt.Sprintf("%q", s), "one of "+strings.Join(CrashKindNames, ", "))
}

// MarshalText implements encoding.TextMarshaler.
func (k CrashKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *CrashKind) UnmarshalText(b []byte) error {
	v, err := ParseCrashKind("crash.kind", string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}
