package reports

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/pbftsim/pbftsim/internal/outfile"
)

// ErrInterrupted is returned (wrapped) by Generate when its context ended
// the sweep: the finished runs are kept in the journal (JournalPath) and
// Options.Resume continues from them.
var ErrInterrupted = errors.New("report interrupted")

// ErrJournalExists is returned (wrapped) by Generate when an interrupted
// report left its journal and Options.Resume is not set: the finished runs
// are never thrown away silently.
var ErrJournalExists = errors.New("an interrupted report left its finished runs")

// JournalPath is where a report sweep keeps its finished runs until the
// report folder out is written: one JSON line per run, after a line that
// identifies the sweep.
func JournalPath(out string) string {
	return strings.TrimRight(out, `/\`) + ".runs.partial"
}

// journal appends finished runs to the journal file, one whole line each.
type journal struct {
	mu   sync.Mutex
	path string
	f    *os.File
	off  int64
	lock *outfile.Lock
	err  error
	// runs counts the runs in the file.
	runs int
}

// journalHead identifies a report sweep: a journal is resumed only by the
// same sweep.
type journalHead struct {
	Kind     string   `json:"kind"`
	Version  string   `json:"version"`
	Scenario string   `json:"scenario"`
	Command  string   `json:"command"`
	Nodes    []int    `json:"nodes"`
	Seeds    []uint64 `json:"seeds"`
	Requests int      `json:"requests"`
	Batch    int      `json:"batch"`
	K        int      `json:"k"`
}

func (p *plan) journalHead() []byte {
	b, _ := json.Marshal(journalHead{Kind: "pbftsim-report-runs/1", Version: p.opt.Version, Scenario: p.opt.Scenario,
		Command: p.opt.Command, Nodes: p.nodes, Seeds: p.seeds, Requests: p.base.Requests, Batch: p.batch, K: p.k})
	return append(b, '\n')
}

// openJournal opens the journal of p: a new one, or with resume the
// existing one, whose runs it returns by point index.
func openJournal(p *plan) (*journal, map[int]Run, error) {
	path := JournalPath(p.opt.Out)
	lock, err := outfile.Acquire(path)
	if err != nil {
		return nil, nil, inputErr("out", "%v", err)
	}
	j := &journal{path: path, lock: lock}
	done := map[int]Run{}
	head := p.journalHead()
	_, statErr := os.Stat(path)
	switch {
	case statErr != nil && p.opt.Resume:
		lock.Release()
		return nil, nil, inputErr("resume", "there is no %s to continue", path)
	case statErr != nil:
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if err != nil {
			lock.Release()
			return nil, nil, fmt.Errorf("report: %w", err)
		}
		j.f = f
		if err := j.write(head); err != nil {
			j.abort()
			return nil, nil, err
		}
		return j, done, nil
	case !p.opt.Resume:
		lock.Release()
		return nil, nil, fmt.Errorf("%w in %s: rerun with --resume to continue from them, or delete it to start over", ErrJournalExists, path)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		lock.Release()
		return nil, nil, fmt.Errorf("report: --resume: %w", err)
	}
	j.f = f
	index := map[point]int{}
	for i, pt := range p.points() {
		index[pt] = i
	}
	br := bufio.NewReader(f)
	for n := 0; ; n++ {
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			j.abort()
			return nil, nil, fmt.Errorf("report: --resume %s: %w", path, err)
		}
		if len(line) == 0 || line[len(line)-1] != '\n' {
			break // the end, or a torn last line
		}
		if n == 0 {
			if !bytes.Equal(line, head) {
				f.Close()
				lock.Release()
				return nil, nil, inputErr("resume", "%s is the journal of another report (other scenario, n, seeds or version): %s", path, bytes.TrimSpace(line))
			}
			j.off += int64(len(line))
			continue
		}
		var r Run
		if json.Unmarshal(line, &r) != nil {
			break
		}
		i, ok := index[point{n: r.N, seed: r.Seed}]
		if !ok {
			break
		}
		done[i] = r
		j.runs++
		j.off += int64(len(line))
	}
	if j.off == 0 {
		f.Close()
		lock.Release()
		return nil, nil, inputErr("resume", "%s has no header line", path)
	}
	if err := f.Truncate(j.off); err != nil {
		j.abort()
		return nil, nil, fmt.Errorf("report: %w", err)
	}
	if _, err := f.Seek(j.off, io.SeekStart); err != nil {
		j.abort()
		return nil, nil, fmt.Errorf("report: %w", err)
	}
	return j, done, nil
}

// write appends one line; a failed write is cut back so no torn line
// stays.
func (j *journal) write(line []byte) error {
	n, err := j.f.Write(line)
	if err != nil {
		_ = j.f.Truncate(j.off)
		_, _ = j.f.Seek(j.off, io.SeekStart)
		return fmt.Errorf("report: writing %s: %w", j.path, err)
	}
	j.off += int64(n)
	return nil
}

// add appends a finished run (safe for concurrent use). The first error
// is kept and later runs are not written.
func (j *journal) add(r Run) {
	if j == nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return
	}
	b, err := json.Marshal(r)
	if err != nil {
		j.err = err
		return
	}
	j.err = j.write(append(b, '\n'))
	if j.err == nil {
		j.runs++
	}
}

// keep closes the journal, leaving the file for --resume.
func (j *journal) keep() error {
	err := errors.Join(j.err, j.f.Sync(), j.f.Close())
	j.lock.Release()
	return err
}

// abort closes and removes the journal (the report is written, or the
// sweep failed in a way a rerun would not fix).
func (j *journal) abort() {
	j.f.Close()
	os.Remove(j.path)
	j.lock.Release()
}
