package explore

import (
	"reflect"
	"slices"
	"testing"

	"github.com/pbftsim/pbftsim/sim/ledger"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// fieldNames returns the "Type.field" names, as the Copier's Skip and
// Reset name them, of every struct field reachable by type from roots
// (through pointers, slices, arrays and maps; not through interfaces,
// hence several roots).
func fieldNames(roots ...reflect.Type) map[string]bool {
	names := map[string]bool{}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		if seen[t] {
			return
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(t.Elem())
		case reflect.Map:
			walk(t.Key())
			walk(t.Elem())
		case reflect.Struct:
			for i := range t.NumField() {
				f := t.Field(i)
				names[t.Name()+"."+f.Name] = true
				walk(f.Type)
			}
		}
	}
	for _, r := range roots {
		walk(r)
	}
	return names
}

// TestCopierFieldNamesExist: every field the explorer's Copier skips or
// resets by name exists in the replica's, the client's or the ledger's
// types. The Copier matches names silently, so a renamed field would
// otherwise be copied and hashed into every state (session 11's ledger
// hasher was). It fails on a name that no type has.
func TestCopierFieldNamesExist(t *testing.T) {
	have := fieldNames(reflect.TypeFor[pbft.Replica](), reflect.TypeFor[pbft.Client](),
		reflect.TypeFor[ledger.Ledger](), reflect.TypeFor[ledger.Frozen]())
	if have["Ledger.renamedAway"] || !have["Replica.out"] {
		t.Fatalf("the field walk is broken: %d names", len(have))
	}
	cp := copier()
	var missing []string
	for _, m := range []map[string]bool{cp.Skip, cp.Reset, cp.Shallow} {
		for name := range m {
			if !have[name] {
				missing = append(missing, name)
			}
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("the Copier names fields no type has (renamed or removed?): %v", missing)
	}
}
