//go:build unix

package outfile

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Lock is the advisory lock of an output (PATH.lock, flock(2)). The kernel
// drops it when the process exits, so a killed command never leaves a
// stale lock behind (the file may stay; it holds nothing).
type Lock struct {
	path string
	f    *os.File
}

// Acquire takes the lock of output path without waiting: a *LockedError
// when another process holds it.
func Acquire(path string) (*Lock, error) {
	lp := path + LockSuffix
	for range 10 {
		f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE, 0o666)
		if err != nil {
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, &LockedError{Output: path}
			}
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		// The holder before us may have removed the file between our open
		// and our flock: then we hold a lock nobody else can see; retry.
		held, err1 := f.Stat()
		named, err2 := os.Stat(lp)
		if err1 == nil && err2 == nil && os.SameFile(held, named) {
			return &Lock{path: lp, f: f}, nil
		}
		f.Close()
	}
	return nil, &LockedError{Output: path}
}

// Release removes the lock file and drops the lock. It is a no-op on a nil
// or released lock.
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	// Removed while still held, so that no other command can lock the
	// path being removed and then lose its lock file.
	os.Remove(l.path)
	l.f.Close()
	l.f = nil
}
