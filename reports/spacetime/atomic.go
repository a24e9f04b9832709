package spacetime

import (
	"fmt"
	"io"

	"github.com/pbftsim/pbftsim/internal/outfile"
)

// AtomicFile is an output file that appears at its path only when
// committed: it is written to a temporary file in the same directory,
// flushed, synced and renamed over the path. Abort (or a failed Commit)
// removes the temporary file and leaves any old file untouched. An existing
// non-regular path (/dev/stdout, a FIFO) is written directly, and a lock
// beside the path refuses a second writer (see package outfile).
type AtomicFile = outfile.File

// CreateAtomic starts writing path.
func CreateAtomic(path string) (*AtomicFile, error) {
	return outfile.Create(path)
}

// WriteFileAtomic writes path atomically with the bytes write produces.
func WriteFileAtomic(path string, write func(w io.Writer) error) error {
	a, err := CreateAtomic(path)
	if err != nil {
		return err
	}
	defer a.Abort()
	if err := write(a); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return a.Commit()
}
