//go:build !unix

package explore

// fpMapped says that large fingerprint tables are mapped outside the Go heap.
const fpMapped = false

// fpMem stands for a memory mapping, which this system does not have:
// tables stay on the Go heap.
type fpMem []byte

func fpMap(n int, aux fpAux) ([]uint64, []byte, fpMem, bool) { return nil, nil, nil, false }

func (m fpMem) free() {}
