package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/internal/pipeline"
	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
)

// pipelineCase is one run compared with the pipeline on and off.
type pipelineCase struct {
	name string
	args []string // after "run"
}

// traceExts are the trace formats, one per case in turn.
var traceExts = []string{".pbt.zst", ".pbt", ".jsonl.zst", ".jsonl"}

// pipelineCases are the built-in scenarios at seed 1 and, for every broken
// variant, the first scenario a hunt targets it with, run with the variant
// (most of them violate a property: a replay file, a counterexample trace
// and its diagrams are written). Under -short, every third built-in
// scenario and every second variant.
func pipelineCases(t *testing.T, dir string) []pipelineCase {
	var out []pipelineCase
	for i, info := range scenarios.List() {
		if testing.Short() && i%3 != 0 {
			continue
		}
		out = append(out, pipelineCase{info.Name, []string{"--scenario", info.Name, "--seed", "1"}})
	}
	for i, v := range properties.VariantNames() {
		if testing.Short() && i%2 != 0 {
			continue
		}
		scs := properties.Targeted(v)
		data, err := scs[0].Marshal()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "scenario-"+v+".yaml")
		if err := os.WriteFile(path, data, 0o666); err != nil {
			t.Fatal(err)
		}
		out = append(out, pipelineCase{v, []string{"--scenario", path, "--variant", v, "--seed", "1"}})
	}
	return out
}

// wallLine is the one line of run's human output that depends on the wall
// clock.
var wallLine = regexp.MustCompile(`(?m)^simulated/wall-clock time: .*\n`)

// runPipelined runs `pbftsim run args` with --pipeline on, writing its
// trace (with extension ext) and its replay file under dir, and returns
// every output: stdout, stderr, exit status, and each file's bytes by name.
func runPipelined(t *testing.T, dir string, on bool, ext string, jsonOut bool, args []string) map[string]string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	args = append([]string{"run", fmt.Sprintf("--pipeline=%v", on), fmt.Sprintf("--pipeline-checker=%v", on), "--trace", filepath.Join(dir, "trace"+ext),
		"--out", filepath.Join(dir, "run.replay.yaml")}, args...)
	if jsonOut {
		args = append(args, "--json")
	}
	stdout, stderr, code := cli(t, args...)
	got := map[string]string{
		"stdout": wallLine.ReplaceAllString(stdout, ""),
		"stderr": strings.ReplaceAll(stderr, dir, "DIR"),
		"exit":   fmt.Sprint(code),
	}
	got["stdout"] = strings.ReplaceAll(got["stdout"], dir, "DIR")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got["file "+e.Name()] = strings.ReplaceAll(string(data), dir, "DIR")
	}
	return got
}

// diffOutputs names the outputs that differ between a and b.
func diffOutputs(a, b map[string]string) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var diff []string
	for _, k := range keys {
		x, okx := a[k]
		y, oky := b[k]
		switch {
		case !okx || !oky:
			diff = append(diff, fmt.Sprintf("%s: only with the pipeline %v", k, okx))
		case x != y:
			diff = append(diff, fmt.Sprintf("%s: %d bytes off, %d on (first difference at byte %d)", k, len(y), len(x), firstDiff(x, y)))
		}
	}
	return diff
}

func firstDiff(a, b string) int {
	for i := 0; i < min(len(a), len(b)); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// atLeastTwoProcs sets GOMAXPROCS to at least 2 for the test: run's
// --pipeline acts only then.
func atLeastTwoProcs(t *testing.T) {
	if n := runtime.GOMAXPROCS(0); n < 2 {
		runtime.GOMAXPROCS(2)
		t.Cleanup(func() { runtime.GOMAXPROCS(n) })
	}
}

// comparePipeline runs every case with the pipeline on and off and returns
// the differences, by case.
func comparePipeline(t *testing.T, cases []pipelineCase) []string {
	base := t.TempDir()
	var diffs []string
	for i, c := range cases {
		ext := traceExts[i%len(traceExts)]
		jsonOut := i%2 == 0
		// the same directory name for both, so that the outputs naming a
		// file (the replay file's counterexample) are comparable
		dir := filepath.Join(base, fmt.Sprintf("case%d", i))
		on := runPipelined(t, dir, true, ext, jsonOut, c.args)
		if err := os.Rename(dir, dir+"-on"); err != nil {
			t.Fatal(err)
		}
		off := runPipelined(t, dir, false, ext, jsonOut, c.args)
		for _, d := range diffOutputs(on, off) {
			diffs = append(diffs, c.name+" ("+ext+"): "+d)
		}
	}
	return diffs
}

// TestPipelineSameOutputs: every output of run (stdout, the exit status,
// the trace in each format, the replay file, the counterexample's trace and
// diagrams) is byte for byte the same with the pipeline on and off, on the
// built-in scenarios and on the broken variants' violating runs.
func TestPipelineSameOutputs(t *testing.T) {
	atLeastTwoProcs(t)
	cases := pipelineCases(t, t.TempDir())
	for _, d := range comparePipeline(t, cases) {
		t.Error(d)
	}
}

// TestPipelineSameOutputsCatchesDamage: the comparison fails when the
// pipeline reorders, drops or alters what it hands over. Each damage is
// applied with the pipeline on only (the hooks act in the pipeline).
func TestPipelineSameOutputsCatchesDamage(t *testing.T) {
	atLeastTwoProcs(t)
	dir := t.TempDir()
	var cases []pipelineCase
	for _, c := range pipelineCases(t, dir) {
		if c.name == "fault-free" || c.name == properties.VariantNames()[0] {
			cases = append(cases, c)
		}
	}
	if len(cases) != 2 {
		t.Fatalf("want the fault-free and %s cases, got %d", properties.VariantNames()[0], len(cases))
	}
	damages := []struct {
		name    string
		records func([]sim.Record) []sim.Record
		bytes   func([]byte) []byte
	}{
		{name: "batch reversed", records: func(b []sim.Record) []sim.Record { slices.Reverse(b); return b }},
		// One dropped record may change no output at all (a delivery the
		// verdict does not hinge on): TestSinkInOrder catches that one.
		{name: "every tenth record dropped", records: func(b []sim.Record) []sim.Record {
			return slices.DeleteFunc(b, func(r sim.Record) bool { return r.Seq%10 == 3 })
		}},
		{name: "first half of a batch dropped", records: func(b []sim.Record) []sim.Record { return b[len(b)/2:] }},
		{name: "a byte of each write flipped", bytes: func(b []byte) []byte {
			c := bytes.Clone(b)
			c[len(c)/2] ^= 1
			return c
		}},
	}
	for _, d := range damages {
		t.Run(strings.ReplaceAll(d.name, " ", "-"), func(t *testing.T) {
			pipeline.DamageRecords, pipeline.DamageBytes = d.records, d.bytes
			defer func() { pipeline.DamageRecords, pipeline.DamageBytes = nil, nil }()
			base := t.TempDir()
			caught := false
			for i, c := range cases {
				ext := ".pbt.zst"
				if d.bytes != nil {
					ext = traceExts[i%len(traceExts)]
				}
				cd := filepath.Join(base, fmt.Sprint(i))
				on := runPipelined(t, cd, true, ext, true, c.args)
				os.Rename(cd, cd+"-on")
				pipeline.DamageRecords, pipeline.DamageBytes = nil, nil
				off := runPipelined(t, cd, false, ext, true, c.args)
				pipeline.DamageRecords, pipeline.DamageBytes = d.records, d.bytes
				if diff := diffOutputs(on, off); len(diff) > 0 {
					caught = true
					t.Logf("%s: caught: %s", c.name, strings.Join(diff, "; "))
				}
			}
			if !caught {
				t.Errorf("%s: the comparison did not catch the damaged pipeline", d.name)
			}
		})
	}
}
