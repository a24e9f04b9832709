package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// judgedJSON is the part of run --json that says what was judged.
type judgedJSON struct {
	Verdict          string `json:"verdict"`
	WithinFaultModel bool   `json:"within_fault_model"`
	Faulty           []int  `json:"faulty"`
	Crashed          []int  `json:"crashed"`
	Byzantine        []int  `json:"byzantine"`
	BudgetExceeded   string `json:"budget_exceeded"`
	FullyJudged      bool   `json:"fully_judged"`
	Properties       []struct {
		Property string `json:"property"`
		Judged   bool   `json:"judged"`
		Violated bool   `json:"violated"`
		Reason   string `json:"reason"`
	} `json:"properties"`
}

func runJSON(t *testing.T, args ...string) (judgedJSON, int) {
	t.Helper()
	out, errs, code := cli(t, append([]string{"run", "--json", "--out", ""}, args...)...)
	var j judgedJSON
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("run --json %v: %v (exit %d, stderr %s)", args, err, code, errs)
	}
	return j, code
}

func (j judgedJSON) property(name string) (judged bool, reason string, ok bool) {
	for _, p := range j.Properties {
		if p.Property == name {
			return p.Judged, p.Reason, true
		}
	}
	return false, "", false
}

// TestRunCrashedReplicasAreFaults: crashed replicas count against f.
func TestRunCrashedReplicasAreFaults(t *testing.T) {
	out, errs, code := cli(t, "run", "--out", "", "--crash", "0@40ms", "--crash", "1@40ms", "--crash", "2@40ms", "--crash", "3@40ms")
	if code != 0 {
		t.Fatalf("every replica crashed: exit %d, want 0 (outside the fault model)\n%s%s", code, out, errs)
	}
	for _, want := range []string{
		"faulty replicas: r0 (crashed at 40ms), r1 (crashed at 40ms), r2 (crashed at 40ms), r3 (crashed at 40ms), OUTSIDE the fault model (4 replicas faulty at once at 40ms",
		"not judged: liveness: outside the fault model: 4 replicas faulty at once",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "properties: ok") || strings.Contains(out, "VIOLATED within") {
		t.Errorf("output claims too much:\n%s", out)
	}
	j, code := runJSON(t, "--scenario", "conflicting-votes", "--crash", "0@5ms", "--crash", "1@5ms")
	if code != 0 || j.WithinFaultModel || len(j.Faulty) != 3 || len(j.Crashed) != 2 || len(j.Byzantine) != 1 {
		t.Errorf("conflicting-votes with 2 crashes: exit %d, %+v; want within_fault_model false, faulty [0 1 2]", code, j)
	}
	if judged, reason, _ := j.property("liveness"); judged || !strings.Contains(reason, "outside the fault model") {
		t.Errorf("liveness judged=%v (%s), want not judged: outside the fault model", judged, reason)
	}
	out, _, code = cli(t, "run", "--out", "", "--crash", "3@10ms:200ms")
	if code != 0 || !strings.Contains(out, "r3 (crashed at 10ms, recovered at 200ms), within the fault model") || !strings.Contains(out, "properties: ok (safety and liveness judged") {
		t.Errorf("one replica crashed and recovered: exit %d\n%s", code, out)
	}
}

// TestRunSaysWhatWasJudged: a run too short for the liveness bound, or one
// that executed nothing, never reads as an unqualified ok.
func TestRunSaysWhatWasJudged(t *testing.T) {
	out, _, code := cli(t, "run", "--out", "", "--scenario", "crashed-primary", "--max-time", "300ms")
	if code != 0 || strings.Contains(out, "properties: ok") || !strings.Contains(out, "partly judged: liveness: judged for 4 requests, not for 2: the run ended") ||
		!strings.Contains(out, "the bound is") {
		t.Errorf("crashed-primary to 300ms: exit %d\n%s", code, out)
	}
	j, _ := runJSON(t, "--scenario", "crashed-primary", "--max-time", "300ms", "--gst", "1s")
	if judged, reason, ok := j.property("liveness"); !ok || !judged || !strings.Contains(reason, "before GST at 1s") {
		t.Errorf("liveness judged=%v reason %q, want judged in part: the run ended before GST", judged, reason)
	}
	if judged, _, ok := j.property("agreement"); !ok || !judged {
		t.Errorf("agreement not judged: %+v", j.Properties)
	}
	out, _, code = cli(t, "run", "--out", "", "--crash", "0@0s", "--crash", "1@0s")
	if code != 0 || strings.Contains(out, "properties: ok") || !strings.Contains(out, "only vacuously: no correct replica executed a request") ||
		!strings.Contains(out, "not judged: linearizability: no client operation was accepted") {
		t.Errorf("nothing executed: exit %d\n%s", code, out)
	}
}

// TestRunBudgetExceeded: the event budget stops a run with a clear verdict.
func TestRunBudgetExceeded(t *testing.T) {
	out, _, code := cli(t, "run", "--out", "", "--scenario", "adversarial", "--max-events", "500")
	if code != 0 || !strings.Contains(out, "properties: Budget exceeded after 500 events: the event budget (run.max_events) is 500; no violation before it") ||
		!strings.Contains(out, "not judged: liveness: the run was stopped early: budget exceeded after 500 events") {
		t.Errorf("--max-events 500: exit %d\n%s", code, out)
	}
	j, _ := runJSON(t, "--scenario", "adversarial", "--max-events", "500")
	if j.Verdict != "budget-exceeded" || !strings.HasPrefix(j.BudgetExceeded, "budget exceeded after 500 events") {
		t.Errorf("--json: verdict %q, budget_exceeded %q", j.Verdict, j.BudgetExceeded)
	}
	if judged, _, _ := j.property("liveness"); judged {
		t.Errorf("liveness judged in a run stopped by its budget")
	}
}

// TestReplaySaysWhatWasJudged: replay's verdict carries what was judged.
func TestReplaySaysWhatWasJudged(t *testing.T) {
	file := filepath.Join(t.TempDir(), "b.replay.yaml")
	if _, errs, code := cli(t, "run", "--scenario", "beyond-f", "--out", file); code != 0 {
		t.Fatalf("beyond-f: exit %d %s", code, errs)
	}
	want := "liveness not judged: outside the fault model: 2 replicas faulty at once"
	out, errs, code := cli(t, "replay", file)
	if code != 0 || !strings.Contains(out, want) {
		t.Errorf("replay: exit %d %s\n%s", code, errs, out)
	}
	out, errs, code = cli(t, "replay", file, "--until", "end")
	if code != 0 || !strings.Contains(out, "verdict violation (safety judged; "+want) {
		t.Errorf("replay --until end: exit %d %s\n%s", code, errs, out)
	}
	j, _ := runJSON(t)
	if j.Verdict != "ok" || !j.FullyJudged {
		t.Errorf("fault-free --json: verdict %q, fully_judged %v", j.Verdict, j.FullyJudged)
	}
}

// TestCheckSaysWhatWasJudged: check's summary counts what was not judged.
func TestCheckSaysWhatWasJudged(t *testing.T) {
	out, errs, code := cli(t, "check", "--runs", "20", "--quiet", "--out", "")
	if code != 0 || !strings.Contains(out, "no violation in 20 cases") || strings.Contains(out, "all properties held") {
		t.Errorf("check --runs 20: exit %d %s\n%s", code, errs, out)
	}
}
