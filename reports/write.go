package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// Files of a report folder (plots add NAME.png and NAME.svg per figure).
const (
	FileMarkdown = "report.md"
	FileHTML     = "report.html"
	FileCSV      = "results.csv"
	FileResults  = "results.json"
	FileSummary  = "summary.json"
)

// writeHook, when set by tests, is called before each file is written and can
// make the write fail.
var writeHook func(name string) error

// checkWritable verifies, before any simulation runs, that out can be
// created or replaced: its parent is a writable folder, and out is absent,
// empty or a previous report folder (never an unrelated folder).
func checkWritable(out string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return inputErr("out", "%q: %v", out, err)
	}
	parent := filepath.Dir(abs)
	if parent == abs {
		return inputErr("out", "%q is a filesystem root; name a folder to create, e.g. %s", out, filepath.Join(abs, "report"))
	}
	info, err := os.Stat(parent)
	if err != nil {
		return inputErr("out", "parent folder of %q: %v", out, err)
	}
	if !info.IsDir() {
		return inputErr("out", "parent %q of %q is not a folder", parent, out)
	}
	probe, err := os.MkdirTemp(parent, "."+filepath.Base(abs)+".probe-*")
	if err != nil {
		return inputErr("out", "cannot write in %q: %v", parent, err)
	}
	if err := os.Remove(probe); err != nil {
		return fmt.Errorf("report: removing probe folder: %w", err)
	}
	return checkReplaceable(abs, out)
}

// checkReplaceable refuses to replace anything but a previous report or an
// empty folder.
func checkReplaceable(abs, out string) error {
	info, err := os.Lstat(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return inputErr("out", "%q: %v", out, err)
	}
	if !info.IsDir() {
		return inputErr("out", "%q exists and is not a folder", out)
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return inputErr("out", "cannot read existing folder %q: %v", out, err)
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(abs, FileSummary)); err != nil {
		return inputErr("out", "%q exists and is not a pbftsim report folder (no %s); choose a new folder or remove it", out, FileSummary)
	}
	return nil
}

// write renders the report into a temporary folder next to out and renames
// it into place. An existing out is moved aside only once the new report is
// complete, and removed after the swap; on any failure it is left as it was.
func write(s *Summary, out string) error {
	return writeFiles(func() ([]file, error) { return render(s) }, out)
}

// writeFiles renders files into a temporary folder next to out and renames
// it into place (see write).
func writeFiles(render func() ([]file, error), out string) (err error) {
	abs, err := filepath.Abs(out)
	if err != nil {
		return inputErr("out", "%q: %v", out, err)
	}
	files, err := render()
	if err != nil {
		return err
	}
	parent, base := filepath.Dir(abs), filepath.Base(abs)
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp-*")
	if err != nil {
		return inputErr("out", "cannot write in %q: %v", parent, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	for _, f := range files {
		if writeHook != nil {
			if err := writeHook(f.name); err != nil {
				return fmt.Errorf("report: writing %s: %w", f.name, err)
			}
		}
		if err := os.WriteFile(filepath.Join(tmp, f.name), f.data, 0o644); err != nil {
			return fmt.Errorf("report: writing %s: %w", f.name, err)
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := checkReplaceable(abs, out); err != nil {
		return err
	}
	if _, err := os.Lstat(abs); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(tmp, abs); err != nil {
			return fmt.Errorf("report: moving report into %q: %w", out, err)
		}
		return nil
	}
	aside, err := os.MkdirTemp(parent, "."+base+".old-*")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	old := filepath.Join(aside, base)
	if err := os.Rename(abs, old); err != nil {
		os.Remove(aside)
		return fmt.Errorf("report: moving previous report %q aside: %w", out, err)
	}
	if err := os.Rename(tmp, abs); err != nil {
		if rerr := os.Rename(old, abs); rerr != nil {
			return fmt.Errorf("report: moving report into %q: %w (previous report kept at %q: %v)", out, err, old, rerr)
		}
		os.Remove(aside)
		return fmt.Errorf("report: moving report into %q: %w", out, err)
	}
	if err := os.RemoveAll(aside); err != nil {
		return fmt.Errorf("report: written to %q, but removing the previous one at %q: %w", out, aside, err)
	}
	return nil
}

type file struct {
	name string
	data []byte
}

// render produces every file of the report in memory.
func render(s *Summary) ([]file, error) {
	figs, err := figures(s)
	if err != nil {
		return nil, err
	}
	doc := document(s, figs)
	csvData, err := resultsCSV(s.Runs)
	if err != nil {
		return nil, err
	}
	runs, err := json.MarshalIndent(s.Runs, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("report: results.json: %w", err)
	}
	sum, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("report: summary.json: %w", err)
	}
	html, err := doc.html(figs)
	if err != nil {
		return nil, err
	}
	files := []file{
		{FileMarkdown, doc.markdown()},
		{FileHTML, html},
		{FileCSV, csvData},
		{FileResults, append(runs, '\n')},
		{FileSummary, append(sum, '\n')},
	}
	for _, f := range figs {
		files = append(files, file{f.Name + ".png", f.PNG}, file{f.Name + ".svg", f.SVG})
	}
	return files, nil
}

// CSVColumns returns the header of results.csv (types are KnownTypes plus
// any other type seen in runs).
func CSVColumns(runs []Run) []string {
	cols := []string{"n", "f", "seed", "submitted", "committed", "completed",
		"messages", "bytes", "dropped", "duplicated",
		"messages_per_request", "bytes_per_request", "normal_per_request", "normal_bytes_per_request",
		"checkpoint_per_request", "view_change_per_request", "other_per_request",
		"checkpoint_rounds", "checkpoint_per_round",
		"view_changes", "messages_per_view_change", "bytes_per_view_change",
		"latency_p50_ns", "latency_p99_ns", "latency_max_ns", "throughput_per_sim_s",
		"sim_time_ns", "events", "trace_hash",
		"bytes_per_sec_per_replica", "max_sender_bytes_per_sec", "queue_wait_mean_ms", "queue_wait_max_ms", "ingress_wait_mean_ms", "longest_stall_ms"}
	types := typesOf(runs, true)
	for _, t := range types {
		cols = append(cols, "msgs_"+t)
	}
	for _, t := range types {
		cols = append(cols, "bytes_"+t)
	}
	return append(cols, "wall_time_ns")
}

func resultsCSV(runs []Run) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	cols := CSVColumns(runs)
	if err := w.Write(cols); err != nil {
		return nil, err
	}
	types := typesOf(runs, true)
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	u := func(x uint64) string { return strconv.FormatUint(x, 10) }
	i := func(x int64) string { return strconv.FormatInt(x, 10) }
	for _, r := range runs {
		row := []string{strconv.Itoa(r.N), strconv.Itoa(r.F), u(r.Seed), strconv.Itoa(r.Submitted),
			strconv.Itoa(r.Committed), strconv.FormatBool(r.Completed),
			u(r.Messages), u(r.Bytes), u(r.Dropped), u(r.Duplicated),
			g(r.MessagesPerRequest), g(r.BytesPerRequest), g(r.NormalPerRequest), g(r.NormalBytesPerRequest),
			g(r.CheckpointPerRequest), g(r.ViewChangePerRequest), g(r.OtherPerRequest),
			strconv.Itoa(r.CheckpointRounds), g(r.CheckpointPerRound),
			strconv.Itoa(r.ViewChanges), g(r.MessagesPerViewChange), g(r.BytesPerViewChange),
			i(r.LatencyP50Ns), i(r.LatencyP99Ns), i(r.LatencyMaxNs), g(r.Throughput),
			i(r.SimTimeNs), u(r.Events), r.TraceHash,
			g(r.BytesPerSecPerReplica), g(r.MaxSenderBytesPerSec), g(r.QueueWaitMeanMs), g(r.QueueWaitMaxMs), g(r.IngressWaitMeanMs), g(r.StallMs)}
		for _, t := range types {
			row = append(row, u(r.ByType[t]))
		}
		for _, t := range types {
			row = append(row, u(r.BytesByType[t]))
		}
		row = append(row, i(r.WallTimeNs))
		if len(row) != len(cols) {
			return nil, fmt.Errorf("report: results.csv: row has %d fields, header %d", len(row), len(cols))
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("report: results.csv: %w", err)
	}
	return buf.Bytes(), nil
}
