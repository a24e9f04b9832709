package properties

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim/byzantine"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// TestGenerateWithinFaultModel: generated scenarios validate, stay within
// the fault model, cover n in 4..13 (only 3f+1 with OnlyOptimalN) and use every
// Byzantine strategy.
func TestGenerateWithinFaultModel(t *testing.T) {
	for _, anyN := range []bool{false, true} {
		ns := map[int]bool{}
		strategies := map[string]bool{}
		for i := 0; i < 2000; i++ {
			sc := CaseScenario(11, i, GenConfig{OnlyOptimalN: !anyN})
			cfg, err := sc.Config()
			if err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			if ok, why := WithinFaultModel(cfg); !ok {
				t.Fatalf("case %d outside the fault model: %s", i, why)
			}
			if !anyN && (sc.N-1)%3 != 0 {
				t.Fatalf("case %d: n=%d is not 3f+1", i, sc.N)
			}
			ns[sc.N] = true
			for _, b := range sc.Byzantine {
				strategies[b.Strategy] = true
			}
		}
		for n := 4; n <= 13; n++ {
			if (anyN || (n-1)%3 == 0) && !ns[n] {
				t.Errorf("anyN=%v: n=%d never generated", anyN, n)
			}
		}
		for _, s := range byzantine.Names() {
			if !strategies[s] {
				t.Errorf("strategy %s never generated", s)
			}
		}
	}
}

func TestDecodeScenarioDeterministic(t *testing.T) {
	for _, data := range [][]byte{nil, {1}, []byte("some fuzzer input of moderate length........")} {
		a, b := DecodeScenario(data, GenConfig{}), DecodeScenario(data, GenConfig{})
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("DecodeScenario(%q) differs between calls", data)
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("DecodeScenario(%q): %v", data, err)
		}
	}
}

// TestSearchDeterministic: the failure Search reports (the lowest failing
// case, shrunk) does not depend on the number of workers.
func TestSearchDeterministic(t *testing.T) {
	var hashes []string
	for _, workers := range []int{1, 2} {
		rep, err := Search(context.Background(), SearchOptions{Runs: 50, Seed: 3, Workers: workers,
			Gen: GenConfig{Variant: "execute-out-of-order", MinClients: 2}})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Failure == nil {
			t.Fatalf("workers=%d: execute-out-of-order not caught in 50 cases", workers)
		}
		hashes = append(hashes, rep.Failure.Outcome.TraceHash()+"/"+rep.Failure.Property)
	}
	if hashes[0] != hashes[1] {
		t.Fatalf("different findings with 1 and 2 workers: %v", hashes)
	}
}

func TestSearchRejectsNoLimit(t *testing.T) {
	if _, err := Search(context.Background(), SearchOptions{}); err == nil {
		t.Fatal("want an error without runs or budget")
	}
}

// TestSwarmDrawsEveryKnob: swarm cases validate and stay within the fault
// model; every knob is switched on and off (or takes several values), each
// with a non-trivial probability; every strategy, strategy sets, every n
// in 4..13, a smaller f than (n-1)/3 and timeouts below one round trip are
// drawn; and the knobs printed in the description read back.
func TestSwarmDrawsEveryKnob(t *testing.T) {
	const cases = 3000
	values := map[string]map[string]int{}
	strategies := map[string]int{}
	composed, smallF, multiCrash := 0, 0, 0
	ns := map[int]bool{}
	for i := 0; i < cases; i++ {
		r := rand.New(rand.NewPCG(5, uint64(i)))
		sc, k := GenerateSwarm(r, uint64(i), GenConfig{})
		cfg, err := sc.Config()
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if ok, why := WithinFaultModel(cfg); !ok {
			t.Fatalf("case %d outside the fault model: %s\n%s", i, why, sc.Description)
		}
		if got := ParseKnobs(sc.Description); !reflect.DeepEqual(got, k) {
			t.Fatalf("case %d: knobs %v read back as %v", i, k, got)
		}
		if len(k) != len(KnobNames) {
			t.Fatalf("case %d: %d knobs, want %d (%v)", i, len(k), len(KnobNames), k)
		}
		for j, x := range k {
			if x.Name != KnobNames[j] {
				t.Fatalf("case %d: knob %d is %s, want %s", i, j, x.Name, KnobNames[j])
			}
			if values[x.Name] == nil {
				values[x.Name] = map[string]int{}
			}
			values[x.Name][x.Value]++
		}
		ns[sc.N] = true
		if sc.F != 0 && sc.F < (sc.N-1)/3 {
			smallF++
		}
		crashed := map[int]int{}
		for _, c := range sc.Crashes {
			crashed[c.Node]++
		}
		if len(crashed) > 1 || len(sc.Crashes) > len(crashed) {
			multiCrash++
		}
		for _, b := range sc.Byzantine {
			for _, s := range strings.Split(b.Strategy, byzantine.ComposeSep) {
				strategies[s]++
			}
			if strings.Contains(b.Strategy, byzantine.ComposeSep) {
				composed++
			}
		}
	}
	minShare := cases / 50 // 2%
	for _, name := range KnobNames {
		vs := values[name]
		if len(vs) < 2 {
			t.Errorf("knob %s: only %v drawn", name, vs)
			continue
		}
		if off, ok := vs["off"]; ok && (off < minShare || cases-off < minShare) {
			t.Errorf("knob %s: off in %d of %d cases: want each of on and off in at least %d", name, off, cases, minShare)
		}
	}
	for _, tf := range timeoutFactors {
		if values["vc_timeout"][tf.name] < minShare || values["client_timeout"][tf.name] < minShare {
			t.Errorf("timeout %s drawn %d/%d times: want at least %d", tf.name, values["vc_timeout"][tf.name], values["client_timeout"][tf.name], minShare)
		}
	}
	for _, d := range swarmDelays {
		if values["delay"][d.spec] < cases/100 {
			t.Errorf("delay %s drawn %d times", d.spec, values["delay"][d.spec])
		}
	}
	for _, s := range byzantine.Names() {
		if strategies[s] < cases/200 {
			t.Errorf("strategy %s drawn %d times in %d cases", s, strategies[s], cases)
		}
	}
	for n := 4; n <= 13; n++ {
		if !ns[n] {
			t.Errorf("n=%d never drawn", n)
		}
	}
	if composed < minShare || smallF < minShare/2 || multiCrash < minShare {
		t.Errorf("strategy sets %d, f < (n-1)/3 %d, several crashes %d times in %d cases", composed, smallF, multiCrash, cases)
	}
}

// TestSwarmCorrectProtocolPasses runs swarm cases (check's generator) on
// the correct protocol (make fuzz: PBFTSIM_PROPERTY_RUNS of them).
func TestSwarmCorrectProtocolPasses(t *testing.T) {
	runs := 150
	if s := os.Getenv("PBFTSIM_PROPERTY_RUNS"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			runs = v
		}
	}
	rep, err := Search(context.Background(), SearchOptions{Runs: runs, Seed: 1, Gen: SearchConfig()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failure != nil {
		y, _ := rep.Failure.Scenario.Marshal()
		t.Fatalf("correct protocol violates %s: %s\n%s", rep.Failure.Property, rep.Failure.Violation, y)
	}
	t.Logf("%d swarm cases passed in %v", rep.Cases, rep.Elapsed)
}

// TestSwarmFindsTimeoutBug: with timeouts below one round trip drawn, the
// swarm search breaks liveness (or newview-wait) when the request timer does not grow after
// a view change, which the old generator (timeouts of 100 ms and more
// against delays under 20 ms) never drew. The correct protocol has that
// bug until the protocol work fixes it and keeps it as the variant
// timeout-no-growth: the test hunts the variant when it exists, else the
// correct protocol.
func TestSwarmFindsTimeoutBug(t *testing.T) {
	skipSearchUnderShort(t)
	variant := ""
	if _, err := pbft.ParseVariant("timeout-no-growth"); err == nil {
		variant = "timeout-no-growth"
	}
	for i := 0; i < 300; i++ {
		sc := CaseScenario(1, i, GenConfig{Swarm: true, Variant: variant})
		o, err := RunScenario(sc, RunOptions{Liveness: true, StopOnViolation: true})
		if err != nil {
			t.Fatal(err)
		}
		if !o.Failed() {
			continue
		}
		// newview-wait judges the timer's growth directly (a NEW-VIEW
		// timer that ran out before its doubled timeout), so it may catch
		// the bug before liveness does.
		if p := o.Property(); p != Liveness && p != NewViewWait {
			t.Fatalf("case %d: want a liveness or %s failure, got %s", i, NewViewWait, o.Summary())
		}
		t.Logf("variant %q: case %d: %s (%s)", variant, i, o.Violations[0], sc.Description)
		return
	}
	t.Fatalf("variant %q: no failure in 300 swarm cases", variant)
}

// TestSwarmSteadyRolesCalm: the steady workload family draws every think
// time and lasts the run (spread: the requests cover the run; vc/4: a
// request every quarter view-change timeout while they last), its event
// budget is set, and it issues no more requests than drawn; a calm network
// has no network fault; with roles on, a strategy that acts as the primary
// sits at the primary far more often than with roles off.
func TestSwarmSteadyRolesCalm(t *testing.T) {
	const cases = 4000
	thinks := map[string]int{}
	steady, calm := 0, 0
	atRole := map[bool][2]int{} // roles on/off: [primary-role strategies, of them at replica 0]
	for i := 0; i < cases; i++ {
		seed := uint64(i)
		sc, k := GenerateSwarm(rand.New(rand.NewPCG(7, seed)), seed, GenConfig{})
		kv := k.Map()
		if strings.HasPrefix(kv["workload"], "steady:") {
			steady++
			thinks[kv["think"]]++
			var c, total int
			if _, err := fmt.Sscanf(kv["workload"], "steady:%dx%d", &c, &total); err != nil {
				t.Fatalf("case %d: workload knob %q: %v", i, kv["workload"], err)
			}
			w := sc.Workload
			if w.Clients != c || w.Requests > total || w.Requests < c || sc.Run.MaxEvents != steadyMaxEvents {
				t.Fatalf("case %d: steady workload %+v (max events %d) for knob %s", i, w, sc.Run.MaxEvents, kv["workload"])
			}
			var rtt time.Duration
			for _, d := range swarmDelays {
				if d.spec == sc.Network.Delay {
					rtt = 2 * d.typical
				}
			}
			if kv["think"] == "spread" && time.Duration(w.Requests/c+1)*(w.Interval+2*rtt) < sc.Run.MaxTime*9/10 {
				t.Fatalf("case %d: spread workload of %d requests every %v does not last the run (%v)", i, w.Requests, w.Interval, sc.Run.MaxTime)
			}
		} else if sc.Run.MaxEvents != 0 {
			t.Fatalf("case %d: event budget %d without a steady workload", i, sc.Run.MaxEvents)
		}
		if kv["calm"] == "on" {
			calm++
			if sc.Network.Drop != 0 || sc.Network.Duplicate != 0 || len(sc.Network.Partitions) > 0 || len(sc.Adversary) > 0 {
				t.Fatalf("case %d: a calm network with faults: %+v %+v", i, sc.Network, sc.Adversary)
			}
		}
		on := kv["roles"] != "off"
		for _, b := range sc.Byzantine {
			first, _, _ := strings.Cut(b.Strategy, byzantine.ComposeSep)
			if info, ok := byzantine.Lookup(first); ok && info.Role == byzantine.RolePrimary {
				x := atRole[on]
				x[0]++
				if b.Replica == 0 {
					x[1]++
				}
				atRole[on] = x
			}
		}
	}
	if steady < cases/10 || steady > cases/2 {
		t.Errorf("%d steady workloads in %d cases", steady, cases)
	}
	for _, th := range steadyThinks {
		if thinks[th.name] < steady/20 {
			t.Errorf("steady think %s drawn %d times in %d steady cases", th.name, thinks[th.name], steady)
		}
	}
	if calm < cases/20 {
		t.Errorf("%d calm networks in %d cases", calm, cases)
	}
	share := func(x [2]int) float64 { return float64(x[1]) / float64(max(x[0], 1)) }
	if on, off := share(atRole[true]), share(atRole[false]); atRole[false][0] < 20 || on < 0.7 || on < 1.5*off {
		t.Errorf("primary strategies at the primary: %.2f with roles on (%v), %.2f off (%v)", on, atRole[true], off, atRole[false])
	}
}
