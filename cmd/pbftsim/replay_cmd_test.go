package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// writeReplay runs a built-in scenario the way check does (checkers on,
// stop at the first violation), writes its replay file and returns the path
// and every trace record of the run.
func writeReplay(t *testing.T, name string, seed uint64) (string, []sim.Record) {
	t.Helper()
	sc, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	sc.Seed = seed
	rec := &properties.Recorder{}
	o, err := properties.RunScenario(*sc, properties.RunOptions{Liveness: true, StopOnViolation: true, Sinks: []sim.Sink{rec}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name+".replay.yaml")
	if err := o.WriteReplay(path); err != nil {
		t.Fatal(err)
	}
	return path, rec.Records
}

// stopJSON is the part of replay --json output the tests read.
type stopJSON struct {
	Reached    bool   `json:"reached"`
	Ended      string `json:"ended"`
	Steps      uint64 `json:"steps"`
	TimeNs     int64  `json:"time_ns"`
	Records    uint64 `json:"records"`
	TraceHash  string `json:"trace_hash"`
	Record     *recJSON
	Next       *recJSON
	Verdict    string `json:"verdict"`
	Reproduced *bool  `json:"reproduced"`
	Violations []struct {
		Property string `json:"property"`
		TimeNs   int64  `json:"time_ns"`
	} `json:"violations"`
	Replicas []struct {
		Byzantine string            `json:"byzantine"`
		Down      bool              `json:"down"`
		State     pbft.ReplicaState `json:"state"`
		Ledger    []struct {
			ID    string `json:"ID"`
			State string `json:"State"`
		} `json:"ledger"`
	} `json:"replicas"`
}

type recJSON struct {
	Seq   uint64 `json:"seq"`
	T     int64  `json:"t"`
	Kind  string `json:"kind"`
	From  int    `json:"from"`
	Event string `json:"event"`
}

func replayJSON(t *testing.T, wantCode int, args ...string) stopJSON {
	t.Helper()
	out, errs, code := cli(t, append([]string{"replay"}, append(args, "--json")...)...)
	if code != wantCode {
		t.Fatalf("replay %v: exit %d, want %d\n%s%s", args, code, wantCode, out, errs)
	}
	var s stopJSON
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	return s
}

// TestReplayUntilTime stops a crashed-primary replay at several virtual
// times: the record it stops at is at or before the time, the next record
// (the very next in the trace) after it.
func TestReplayUntilTime(t *testing.T) {
	path, recs := writeReplay(t, "crashed-primary", 1)
	for _, until := range []time.Duration{5 * time.Millisecond, 30 * time.Millisecond, 150 * time.Millisecond, 400 * time.Millisecond} {
		t.Run(until.String(), func(t *testing.T) {
			s := replayJSON(t, 0, path, "--until", until.String())
			if !s.Reached || s.Record == nil || s.Next == nil {
				t.Fatalf("not reached or no records: %+v", s)
			}
			T := int64(until)
			if s.TimeNs > T || s.Record.T > T || s.Next.T <= T {
				t.Errorf("stopped at %dns (record at %d), next record at %d: want <= %d < next", s.TimeNs, s.Record.T, s.Next.T, T)
			}
			if s.Next.Seq != s.Record.Seq+1 || s.Records != s.Record.Seq+1 {
				t.Errorf("record #%d, next #%d, %d records emitted: want consecutive", s.Record.Seq, s.Next.Seq, s.Records)
			}
			if int(s.Next.Seq) >= len(recs) || int64(recs[s.Record.Seq].Time) != s.Record.T || int64(recs[s.Next.Seq].Time) != s.Next.T {
				t.Errorf("records differ from the recorded run's trace")
			}
			for _, r := range recs[s.Next.Seq:] {
				if int64(r.Time) <= T {
					t.Errorf("record #%d at %v <= %v comes after the stop", r.Seq, r.Time, until)
					break
				}
			}
		})
	}
}

// TestReplayUntilCommitted stops at the first committed event of the run
// and shows the committing replica with a committed entry holding 2f+1
// COMMITs.
func TestReplayUntilCommitted(t *testing.T) {
	path, recs := writeReplay(t, "fault-free", 1)
	first := -1
	for i, r := range recs {
		if r.Kind == sim.RecEvent && r.Event.Name() == "committed" {
			first = i
			break
		}
	}
	if first < 0 {
		t.Fatal("the fault-free run has no committed event")
	}
	s := replayJSON(t, 0, path, "--until", "event:committed", "--state")
	if s.Record == nil || s.Record.Seq != uint64(first) || s.Record.Event != "committed" {
		t.Fatalf("stopped at %+v, want the first committed event #%d", s.Record, first)
	}
	if len(s.Replicas) != 4 {
		t.Fatalf("%d replicas in the state, want 4", len(s.Replicas))
	}
	st := s.Replicas[s.Record.From].State
	ok := false
	for _, e := range st.Log {
		if e.Committed && len(e.Commits) >= 3 && len(e.Prepares) >= 2 && e.Certificate != nil && len(e.Certificate.Prepares) == 2 {
			ok = true
		}
	}
	if !ok {
		t.Errorf("replica %d has no committed entry with 2f+1 COMMITs and a 2f certificate: %+v", s.Record.From, st.Log)
	}
	// text form: same stop, readable
	out, errs, code := cli(t, "replay", path, "--until", "event:committed", "--state")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"stopped at --until event:committed", " committed {", "replica r0: view 0 (primary r0), active", "PREPAREs from [", "ledger:"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	again := cliOK(t, "replay", path, "--until", "event:committed", "--state")
	if again != out {
		t.Errorf("two replays print different states")
	}
	// a node filter: the first commit of replica 3 is no earlier
	s3 := replayJSON(t, 0, path, "--until", "event:committed@r3")
	if s3.Record == nil || s3.Record.From != 3 || s3.Record.Seq < uint64(first) {
		t.Errorf("event:committed@r3 stopped at %+v", s3.Record)
	}
}

// TestReplayUntilRecord stops at trace record #N.
func TestReplayUntilRecord(t *testing.T) {
	path, recs := writeReplay(t, "fault-free", 2)
	for _, n := range []int{0, 17, len(recs) / 2} {
		s := replayJSON(t, 0, path, "--until", "#"+itoa(n))
		if s.Record == nil || s.Record.Seq != uint64(n) || s.Record.T != int64(recs[n].Time) || s.Records <= uint64(n) {
			t.Errorf("#%d: stopped at %+v after %d records", n, s.Record, s.Records)
		}
		if s.Next == nil || s.Next.Seq != s.Records {
			t.Errorf("#%d: next %+v, want #%d", n, s.Next, s.Records)
		}
	}
	// beyond the end: not reached, exit 1, the state at the end
	s := replayJSON(t, 1, path, "--until", "#"+itoa(len(recs)+10))
	if s.Reached || s.Ended == "" || s.Reproduced == nil || !*s.Reproduced {
		t.Errorf("beyond the end: %+v", s)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestReplayUntilViolation hunts a broken variant in-process, then replays
// its replay file to the first violation.
func TestReplayUntilViolation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lie.replay.yaml")
	out, errs, code := cli(t, "hunt", "--variant", "client-single-reply", "--budget", "30s", "--out", path)
	if code != 1 {
		t.Fatalf("hunt: exit %d, want 1 (violation found)\n%s%s", code, out, errs)
	}
	s := replayJSON(t, 0, path, "--until", "violation", "--state")
	if !s.Reached || len(s.Violations) == 0 || s.Record == nil {
		t.Fatalf("no violation at the stop: %+v", s)
	}
	if v := s.Violations[0]; v.TimeNs != s.Record.T || v.TimeNs != s.TimeNs {
		t.Errorf("violation at %d, stop record at %d, stop time %d: want equal", v.TimeNs, s.Record.T, s.TimeNs)
	}
	// the recorded run ends at its first violation: same hash as the file
	full, _, fcode := cli(t, "replay", path)
	if fcode != 0 || !strings.Contains(full, "trace hash "+s.TraceHash) {
		t.Errorf("stop hash %s is not the recorded run's:\n%s", s.TraceHash, full)
	}
	if s.Next != nil || s.Ended != "violation" {
		t.Errorf("after the violation: next %+v, ended %q", s.Next, s.Ended)
	}
	if !strings.Contains(out, "VIOLATION of "+s.Violations[0].Property) {
		t.Errorf("hunt reported another property than %s:\n%s", s.Violations[0].Property, out)
	}
	// one step earlier there is no violation yet
	before := replayJSON(t, 0, path, "--until", "#"+itoa(int(s.Record.Seq)-1))
	if len(before.Violations) != 0 && before.Steps < s.Steps {
		t.Errorf("violations before the violation record: %+v", before.Violations)
	}
	// a correct run never reaches a violation
	ok, _ := writeReplay(t, "fault-free", 1)
	n := replayJSON(t, 1, ok, "--until", "violation")
	if n.Reached || len(n.Violations) != 0 || n.Reproduced == nil || !*n.Reproduced {
		t.Errorf("fault-free --until violation: %+v", n)
	}
}

// TestReplayUntilEndState: --state without --until shows the final state
// and still checks the trace hash and verdict.
func TestReplayUntilEndState(t *testing.T) {
	path, _ := writeReplay(t, "equivocating-primary", 1)
	s := replayJSON(t, 0, path, "--state")
	if !s.Reached || s.Reproduced == nil || !*s.Reproduced || s.Verdict != "ok" {
		t.Fatalf("end: %+v", s)
	}
	plain, _, code := cli(t, "replay", path)
	if code != 0 || !strings.Contains(plain, "trace hash "+s.TraceHash) {
		t.Errorf("final hash %s differs from the plain replay's:\n%s", s.TraceHash, plain)
	}
	if len(s.Replicas) != 4 || s.Replicas[0].Byzantine == "" || s.Replicas[1].Byzantine != "" {
		t.Fatalf("replica 0 must be marked Byzantine and only it: %+v", s.Replicas)
	}
	var exec uint64
	for i, r := range s.Replicas[1:] {
		if i == 0 {
			exec = r.State.LastExecuted
		}
		if r.State.LastExecuted != exec || exec == 0 || len(r.Ledger) == 0 || len(r.Ledger) != len(s.Replicas[1].Ledger) {
			t.Errorf("honest replica %d: executed %d (want %d > 0), %d payments", i+1, r.State.LastExecuted, exec, len(r.Ledger))
		}
	}
	out := cliOK(t, "replay", path, "--until", "end", "--state")
	if !strings.Contains(out, "[r0 BYZANTINE (") || !strings.Contains(out, "reproduced: same trace hash and verdict") {
		t.Errorf("text:\n%s", out)
	}
}

func TestReplayUntilBadValues(t *testing.T) {
	path, _ := writeReplay(t, "fault-free", 1)
	for _, bad := range []string{"12", "#", "#-3", "#x", "event:", "event:comitted", "event:committed@", "event:committed@zz", "-5ms", "5 parsecs", "violations"} {
		t.Run(bad, func(t *testing.T) {
			out, errs, code := cli(t, "replay", path, "--until", bad)
			if code != 2 {
				t.Fatalf("exit %d, want 2\n%s%s", code, out, errs)
			}
			for _, want := range []string{"--until", "120ms", "#N", "event:NAME", "committed", "violation", "end"} {
				if !strings.Contains(errs, want) {
					t.Errorf("error does not list %q: %s", want, errs)
				}
			}
		})
	}
	if _, errs, code := cli(t, "replay", filepath.Join(t.TempDir(), "missing.yaml"), "--until", "1ms"); code != 2 {
		t.Errorf("missing file: exit %d: %s", code, errs)
	}
}

// TestReplayFullRunRecording: a replay file of a run that went on past its
// first violation (run without --stop-on-violation) is replayed to its end,
// and --until violation stops inside it with the run going on after.
func TestReplayFullRunRecording(t *testing.T) {
	path := filepath.Join(t.TempDir(), "beyond.replay.yaml")
	if out, errs, code := cli(t, "run", "--scenario", "beyond-f", "--out", path); code == 2 || !strings.Contains(out, "VIOLATION") {
		t.Fatalf("run beyond-f: exit %d, want violations\n%s%s", code, out, errs)
	}
	end := replayJSON(t, 0, path, "--until", "end")
	if end.Reproduced == nil || !*end.Reproduced || end.Verdict != "violation" || end.Ended == "violation" {
		t.Fatalf("--until end: %+v", end)
	}
	v := replayJSON(t, 0, path, "--until", "violation")
	if !v.Reached || v.Next == nil || v.Ended != "" || v.Steps >= end.Steps || len(v.Violations) == 0 {
		t.Fatalf("--until violation inside a full run: %+v (end after %d steps)", v, end.Steps)
	}
}

// TestReplayNoHashAndOtherVersion: a replay file without a trace hash is
// not claimed reproduced; text and --json report the same actual hash; a
// file from another version says so.
func TestReplayNoHashAndOtherVersion(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bf.replay.yaml")
	if _, errs, code := cli(t, "run", "--scenario", "beyond-f", "--out", path); code == 2 {
		t.Fatal(errs)
	}
	data, _ := os.ReadFile(path)
	var kept []string
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(l, "trace_hash:") {
			kept = append(kept, l)
		}
	}
	nohash := filepath.Join(dir, "nohash.replay.yaml")
	body := strings.ReplaceAll(strings.Join(kept, "\n"), "version: "+version, "version: 0.0.1-old")
	if err := os.WriteFile(nohash, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := cli(t, "replay", nohash)
	if code != 0 || strings.Contains(out, "reproduced: same trace hash") || !strings.Contains(out, "the trace was NOT compared") ||
		!strings.Contains(out, "written by pbftsim 0.0.1-old, this is "+version) {
		t.Fatalf("replay without a hash: exit %d\n%s%s", code, out, errs)
	}
	textHash := regexp.MustCompile(`trace hash ([0-9a-f]{16})`).FindStringSubmatch(out)
	js, _, _ := cli(t, "replay", nohash, "--json")
	var rep struct {
		TraceHash    string   `json:"trace_hash"`
		Reproduced   *bool    `json:"reproduced"`
		HashCompared bool     `json:"hash_compared"`
		Notes        []string `json:"notes"`
	}
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	if textHash == nil || rep.TraceHash != textHash[1] || rep.Reproduced == nil || *rep.Reproduced || rep.HashCompared || len(rep.Notes) != 2 {
		t.Errorf("text hash %v, JSON %+v: want the same hash, not reproduced, hash not compared, two notes", textHash, rep)
	}
	// The file with its hash, from this version: reproduced, no notes.
	out, _, code = cli(t, "replay", path)
	if code != 0 || !strings.Contains(out, "reproduced: same trace hash and verdict") || strings.Contains(out, "note:") {
		t.Errorf("replay with a hash: exit %d\n%s", code, out)
	}
}
