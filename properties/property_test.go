package properties

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"

	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// envInt reads a positive integer from the environment.
func envInt(t testing.TB, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return v
}

// artifactDir is where failing scenarios are written: PBFTSIM_ARTIFACTS or
// the test's temporary directory.
func artifactDir(t testing.TB) string {
	if d := os.Getenv("PBFTSIM_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("PBFTSIM_ARTIFACTS: %v", err)
		}
		return d
	}
	return t.TempDir()
}

// writeArtifacts writes a failing run's scenario and replay file to dir.
func writeArtifacts(dir, name string, o *Outcome) (scenarioPath, replayPath string, err error) {
	y, err := o.Scenario.Marshal()
	if err != nil {
		return "", "", err
	}
	scenarioPath = filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(scenarioPath, y, 0o644); err != nil {
		return "", "", err
	}
	replayPath = filepath.Join(dir, name+".replay.yaml")
	return scenarioPath, replayPath, o.WriteReplay(replayPath)
}

// reportFailure writes the failing scenario and its replay file and fails
// the test with the command that reruns it (rerun).
func reportFailure(t testing.TB, name, rerun string, o *Outcome) {
	t.Helper()
	ypath, rpath, err := writeArtifacts(artifactDir(t), name, o)
	if err != nil {
		t.Errorf("writing artifacts: %v", err)
	}
	y, _ := o.Scenario.Marshal()
	t.Errorf("%s failed: %s\nshrunk scenario: %s\nreplay: pbftsim replay %s\nrerun: %s\n%s",
		name, o.Summary(), ypath, rpath, rerun, y)
}

// seedRerun is the command that reruns TestGeneratedScenarios with seed
// (which envInt accepts: a positive integer).
func seedRerun(seed int64, variant string) string {
	env := fmt.Sprintf("PBFTSIM_SEED=%d", seed)
	if variant != "" {
		env += " PBFTSIM_VARIANT=" + variant
	}
	return env + " go test ./properties -run '^TestGeneratedScenarios$'"
}

// fuzzRerun is how to rerun a FuzzScenario failure: the fuzzing engine
// saves the input under testdata/fuzz/FuzzScenario/ and prints its name.
const fuzzRerun = "go test ./properties -run 'FuzzScenario/NAME' (NAME: the file the fuzzing engine saved under testdata/fuzz/FuzzScenario/)"

// TestGeneratedScenarios is the gopter property test: every generated
// scenario (within the fault model) keeps every safety property, and
// liveness. PBFTSIM_PROPERTY_RUNS sets the number of cases (default 300),
// PBFTSIM_SEED the seed, PBFTSIM_VARIANT a broken protocol variant to run
// instead of the correct protocol (to see a failure shrink).
func TestGeneratedScenarios(t *testing.T) {
	runs := envInt(t, "PBFTSIM_PROPERTY_RUNS", 300)
	seed := int64(envInt(t, "PBFTSIM_SEED", 1))
	params := gopter.DefaultTestParametersWithSeed(seed)
	params.MinSuccessfulTests = runs
	params.MaxShrinkCount = 40
	var last *Outcome // the last failing run: after shrinking, the minimal one
	var runErr error
	props := gopter.NewProperties(params)
	props.Property("safety and liveness hold within the fault model", prop.ForAll(func(sc scenarios.Scenario) bool {
		o, err := RunScenario(sc, RunOptions{Liveness: true, StopOnViolation: true})
		if err != nil {
			runErr = fmt.Errorf("scenario does not run: %w", err)
			return false
		}
		if o.Failed() {
			last = o
			return false
		}
		return true
	}, ScenarioGen(GenConfig{Variant: os.Getenv("PBFTSIM_VARIANT")})))
	var out reporterBuf
	if !props.Run(gopter.NewFormatedReporter(true, 100, &out)) {
		if runErr != nil {
			t.Fatalf("%v\n%s", runErr, out.String())
		}
		if last == nil {
			t.Fatalf("property failed without a failing run:\n%s", out.String())
		}
		reportFailure(t, "generated", seedRerun(seed, last.Scenario.Protocol.Variant), last)
		return
	}
	t.Logf("%d generated scenarios passed (seed %d)", runs, seed)
}

type reporterBuf struct{ b []byte }

func (r *reporterBuf) Write(p []byte) (int, error) { r.b = append(r.b, p...); return len(p), nil }
func (r *reporterBuf) String() string              { return string(r.b) }

// TestShrinksAreSmaller checks that every shrink candidate is smaller in
// some dimension and still valid.
func TestShrinksAreSmaller(t *testing.T) {
	for i := 0; i < 50; i++ {
		sc := CaseScenario(7, i, GenConfig{})
		for _, c := range Shrinks(sc) {
			if err := c.Validate(); err != nil {
				t.Fatalf("case %d: invalid shrink: %v", i, err)
			}
			if size(c) >= size(sc) {
				t.Fatalf("case %d: shrink not smaller: %d >= %d", i, size(c), size(sc))
			}
		}
	}
}

// size is a rough measure of a scenario used by TestShrinksAreSmaller.
func size(sc scenarios.Scenario) int {
	s := sc.N*1000 + len(sc.Byzantine)*100 + len(sc.Crashes)*100 + sc.Workload.Requests*10 + sc.Workload.Clients*10
	s += len(sc.Adversary) + len(sc.Network.Partitions) + len(sc.Network.Links)
	for _, b := range sc.Byzantine {
		s += len(b.Params)
	}
	if sc.Network.Drop > 0 {
		s++
	}
	if sc.Network.Duplicate > 0 {
		s++
	}
	if sc.Network.Delay != "const:1ms" {
		s++
	}
	if sc.Network.GST > 0 {
		s++
	}
	if sc.Workload.Interval > 0 {
		s++
	}
	k := sc.Protocol.CheckpointInterval
	if k == 0 {
		k = 16 // the default K
	}
	s += k + sc.Protocol.Batch
	// Then the times: the run's end and when the faults happen.
	t := sc.Run.MaxTime + sc.Network.GST
	for _, c := range sc.Crashes {
		t += c.At + c.Recover
	}
	for _, p := range sc.Network.Partitions {
		t += p.From + p.To
	}
	for _, r := range sc.Adversary {
		t += r.Start + r.End
	}
	return s*100000 + int(t.Milliseconds())
}

// TestShrinkFindsMinimal shrinks against a synthetic predicate ("has a
// Byzantine equivocator") and expects a minimal scenario.
func TestShrinkFindsMinimal(t *testing.T) {
	sc := CaseScenario(1, 0, GenConfig{})
	sc.N = 10
	sc.Byzantine = []scenarios.Byzantine{{Replica: 0, Strategy: "equivocate"}, {Replica: 5, Strategy: "silent"}}
	sc.Crashes = []scenarios.Crash{{Node: 7, At: 1000000}}
	sc.Workload.Requests, sc.Workload.Clients = 6, 3
	fails := func(c scenarios.Scenario) bool {
		for _, b := range c.Byzantine {
			if b.Strategy == "equivocate" {
				return true
			}
		}
		return false
	}
	got, steps := Shrink(sc, fails, 100, 1000)
	if got.N != 4 || len(got.Byzantine) != 1 || len(got.Crashes) != 0 || got.Workload.Requests != 1 || got.Workload.Clients != 1 {
		t.Fatalf("after %d steps: not minimal: n=%d byz=%v crashes=%v requests=%d clients=%d", steps, got.N, got.Byzantine, got.Crashes, got.Workload.Requests, got.Workload.Clients)
	}
}

// TestShrinkWorkloadPass: a failure that needs 3 requests, or 40 or more,
// shrinks from 60 requests to 3 (halving alone stops at 40: 30 passes),
// and one that needs at least 7 shrinks to exactly 7.
func TestShrinkWorkloadPass(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fails func(r int) bool
		want  int
	}{
		{"3 or >= 40", func(r int) bool { return r == 3 || r >= 40 }, 3},
		{">= 7", func(r int) bool { return r >= 7 }, 7},
		{">= 23", func(r int) bool { return r >= 23 }, 23},
	} {
		sc := CaseScenario(1, 0, GenConfig{})
		sc.Workload.Requests, sc.Workload.Clients = 60, 1
		got, steps := Shrink(sc, func(c scenarios.Scenario) bool { return tc.fails(c.Workload.Requests) }, 100, 1000)
		if got.Workload.Requests != tc.want {
			t.Errorf("%s: after %d steps %d requests, want %d", tc.name, steps, got.Workload.Requests, tc.want)
		}
	}
}

// FuzzScenario decodes fuzzer bytes into a scenario within the fault model
// and checks the safety properties.
func FuzzScenario(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte("equivocating primary with duplicates and a partition"))
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc := DecodeScenario(data, GenConfig{MaxN: 7})
		o, err := RunScenario(sc, RunOptions{StopOnViolation: true})
		if err != nil {
			y, _ := sc.Marshal()
			t.Fatalf("generated scenario does not run: %v\n%s", err, y)
		}
		if !o.Failed() {
			return
		}
		reportFailure(t, "fuzz", fuzzRerun, o)
	})
}

// BenchmarkCheck measures cases per second of the default generator with
// all checkers (what `pbftsim check` runs), on all cores.
func BenchmarkCheck(b *testing.B) {
	b.ReportAllocs()
	rep, err := Search(context.Background(), SearchOptions{Runs: b.N, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	if rep.Failure != nil {
		b.Fatalf("violation: %s", rep.Failure.Outcome.Summary())
	}
	b.ReportMetric(float64(rep.Cases)/b.Elapsed().Seconds(), "cases/s")
}

func TestWriteArtifacts(t *testing.T) {
	sc := Targeted("client-single-reply")[0]
	sc.Protocol.Variant = "client-single-reply"
	o, err := RunScenario(sc, RunOptions{StopOnViolation: true})
	if err != nil {
		t.Fatal(err)
	}
	ypath, rpath, err := writeArtifacts(t.TempDir(), "x", o)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(ypath)
	if err != nil {
		t.Fatal(err)
	}
	back, err := scenarios.Parse(ypath, data)
	if err != nil {
		t.Fatalf("written scenario does not parse: %v", err)
	}
	if back.Seed != sc.Seed || back.Protocol.Variant != sc.Protocol.Variant || back.N != sc.N {
		t.Fatalf("scenario changed in the round trip: %+v", back)
	}
	if _, err := os.Stat(rpath); err != nil {
		t.Fatal(err)
	}
}

// TestAccountabilityOnRuns: an equivocating primary is named from its own
// messages, and nobody else is.
func TestAccountabilityOnRuns(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		sc, err := scenarios.Parse("eq", []byte(equivocateYAML))
		if err != nil {
			t.Fatal(err)
		}
		sc.Seed = seed
		o, err := RunScenario(*sc, RunOptions{Liveness: true})
		if err != nil {
			t.Fatal(err)
		}
		if o.Failed() {
			t.Fatalf("seed %d: correct protocol failed: %s", seed, o.Summary())
		}
		if len(o.Accused) != 1 || o.Accused[0].Replica != 0 || len(o.Accused[0].Evidence) != 2 {
			t.Fatalf("seed %d: want replica 0 accused with two PRE-PREPAREs, got %v", seed, o.Accused)
		}
	}
}

// BenchmarkRunOnly runs the same cases as BenchmarkCheck on one core
// without checkers, and BenchmarkCheckOneCore with them: their ratio is the
// checkers' overhead.
func BenchmarkRunOnly(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sc := CaseScenario(1, i, GenConfig{})
		cfg, err := sc.Config()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cluster.Run(cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cases/s")
}

// BenchmarkCheckOneCore is BenchmarkCheck on one worker.
func BenchmarkCheckOneCore(b *testing.B) {
	rep, err := Search(context.Background(), SearchOptions{Runs: b.N, Seed: 1, Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	if rep.Failure != nil {
		b.Fatalf("violation: %s", rep.Failure.Outcome.Summary())
	}
	b.ReportMetric(float64(rep.Cases)/b.Elapsed().Seconds(), "cases/s")
}

// TestRerunHints: the rerun command of a property failure names a seed the
// test accepts, and the fuzz failure's names no seed (a fuzz input is not
// one).
func TestRerunHints(t *testing.T) {
	for _, seed := range []int64{1, 1765000000} {
		h := seedRerun(seed, "prepare-2f-minus-1")
		v, _, _ := strings.Cut(strings.TrimPrefix(h, "PBFTSIM_SEED="), " ")
		t.Setenv("PBFTSIM_SEED", v)
		if got := envInt(t, "PBFTSIM_SEED", 0); int64(got) != seed {
			t.Errorf("hint %q: seed %d, want %d", h, got, seed)
		}
		if !strings.Contains(h, "PBFTSIM_VARIANT=prepare-2f-minus-1") || !strings.Contains(h, "-run '^TestGeneratedScenarios$'") {
			t.Errorf("hint %q", h)
		}
	}
	if strings.Contains(fuzzRerun, "SEED") {
		t.Errorf("fuzz hint %q names a seed", fuzzRerun)
	}
}

// TestStallJudgesLiveness: a run that stalls within the fault model (a
// variant whose view change loses requests) ends at the stall deadline, and
// liveness is judged there: the outstanding requests are reported.
func TestStallJudgesLiveness(t *testing.T) {
	sc, err := scenarios.Load("fault-free")
	if err != nil {
		t.Fatal(err)
	}
	sc.Workload.Requests, sc.Workload.Payments = 20, 0
	sc.Protocol.Variant = "newview-ignores-prepared"
	sc.Crashes = []scenarios.Crash{{Node: 0, At: 20 * time.Millisecond}}
	sc.Run.MaxTime, sc.Run.Stall = 0, 30*time.Second // past the liveness bound
	o, err := RunScenario(*sc, RunOptions{Liveness: true})
	if err != nil {
		t.Fatal(err)
	}
	r := o.Result
	if r.Ended != cluster.EndStall || r.Completed || !o.LivenessChecked {
		t.Fatalf("ended %q completed %v liveness checked %v; want a stall judged for liveness", r.Ended, r.Completed, o.LivenessChecked)
	}
	found := false
	for _, v := range o.Violations {
		if v.Property == Liveness {
			found = true
			if v.Time != sim.Time(r.StalledAtNs) {
				t.Errorf("liveness judged at %v, want the stall deadline %v", v.Time, time.Duration(r.StalledAtNs))
			}
		}
	}
	if !found {
		t.Errorf("a stalled run within the fault model reported no liveness violation: %v", o.Violations)
	}
}
