package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunFaultsOverTime: a crashed replica counts against f while it is
// down, a wiped one until it has caught up by state transfer; within the
// fault model means at most f faulty at once.
func TestRunFaultsOverTime(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"disjoint crashes", []string{"--crash", "1@30ms:200ms", "--crash", "2@300ms:500ms"},
			[]string{"r1 (crashed at 30ms, recovered at 200ms), r2 (crashed at 300ms, recovered at 500ms), within the fault model", "properties: ok (safety and liveness judged"}},
		{"overlapping crashes", []string{"--crash", "1@30ms:400ms", "--crash", "2@300ms:500ms"},
			[]string{"OUTSIDE the fault model (2 replicas faulty at once at 300ms [1 2]", "not judged: liveness: outside the fault model"}},
		{"wipe never caught up", []string{"--crash", "1@30ms:200ms:wipe", "--crash", "2@300ms:500ms"},
			[]string{"r1 (crashed at 30ms (wipe), recovered at 200ms, never caught up)", "OUTSIDE the fault model (2 replicas faulty at once at 300ms"}},
		{"wipe caught up", []string{"--crash", "1@30ms:200ms:wipe", "--crash", "2@300ms:500ms", "--requests", "300"},
			[]string{"r1 (crashed at 30ms (wipe), recovered at 200ms, caught up at 2", "within the fault model", "properties: ok (safety and liveness judged",
				"stable stores: r1 "}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := cli(t, append([]string{"run", "--out", ""}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	// --json: the fault intervals with the wipe's catch-up time.
	out, errs, code := cli(t, "run", "--json", "--out", "", "--crash", "1@30ms:200ms:wipe", "--requests", "300")
	var j struct {
		Within    bool `json:"within_fault_model"`
		Intervals []struct {
			Replica int    `json:"replica"`
			From    int64  `json:"from_ns"`
			To      int64  `json:"to_ns"`
			Why     string `json:"why"`
			Until   bool   `json:"until_caught_up"`
		} `json:"fault_intervals"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != 0 {
		t.Fatalf("run --json: %v, exit %d %s", err, code, errs)
	}
	if !j.Within || len(j.Intervals) != 1 || j.Intervals[0].Why != "wipe" || !j.Intervals[0].Until || j.Intervals[0].To < 200e6 {
		t.Errorf("fault intervals %+v, within %v; want one wipe of r1 caught up after its recovery at 200ms", j.Intervals, j.Within)
	}
}

// TestBadCrashKind: an unknown crash kind is bad input (exit 2) naming the
// field and the allowed values, from the flag and from a scenario file.
func TestBadCrashKind(t *testing.T) {
	_, errs, code := cli(t, "run", "--out", "", "--crash", "0@1s:2s:forget")
	if code != 2 || !strings.Contains(errs, "crash.kind") || !strings.Contains(errs, "keep, amnesia, lose-unsynced, wipe") {
		t.Errorf("--crash 0@1s:2s:forget: exit %d, stderr %s", code, errs)
	}
	dir := t.TempDir()
	for _, tc := range []struct{ yaml, want string }{
		{"n: 4\ncrashes:\n  - {node: 1, at: 10ms, recover: 20ms, kind: forget}\n", "crashes[0].kind"},
		{"n: 4\nworkload: {clients: 1}\ncrashes:\n  - {node: 4, at: 10ms, recover: 20ms, kind: amnesia}\n", "clients keep their state"},
		{"n: 4\nprotocol: {name: hotstuff}\ncrashes:\n  - {node: 1, at: 10ms, recover: 20ms, kind: wipe}\n", "only pbft has"},
	} {
		f := filepath.Join(dir, "s.yaml")
		if err := os.WriteFile(f, []byte(tc.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		_, errs, code := cli(t, "run", "--out", "", "--scenario", f)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stderr %s; want exit 2 naming %q", tc.yaml, code, errs, tc.want)
		}
	}
}
