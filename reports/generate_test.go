package reports

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pbftsim/pbftsim/sim/cluster"
)

func quickOpts(t *testing.T, out string) Options {
	t.Helper()
	return Options{Scenario: "fault-free", Seeds: 2, Workers: 3, Out: out, Command: "pbftsim report --out " + out, Version: "test"}
}

func lossyBase() cluster.Config {
	var c cluster.Config
	c.Network.Default.Drop = 0.05
	return c
}

func TestGenerateFaultFreeMatchesClosedForm(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "rep")
	opt := quickOpts(t, out)
	var progress bytes.Buffer
	opt.Progress = &progress
	s, err := Generate(context.Background(), opt, synthetic)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Nodes, DefaultNodes) || len(s.Runs) != len(DefaultNodes)*2 || s.Out != out {
		t.Fatalf("nodes %v runs %d out %q", s.Nodes, len(s.Runs), s.Out)
	}
	if math.Abs(s.Fit.Exponent-2) > 0.05 {
		t.Errorf("exponent %v, want 2 ± 0.05", s.Fit.Exponent)
	}
	if !s.Exact || !s.WithinBound || !s.OrderN2 || !s.ConstantsWithin || len(s.Deviations) != 0 {
		t.Errorf("exact=%v within=%v order=%v constants=%v deviations=%v", s.Exact, s.WithinBound, s.OrderN2, s.ConstantsWithin, s.Deviations)
	}
	// Exact closed-form equality at every n, per type and per checkpoint round.
	for _, p := range s.Points {
		cf := ClosedFormCounts(p.N, 1, defaultCheckpointInterval)
		if p.NormalPerRequest.Mean != cf.NormalPerRequest || p.Ratio != 1 || p.NormalPerRequest.Std != 0 {
			t.Errorf("n=%d: normal %+v, closed form %v", p.N, p.NormalPerRequest, cf.NormalPerRequest)
		}
		for typ, want := range cf.PerType {
			if got := p.ByType[typ].Mean; got != want {
				t.Errorf("n=%d %s: %v per request, want %v", p.N, typ, got, want)
			}
		}
		if p.CheckpointPerRound.Mean != cf.CheckpointPerRound {
			t.Errorf("n=%d: checkpoint per round %v, want %v", p.N, p.CheckpointPerRound.Mean, cf.CheckpointPerRound)
		}
	}
	if math.Abs(s.Quadratic.A-2) > 1e-6 || math.Abs(s.Quadratic.B+1) > 1e-4 || math.Abs(s.Quadratic.C-1) > 1e-3 {
		t.Errorf("quadratic %+v, want 2n²−n+1", s.Quadratic)
	}
	if !strings.Contains(progress.String(), "20/20 runs") {
		t.Errorf("progress: %q", progress.String())
	}
	checkReportFiles(t, out, s)
	md := readFile(t, filepath.Join(out, FileMarkdown))
	for _, want := range []string{"WITHIN the O(n²) bound", f3(s.Fit.Exponent), "equal the closed form exactly", "pbftsim report --out", "test", "fault-free"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}

func TestGenerateLossyExceedsClosedForm(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "rep")
	opt := quickOpts(t, out)
	opt.Base = lossyBase()
	opt.Scenario = "lossy"
	opt.Quick = true
	s, err := Generate(context.Background(), opt, synthetic)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Nodes, QuickNodes) || s.Requests != QuickRequests {
		t.Fatalf("quick sweep: nodes %v requests %d", s.Nodes, s.Requests)
	}
	// One rule decides the headline, the table and within_bound: losses
	// raise the constants, not the order of growth.
	if !s.WithinBound || s.ConstantsWithin || s.Exact {
		t.Errorf("lossy sweep judged within=%v constants=%v exact=%v", s.WithinBound, s.ConstantsWithin, s.Exact)
	}
	for _, p := range s.Points {
		if !(p.NormalPerRequest.Mean > p.ClosedForm.NormalPerRequest) || p.Dropped.Mean == 0 {
			t.Errorf("n=%d: %v messages per request, closed form %v, dropped %v", p.N, p.NormalPerRequest.Mean, p.ClosedForm.NormalPerRequest, p.Dropped.Mean)
		}
	}
	if len(s.Deviations) != len(QuickNodes) {
		t.Fatalf("deviations: %+v", s.Deviations)
	}
	d := s.Deviations[0]
	if d.Phase != PhaseNormal || d.Ratio <= 1.05 || d.Dropped == 0 || !strings.Contains(d.Why, "retransmissions") {
		t.Errorf("deviation %+v", d)
	}
	if s.ViewChange == nil {
		t.Fatal("no view-change fit")
	}
	if math.Abs(s.ViewChange.Messages.Exponent-2) > 0.1 || s.ViewChange.Bytes.Exponent < 2.5 {
		t.Errorf("view change fits: messages n^%v bytes n^%v", s.ViewChange.Messages.Exponent, s.ViewChange.Bytes.Exponent)
	}
	checkReportFiles(t, out, s)
	md := readFile(t, filepath.Join(out, FileMarkdown))
	if strings.Contains(md, "NOT within") || !strings.Contains(md, "| within the O(n²) bound (the exponent; decides the headline) | yes |") {
		t.Errorf("report.md's headline and table disagree or say NOT within")
	}
	for _, want := range []string{"WITHIN the O(n²) bound, with constants above the closed form", "exceed the closed form", "dropped", "client retransmissions", f3(s.Fit.Exponent), "bytes per view change grow as n^"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkReportFiles checks that every file of a report exists, is non-empty
// and parses.
func checkReportFiles(t *testing.T, out string, s *Summary) {
	t.Helper()
	names := []string{FileMarkdown, FileHTML, FileCSV, FileResults, FileSummary}
	plots := []string{"messages_per_request", "bytes_per_request", "messages_by_type", "latency"}
	if s.ViewChange != nil {
		plots = append(plots, "view_change")
	}
	for _, p := range plots {
		names = append(names, p+".png", p+".svg")
	}
	for _, name := range names {
		info, err := os.Stat(filepath.Join(out, name))
		if err != nil || info.Size() == 0 {
			t.Errorf("%s: %v (size %v)", name, err, info)
		}
	}
	for _, p := range plots {
		f, err := os.Open(filepath.Join(out, p+".png"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() < 100 {
			t.Errorf("%s.png: %v", p, err)
		}
		dec := xml.NewDecoder(strings.NewReader(readFile(t, filepath.Join(out, p+".svg"))))
		root := ""
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Errorf("%s.svg: %v", p, err)
				break
			}
			if se, ok := tok.(xml.StartElement); ok && root == "" {
				root = se.Name.Local
			}
		}
		if root != "svg" {
			t.Errorf("%s.svg: root element %q", p, root)
		}
	}

	// CSV: expected columns, one row per run, values match the runs.
	rows, err := csv.NewReader(strings.NewReader(readFile(t, filepath.Join(out, FileCSV)))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := CSVColumns(s.Runs)
	if !slices.Equal(rows[0], want) {
		t.Errorf("CSV header %v, want %v", rows[0], want)
	}
	for _, col := range []string{"n", "seed", "committed", "messages", "bytes", "msgs_PREPARE", "bytes_COMMIT", "latency_p50_ns", "view_changes", "sim_time_ns", "wall_time_ns"} {
		if !slices.Contains(rows[0], col) {
			t.Errorf("CSV lacks column %q", col)
		}
	}
	if len(rows) != len(s.Runs)+1 {
		t.Errorf("CSV has %d rows for %d runs", len(rows)-1, len(s.Runs))
	}
	idx := slices.Index(rows[0], "msgs_PREPARE")
	for i, r := range s.Runs {
		if rows[i+1][idx] != itoa(r.ByType[TypePrepare]) {
			t.Errorf("CSV row %d PREPARE %s, want %d", i, rows[i+1][idx], r.ByType[TypePrepare])
		}
	}

	// results.json: one object per run.
	var runs []map[string]any
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(out, FileResults))), &runs); err != nil || len(runs) != len(s.Runs) {
		t.Errorf("results.json: %v, %d rows", err, len(runs))
	}
	// summary.json: the documented keys.
	var sum struct {
		Fit struct {
			Exponent   *float64    `json:"exponent"`
			ExponentCI *[2]float64 `json:"exponent_ci"`
			R2         *float64    `json:"r2"`
		} `json:"fit"`
		WithinBound *bool `json:"within_bound"`
		Quadratic   *struct{ A, B, C float64 }
		ClosedForm  *struct {
			PerN []Compare `json:"per_n"`
		} `json:"closed_form"`
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(out, FileSummary))), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Fit.Exponent == nil || *sum.Fit.Exponent != s.Fit.Exponent || sum.Fit.ExponentCI == nil || sum.Fit.R2 == nil ||
		sum.WithinBound == nil || *sum.WithinBound != s.WithinBound || sum.Quadratic == nil || sum.ClosedForm == nil || len(sum.ClosedForm.PerN) != len(s.Nodes) {
		t.Errorf("summary.json lacks fields: %+v", sum)
	}

	// report.html: self-contained.
	html := readFile(t, filepath.Join(out, FileHTML))
	if strings.Count(html, `src="data:image/png;base64,`) != len(plots) {
		t.Errorf("report.html embeds %d plots, want %d", strings.Count(html, "data:image/png;base64,"), len(plots))
	}
	for _, bad := range []string{"http://", "https://", `src="/`, "<link", "<script"} {
		if strings.Contains(html, bad) {
			t.Errorf("report.html contains %q", bad)
		}
	}
	if !strings.Contains(html, f3(s.Fit.Exponent)) {
		t.Error("report.html lacks the exponent")
	}
}

func itoa(x uint64) string {
	b, _ := json.Marshal(x)
	return string(b)
}

func TestGenerateBadInput(t *testing.T) {
	dir := t.TempDir()
	aFile := filepath.Join(dir, "file")
	if err := os.WriteFile(aFile, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "notes")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "keep.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	ok := filepath.Join(dir, "rep")
	tests := []struct {
		name  string
		edit  func(*Options)
		field string
	}{
		{"n below 4", func(o *Options) { o.Nodes = []int{3, 4, 7} }, "nodes"},
		{"n zero", func(o *Options) { o.Nodes = []int{0, 4, 7} }, "nodes"},
		{"n too large", func(o *Options) { o.Nodes = []int{4, 7, 5000} }, "nodes"},
		{"empty list", func(o *Options) { o.Nodes = []int{} }, "nodes"},
		{"too few points", func(o *Options) { o.Nodes = []int{4, 7} }, "nodes"},
		{"duplicate n", func(o *Options) { o.Nodes = []int{4, 7, 7} }, "nodes"},
		{"zero seeds", func(o *Options) { o.Seeds = 0 }, "seeds"},
		{"negative seeds", func(o *Options) { o.Seeds = -2 }, "seeds"},
		{"negative workers", func(o *Options) { o.Workers = -1 }, "workers"},
		{"negative tolerance", func(o *Options) { o.Tolerance = -0.1 }, "tolerance"},
		{"no out", func(o *Options) { o.Out = "" }, "out"},
		{"missing parent", func(o *Options) { o.Out = filepath.Join(dir, "no", "such", "rep") }, "out"},
		{"parent is a file", func(o *Options) { o.Out = filepath.Join(aFile, "rep") }, "out"},
		{"out is a file", func(o *Options) { o.Out = aFile }, "out"},
		{"out is an unrelated folder", func(o *Options) { o.Out = other }, "out"},
		{"out is the root", func(o *Options) { o.Out = "/" }, "out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opt := quickOpts(t, ok)
			opt.Nodes = QuickNodes
			tc.edit(&opt)
			var calls atomic.Int64
			_, err := Generate(context.Background(), opt, func(c cluster.Config) (*cluster.Result, error) {
				calls.Add(1)
				return synthetic(c)
			})
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v (%T), want *InputError", err, err)
			}
			if ie.Field != tc.field || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("field %q (%v), want %q", ie.Field, err, tc.field)
			}
			if calls.Load() != 0 {
				t.Errorf("%d runs before rejecting bad input", calls.Load())
			}
			if _, err := os.Stat(ok); !os.IsNotExist(err) {
				t.Errorf("output folder created: %v", err)
			}
		})
	}
	if got := readFile(t, filepath.Join(other, "keep.txt")); got != "mine" {
		t.Errorf("unrelated folder modified: %q", got)
	}
	if _, err := Generate(context.Background(), quickOpts(t, ok), nil); err == nil {
		t.Error("nil runner: no error")
	}
}

// leftovers lists temporary folders a report left next to out.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestGenerateReplacesAtomically is not parallel: it sets writeHook, which
// parallel tests only read once it is reset.
func TestGenerateReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "rep")
	opt := quickOpts(t, out)
	opt.Nodes = QuickNodes
	if _, err := Generate(context.Background(), opt, synthetic); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, filepath.Join(out, FileSummary))
	marker := filepath.Join(out, "marker")
	if err := os.WriteFile(marker, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	intact := func(when string) {
		t.Helper()
		if got := readFile(t, filepath.Join(out, FileSummary)); got != before {
			t.Errorf("%s: summary.json changed", when)
		}
		if got := readFile(t, marker); got != "old" {
			t.Errorf("%s: marker changed", when)
		}
		if l := leftovers(t, dir); len(l) != 0 {
			t.Errorf("%s: leftovers %v", when, l)
		}
	}

	// A failing run: nothing is written.
	lossy := opt
	lossy.Base = lossyBase()
	_, err := Generate(context.Background(), lossy, func(c cluster.Config) (*cluster.Result, error) {
		if c.N == 10 {
			return nil, errors.New("boom")
		}
		return synthetic(c)
	})
	if err == nil || !strings.Contains(err.Error(), "boom") || !strings.Contains(err.Error(), "n=10") {
		t.Fatalf("error %v", err)
	}
	intact("failing run")

	// A failing write half-way through the new folder.
	writeHook = func(name string) error {
		if name == FileResults {
			return errors.New("disk full")
		}
		return nil
	}
	_, err = Generate(context.Background(), lossy, synthetic)
	writeHook = nil
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("error %v", err)
	}
	intact("failing write")

	// A cancelled sweep.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, lossy, synthetic); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	intact("cancelled")
	// The cancelled sweep's journal is kept, not silently dropped: a rerun
	// must say --resume.
	if _, err := Generate(context.Background(), lossy, synthetic); !errors.Is(err, ErrJournalExists) {
		t.Fatalf("rerun over a journal: %v, want ErrJournalExists", err)
	}
	intact("journal kept")
	lossy.Resume = true

	// Success replaces the whole folder.
	s, err := Generate(context.Background(), lossy, synthetic)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(out, FileSummary)); got == before {
		t.Error("summary.json not replaced")
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Errorf("old folder's marker survived: %v", err)
	}
	if l := leftovers(t, dir); len(l) != 0 {
		t.Errorf("leftovers %v", l)
	}
	checkReportFiles(t, out, s)
	if info, err := os.Stat(out); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("report folder mode %v, %v", info.Mode(), err)
	}
}

// stripWall zeroes the wall-clock fields, the only ones allowed to differ.
func stripWall(s *Summary) ([]byte, []byte) {
	c := *s
	c.Wall = Wall{}
	runs := slices.Clone(c.Runs)
	for i := range runs {
		runs[i].WallTimeNs = 0
	}
	a, _ := json.Marshal(&c)
	b, _ := json.Marshal(runs)
	return a, b
}

func TestGenerateDeterministicAcrossWorkers(t *testing.T) {
	t.Parallel()
	for _, base := range []cluster.Config{{}, lossyBase()} {
		var sums, runs [][]byte
		var csvs []string
		for _, workers := range []int{1, 4} {
			out := filepath.Join(t.TempDir(), "rep")
			opt := quickOpts(t, out)
			opt.Base = base
			opt.Nodes = []int{4, 7, 10, 13, 16}
			opt.Seeds = 3
			opt.Workers = workers
			opt.Command = "pbftsim report"
			s, err := Generate(context.Background(), opt, synthetic)
			if err != nil {
				t.Fatal(err)
			}
			a, b := stripWall(s)
			sums, runs = append(sums, a), append(runs, b)
			// CSV without the wall_time_ns column (last).
			var kept []string
			for _, line := range strings.Split(readFile(t, filepath.Join(out, FileCSV)), "\n") {
				if i := strings.LastIndex(line, ","); i >= 0 {
					line = line[:i]
				}
				kept = append(kept, line)
			}
			csvs = append(csvs, strings.Join(kept, "\n"))
		}
		for i := 1; i < len(sums); i++ {
			if !bytes.Equal(sums[0], sums[i]) || !bytes.Equal(runs[0], runs[i]) || csvs[0] != csvs[i] {
				t.Errorf("drop=%v: results differ between worker counts", base.Network.Default.Drop)
			}
		}
	}
}

func TestPlanConfigOverridesPerPoint(t *testing.T) {
	t.Parallel()
	base := cluster.Config{N: 99, F: 5, Seed: 40, Requests: 5, StopWhen: func() bool { return true }}
	base.Crashes = nil
	var seen []cluster.Config
	var stopped []bool
	var calls atomic.Int64
	out := filepath.Join(t.TempDir(), "rep")
	opt := quickOpts(t, out)
	opt.Base, opt.Nodes, opt.Workers = base, QuickNodes, 1
	s, err := Generate(context.Background(), opt, func(c cluster.Config) (*cluster.Result, error) {
		calls.Add(1)
		seen = append(seen, c)
		stopped = append(stopped, c.StopWhen())
		return synthetic(c)
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != int64(len(QuickNodes)*2) || !slices.Equal(s.Seeds, []uint64{40, 41}) {
		t.Fatalf("%d calls, seeds %v", calls.Load(), s.Seeds)
	}
	for i, c := range seen {
		if c.N != QuickNodes[i/2] || c.F != 0 || c.Seed != 40+uint64(i%2) || c.Requests != 5 || c.StopWhen == nil || stopped[i] {
			t.Errorf("run %d: N=%d F=%d Seed=%d Requests=%d", i, c.N, c.F, c.Seed, c.Requests)
		}
	}
}
