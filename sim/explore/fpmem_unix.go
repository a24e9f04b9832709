//go:build unix

package explore

import (
	"syscall"
	"unsafe"
)

// fpMapped says that large fingerprint tables are mapped outside the Go heap.
const fpMapped = true

// fpMem is the anonymous memory mapping behind a large fingerprint table
// (nil when the table is on the Go heap).
type fpMem []byte

// fpMap maps a zeroed table of n slots (and n aux values of aux bytes
// each after them, see fpAux); ok is false if the system refuses (the
// caller then uses the heap).
func fpMap(n int, aux fpAux) (slots []uint64, extra []byte, m fpMem, ok bool) {
	b, err := syscall.Mmap(-1, 0, fpBytes(n, aux), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil, nil, false
	}
	slots = unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), n)
	return slots, b[8*n:], b, true
}

// free unmaps m (nothing when it is nil). The table must not be used after.
func (m fpMem) free() {
	if m != nil {
		_ = syscall.Munmap(m)
	}
}
