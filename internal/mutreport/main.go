// Command mutreport summarises a gremlins mutation-testing run (its -o JSON
// file): killed, lived, not covered, timed out and the test efficacy, then
// each lived mutant with its source line, marked when it is listed as
// equivalent in a Markdown file (a table of mutator, file, code and
// reason). The efficacy is also given with the listed equivalent mutants
// left out. `make mutation` runs it.
//
// Usage:
//
//	go run ./internal/mutreport -json bench/mutation.json -dir sim/pbft -equivalent sim/pbft/testdata/equivalent-mutants.md
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// result is the part of gremlins' output file that mutreport reads.
type result struct {
	Files []struct {
		Name      string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
}

// equivalent is one row of the list of equivalent mutants.
type equivalent struct {
	mutator, file, code, reason string
}

func (e equivalent) key() string { return e.mutator + "\x00" + e.file + "\x00" + e.code }

// keys are the keys a lived mutant at column col matches: the row without a
// column, and the row for that column ("file.go@col", for a line with two
// mutants of one kind).
func (e equivalent) keys(col int) [2]string {
	c := e
	c.file = fmt.Sprintf("%s@%d", e.file, col)
	return [2]string{e.key(), c.key()}
}

// parseEquivalents reads the Markdown table rows "| MUTATOR | file.go |
// `code` | reason |" of data (other lines are ignored); "file.go@COL"
// restricts a row to the mutant at that column.
func parseEquivalents(name, data string) ([]equivalent, error) {
	var out []equivalent
	for i, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|--") || strings.HasPrefix(line, "| --") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) != 4 {
			return nil, fmt.Errorf("%s:%d: want 4 cells (mutator | file | `code` | reason), got %d", name, i+1, len(cells))
		}
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		if cells[0] == "mutator" {
			continue // header
		}
		code := cells[2]
		if len(code) < 2 || code[0] != '`' || code[len(code)-1] != '`' {
			return nil, fmt.Errorf("%s:%d: the code cell must be in backquotes, got %q", name, i+1, code)
		}
		if cells[3] == "" {
			return nil, fmt.Errorf("%s:%d: no reason given", name, i+1)
		}
		// a | inside a table cell is written \|
		code = strings.ReplaceAll(strings.TrimSpace(code[1:len(code)-1]), `\|`, "|")
		out = append(out, equivalent{cells[0], cells[1], code, cells[3]})
	}
	return out, nil
}

// report writes the summary of r (sources in dir) to w.
func report(w io.Writer, r result, dir string, eqs []equivalent) error {
	listed := map[string]equivalent{}
	for _, e := range eqs {
		listed[e.key()] = e
	}
	counts := map[string]int{}
	used := map[string]bool{}
	var lived, unlisted []string
	lines := map[string][]string{}
	for _, f := range r.Files {
		for _, m := range f.Mutations {
			counts[m.Status]++
			if m.Status != "LIVED" {
				continue
			}
			src, ok := lines[f.Name]
			if !ok {
				data, err := os.ReadFile(filepath.Join(dir, f.Name))
				if err != nil {
					return err
				}
				src = strings.Split(string(data), "\n")
				lines[f.Name] = src
			}
			code := ""
			if m.Line >= 1 && m.Line <= len(src) {
				code = strings.TrimSpace(src[m.Line-1])
			}
			mark := "NOT LISTED"
			found := false
			for _, k := range (equivalent{m.Type, f.Name, code, ""}).keys(m.Column) {
				if e, ok := listed[k]; ok && !found {
					mark, used[k], found = "equivalent: "+e.reason, true, true
					counts["EQUIVALENT"]++
				}
			}
			if !found {
				unlisted = append(unlisted, fmt.Sprintf("%s:%d:%d", f.Name, m.Line, m.Column))
			}
			lived = append(lived, fmt.Sprintf("  %-22s %s:%d:%d  %s\n      [%s]", m.Type, f.Name, m.Line, m.Column, code, mark))
		}
	}
	sort.Strings(lived)
	k, l, eq := counts["KILLED"], counts["LIVED"], counts["EQUIVALENT"]
	fmt.Fprintf(w, "killed %d, lived %d (%d listed as equivalent), not covered %d, timed out %d, not viable %d\n",
		k, l, eq, counts["NOT COVERED"], counts["TIMED OUT"], counts["NOT VIABLE"])
	if n := counts["RUNNABLE"]; n > 0 {
		fmt.Fprintf(w, "not run %d: the run was cut short (MUTATION_TIMEOUT) or they belong to a subpackage; the figures below are of the %d that ran\n", n, k+l)
	}
	if k+l > 0 {
		fmt.Fprintf(w, "test efficacy %.2f%% (killed / (killed + lived))", 100*float64(k)/float64(k+l))
		if k+l-eq > 0 {
			fmt.Fprintf(w, ", %.2f%% without the listed equivalent mutants", 100*float64(k)/float64(k+l-eq))
		}
		fmt.Fprintln(w)
	}
	if len(lived) > 0 {
		fmt.Fprintf(w, "lived mutants (%d not listed as equivalent):\n%s\n", len(unlisted), strings.Join(lived, "\n"))
	}
	var stale []string
	for _, e := range eqs {
		if !used[e.key()] {
			stale = append(stale, fmt.Sprintf("  %s %s `%s`", e.mutator, e.file, e.code))
		}
	}
	if len(stale) > 0 {
		fmt.Fprintf(w, "listed as equivalent but not lived in this run (killed, not reached, or the code moved):\n%s\n", strings.Join(stale, "\n"))
	}
	return nil
}

func main() {
	jsonPath := flag.String("json", "", "gremlins output file (unleash -o)")
	dir := flag.String("dir", ".", "directory of the mutated package's sources")
	eqPath := flag.String("equivalent", "", "Markdown list of equivalent mutants (optional)")
	flag.Parse()
	if err := run(os.Stdout, *jsonPath, *dir, *eqPath); err != nil {
		fmt.Fprintln(os.Stderr, "mutreport:", err)
		os.Exit(2)
	}
}

func run(w io.Writer, jsonPath, dir, eqPath string) error {
	if jsonPath == "" {
		return errors.New("-json is required")
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		return err
	}
	var r result
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("%s: %w", jsonPath, err)
	}
	var eqs []equivalent
	if eqPath != "" {
		b, err := os.ReadFile(eqPath)
		if err != nil {
			return err
		}
		if eqs, err = parseEquivalents(eqPath, string(b)); err != nil {
			return err
		}
	}
	return report(w, r, dir, eqs)
}
