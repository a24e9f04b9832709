//go:build unix

package outfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestSameFileRefused(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.yaml")
	if err := os.WriteFile(in, []byte("input"), 0o644); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.yaml")
	if err := os.Link(in, hard); err != nil {
		t.Fatal(err)
	}
	sym := filepath.Join(dir, "sym.yaml")
	if err := os.Symlink(in, sym); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, out := range []string{in, "in.yaml", "./sub/../in.yaml", hard, sym} {
		_, err := Create(out, "in.yaml")
		var se *SameFileError
		if !errors.As(err, &se) || !IsInputError(err) {
			t.Errorf("Create(%s) with input in.yaml: %v, want a SameFileError", out, err)
		}
	}
	if err := os.Mkdir("sub", 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Create("./sub/../in.yaml", in); err == nil {
		t.Errorf("a path through a folder was not resolved")
	}
	if got, _ := os.ReadFile(in); string(got) != "input" {
		t.Fatalf("input changed: %q", got)
	}
	if err := WriteFile(filepath.Join(dir, "other.yaml"), []byte("x"), in); err != nil {
		t.Fatalf("a distinct output was refused: %v", err)
	}
}

func TestModeAndAbort(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	p := filepath.Join(dir, "out.txt")
	if err := WriteFile(p, []byte("one\n")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v (%v), want 0644 under umask 022", st.Mode().Perm(), err)
	}
	f, err := Create(p)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("two\n")
	f.Abort()
	if got, _ := os.ReadFile(p); string(got) != "one\n" {
		t.Fatalf("Abort changed the output: %q", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("leftovers after Abort: %v", entries)
	}
}

func TestLockRefusesSecondWriter(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out.jsonl")
	a, err := Create(p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Create(p)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second writer: %v, want a LockedError", err)
	}
	a.WriteString("a\n")
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	b, err := Create(p)
	if err != nil {
		t.Fatalf("after the first writer committed: %v", err)
	}
	b.Abort()
	if _, err := os.Stat(p + LockSuffix); !os.IsNotExist(err) {
		t.Fatalf("lock file left behind: %v", err)
	}
}

func TestFIFOWrittenDirectly(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skip("no mkfifo:", err)
	}
	got := make(chan string)
	go func() {
		data, _ := os.ReadFile(p)
		got <- string(data)
	}()
	if err := WriteFile(p, []byte("through the pipe\n")); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "through the pipe\n" {
		t.Fatalf("read %q", s)
	}
	if st, err := os.Lstat(p); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO was replaced: %v %v", st.Mode(), err)
	}
}
