package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cli runs the pbftsim CLI in-process and returns stdout, stderr and the
// exit status that main would return.
func cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.Execute()
	code := 0
	if err != nil {
		errb.WriteString(err.Error())
		code = 2
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
	}
	return out.String(), errb.String(), code
}

// cliOK is cli for a command that must succeed: it fails t on another
// exit status and returns stdout.
func cliOK(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := cli(t, args...)
	if code != 0 {
		t.Fatalf("pbftsim %v: exit %d: %s", args, code, errs)
	}
	return out
}

var hashLine = regexp.MustCompile(`(?m)^seed (\d+), trace hash ([0-9a-f]{16})\n\z`)

func TestRunDefaultScenario(t *testing.T) {
	out, errs, code := cli(t, "run")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	m := hashLine.FindStringSubmatch(out)
	if m == nil || m[1] != "1" {
		t.Fatalf("summary does not end with the seed and trace hash:\n%s", out)
	}
	for _, want := range []string{"scenario fault-free, n=4 f=1", "committed 8 of 8 requests", "properties: ok", "Consensus on PAY001: confirmed"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	again := cliOK(t, "run")
	if again != out && hashLine.FindStringSubmatch(again)[2] != m[2] {
		t.Fatalf("same seed, different trace hash")
	}
	other := cliOK(t, "run", "--seed", "2")
	if hashLine.FindStringSubmatch(other)[2] == m[2] {
		t.Fatalf("seeds 1 and 2 gave the same trace hash %s", m[2])
	}
}

func TestRunJSONKeys(t *testing.T) {
	out, errs, code := cli(t, "run", "--json", "--crash-primary-at", "5ms", "--requests", "6")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	get := func(path string) any {
		var cur any = v
		for _, k := range strings.Split(path, ".") {
			obj, ok := cur.(map[string]any)
			if !ok {
				t.Fatalf("%s: %v is not an object", path, cur)
			}
			if cur, ok = obj[k]; !ok {
				t.Fatalf("JSON lacks key %s", path)
			}
		}
		return cur
	}
	for _, k := range []string{"seed", "n", "f", "trace_hash", "events", "sim_time_ns", "messages.total",
		"messages.dropped", "requests.submitted", "requests.committed", "latency_ns.p50", "latency_ns.p99",
		"views.final", "views.changes", "scenario", "faulty", "within_fault_model", "verdict"} {
		get(k)
	}
	byType := get("messages.by_type").(map[string]any)
	for _, typ := range []string{"REQUEST", "PRE-PREPARE", "PREPARE", "COMMIT", "REPLY", "VIEW-CHANGE", "NEW-VIEW"} {
		if n, _ := byType[typ].(float64); n <= 0 {
			t.Errorf("messages.by_type[%s] = %v, want > 0 (primary crashed: a view change)", typ, byType[typ])
		}
	}
	if get("views.final").(float64) < 1 || get("views.changes").(float64) < 1 {
		t.Errorf("views %v: want a view change", get("views"))
	}
	if get("requests.committed").(float64) != 6 {
		t.Errorf("committed %v of 6", get("requests.committed"))
	}
	if _, ok := get("payments").(map[string]any)["PAY001"]; !ok {
		t.Errorf("payments lacks PAY001: %v", get("payments"))
	}
}

func TestRunBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--drop", "-0.1"}, "drop"},
		{[]string{"--drop", "NaN"}, "drop"},
		{[]string{"--drop", "1.5"}, "[0, 1]"},
		{[]string{"--duplicate", "2"}, "duplicate"},
		{[]string{"--delay", "uniform:20ms:1ms"}, "delay"},
		{[]string{"--delay", "bogus"}, "delay"},
		{[]string{"--partition", "0,9@1s"}, "partitions"},
		{[]string{"--nodes", "3"}, "n"},
		{[]string{"--crash", "x@1s"}, "crash"},
		{[]string{"--scenario", "no-such-scenario"}, "no-such-scenario"},
		{[]string{"--variant", "no-such-variant"}, "variant"},
		{[]string{"--no-such-flag"}, "no-such-flag"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, errs, code := cli(t, append([]string{"run"}, tc.args...)...)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", code, errs)
			}
			if !strings.Contains(errs, tc.want) {
				t.Fatalf("error %q does not mention %q", errs, tc.want)
			}
		})
	}
}

func TestRunBeyondFWritesReplayAndReplays(t *testing.T) {
	dir := t.TempDir()
	replay := filepath.Join(dir, "beyond.replay.yaml")
	out, errs, code := cli(t, "run", "--scenario", "beyond-f", "--out", replay)
	if code != 0 {
		t.Fatalf("beyond-f is outside the fault model: exit %d, want 0; %s", code, errs)
	}
	for _, want := range []string{"OUTSIDE the fault model", "VIOLATION agreement", "diverged", "accused replica 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	for _, f := range []string{replay, filepath.Join(dir, "beyond.trace.jsonl"), filepath.Join(dir, "beyond.svg"), filepath.Join(dir, "beyond.html")} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("counterexample file %s missing or empty: %v", f, err)
		}
	}
	rout, rerr, rcode := cli(t, "replay", replay)
	if rcode != 0 || !strings.Contains(rout, "reproduced") {
		t.Fatalf("replay: exit %d\n%s%s", rcode, rout, rerr)
	}
}

func TestRunVariantViolationExitsOne(t *testing.T) {
	dir := t.TempDir()
	// A client that accepts a single reply takes a Byzantine replica's lie.
	sc := filepath.Join(dir, "lie.yaml")
	if err := os.WriteFile(sc, []byte("name: lie\nn: 4\nworkload: {clients: 1, requests: 3}\nbyzantine:\n  - {replica: 0, strategy: lying-reply}\nnetwork: {delay: const:1ms}\nrun: {max_time: 5s}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code := cli(t, "run", "--scenario", sc, "--variant", "client-single-reply", "--out", filepath.Join(dir, "lie.replay.yaml"))
	if code != 1 {
		t.Fatalf("exit %d, want 1 (violation within the fault model):\n%s", code, out)
	}
	if !strings.Contains(out, "VIOLATED within the fault model") || !strings.Contains(out, "DELIBERATELY BROKEN") {
		t.Fatalf("summary:\n%s", out)
	}
	out2, _, code2 := cli(t, "run", "--scenario", sc, "--out", "")
	if code2 != 0 || !strings.Contains(out2, "properties: ok") {
		t.Fatalf("the correct protocol with the same scenario: exit %d\n%s", code2, out2)
	}
	// Naming the correct protocol explicitly is not a broken variant.
	out3, _, code3 := cli(t, "run", "--scenario", sc, "--variant", "correct", "--out", "")
	if code3 != 0 || strings.Contains(out3, "DELIBERATELY BROKEN") {
		t.Fatalf("--variant correct: exit %d\n%s", code3, out3)
	}
}

func TestRunTraceFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.jsonl")
	out, errs, code := cli(t, "run", "--trace", path, "--drop", "0.1", "--gst", "1s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	lines, drops := 0, 0
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %d: %v", lines+1, err)
		}
		if rec["kind"] == "drop" {
			drops++
		}
		lines++
	}
	if lines < 100 || drops == 0 {
		t.Fatalf("%d trace lines, %d drops: want a full trace with drops\n%s", lines, drops, out)
	}
}

func TestVersion(t *testing.T) {
	out, _, code := cli(t, "version")
	if code != 0 || !strings.HasPrefix(out, "pbftsim ") {
		t.Fatalf("version: %d %q", code, out)
	}
}

// TestRunTraceFormats: every trace format the name selects is written by
// run, read by trace into the same diagram, and a damaged or unnamed one is
// bad input (exit 2) that says where and what.
func TestRunTraceFormats(t *testing.T) {
	dir := t.TempDir()
	var hash, svg string
	for _, ext := range []string{".jsonl", ".jsonl.zst", ".pbt", ".pbt.zst"} {
		path := filepath.Join(dir, "t"+ext)
		out, errs, code := cli(t, "run", "--trace", path, "--drop", "0.1", "--gst", "1s")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", ext, code, errs)
		}
		h := hashLine.FindStringSubmatch(out)[2]
		if hash != "" && h != hash {
			t.Errorf("%s: trace hash %s, .jsonl gave %s: the file format must not change the hash", ext, h, hash)
		}
		hash = h
		svgPath := filepath.Join(dir, "t"+ext+".svg")
		if _, errs, code := cli(t, "trace", path, "--svg", svgPath, "--title", "x"); code != 0 {
			t.Fatalf("trace %s: exit %d: %s", ext, code, errs)
		}
		data, err := os.ReadFile(svgPath)
		if err != nil {
			t.Fatal(err)
		}
		if svg != "" && string(data) != svg {
			t.Errorf("trace %s draws a different diagram than .jsonl", ext)
		}
		svg = string(data)

		full := mustRead(t, path)
		cut := filepath.Join(dir, "cut"+ext)
		if err := os.WriteFile(cut, full[:len(full)*2/3], 0o644); err != nil {
			t.Fatal(err)
		}
		_, errs, code = cli(t, "trace", cut, "--perfetto", filepath.Join(dir, "p.json"))
		if code != 2 || !strings.Contains(errs, cut+": record ") {
			t.Errorf("truncated %s: exit %d, %q; want exit 2 and FILE: record N: problem", ext, code, errs)
		}
	}
	for _, args := range [][]string{{"run", "--trace", filepath.Join(dir, "t.json")}, {"trace", filepath.Join(dir, "t.gz"), "--svg", filepath.Join(dir, "x.svg")}} {
		_, errs, code := cli(t, args...)
		if code != 2 || !strings.Contains(errs, "unknown extension; supported: .jsonl.zst") {
			t.Errorf("%v: exit %d, %q; want exit 2 and the supported extensions", args, code, errs)
		}
	}
}

// TestRunRequestsRunsN: --requests N runs N (no fixed time limit), payments
// follow the requests unless --payments is given, a stall and a cut by
// --max-time are reported as such.
func TestRunRequestsRunsN(t *testing.T) {
	out, errs, code := cli(t, "run", "--requests", "3")
	if code != 0 || !strings.Contains(out, "committed 3 of 3 requests") || !strings.Contains(out, "properties: ok (safety and liveness judged; timeliness vacuous: ") {
		t.Fatalf("--requests 3: exit %d %s\n%s", code, errs, out)
	}
	if n := strings.Count(out, "Consensus on PAY"); n != 2 {
		t.Errorf("--requests 3: %d payments, want ceil(3/2) = 2\n%s", n, out)
	}
	out, errs, code = cli(t, "run", "--requests", "3", "--payments", "3")
	if code != 0 || strings.Count(out, "Consensus on PAY") != 3 {
		t.Errorf("--payments 3: exit %d %s\n%s", code, errs, out)
	}
	if _, errs, code := cli(t, "run", "--payments", "0"); code != 2 || !strings.Contains(errs, "--payments") {
		t.Errorf("--payments 0: exit %d %q, want exit 2 naming the flag", code, errs)
	}
	// The fault-free scenario stops at 2s of virtual time; 400 requests of
	// 2 clients take longer.
	out, errs, code = cli(t, "run", "--requests", "400", "--json")
	var res struct {
		Ended     string `json:"ended"`
		SimTimeNs int64  `json:"sim_time_ns"`
		Requests  struct{ Committed int }
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Ended != "completed" || res.Requests.Committed != 400 || res.SimTimeNs < int64(2*time.Second) {
		t.Fatalf("--requests 400: exit %d %s %+v", code, errs, res)
	}
	out, _, code = cli(t, "run", "--requests", "400", "--max-time", "1s")
	if code != 0 || !strings.Contains(out, "cut by --max-time") || !strings.Contains(out, "the run was CUT by --max-time") {
		t.Errorf("--max-time cut: exit %d\n%s", code, out)
	}
	out, _, code = cli(t, "run", "--requests", "20", "--crash", "1@10ms", "--crash", "2@10ms")
	if code != 0 || !strings.Contains(out, "(stalled: ") || !strings.Contains(out, "the run STALLED") {
		t.Errorf("stall: exit %d\n%s", code, out)
	}
}
