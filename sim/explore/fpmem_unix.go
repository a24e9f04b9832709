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

// fpMap maps a zeroed table of n slots (and n depths after them); ok is
// false if the system refuses (the caller then uses the heap).
func fpMap(n int, withDepth bool) (slots []uint64, depths []uint8, m fpMem, ok bool) {
	b, err := syscall.Mmap(-1, 0, fpBytes(n, withDepth), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil, nil, false
	}
	slots = unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), n)
	if withDepth {
		depths = b[8*n:]
	}
	return slots, depths, b, true
}

// free unmaps m (nothing when it is nil). The table must not be used after.
func (m fpMem) free() {
	if m != nil {
		_ = syscall.Munmap(m)
	}
}
