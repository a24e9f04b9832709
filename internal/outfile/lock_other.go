//go:build !unix

package outfile

// Lock is a no-op on systems without flock(2).
type Lock struct{}

// Acquire does not lock on systems without flock(2).
func Acquire(path string) (*Lock, error) { return &Lock{}, nil }

// Release is a no-op.
func (l *Lock) Release() {}
