package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/scenarios"
)

var (
	updateGolden  = flag.Bool("update", false, "rewrite the trace hashes in testdata/trace_hashes.golden; refuses when the meaning of a row (events, verdict, messages, views) changed")
	updateMeaning = flag.Bool("update-meaning", false, "with -update: also accept changed meanings (say why in the commit)")
)

// goldenPath is the golden file of TestTraceHashesGolden.
var goldenPath = filepath.Join("testdata", "trace_hashes.golden")

// goldenRow is one line of the golden file: a run (scenario and seed), its
// meaning (what the run did: events, verdict, violated properties, accused
// replicas, final view and view changes, requests committed of submitted,
// and network messages by type) and its trace hash. The format is
//
//	name seed=S | events=E verdict=V ... msgs=TYPE:N,... | hash=H
type goldenRow struct {
	run, meaning, hash string
}

func (r goldenRow) String() string { return r.run + " | " + r.meaning + " | hash=" + r.hash }

// parseGolden parses the golden file, one row a line.
func parseGolden(data string) ([]goldenRow, error) {
	var rows []goldenRow
	for i, line := range strings.Split(strings.TrimRight(data, "\n"), "\n") {
		parts := strings.Split(line, " | ")
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "hash=") {
			return nil, fmt.Errorf("%s:%d: want \"name seed=S | meaning | hash=H\", got %q", goldenPath, i+1, line)
		}
		rows = append(rows, goldenRow{parts[0], parts[1], strings.TrimPrefix(parts[2], "hash=")})
	}
	return rows, nil
}

func formatGolden(rows []goldenRow) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(r.String() + "\n")
	}
	return b.String()
}

// goldenRun is what a run's --json output says, for the golden row.
type goldenRun struct {
	TraceHash string `json:"trace_hash"`
	Events    uint64 `json:"events"`
	Verdict   string `json:"verdict"`
	Messages  struct {
		Total  uint64            `json:"total"`
		ByType map[string]uint64 `json:"by_type"`
	} `json:"messages"`
	Requests struct {
		Submitted uint64 `json:"submitted"`
		Committed uint64 `json:"committed"`
	} `json:"requests"`
	Views struct {
		Final   uint64 `json:"final"`
		Changes uint64 `json:"changes"`
	} `json:"views"`
	Violations []struct {
		Property string `json:"property"`
	} `json:"violations"`
	Accused []struct {
		Replica int `json:"replica"`
	} `json:"accused"`
}

// meaning formats what the run did (all but the hash).
func (g goldenRun) meaning() string {
	var props []string
	for _, v := range g.Violations {
		if !slices.Contains(props, v.Property) {
			props = append(props, v.Property)
		}
	}
	var acc []string
	for _, a := range g.Accused {
		acc = append(acc, fmt.Sprint(a.Replica))
	}
	types := make([]string, 0, len(g.Messages.ByType))
	for t := range g.Messages.ByType {
		types = append(types, t)
	}
	slices.Sort(types)
	msgs := make([]string, len(types))
	for i, t := range types {
		msgs[i] = fmt.Sprintf("%s:%d", t, g.Messages.ByType[t])
	}
	return fmt.Sprintf("events=%d verdict=%s violated=[%s] accused=[%s] view=%d view_changes=%d committed=%d/%d msgs=%d{%s}",
		g.Events, g.Verdict, strings.Join(props, ","), strings.Join(acc, ","), g.Views.Final, g.Views.Changes,
		g.Requests.Committed, g.Requests.Submitted, g.Messages.Total, strings.Join(msgs, ","))
}

// goldenRows runs every built-in scenario at seeds 1 and 2.
func goldenRows(t *testing.T) []goldenRow {
	var rows []goldenRow
	for _, info := range scenarios.List() {
		for _, seed := range []string{"1", "2"} {
			out, errs, code := cli(t, "run", "--scenario", info.Name, "--seed", seed, "--json", "--out", "")
			if code != 0 && code != 1 {
				t.Fatalf("%s seed %s: exit %d: %s", info.Name, seed, code, errs)
			}
			var res goldenRun
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("%s seed %s: %v", info.Name, seed, err)
			}
			if res.TraceHash == "" || res.Verdict == "" {
				t.Fatalf("%s seed %s: no trace_hash or verdict in the JSON output", info.Name, seed)
			}
			rows = append(rows, goldenRow{run: info.Name + " seed=" + seed, meaning: res.meaning(), hash: res.TraceHash})
		}
	}
	return rows
}

// goldenDiff compares got with want: the rows whose meaning changed (or that
// were added or removed) and the rows whose hash alone changed.
func goldenDiff(got, want []goldenRow) (meaning, hashOnly []string) {
	byRun := map[string]goldenRow{}
	for _, w := range want {
		byRun[w.run] = w
	}
	seen := map[string]bool{}
	for _, g := range got {
		seen[g.run] = true
		w, ok := byRun[g.run]
		switch {
		case !ok:
			meaning = append(meaning, "+ "+g.String())
		case w.meaning != g.meaning:
			meaning = append(meaning, "- "+w.String(), "+ "+g.String())
		case w.hash != g.hash:
			hashOnly = append(hashOnly, fmt.Sprintf("  %s: hash %s -> %s", g.run, w.hash, g.hash))
		}
	}
	for _, w := range want {
		if !seen[w.run] {
			meaning = append(meaning, "- "+w.String())
		}
	}
	return meaning, hashOnly
}

// TestTraceHashesGolden pins, for every built-in scenario at two seeds,
// what the run did (its meaning) and its trace hash. It is what makes "same
// seed and scenario, same hash on any machine" a checked claim: CI runs it
// on a fresh machine and on four other architectures. A change that alters
// the protocol's messages or their order changes hashes on purpose: rerun
// with -update, which rewrites hashes but refuses, with the diff, when a
// row's meaning changed (a verdict from ok to violation, other message
// counts, another final view); -update -update-meaning accepts that too.
// Say why in the commit either way.
func TestTraceHashesGolden(t *testing.T) {
	got := goldenRows(t)
	data, err := os.ReadFile(goldenPath)
	if err != nil && !(os.IsNotExist(err) && *updateGolden && *updateMeaning) {
		t.Fatalf("%v (to create it: go test ./cmd/pbftsim -run TestTraceHashesGolden -update -update-meaning)", err)
	}
	var want []goldenRow
	if err == nil {
		if want, err = parseGolden(string(data)); err != nil {
			t.Fatal(err)
		}
	}
	meaning, hashOnly := goldenDiff(got, want)
	if err := checkGolden(meaning, hashOnly, *updateGolden, *updateMeaning); err != nil {
		t.Fatal(err)
	}
	if *updateGolden && (len(meaning) > 0 || len(hashOnly) > 0) {
		if err := writeFileAtomic(goldenPath, []byte(formatGolden(got))); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s: %d hash changes, %d meaning lines", goldenPath, len(hashOnly), len(meaning))
	}
}

// checkGolden decides what a golden comparison means: nil when nothing
// changed or the update is allowed, else an error with the diff.
func checkGolden(meaning, hashOnly []string, update, updateMeaning bool) error {
	switch {
	case len(meaning) > 0 && !(update && updateMeaning):
		how := "if the change is intended, rerun with -update -update-meaning and say why in the commit"
		if update {
			how = "-update refuses to rewrite hashes when what the runs did changed; " + how
		}
		return fmt.Errorf("what the runs did changed (%s):\n%s\n%s", goldenPath, strings.Join(meaning, "\n"), how)
	case len(hashOnly) > 0 && !update:
		return fmt.Errorf("trace hashes differ from %s, with the same events, verdicts, messages and views:\n%s\nif the order or content of messages changed on purpose, rerun with -update and say why in the commit",
			goldenPath, strings.Join(hashOnly, "\n"))
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file and a rename.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// TestGoldenUpdateRefusesMeaningChange: -update accepts a hash change, but
// not a verdict turned from ok to violation (or any other change of
// meaning) unless -update-meaning is given; without -update any change
// fails.
func TestGoldenUpdateRefusesMeaningChange(t *testing.T) {
	want := []goldenRow{{"a seed=1", "events=10 verdict=ok", "1111"}, {"b seed=1", "events=5 verdict=ok", "2222"}}
	hashChanged := []goldenRow{{"a seed=1", "events=10 verdict=ok", "9999"}, want[1]}
	verdictChanged := []goldenRow{want[0], {"b seed=1", "events=5 verdict=violation", "2222"}}
	added := append(slices.Clone(want), goldenRow{"c seed=1", "events=1 verdict=ok", "3333"})
	cases := []struct {
		name                  string
		got                   []goldenRow
		update, updateMeaning bool
		fails                 bool
		says                  string
	}{
		{"same", want, false, false, false, ""},
		{"hash changed", hashChanged, false, false, true, "a seed=1: hash 1111 -> 9999"},
		{"hash changed, -update", hashChanged, true, false, false, ""},
		{"verdict changed", verdictChanged, false, false, true, "+ b seed=1 | events=5 verdict=violation"},
		{"verdict changed, -update", verdictChanged, true, false, true, "-update refuses"},
		{"verdict changed, -update -update-meaning", verdictChanged, true, true, false, ""},
		{"row added, -update", added, true, false, true, "+ c seed=1"},
		{"row removed, -update", want[:1], true, false, true, "- b seed=1"},
	}
	for _, c := range cases {
		meaning, hashOnly := goldenDiff(c.got, want)
		err := checkGolden(meaning, hashOnly, c.update, c.updateMeaning)
		if (err != nil) != c.fails || err != nil && !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: error %v, want failure %v mentioning %q", c.name, err, c.fails, c.says)
		}
	}
	rows, err := parseGolden(formatGolden(want))
	if err != nil || !slices.Equal(rows, want) {
		t.Fatalf("round trip: %v, %v", rows, err)
	}
	if _, err := parseGolden("x seed=1 hash=1 events=2 verdict=ok\n"); err == nil {
		t.Fatal("a row without meaning and hash parts accepted")
	}
}
