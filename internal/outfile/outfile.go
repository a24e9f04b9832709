// Package outfile writes pbftsim's output files so that an output never
// destroys an input or another command's output:
//
//   - an output that is the same file as one of the command's inputs
//     (compared by resolved path and by file identity, so a relative and an
//     absolute path, a symbolic or a hard link all count) is refused with
//     a *SameFileError before anything is written;
//   - a regular output is written to a temporary file beside it and renamed
//     into place on Commit, so a reader never sees half a file and an
//     interrupted command leaves the old file as it was;
//   - an existing non-regular output (/dev/stdout, a FIFO, a terminal) is
//     written directly, never replaced by a rename;
//   - while a command writes an output it holds a lock (PATH.lock, an
//     advisory lock the kernel drops if the process dies): a second command
//     writing the same output at once is refused with a *LockedError;
//   - files are created with mode 0666 minus the umask (0644 with the usual
//     umask 022), as any other tool creates them.
package outfile

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// SameFileError is returned when an output is one of the inputs.
type SameFileError struct {
	Output, Input string
}

func (e *SameFileError) Error() string {
	if e.Output == e.Input {
		return fmt.Sprintf("output %s is also an input: refusing to overwrite it (choose another output path)", e.Output)
	}
	return fmt.Sprintf("output %s is the same file as the input %s: refusing to overwrite it (choose another output path)", e.Output, e.Input)
}

// LockedError is returned when another command is writing the output.
type LockedError struct {
	Output string
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("output %s is being written by another command (lock %s held): refusing to write it at the same time", e.Output, e.Output+LockSuffix)
}

// IsInputError reports whether err is a refusal caused by the command's
// arguments (same file, locked output), as opposed to an I/O failure.
func IsInputError(err error) bool {
	var s *SameFileError
	var l *LockedError
	return errors.As(err, &s) || errors.As(err, &l)
}

// LockSuffix is appended to an output path to name its lock file.
const LockSuffix = ".lock"

// CheckDistinct returns a *SameFileError if out is the same file as one of
// inputs: the same resolved absolute path (symbolic links followed) or the
// same file identity (device and inode). Inputs that do not exist are
// ignored, as is an out that does not exist yet (unless its resolved path
// names an input).
func CheckDistinct(out string, inputs ...string) error {
	outAbs := resolve(out)
	outInfo, outErr := os.Stat(out)
	for _, in := range inputs {
		if in == "" {
			continue
		}
		if resolve(in) == outAbs {
			return &SameFileError{Output: out, Input: in}
		}
		if outErr != nil {
			continue
		}
		if inInfo, err := os.Stat(in); err == nil && os.SameFile(inInfo, outInfo) {
			return &SameFileError{Output: out, Input: in}
		}
	}
	return nil
}

// resolve returns path as an absolute, cleaned path with symbolic links
// resolved as far as they exist.
func resolve(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	// The file does not exist yet: resolve its folder.
	if r, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		return filepath.Join(r, filepath.Base(abs))
	}
	return abs
}

// IsRegularOrMissing reports whether path does not exist or is a regular
// file (or a link to one): the outputs Create replaces by a rename.
func IsRegularOrMissing(path string) bool {
	st, err := os.Stat(path)
	return err != nil || st.Mode().IsRegular()
}

// File is an output being written. Write to it, then Commit or Abort;
// Abort after Commit is a no-op, so it can be deferred.
type File struct {
	path   string
	f      *os.File
	w      *bufio.Writer
	direct bool // a non-regular output written in place
	lock   *Lock
	done   bool
}

// Create starts writing the output path, refusing it if it is one of
// inputs or if another command holds its lock.
func Create(path string, inputs ...string) (*File, error) {
	if path == "" {
		return nil, errors.New("empty output path")
	}
	if err := CheckDistinct(path, inputs...); err != nil {
		return nil, err
	}
	if !IsRegularOrMissing(path) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			// Some devices refuse O_TRUNC.
			if f, err = os.OpenFile(path, os.O_WRONLY, 0); err != nil {
				return nil, fmt.Errorf("opening %s: %w", path, err)
			}
		}
		return &File{path: path, f: f, w: bufio.NewWriterSize(f, 256<<10), direct: true}, nil
	}
	lock, err := Acquire(path)
	if err != nil {
		return nil, err
	}
	f, err := CreateTemp(path)
	if err != nil {
		lock.Release()
		return nil, err
	}
	return &File{path: path, f: f, w: bufio.NewWriterSize(f, 256<<10), lock: lock}, nil
}

// CreateTemp creates a new temporary file beside path (".BASE.tmp-XXXX"),
// mode 0666 minus the umask.
func CreateTemp(path string) (*os.File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	for range 100 {
		var b [6]byte
		_, _ = rand.Read(b[:])
		name := filepath.Join(dir, "."+base+".tmp-"+hex.EncodeToString(b[:]))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("creating %s: %w", path, err)
		}
		return f, nil
	}
	return nil, fmt.Errorf("creating %s: no free temporary name", path)
}

// Write buffers p.
func (o *File) Write(p []byte) (int, error) { return o.w.Write(p) }

// WriteString buffers s.
func (o *File) WriteString(s string) (int, error) { return o.w.WriteString(s) }

// Path returns the output path.
func (o *File) Path() string { return o.path }

// Commit flushes the output and, for a regular file, syncs it and renames
// it into place.
func (o *File) Commit() error {
	if o.done {
		return fmt.Errorf("writing %s: already committed or aborted", o.path)
	}
	o.done = true
	defer o.lock.Release()
	err := o.w.Flush()
	if o.direct {
		if cerr := o.f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", o.path, err)
		}
		return nil
	}
	if err == nil {
		err = o.f.Sync()
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(o.f.Name(), o.path)
	}
	if err != nil {
		os.Remove(o.f.Name())
		return fmt.Errorf("writing %s: %w", o.path, err)
	}
	return nil
}

// Abort discards a regular output's temporary file (the output stays as
// it was); a direct output is closed.
func (o *File) Abort() {
	if o.done {
		return
	}
	o.done = true
	o.f.Close()
	if !o.direct {
		os.Remove(o.f.Name())
	}
	o.lock.Release()
}

// WriteFile writes data to path as Create and Commit do.
func WriteFile(path string, data []byte, inputs ...string) error {
	f, err := Create(path, inputs...)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Commit()
}
