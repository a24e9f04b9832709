package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/experiment"
	"github.com/pbftsim/pbftsim/scenarios"
)

// client talks to a test server.
type client struct {
	t   *testing.T
	srv *httptest.Server
}

func newTestServer(t *testing.T, opt Options) (*client, *Server) {
	t.Helper()
	if opt.Out == "" {
		opt.Out = filepath.Join(t.TempDir(), "out")
	}
	s := New(opt)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return &client{t: t, srv: ts}, s
}

// do sends a request and decodes the JSON reply into out (if non-nil); it
// returns the status and the error text of an error reply.
func (c *client) do(method, path string, body any, out any) (int, string) {
	c.t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, c.srv.URL+path, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&raw)
	if resp.StatusCode >= 400 {
		var e apiError
		_ = json.Unmarshal(raw, &e)
		return resp.StatusCode, e.Error
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, ""
}

func (c *client) open(req CreateRequest) Summary {
	c.t.Helper()
	var sum Summary
	if code, msg := c.do("POST", "/api/sessions", req, &sum); code != http.StatusCreated {
		c.t.Fatalf("open %+v: %d %s", req, code, msg)
	}
	return sum
}

func (c *client) goTo(id string, req GotoRequest) State {
	c.t.Helper()
	var st State
	if code, msg := c.do("POST", "/api/sessions/"+id+"/goto", req, &st); code != http.StatusOK {
		c.t.Fatalf("goto %+v: %d %s", req, code, msg)
	}
	return st
}

func TestOpenAndBadRequests(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("n: 2\nworkload: {requests: 3}\n"), 0o644)
	c, _ := newTestServer(t, Options{File: bad})
	cases := []struct {
		name string
		req  any
		code int
		want string
	}{
		{"no source", CreateRequest{}, 400, "want exactly one of"},
		{"two sources", CreateRequest{Builtin: "fault-free", YAML: "n: 4"}, 400, "want exactly one of"},
		{"unknown field", `{"fil": "x"}`, 400, "unknown field"},
		{"not json", `{`, 400, "request body"},
		{"other file", CreateRequest{File: "/etc/passwd"}, 403, "opens only the file it was started with"},
		{"path in out", CreateRequest{File: "../x.replay.yaml"}, 403, "opens only"},
		{"bad scenario file", CreateRequest{File: bad}, 400, "bad.yaml"},
		{"unknown builtin", CreateRequest{Builtin: "no-such"}, 400, "no-such"},
		{"builtin path", CreateRequest{Builtin: "../x"}, 400, "built-in"},
		{"bad yaml", CreateRequest{YAML: "n: [\n"}, 400, "uploaded.yaml"},
		{"sweep without seed", CreateRequest{Sweep: "abc"}, 400, "seed"},
		{"no such sweep", CreateRequest{Sweep: "abc", Seed: new(uint64)}, 404, "no such open sweep"},
		{"no such job", CreateRequest{Job: "abc"}, 404, "no such job"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := c.do("POST", "/api/sessions", tc.req, nil)
			if code != tc.code || !strings.Contains(msg, tc.want) {
				t.Errorf("got %d %q, want %d containing %q", code, msg, tc.code, tc.want)
			}
		})
	}
	sum := c.open(CreateRequest{Builtin: "fault-free"})
	for _, tc := range []struct {
		method, path string
		body         any
		code         int
		want         string
	}{
		{"GET", "/api/sessions/nope", nil, 404, "no such session"},
		{"GET", "/api/sessions/" + sum.ID + "/state?step=x", nil, 400, "want a step number"},
		{"GET", "/api/sessions/" + sum.ID + "/state?step=99999999", nil, 400, "out of range"},
		{"POST", "/api/sessions/" + sum.ID + "/goto", GotoRequest{To: "sideways"}, 400, "want next, prev"},
		{"POST", "/api/sessions/" + sum.ID + "/goto", GotoRequest{To: "time", Time: "soon"}, 400, "non-negative duration"},
		{"POST", "/api/sessions/" + sum.ID + "/goto", GotoRequest{To: "record", Record: 1 << 40}, 400, "out of range"},
		{"POST", "/api/sessions/" + sum.ID + "/goto", GotoRequest{To: "violation"}, 404, "no violation"},
		{"POST", "/api/sessions/" + sum.ID + "/act", Action{Kind: "teleport"}, 409, "want deliver, drop"},
		{"POST", "/api/sessions/" + sum.ID + "/act", Action{Kind: "deliver"}, 409, "want msg"},
		{"POST", "/api/sessions/" + sum.ID + "/act", Action{Kind: "crash", Node: ptr(9)}, 409, "replica id"},
		{"POST", "/api/sessions/" + sum.ID + "/act", Action{Kind: "recover", Node: ptr(1)}, 409, "is up"},
		{"POST", "/api/sessions/" + sum.ID + "/act", Action{Kind: "fire", Node: ptr(1), Timer: 77}, 409, "no pending timer"},
		{"POST", "/api/sessions/" + sum.ID + "/undo", nil, 409, "nothing to undo"},
		{"POST", "/api/sessions/" + sum.ID + "/fork", ForkRequest{Name: "../escape"}, 400, "no path"},
		{"POST", "/api/sessions/" + sum.ID + "/fork", ForkRequest{Name: "/x"}, 400, "no path"},
		{"POST", "/api/jobs", JobRequest{Kind: "dig"}, 400, "want check or hunt"},
		{"POST", "/api/jobs", JobRequest{Kind: "hunt"}, 400, "want variant"},
		{"POST", "/api/jobs", JobRequest{Kind: "check", Budget: "forever"}, 400, "budget"},
		{"GET", "/api/jobs/nope", nil, 404, "no such job"},
		{"DELETE", "/api/sessions/nope", nil, 404, "no such session"},
	} {
		code, msg := c.do(tc.method, tc.path, tc.body, nil)
		if code != tc.code || !strings.Contains(msg, tc.want) {
			t.Errorf("%s %s %v: got %d %q, want %d containing %q", tc.method, tc.path, tc.body, code, msg, tc.code, tc.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestSteppingIsExact: going back gives the state a fresh replay to that
// step gives, and the state panel changes as the run goes on.
func TestSteppingIsExact(t *testing.T) {
	c, _ := newTestServer(t, Options{})
	sum := c.open(CreateRequest{Builtin: "fault-free"})
	if sum.Kind != "run" || sum.Steps < 50 || sum.N != 4 {
		t.Fatalf("summary %+v", sum)
	}
	var tl Timeline
	c.do("GET", "/api/sessions/"+sum.ID+"/timeline", nil, &tl)
	if uint64(len(tl.StepTimes)) != sum.Steps+1 || len(tl.Records) == 0 {
		t.Fatalf("timeline: %d step times, %d records for %d steps", len(tl.StepTimes), len(tl.Records), sum.Steps)
	}
	mid := sum.Steps / 2
	fwd := c.goTo(sum.ID, GotoRequest{To: "step", Step: mid})
	c.goTo(sum.ID, GotoRequest{To: "end"})
	back := c.goTo(sum.ID, GotoRequest{To: "step", Step: mid})
	a, _ := json.Marshal(fwd)
	b, _ := json.Marshal(back)
	if !bytes.Equal(a, b) {
		t.Fatalf("state at step %d differs going forward and back:\n%s\n%s", mid, a, b)
	}
	next := c.goTo(sum.ID, GotoRequest{To: "next"})
	prev := c.goTo(sum.ID, GotoRequest{To: "prev"})
	if next.Step != mid+1 || prev.Step != mid || prev.Hash != back.Hash || next.Hash == prev.Hash {
		t.Fatalf("next/prev: steps %d %d, hashes %s %s %s", next.Step, prev.Step, next.Hash, prev.Hash, back.Hash)
	}
	start := c.goTo(sum.ID, GotoRequest{To: "start"})
	end := c.goTo(sum.ID, GotoRequest{To: "end"})
	committed := func(st State) int {
		n := 0
		for _, r := range st.Replicas {
			n += int(r.State.LastExecuted)
		}
		return n
	}
	if committed(start) != 0 || committed(end) == 0 || end.Ended == "" || len(end.Replicas) != 4 {
		t.Fatalf("start executed %d, end executed %d (ended %q, %d replicas)", committed(start), committed(end), end.Ended, len(end.Replicas))
	}
	if len(fwd.Flights) == 0 || len(fwd.Timers) == 0 {
		t.Fatalf("mid-run: %d in flight, %d timers", len(fwd.Flights), len(fwd.Timers))
	}
	// Jump to a time and to a record.
	at := c.goTo(sum.ID, GotoRequest{To: "time", Time: time.Duration(fwd.TimeNs).String()})
	if at.TimeNs != fwd.TimeNs || at.Step < mid {
		t.Fatalf("jump to time %v: step %d time %d", fwd.TimeNs, at.Step, at.TimeNs)
	}
	rec := c.goTo(sum.ID, GotoRequest{To: "record", Record: fwd.StepRecs[0].Seq})
	if rec.Step != mid {
		t.Fatalf("jump to record #%d: step %d, want %d", fwd.StepRecs[0].Seq, rec.Step, mid)
	}
}

// TestViolationsAndViewChange opens a run with a violation and one with a
// view change and runs to them.
func TestViolationsAndViewChange(t *testing.T) {
	c, _ := newTestServer(t, Options{})
	sum := c.open(CreateRequest{Builtin: "beyond-f"})
	if len(sum.Viol) == 0 {
		t.Fatalf("beyond-f: no violation in %+v", sum)
	}
	st := c.goTo(sum.ID, GotoRequest{To: "violation"})
	if len(st.Viol) == 0 || st.Viol[0].Property == "" || st.Viol[0].Detail == "" || st.Step != sum.Viol[0].Step {
		t.Fatalf("at the violation: %+v", st.Viol)
	}
	vc := c.open(CreateRequest{Builtin: "crashed-primary"})
	st = c.goTo(vc.ID, GotoRequest{To: "view-change"})
	found := false
	for _, r := range st.StepRecs {
		found = found || r.Event == "view-change" || r.Event == "new-view"
	}
	if !found {
		t.Fatalf("run to view change: step %d emitted %+v", st.Step, st.StepRecs)
	}
	// Jump to an event, at a node: crashed-primary crashes r0.
	c.goTo(vc.ID, GotoRequest{To: "start"})
	st = c.goTo(vc.ID, GotoRequest{To: "event", Event: "crash", Node: ptr(0)})
	if len(st.StepRecs) == 0 || st.StepRecs[0].Kind != "crash" || st.StepRecs[0].From != 0 || len(st.Down) != 1 {
		t.Fatalf("jump to r0's crash: %+v, down %v", st.StepRecs, st.Down)
	}
	st = c.goTo(vc.ID, GotoRequest{To: "event", Event: "new-view", Node: ptr(2)})
	found = false
	for _, r := range st.StepRecs {
		found = found || r.Event == "new-view" && r.From == 2
	}
	if !found {
		t.Fatalf("jump to r2's new-view: %+v", st.StepRecs)
	}
	if code, msg := c.do("POST", "/api/sessions/"+vc.ID+"/goto", GotoRequest{To: "event", Event: "lunch"}, nil); code != 400 || !strings.Contains(msg, "committed") {
		t.Fatalf("unknown event: %d %s", code, msg)
	}
	if code, msg := c.do("POST", "/api/sessions/"+vc.ID+"/goto", GotoRequest{To: "event", Event: "recover"}, nil); code != 404 || !strings.Contains(msg, "no recover event") {
		t.Fatalf("an event that never comes: %d %s", code, msg)
	}
}

// firstDriveable returns an in-flight message that can be moved and is
// not the one the run delivers next.
func firstDriveable(t *testing.T, st State) Flight {
	t.Helper()
	var best *Flight
	for i := range st.Flights {
		f := &st.Flights[i]
		if f.Driveable && f.Fate == "deliver" && (best == nil || f.Arrives > best.Arrives) {
			best = f
		}
	}
	if best == nil {
		t.Fatalf("no driveable message in flight at step %d: %+v", st.Step, st.Flights)
	}
	return *best
}

// TestDriveAndFork drives a run (deliver a late message next, drop one,
// crash and recover a replica) and forks it: the replay file reproduces
// the session's trace hash, and undo restores the run.
func TestDriveAndFork(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	c, _ := newTestServer(t, Options{Out: out, Version: "test"})
	sum := c.open(CreateRequest{Builtin: "lossy-wan"})
	st := c.goTo(sum.ID, GotoRequest{To: "step", Step: 40})
	f := firstDriveable(t, st)
	var after State
	if code, msg := c.do("POST", "/api/sessions/"+sum.ID+"/act", Action{Kind: "deliver", Msg: &f.ID}, &after); code != 200 {
		t.Fatalf("deliver: %d %s", code, msg)
	}
	if after.TimeNs != st.TimeNs+1 || after.StepRecs[0].Kind != "deliver" || after.StepRecs[0].From != f.From || after.StepRecs[0].To != f.To {
		t.Fatalf("after deliver of %+v at %d: now %d, step emitted %+v", f, st.TimeNs, after.TimeNs, after.StepRecs)
	}
	var tl Timeline
	c.do("GET", "/api/sessions/"+sum.ID+"/timeline", nil, &tl)
	g := firstDriveable(t, after)
	if code, msg := c.do("POST", "/api/sessions/"+sum.ID+"/act", Action{Kind: "drop", Msg: &g.ID}, &after); code != 200 {
		t.Fatalf("drop: %d %s", code, msg)
	}
	if r := after.StepRecs[0]; r.Kind != "drop" || r.Reason != "filter" {
		t.Fatalf("after drop: %+v", after.StepRecs)
	}
	if code, msg := c.do("POST", "/api/sessions/"+sum.ID+"/act", Action{Kind: "crash", Node: ptr(2)}, &after); code != 200 || len(after.Down) != 1 || after.Down[0] != 2 {
		t.Fatalf("crash: %d %s, down %v", code, msg, after.Down)
	}
	c.goTo(sum.ID, GotoRequest{To: "step", Step: after.Step + 30})
	if code, msg := c.do("POST", "/api/sessions/"+sum.ID+"/act", Action{Kind: "recover", Node: ptr(2)}, &after); code != 200 || len(after.Down) != 0 {
		t.Fatalf("recover: %d %s, down %v", code, msg, after.Down)
	}
	if len(after.Actions) != 4 {
		t.Fatalf("schedule: %+v", after.Actions)
	}
	var fork ForkReply
	if code, msg := c.do("POST", "/api/sessions/"+sum.ID+"/fork", ForkRequest{Name: "my-fork"}, &fork); code != 201 {
		t.Fatalf("fork: %d %s", code, msg)
	}
	var now Summary
	c.do("GET", "/api/sessions/"+sum.ID, nil, &now)
	if fork.TraceHash != now.Hash || fork.Path != filepath.Join(out, "my-fork.replay.yaml") {
		t.Fatalf("fork %+v, session hash %s", fork, now.Hash)
	}
	rp, err := scenarios.LoadReplay(fork.Path)
	if err != nil {
		t.Fatal(err)
	}
	o, check, err := experiment.Replay(rp, "test")
	if err != nil || !check.Reproduced || o.TraceHash() != now.Hash {
		t.Fatalf("replaying the fork: %v, %+v, hash %s", err, check, o.TraceHash())
	}
	// The fork opens again by name and is the same run.
	again := c.open(CreateRequest{File: "my-fork.replay.yaml"})
	if again.Hash != now.Hash {
		t.Fatalf("reopened fork hash %s, want %s", again.Hash, now.Hash)
	}
	// Undo all four: the original run again.
	for i := 0; i < 4; i++ {
		if code, msg := c.do("POST", "/api/sessions/"+sum.ID+"/undo", nil, nil); code != 200 {
			t.Fatalf("undo %d: %d %s", i, code, msg)
		}
	}
	c.do("GET", "/api/sessions/"+sum.ID, nil, &now)
	if now.Hash != sum.Hash {
		t.Fatalf("after undo: hash %s, want the original %s", now.Hash, sum.Hash)
	}
	// Nothing was written outside the output folder.
	ents, _ := os.ReadDir(filepath.Dir(out))
	if len(ents) != 1 || ents[0].Name() != "out" {
		t.Fatalf("files beside the output folder: %v", ents)
	}
}

// TestFireAndDuplicate fires a pending timer early and duplicates a message.
func TestFireAndDuplicate(t *testing.T) {
	c, _ := newTestServer(t, Options{})
	sum := c.open(CreateRequest{Builtin: "lossy-wan"})
	st := c.goTo(sum.ID, GotoRequest{To: "step", Step: 30})
	var tm *Timer
	for i := range st.Timers {
		if st.Timers[i].Node < sum.N && st.Timers[i].At > st.TimeNs+1 {
			tm = &st.Timers[i]
			break
		}
	}
	if tm == nil {
		t.Fatalf("no replica timer pending at step 30: %+v", st.Timers)
	}
	var after State
	if code, msg := c.do("POST", "/api/sessions/"+sum.ID+"/act", Action{Kind: "fire", Node: &tm.Node, Timer: tm.ID}, &after); code != 200 {
		t.Fatalf("fire: %d %s", code, msg)
	}
	if r := after.StepRecs[0]; r.Kind != "timer" || r.To != tm.Node || after.TimeNs != st.TimeNs+1 {
		t.Fatalf("after fire: %+v", after.StepRecs)
	}
	f := firstDriveable(t, after)
	if code, msg := c.do("POST", "/api/sessions/"+sum.ID+"/act", Action{Kind: "duplicate", Msg: &f.ID}, &after); code != 200 {
		t.Fatalf("duplicate: %d %s", code, msg)
	}
	if r := after.StepRecs[0]; r.Kind != "deliver" || r.From != f.From || r.To != f.To {
		t.Fatalf("after duplicate: %+v", after.StepRecs)
	}
	// The original is still in flight.
	still := false
	for _, g := range after.Flights {
		still = still || g.From == f.From && g.To == f.To && g.Type == f.Type && g.SentAt == f.SentAt
	}
	if !still {
		t.Fatalf("the duplicated message's original is no longer in flight")
	}
}

// TestSessionsAreIndependent drives two sessions of one file at once:
// neither sees the other's schedule.
func TestSessionsAreIndependent(t *testing.T) {
	c, _ := newTestServer(t, Options{})
	a := c.open(CreateRequest{Builtin: "fault-free"})
	b := c.open(CreateRequest{Builtin: "fault-free"})
	var wg sync.WaitGroup
	errs := make(chan string, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		var st State
		if code, msg := c.do("POST", "/api/sessions/"+a.ID+"/goto", GotoRequest{To: "step", Step: 10}, &st); code != 200 {
			errs <- msg
			return
		}
		if code, msg := c.do("POST", "/api/sessions/"+a.ID+"/act", Action{Kind: "crash", Node: ptr(1)}, nil); code != 200 {
			errs <- msg
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 20; i++ {
			if code, msg := c.do("POST", "/api/sessions/"+b.ID+"/goto", GotoRequest{To: "next"}, nil); code != 200 {
				errs <- msg
			}
		}
	}()
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	var sa, sb Summary
	c.do("GET", "/api/sessions/"+a.ID, nil, &sa)
	c.do("GET", "/api/sessions/"+b.ID, nil, &sb)
	if sa.Hash == a.Hash || sb.Hash != b.Hash {
		t.Fatalf("driven session hash %s (was %s), other session %s (was %s)", sa.Hash, a.Hash, sb.Hash, b.Hash)
	}
	var st State
	c.do("GET", "/api/sessions/"+b.ID+"/state", nil, &st)
	if st.Step != 20 || len(st.Actions) != 0 || len(st.Down) != 0 {
		t.Fatalf("other session: step %d, actions %v, down %v", st.Step, st.Actions, st.Down)
	}
}

// TestSessionCapAndExpiry: at the cap a new session is refused; an idle
// one expires and makes room.
func TestSessionCapAndExpiry(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c, s := newTestServer(t, Options{MaxSessions: 2, IdleTimeout: time.Minute, Now: clock})
	first := c.open(CreateRequest{Builtin: "fault-free"})
	c.open(CreateRequest{Builtin: "fault-free"})
	if code, msg := c.do("POST", "/api/sessions", CreateRequest{Builtin: "fault-free"}, nil); code != http.StatusTooManyRequests || !strings.Contains(msg, "sessions are open") {
		t.Fatalf("third session: %d %s", code, msg)
	}
	if code, _ := c.do("DELETE", "/api/sessions/"+first.ID, nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	c.open(CreateRequest{Builtin: "fault-free"})
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	c.open(CreateRequest{Builtin: "fault-free"})
	if s.Sessions() != 1 {
		t.Fatalf("after expiry: %d sessions, want 1", s.Sessions())
	}
}

// TestTraceAndSweepFiles opens a trace (records only) and a sweep (failing
// seeds grouped like triage, each opening as a run).
func TestTraceAndSweepFiles(t *testing.T) {
	dir := t.TempDir()
	rp := replayOf(mustBuiltin(t, "fault-free"))
	if _, err := experiment.Run(&rp.Scenario, experiment.Options{Trace: filepath.Join(dir, "run.trace.jsonl")}); err != nil {
		t.Fatal(err)
	}
	trace := filepath.Join(dir, "run.trace.jsonl")
	c, _ := newTestServer(t, Options{File: trace})
	sum := c.open(CreateRequest{File: trace})
	if sum.Kind != "trace" || sum.Steps == 0 {
		t.Fatalf("trace summary %+v", sum)
	}
	st := c.goTo(sum.ID, GotoRequest{To: "step", Step: 5})
	if st.Step != 5 || len(st.StepRecs) != 1 || len(st.Notes) == 0 {
		t.Fatalf("trace state %+v", st)
	}
	if code, msg := c.do("POST", "/api/sessions/"+sum.ID+"/act", Action{Kind: "crash", Node: ptr(1)}, nil); code != 400 || !strings.Contains(msg, "only a run") {
		t.Fatalf("driving a trace: %d %s", code, msg)
	}

	sw := filepath.Join(dir, "sweep.jsonl")
	writeSweep(t, sw)
	c2, _ := newTestServer(t, Options{File: sw})
	ss := c2.open(CreateRequest{File: sw})
	if ss.Kind != "sweep" || ss.Sweep == nil || ss.Sweep.Failing != 2 || len(ss.Sweep.Groups) != 1 || len(ss.Sweep.Groups[0].Seeds) != 2 {
		t.Fatalf("sweep summary %+v", ss.Sweep)
	}
	run := c2.open(CreateRequest{Sweep: ss.ID, Seed: ptr(uint64(3))})
	if run.Kind != "run" || run.Seed != 3 || len(run.Viol) == 0 {
		t.Fatalf("seed 3 of the sweep: %+v", run)
	}
	if code, msg := c2.do("POST", "/api/sessions", CreateRequest{Sweep: ss.ID, Seed: ptr(uint64(2))}, nil); code != 400 || !strings.Contains(msg, "not a failing seed") {
		t.Fatalf("passing seed: %d %s", code, msg)
	}
	if code, msg := c2.do("GET", "/api/sessions/"+ss.ID+"/timeline", nil, nil); code != 400 || !strings.Contains(msg, "no timeline") {
		t.Fatalf("sweep timeline: %d %s", code, msg)
	}
}

func mustBuiltin(t *testing.T, name string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestPageIsSelfContained: the page and its script load nothing from the
// network.
func TestPageIsSelfContained(t *testing.T) {
	c, _ := newTestServer(t, Options{})
	for _, p := range []string{"/", "/app.js", "/style.css"} {
		resp, err := http.Get(c.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || b.Len() == 0 {
			t.Fatalf("%s: %d, %d bytes", p, resp.StatusCode, b.Len())
		}
		for _, bad := range []string{"http://", "https://", "//cdn", "@import"} {
			if i := strings.Index(b.String(), bad); i >= 0 && !strings.Contains(b.String()[max(0, i-20):i], "xmlns") && !strings.Contains(b.String()[i:min(b.Len(), i+40)], "www.w3.org") {
				t.Errorf("%s loads from the network: %q", p, b.String()[max(0, i-30):min(b.Len(), i+40)])
			}
		}
	}
	_ = fmt.Sprint()
}

// TestSwitchToByzantine switches a replica to a strategy mid-run: the run
// up to the step is unchanged, the replica follows the strategy after it,
// and the fork replays.
func TestSwitchToByzantine(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	c, _ := newTestServer(t, Options{Out: out, Version: "test"})
	sum := c.open(CreateRequest{Builtin: "fault-free"})
	st := c.goTo(sum.ID, GotoRequest{To: "step", Step: 20})
	if code, msg := c.do("POST", "/api/sessions/"+sum.ID+"/act", Action{Kind: "byzantine", Node: ptr(1), Strategy: "no-such"}, nil); code != 409 || !strings.Contains(msg, "silent") {
		t.Fatalf("unknown strategy: %d %s", code, msg)
	}
	var after State
	if code, msg := c.do("POST", "/api/sessions/"+sum.ID+"/act", Action{Kind: "byzantine", Node: ptr(1), Strategy: "silent"}, &after); code != 200 {
		t.Fatalf("byzantine: %d %s", code, msg)
	}
	if after.Step != st.Step || after.Hash != st.Hash || after.Replicas[1].Byzantine != "silent" {
		t.Fatalf("after the switch: step %d hash %s (was %d %s), r1 %q", after.Step, after.Hash, st.Step, st.Hash, after.Replicas[1].Byzantine)
	}
	if code, msg := c.do("POST", "/api/sessions/"+sum.ID+"/act", Action{Kind: "byzantine", Node: ptr(1), Strategy: "silent"}, nil); code != 409 || !strings.Contains(msg, "already runs") {
		t.Fatalf("second switch: %d %s", code, msg)
	}
	var tl Timeline
	c.do("GET", "/api/sessions/"+sum.ID+"/timeline", nil, &tl)
	before, later := 0, 0
	for _, r := range tl.Records {
		if r.Kind == "send" && r.From == 1 {
			if r.T <= st.TimeNs {
				before++
			} else {
				later++
			}
		}
	}
	if before == 0 || later != 0 {
		t.Fatalf("r1 sent %d messages before the switch and %d after; want some, then none (silent)", before, later)
	}
	var fork ForkReply
	if code, msg := c.do("POST", "/api/sessions/"+sum.ID+"/fork", ForkRequest{Name: "byz"}, &fork); code != 201 {
		t.Fatalf("fork: %d %s", code, msg)
	}
	rp, err := scenarios.LoadReplay(fork.Path)
	if err != nil {
		t.Fatal(err)
	}
	if _, check, err := experiment.Replay(rp, "test"); err != nil || !check.Reproduced {
		t.Fatalf("the fork does not reproduce: %v %+v", err, check)
	}
}

// TestCheckJob runs a small check from the API and polls it to its end.
func TestCheckJob(t *testing.T) {
	c, _ := newTestServer(t, Options{})
	var st JobStatus
	if code, msg := c.do("POST", "/api/jobs", JobRequest{Kind: "check", Runs: 2, Budget: "60s", Seed: 1}, &st); code != 201 {
		t.Fatalf("start: %d %s", code, msg)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for !st.Done && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		c.do("GET", "/api/jobs/"+st.ID, nil, &st)
	}
	if !st.Done || st.Cases != 2 || st.Progress != 1 || st.Error != "" || !strings.Contains(st.Result, "2 cases") {
		t.Fatalf("job %+v", st)
	}
	if st.Found {
		t.Fatalf("check of the correct protocol found %s", st.Result)
	}
	if code, msg := c.do("POST", "/api/sessions", CreateRequest{Job: st.ID}, nil); code != http.StatusConflict || !strings.Contains(msg, "no counterexample") {
		t.Fatalf("opening a job without a finding: %d %s", code, msg)
	}
}

// TestHuntJobOpensAtViolation hunts a broken variant from the API and opens
// the counterexample found, which has its violation.
func TestHuntJobOpensAtViolation(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	c, _ := newTestServer(t, Options{Out: out})
	var st JobStatus
	if code, msg := c.do("POST", "/api/jobs", JobRequest{Kind: "hunt", Variant: "accept-second-preprepare", Budget: "120s", Seed: 1}, &st); code != 201 {
		t.Fatalf("start: %d %s", code, msg)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for !st.Done && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		c.do("GET", "/api/jobs/"+st.ID, nil, &st)
	}
	if !st.Done || !st.Found || st.Replay == "" {
		t.Fatalf("hunt job %+v", st)
	}
	if _, err := os.Stat(filepath.Join(out, st.Replay)); err != nil {
		t.Fatalf("the counterexample's replay file: %v", err)
	}
	sum := c.open(CreateRequest{Job: st.ID})
	if len(sum.Viol) == 0 {
		t.Fatalf("the counterexample has no violation: %+v", sum)
	}
	at := c.goTo(sum.ID, GotoRequest{To: "violation"})
	if len(at.Viol) == 0 || at.Step != sum.Viol[0].Step {
		t.Fatalf("at the violation: step %d, %+v", at.Step, at.Viol)
	}
	// It also opens by its file name, from the output folder.
	if again := c.open(CreateRequest{File: st.Replay}); again.Hash != sum.Hash {
		t.Fatalf("by file: hash %s, by job %s", again.Hash, sum.Hash)
	}
}

// TestSamePrefix: an added duplication record (and the record numbers it
// shifts) does not make two prefixes differ; another delivery does.
func TestSamePrefix(t *testing.T) {
	mk := func(lines ...string) *timeline {
		tl := &timeline{recAfter: []uint64{0}}
		for i, l := range lines {
			kind, _, _ := strings.Cut(l, " ")
			tl.recs = append(tl.recs, Rec{Step: uint64(i + 1), Kind: kind, Line: fmt.Sprintf("#%d %s", len(tl.recs), l)})
			tl.recAfter = append(tl.recAfter, uint64(len(tl.recs)))
		}
		return tl
	}
	base := mk("send r0 -> r1 PREPARE", "deliver r0 -> r1 PREPARE", "timer r2")
	withDup := &timeline{recAfter: []uint64{0}}
	for i, l := range []string{"send r0 -> r1 PREPARE|duplicate r0 -> r1 PREPARE", "deliver r0 -> r1 PREPARE", "timer r2"} {
		for _, part := range strings.Split(l, "|") {
			kind, _, _ := strings.Cut(part, " ")
			withDup.recs = append(withDup.recs, Rec{Step: uint64(i + 1), Kind: kind, Line: fmt.Sprintf("#%d %s", len(withDup.recs), part)})
		}
		withDup.recAfter = append(withDup.recAfter, uint64(len(withDup.recs)))
	}
	other := mk("send r0 -> r1 PREPARE", "deliver r0 -> r2 PREPARE", "timer r2")
	for _, tc := range []struct {
		name string
		a, b *timeline
		k    uint64
		want bool
	}{
		{"itself", base, base, 3, true},
		{"a duplication added", base, withDup, 3, true},
		{"another delivery", base, other, 3, false},
		{"the same before it", base, other, 1, true},
		{"too short", base, mk("send r0 -> r1 PREPARE"), 2, false},
	} {
		if got := samePrefix(tc.a, tc.b, tc.k); got != tc.want {
			t.Errorf("%s: samePrefix %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestOpenScenarioFileAndUpload opens a scenario file and the same
// scenario uploaded as text: the same run.
func TestOpenScenarioFileAndUpload(t *testing.T) {
	yaml := "name: tiny\nseed: 7\nn: 4\nworkload: {clients: 1, requests: 3}\nnetwork: {delay: \"uniform:1ms:3ms\"}\n"
	file := filepath.Join(t.TempDir(), "tiny.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	c, _ := newTestServer(t, Options{File: file})
	a := c.open(CreateRequest{File: file})
	b := c.open(CreateRequest{YAML: yaml})
	if a.Kind != "run" || a.Seed != 7 || a.N != 4 || a.Steps == 0 || a.Hash != b.Hash || a.Name != "tiny.yaml" {
		t.Fatalf("file %+v, upload %+v", a, b)
	}
	end := c.goTo(a.ID, GotoRequest{To: "end"})
	executed := 0
	for _, r := range end.Replicas {
		executed += int(r.State.LastExecuted)
	}
	if executed == 0 || end.Ended == "" {
		t.Fatalf("at the end: executed %d, ended %q", executed, end.Ended)
	}
}

// TestHotStuffRun: a HotStuff run steps and drives; the state panel says
// it shows PBFT replicas only.
func TestHotStuffRun(t *testing.T) {
	c, _ := newTestServer(t, Options{})
	sum := c.open(CreateRequest{Builtin: "hotstuff-fault-free"})
	st := c.goTo(sum.ID, GotoRequest{To: "step", Step: 15})
	if len(st.Replicas) != 0 || len(st.Notes) == 0 || !strings.Contains(st.Notes[0], "PBFT replicas only") {
		t.Fatalf("state %+v", st.Notes)
	}
	if code, msg := c.do("POST", "/api/sessions/"+sum.ID+"/act", Action{Kind: "crash", Node: ptr(3)}, nil); code != 200 {
		t.Fatalf("crash in a HotStuff run: %d %s", code, msg)
	}
}

// TestRefusedActionKeepsTheRun: after an action that does not show in the
// run (refused), the session is where it was and still works.
func TestRefusedActionKeepsTheRun(t *testing.T) {
	sc := mustBuiltin(t, "fault-free")
	s, err := newRunSession("x", "fault-free", replayOf(sc), 100000)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.seek(10); err != nil {
		t.Fatal(err)
	}
	before := s.state()
	a := Action{Kind: "crash", Node: ptr(1)}
	if err := s.compile(&a); err != nil {
		t.Fatal(err)
	}
	a.effect = func(*Rec) bool { return false } // as if the run never took it
	if err := s.take(a); err == nil || !strings.Contains(err.Error(), "not applied") {
		t.Fatalf("take: %v", err)
	}
	after := s.state()
	if after.Step != before.Step || after.Hash != before.Hash || len(after.Actions) != 0 || len(after.Replicas) != 4 || len(after.Down) != 0 {
		t.Fatalf("after the refusal: step %d hash %s actions %v down %v", after.Step, after.Hash, after.Actions, after.Down)
	}
	if err := s.seek(20); err != nil {
		t.Fatal(err)
	}
}
