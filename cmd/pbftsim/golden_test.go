package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/scenarios"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/trace_hashes.golden")

// TestTraceHashesGolden pins the trace hash of every built-in scenario at
// two seeds. It is what makes "same seed and scenario, same hash on any
// machine" a checked claim: CI runs it on a fresh machine. A change that
// alters the protocol's messages or their order changes these hashes on
// purpose; rerun with -update and say why in the commit.
func TestTraceHashesGolden(t *testing.T) {
	var b strings.Builder
	for _, info := range scenarios.List() {
		for _, seed := range []string{"1", "2"} {
			out, errs, code := cli(t, "run", "--scenario", info.Name, "--seed", seed, "--json", "--out", "")
			if code != 0 && code != 1 {
				t.Fatalf("%s seed %s: exit %d: %s", info.Name, seed, code, errs)
			}
			var res struct {
				TraceHash string `json:"trace_hash"`
				Events    uint64 `json:"events"`
				Verdict   string `json:"verdict"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("%s seed %s: %v", info.Name, seed, err)
			}
			fmt.Fprintf(&b, "%s seed=%s hash=%s events=%d verdict=%s\n", info.Name, seed, res.TraceHash, res.Events, res.Verdict)
		}
	}
	path := filepath.Join("testdata", "trace_hashes.golden")
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/pbftsim -run TestTraceHashesGolden -update)", err)
	}
	if got := b.String(); got != string(want) {
		t.Fatalf("trace hashes differ from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}
