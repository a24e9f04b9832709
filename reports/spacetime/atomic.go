package spacetime

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// AtomicFile is an output file that appears at its path only when
// committed: it is written to a temporary file in the same directory,
// flushed, synced and renamed over the path. Abort (or a failed Commit)
// removes the temporary file and leaves any old file untouched.
type AtomicFile struct {
	path string
	f    *os.File
	w    *bufio.Writer
	done bool
}

// CreateAtomic starts writing path.
func CreateAtomic(path string) (*AtomicFile, error) {
	if path == "" {
		return nil, errors.New("empty output path")
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	return &AtomicFile{path: path, f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

// Write buffers p.
func (a *AtomicFile) Write(p []byte) (int, error) { return a.w.Write(p) }

// WriteString buffers s.
func (a *AtomicFile) WriteString(s string) (int, error) { return a.w.WriteString(s) }

// Path returns the final path.
func (a *AtomicFile) Path() string { return a.path }

// Commit flushes, syncs and renames the file into place.
func (a *AtomicFile) Commit() error {
	if a.done {
		return fmt.Errorf("writing %s: already committed or aborted", a.path)
	}
	a.done = true
	err := a.w.Flush()
	if err == nil {
		err = a.f.Sync()
	}
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(a.f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(a.f.Name(), a.path)
	}
	if err != nil {
		os.Remove(a.f.Name())
		return fmt.Errorf("writing %s: %w", a.path, err)
	}
	return nil
}

// Abort discards the file. It is a no-op after Commit, so it can be
// deferred.
func (a *AtomicFile) Abort() {
	if a.done {
		return
	}
	a.done = true
	a.f.Close()
	os.Remove(a.f.Name())
}

// WriteFileAtomic writes path atomically with the bytes write produces.
func WriteFileAtomic(path string, write func(w io.Writer) error) error {
	a, err := CreateAtomic(path)
	if err != nil {
		return err
	}
	defer a.Abort()
	if err := write(a.w); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return a.Commit()
}
