package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/scenarios"
)

func TestTriage(t *testing.T) {
	dir := t.TempDir()
	sw := filepath.Join(dir, "bf.jsonl")
	if _, errs, code := cli(t, "sweep", "--scenario", "beyond-f", "--seeds", "1..6", "--out", sw, "--quiet"); code != 0 { // failures outside the fault model are expected
		t.Fatalf("beyond-f sweep: exit %d: %s", code, errs)
	}
	out, errs, code := cli(t, "triage", sw, "--out", filepath.Join(dir, "found"))
	if code != 0 {
		t.Fatalf("triage: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "6 failing seeds in 1 groups") || !strings.Contains(out, "equivocate,conflicting-votes") {
		t.Errorf("triage table:\n%s", out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "found", "*.replay.yaml"))
	if len(files) != 1 {
		t.Fatalf("replay files %v, want one per group", files)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	rp, err := scenarios.ParseReplay(files[0], data)
	if err != nil {
		t.Fatal(err)
	}
	o, err := properties.Rerun(rp)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Failed() || o.Property() != rp.Property || o.TraceHash() != rp.TraceHash {
		t.Errorf("the replay file does not reproduce its failure: %s vs %s/%s", o.Summary(), rp.Property, rp.TraceHash)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"triage", sw}, "--out"},
		{[]string{"triage", filepath.Join(dir, "none.jsonl"), "--out", dir}, "none.jsonl"},
		{[]string{"triage"}, "accepts 1 arg"},
	} {
		if _, errs, code := cli(t, c.args...); code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
}
