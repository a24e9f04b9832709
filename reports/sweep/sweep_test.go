package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// small returns the default adversarial scenario with fewer requests, so
// that the tests run many seeds quickly under -race.
func small(t testing.TB) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Builtin(DefaultScenario)
	if err != nil {
		t.Fatal(err)
	}
	sc.Workload.Requests = 8
	sc.Workload.Payments = 4
	return sc
}

func opts(sc *scenarios.Scenario, seeds Range, shard Shard, workers int) Options {
	return Options{Scenario: sc, ScenarioArg: DefaultScenario, Seeds: seeds, Shard: shard, Workers: workers, Version: "test"}
}

func runBytes(t *testing.T, o Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := Run(context.Background(), o, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func runFile(t *testing.T, dir string, o Options, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if _, err := RunFile(context.Background(), o, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func lines(b []byte) []string { return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") }

func TestParse(t *testing.T) {
	ranges := []struct {
		in   string
		want Range
		err  string
	}{
		{"1..1000", Range{1, 1000}, ""},
		{"7", Range{1, 7}, ""},
		{"7..7", Range{7, 7}, ""},
		{"0", Range{}, "N >= 1 for the seeds 1..N"},
		{"0..18446744073709551615", Range{0, math.MaxUint64}, ""},
		{"5..4", Range{}, "larger than the last"},
		{"a..4", Range{}, "want A..B"},
		{"1..", Range{}, "want A..B"},
		{"-1..3", Range{}, "want A..B"},
	}
	for _, c := range ranges {
		got, err := ParseRange(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "--seeds") {
				t.Errorf("ParseRange(%q) error %v, want one containing %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseRange(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	shards := []struct {
		in   string
		want Shard
		err  string
	}{
		{"0/1", Shard{0, 1}, ""},
		{"3/8", Shard{3, 8}, ""},
		{"8/8", Shard{}, "want I in [0, 7]"},
		{"-1/8", Shard{}, "want I in [0, 7]"},
		{"0/0", Shard{}, "want N in [1,"},
		{"1", Shard{}, "want I/N"},
		{"x/2", Shard{}, "want I/N"},
	}
	for _, c := range shards {
		got, err := ParseShard(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "--shard") {
				t.Errorf("ParseShard(%q) error %v, want one containing %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// TestShardsPartitionRange: the shards of a range hold every seed exactly
// once, and shard I holds the seeds with (s - from) mod N == I in order.
func TestShardsPartitionRange(t *testing.T) {
	for _, r := range []Range{{1, 1}, {1, 10}, {5, 17}, {0, 99}, {math.MaxUint64 - 6, math.MaxUint64}} {
		for _, n := range []int{1, 2, 3, 7, 16} {
			seen := map[uint64]int{}
			for i := range n {
				sh := Shard{i, n}
				prev := uint64(0)
				for k := range sh.Len(r) {
					s := sh.Seed(r, k)
					if s < r.From || s > r.To || (s-r.From)%uint64(n) != uint64(i) || (k > 0 && s <= prev) {
						t.Fatalf("range %v shard %v: seed %d (k=%d) misplaced", r, sh, s, k)
					}
					prev = s
					seen[s]++
				}
			}
			if uint64(len(seen)) != r.To-r.From+1 {
				t.Errorf("range %v over %d shards covers %d seeds, want %d", r, n, len(seen), r.To-r.From+1)
			}
			for s, c := range seen {
				if c != 1 {
					t.Errorf("range %v over %d shards: seed %d in %d shards", r, n, s, c)
				}
			}
		}
	}
}

// TestDeterministicAcrossWorkers: the output is the same bytes for any
// number of workers, records are in seed order, and each record's trace
// hash is the one a plain run of the seed (pbftsim run) produces.
func TestDeterministicAcrossWorkers(t *testing.T) {
	sc := small(t)
	r := Range{From: 3, To: 26}
	ref := runBytes(t, opts(sc, r, Whole, 1))
	for _, w := range []int{2, 3, 8} {
		if got := runBytes(t, opts(sc, r, Whole, w)); !bytes.Equal(got, ref) {
			t.Errorf("workers=%d: output differs from workers=1:\n%s\nvs\n%s", w, got, ref)
		}
	}
	ls := lines(ref)
	if len(ls) != 2+24 {
		t.Fatalf("%d lines, want header + 24 records + trailer", len(ls))
	}
	hashes := map[string]bool{}
	for i, l := range ls[1 : len(ls)-1] {
		var rec Record
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Seed != r.From+uint64(i) {
			t.Fatalf("record %d has seed %d, want %d", i, rec.Seed, r.From+uint64(i))
		}
		if rec.Verdict != VerdictOK || !rec.Completed || rec.Committed != 8 || rec.Messages == 0 || rec.LatencyP99Ns < rec.LatencyP50Ns {
			t.Errorf("seed %d: unexpected record %s", rec.Seed, l)
		}
		hashes[rec.TraceHash] = true
		if i < 3 {
			s := *sc
			s.Seed = rec.Seed
			cfg, err := s.Config()
			if err != nil {
				t.Fatal(err)
			}
			res, err := cluster.Run(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.TraceHash != rec.TraceHash {
				t.Errorf("seed %d: sweep trace hash %s, plain run %s", rec.Seed, rec.TraceHash, res.TraceHash)
			}
		}
	}
	if len(hashes) < 20 {
		t.Errorf("only %d distinct trace hashes over 24 seeds: seeds do not reach the runs", len(hashes))
	}
	if !strings.HasPrefix(ls[len(ls)-1], `{"kind":"trailer","records":24,"verdicts":{"ok":24}}`) {
		t.Errorf("trailer %s", ls[len(ls)-1])
	}
}

// TestShardMergeIdentical: merging the shard files gives the unsharded
// file byte for byte, for shard counts that do and do not divide the
// range, and more shards than seeds.
func TestShardMergeIdentical(t *testing.T) {
	sc := small(t)
	dir := t.TempDir()
	cases := []struct {
		r Range
		n int
	}{{Range{10, 21}, 3}, {Range{10, 21}, 5}, {Range{1, 3}, 5}, {Range{4, 4}, 1}}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%v/%d", c.r, c.n), func(t *testing.T) {
			whole := runFile(t, dir, opts(sc, c.r, Whole, 2), "whole.jsonl")
			want := mustRead(t, whole)
			var parts []string
			for i := c.n - 1; i >= 0; i-- { // any order
				parts = append(parts, runFile(t, dir, opts(sc, c.r, Shard{i, c.n}, 1+i%2), fmt.Sprintf("part%d.jsonl", i)))
			}
			out := filepath.Join(dir, "merged.jsonl")
			agg, err := Merge(out, parts)
			if err != nil {
				t.Fatal(err)
			}
			got := mustRead(t, out)
			if !bytes.Equal(got, want) {
				t.Errorf("merged file differs from the unsharded one:\n%s\nvs\n%s", got, want)
			}
			if agg.Done != c.r.To-c.r.From+1 || agg.Planned != agg.Done {
				t.Errorf("aggregate of %d of %d seeds", agg.Done, agg.Planned)
			}
		})
	}
}

func TestMergeRefusals(t *testing.T) {
	sc := small(t)
	other := small(t)
	other.Network.Drop = 0.03
	dir := t.TempDir()
	r := Range{1, 6}
	part := func(name string, s *scenarios.Scenario, arg string, r Range, sh Shard, version string) string {
		o := opts(s, r, sh, 2)
		o.ScenarioArg, o.Version = arg, version
		return runFile(t, dir, o, name)
	}
	p0 := part("p0", sc, "adversarial", r, Shard{0, 3}, "test")
	p1 := part("p1", sc, "adversarial", r, Shard{1, 3}, "test")
	p2 := part("p2", sc, "adversarial", r, Shard{2, 3}, "test")
	p2content := part("p2content", other, "adversarial", r, Shard{2, 3}, "test")
	p2name := part("p2name", sc, "fault-free", r, Shard{2, 3}, "test")
	p2version := part("p2version", sc, "adversarial", r, Shard{2, 3}, "0.0.9")
	p2range := part("p2range", sc, "adversarial", Range{1, 7}, Shard{2, 3}, "test")
	p2count := part("p2count", sc, "adversarial", r, Shard{2, 4}, "test")
	data := mustRead(t, p2)
	ls := lines(data)
	partial := filepath.Join(dir, "p2partial")
	mustWrite(t, partial, []byte(strings.Join(ls[:len(ls)-1], "\n")+"\n"))
	tampered := filepath.Join(dir, "p2tampered")
	mustWrite(t, tampered, []byte(strings.Join(append(slices.Clone(ls[:len(ls)-2]), ls[len(ls)-1]), "\n")+"\n"))
	garbage := filepath.Join(dir, "garbage")
	mustWrite(t, garbage, []byte("hello\n"))

	out := filepath.Join(dir, "out.jsonl")
	good := []byte("a good earlier output\n")
	cases := []struct {
		name  string
		parts []string
		want  []string
	}{
		{"different scenario content", []string{p0, p1, p2content}, []string{"scenario content"}},
		{"different version", []string{p0, p1, p2version}, []string{"version 0.0.9 differs from test"}},
		{"different range", []string{p0, p1, p2range}, []string{"seed range 1..7 differs from 1..6"}},
		{"different shard count", []string{p0, p1, p2count}, []string{"shard count 4 differs from 3"}},
		{"missing shard", []string{p0, p2}, []string{"missing shards of 3 (numbered 0..2): 1"}},
		{"missing shards", []string{p1}, []string{"missing shards of 3 (numbered 0..2): 0, 2"}},
		{"duplicated shard", []string{p0, p1, p2, p1}, []string{"duplicated shards: 1 (" + p1 + ", " + p1 + ")"}},
		{"missing and duplicated", []string{p0, p0}, []string{"missing shards of 3 (numbered 0..2): 1, 2", "duplicated shards: 0"}},
		{"partial shard", []string{p0, p1, partial}, []string{"p2partial: shard 2/3 is incomplete (2 of 2 records, no trailer)"}},
		{"tampered shard", []string{p0, p1, tampered}, []string{"does not match"}},
		{"not a sweep file", []string{p0, p1, garbage}, []string{"garbage:1: not a sweep line"}},
		{"no such file", []string{p0, p1, filepath.Join(dir, "nope")}, []string{"nope"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mustWrite(t, out, good)
			_, err := Merge(out, c.parts)
			var me *MergeError
			if !errors.As(err, &me) {
				t.Fatalf("Merge = %v, want a *MergeError", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if got := mustRead(t, out); !bytes.Equal(got, good) {
				t.Errorf("the refused merge changed the existing output")
			}
		})
	}
	// The same scenario content named differently (a relative and an
	// absolute path of one file) merges: scenarios compare by content.
	if _, err := Merge(out, []string{p0, p1, p2name}); err != nil {
		t.Errorf("same content, another name: %v", err)
	}
	// An output that is one of the parts is refused, the part untouched.
	before := mustRead(t, p1)
	if _, err := Merge(p1, []string{p0, p1, p2}); err == nil {
		t.Errorf("merging into one of the parts was accepted")
	}
	if after := mustRead(t, p1); !bytes.Equal(before, after) {
		t.Errorf("the part changed")
	}
	// And the good set merges.
	if _, err := Merge(out, []string{p2, p0, p1}); err != nil {
		t.Errorf("the three good shards: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".merge-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// TestInterrupted: cancelling the context stops the sweep cleanly: the
// .partial file holds the header and complete records of a prefix of the
// seeds in order, no trailer, the destination is not created, and merge
// rejects the partial file.
func TestInterrupted(t *testing.T) {
	sc := small(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "s.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := opts(sc, Range{1, 400}, Whole, 2)
	o.Progress = func(p Progress) {
		if p.Done == 5 {
			cancel()
		}
	}
	agg, err := RunFile(ctx, o, out)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("RunFile = %v, want ErrInterrupted", err)
	}
	if agg == nil || !agg.Interrupted || agg.Done < 5 || agg.Done >= 400 {
		t.Fatalf("aggregate %+v", agg)
	}
	var w bytes.Buffer
	agg.Write(&w, 0)
	if !strings.Contains(w.String(), "INTERRUPTED") {
		t.Errorf("aggregate does not say the sweep was interrupted:\n%s", w.String())
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("destination exists after an interrupted sweep: %v", err)
	}
	data, err := os.ReadFile(out + PartialSuffix)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(data, []byte("\n")) {
		t.Errorf("the partial file ends in a partial line")
	}
	ls := lines(data)
	if uint64(len(ls)) != 1+agg.Done {
		t.Fatalf("%d lines, want header + %d records", len(ls), agg.Done)
	}
	for i, l := range ls {
		kind, _, rec, _, err := decodeLine([]byte(l))
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if i == 0 && kind != "header" || i > 0 && (rec == nil || rec.Seed != uint64(i) || rec.TraceHash == "") {
			t.Fatalf("line %d: %s", i+1, l)
		}
	}
	// The records are those of an uninterrupted sweep.
	full := runBytes(t, opts(sc, Range{1, agg.Done}, Whole, 1))
	if fl := lines(full); !slices.Equal(fl[1:len(fl)-1], ls[1:]) {
		t.Errorf("interrupted records differ from an uninterrupted sweep's")
	}
	if _, err := ReadPart(out + PartialSuffix); err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Errorf("ReadPart of the partial file = %v, want incomplete", err)
	}
}

// TestFailingSeeds: a scenario outside the fault model produces failing
// verdicts, which the aggregate lists with replay commands.
func TestFailingSeeds(t *testing.T) {
	sc, err := scenarios.Builtin("beyond-f")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	o := Options{Scenario: sc, ScenarioArg: "beyond-f", Seeds: Range{1, 6}, Workers: 2, Version: "test"}
	agg, err := Run(context.Background(), o, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if agg.Failures == 0 || agg.Verdicts[VerdictOK]+agg.Failures != 6 {
		t.Fatalf("beyond-f over 6 seeds: verdicts %v, want failures", agg.Verdicts)
	}
	var w bytes.Buffer
	agg.Write(&w, 0)
	f := agg.Failing[0]
	if f.Verdict == VerdictOK || f.Detail == "" {
		t.Errorf("failing seed %+v", f)
	}
	if want := fmt.Sprintf("replay: pbftsim run --scenario beyond-f --seed %d", f.Seed); !strings.Contains(w.String(), want) {
		t.Errorf("aggregate lacks %q:\n%s", want, w.String())
	}
	// Outside the fault model liveness is never judged, and the sweep says so.
	if agg.NotJudged["liveness"] != 6 || !strings.Contains(w.String(), "not judged: liveness in 6 of 6 seeds") {
		t.Errorf("not judged %v, want liveness in 6 seeds:\n%s", agg.NotJudged, w.String())
	}
}

func TestBadOptions(t *testing.T) {
	sc := small(t)
	bad := small(t)
	bad.N = 3
	badWL := small(t)
	badWL.Workload.Payments = 20
	cases := []struct {
		name string
		o    Options
		want string
	}{
		{"no scenario", Options{Seeds: Range{1, 2}}, "no scenario"},
		{"shard", opts(sc, Range{1, 2}, Shard{2, 2}, 1), "--shard"},
		{"workers", opts(sc, Range{1, 2}, Whole, -1), "--workers -1"},
		{"range", opts(sc, Range{3, 2}, Whole, 1), "--seeds"},
		{"scenario", opts(bad, Range{1, 2}, Whole, 1), "n"},
		{"workload", opts(badWL, Range{1, 2}, Whole, 1), "workload.payments"},
	}
	for _, c := range cases {
		_, err := Run(context.Background(), c.o, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Run error %v, want one naming %q", c.name, err, c.want)
		}
	}
}

func TestDistQuantiles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var d Dist
	var vals []int64
	for range 5000 {
		v := int64(r.ExpFloat64() * 1e6)
		vals = append(vals, v)
		d.Add(v)
	}
	slices.Sort(vals)
	for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 1} {
		exact := vals[int(math.Ceil(q*float64(len(vals))))-1]
		got := d.Quantile(q)
		if got > exact || float64(exact-got) > float64(exact)/64+1 {
			t.Errorf("q%.2f = %d, exact %d: beyond 1/64 relative error", q, got, exact)
		}
	}
	if d.Min != vals[0] || d.Max != vals[len(vals)-1] {
		t.Errorf("min/max %d %d, want %d %d", d.Min, d.Max, vals[0], vals[len(vals)-1])
	}
	for v := uint64(0); v < 1<<20; v = v*3/2 + 1 {
		if b := bucketOf(v); uint64(bucketLow(b)) > v || bucketOf(uint64(bucketLow(b))) != b {
			t.Fatalf("bucket of %d = %d with low %d", v, b, bucketLow(b))
		}
	}
}

// mustRead returns the contents of path, failing the test if it cannot be
// read (two missing files must not compare equal).
func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mustWrite writes data to path, failing the test if it cannot.
func mustWrite(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestResume: an interrupted sweep's partial file is never deleted
// silently; --resume continues it (dropping a torn last line) into the
// file an uninterrupted sweep writes, byte for byte.
func TestResume(t *testing.T) {
	sc := small(t)
	dir := t.TempDir()
	want, err := os.ReadFile(runFile(t, dir, opts(sc, Range{1, 40}, Whole, 2), "whole.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "s.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := opts(sc, Range{1, 40}, Whole, 2)
	o.Progress = func(p Progress) {
		if p.Done == 7 {
			cancel()
		}
	}
	if _, err := RunFile(ctx, o, out); !errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), "rerun with --resume") {
		t.Fatalf("RunFile = %v, want ErrInterrupted offering --resume", err)
	}
	partial := out + PartialSuffix
	f, err := os.OpenFile(partial, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"seed":99,"trace_h`) // a torn last line
	f.Close()
	before := mustRead(t, partial)

	o = opts(sc, Range{1, 40}, Whole, 2)
	if _, err := RunFile(context.Background(), o, out); !errors.Is(err, ErrPartialExists) {
		t.Fatalf("rerun without --resume = %v, want ErrPartialExists", err)
	}
	if after := mustRead(t, partial); !bytes.Equal(before, after) {
		t.Fatalf("the refused rerun changed the partial file")
	}
	other := opts(sc, Range{1, 41}, Whole, 2)
	other.Resume = true
	if _, err := RunFile(context.Background(), other, out); err == nil || !strings.Contains(err.Error(), "header is not the one of this sweep") {
		t.Fatalf("--resume of another sweep = %v", err)
	}
	o.Resume = true
	agg, err := RunFile(context.Background(), o, out)
	if err != nil {
		t.Fatal(err)
	}
	got := mustRead(t, out)
	if !bytes.Equal(got, want) || agg.Done != 40 {
		t.Fatalf("resumed sweep differs from an uninterrupted one (%d records)", agg.Done)
	}
	if _, err := os.Stat(partial); !os.IsNotExist(err) {
		t.Errorf("partial file left: %v", err)
	}
	if _, err := RunFile(context.Background(), o, out); err == nil || !strings.Contains(err.Error(), "no "+partial) {
		t.Errorf("--resume without a partial file = %v", err)
	}
}

// fullDisk writes half of the write that makes the file exceed limit, then
// fails as a full disk does.
type fullDisk struct {
	*os.File
	limit int64
}

func (d *fullDisk) Write(p []byte) (int, error) {
	off, _ := d.File.Seek(0, io.SeekCurrent)
	if off+int64(len(p)) > d.limit {
		n, _ := d.File.Write(p[:len(p)/2])
		return n, syscall.ENOSPC
	}
	return d.File.Write(p)
}

// TestFullDiskLeavesNoTornLine: a failed record write is cut back, so the
// partial file holds only complete records and resumes cleanly.
func TestFullDiskLeavesNoTornLine(t *testing.T) {
	sc := small(t)
	dir := t.TempDir()
	want := mustRead(t, runFile(t, dir, opts(sc, Range{1, 12}, Whole, 1), "whole.jsonl"))
	path := filepath.Join(dir, "p")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	o := opts(sc, Range{1, 12}, Whole, 1)
	h, _ := o.header()
	lw := &lineWriter{f: &fullDisk{File: f, limit: int64(len(want) / 2)}}
	lw.Write(marshalLine(h))
	_, err = run(context.Background(), o, h, NewAggregate(h), lw)
	f.Close()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("run = %v, want ENOSPC", err)
	}
	data := mustRead(t, path)
	if len(data) == 0 || !bytes.HasSuffix(data, []byte("\n")) || !bytes.HasPrefix(want, data) {
		t.Fatalf("after a full disk the file is not a prefix of whole lines of the sweep (%d bytes)", len(data))
	}
}
