//go:build unix

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pbftsim/pbftsim/internal/outfile"
)

// TestOutputsNeverDestroyInputs: an output that is an input (by another
// spelling of its path or a link) is refused with exit 2, input untouched.
func TestOutputsNeverDestroyInputs(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	sc := filepath.Join(dir, "sc.yaml")
	scBody := []byte("name: sc\nn: 4\nnetwork: {delay: const:1ms}\n")
	if err := os.WriteFile(sc, scBody, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := cli(t, "run", "--trace", "run.jsonl", "--out", ""); code != 0 {
		t.Fatalf("run --trace: %d %s", code, errs)
	}
	trace := mustRead(t, "run.jsonl")
	if err := os.Link("run.jsonl", "hard.jsonl"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args  []string
		input string
		body  []byte
	}{
		{[]string{"run", "--scenario", sc, "--trace", sc}, sc, scBody},
		{[]string{"run", "--scenario", "sc.yaml", "--trace", sc}, sc, scBody},
		{[]string{"run", "--scenario", sc, "--trace", "./sc.yaml"}, sc, scBody},
		{[]string{"run", "--scenario", sc, "--out", "sc.yaml"}, sc, scBody},
		{[]string{"trace", "run.jsonl", "--svg", "run.jsonl"}, "run.jsonl", trace},
		{[]string{"trace", "run.jsonl", "--html", filepath.Join(dir, "run.jsonl")}, "run.jsonl", trace},
		{[]string{"trace", "run.jsonl", "--svg", "hard.jsonl"}, "run.jsonl", trace},
		{[]string{"trace", "run.jsonl", "--svg", "a.svg", "--html", "a.svg"}, "run.jsonl", trace},
		{[]string{"sweep", "--scenario", sc, "--seeds", "1", "--out", "sc.yaml"}, sc, scBody},
		{[]string{"merge", "--out", "run.jsonl", "run.jsonl"}, "run.jsonl", trace},
	}
	for _, c := range cases {
		_, errs, code := cli(t, c.args...)
		if code != 2 || !strings.Contains(errs, "refusing to overwrite") {
			t.Errorf("%v: exit %d %q, want 2 refusing to overwrite", c.args, code, errs)
		}
		unchanged(t, c.input, c.body)
	}
}

// TestOutputLockAndFIFO: a second writer of an output is refused while
// the first holds its lock; a FIFO output is written in place.
func TestOutputLockAndFIFO(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "run.jsonl")
	lock, err := outfile.Acquire(out)
	if err != nil {
		t.Fatal(err)
	}
	_, errs, code := cli(t, "run", "--trace", out, "--out", "")
	if code != 2 || !strings.Contains(errs, "being written by another command") {
		t.Errorf("run --trace with the output locked: exit %d %q", code, errs)
	}
	lock.Release()
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the refused run wrote its output: %v", err)
	}

	fifo := filepath.Join(dir, "fifo.jsonl")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no mkfifo:", err)
	}
	got := make(chan []byte)
	go func() {
		data, _ := os.ReadFile(fifo)
		got <- data
	}()
	if _, errs, code := cli(t, "run", "--trace", fifo, "--out", ""); code != 0 {
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.Close() // let the reader go
		}
		t.Fatalf("run --trace FIFO: exit %d %s", code, errs)
	}
	data := <-got
	if n := bytes.Count(data, []byte("\n")); n < 100 {
		t.Errorf("read %d trace lines through the FIFO", n)
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced by a file")
	}
}

// TestDefaultOutputFolder: files written by default go to ./pbftsim-out/,
// named in the summary, with mode 0644 under umask 022.
func TestDefaultOutputFolder(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	t.Chdir(dir)
	out, errs, code := cli(t, "run", "--scenario", "beyond-f")
	if code == 2 {
		t.Fatalf("run beyond-f: %s", errs)
	}
	want := filepath.Join(outDir, "beyond-f-seed")
	if !strings.Contains(out, "replay file: "+want) {
		t.Fatalf("summary does not name the replay file in %s/:\n%s", outDir, out)
	}
	entries, err := os.ReadDir(outDir)
	if err != nil || len(entries) < 4 {
		t.Fatalf("%s: %v %v", outDir, entries, err)
	}
	for _, e := range entries {
		info, _ := e.Info()
		if info.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want 0644", e.Name(), info.Mode().Perm())
		}
	}
	top, _ := os.ReadDir(".")
	if len(top) != 1 {
		t.Errorf("files outside %s/: %v", outDir, top)
	}
}
