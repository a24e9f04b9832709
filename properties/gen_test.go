package properties

import (
	"context"
	"reflect"
	"testing"

	"github.com/pbftsim/pbftsim/sim/byzantine"
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
