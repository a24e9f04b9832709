package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	dir := t.TempDir()
	src := "package x\n\nfunc f(a, b int) bool {\n\treturn a < b\n}\n\nfunc g(a int) int { return a + 1 }\n"
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	js := `{"files":[{"file_name":"x.go","mutations":[
		{"type":"CONDITIONALS_BOUNDARY","status":"LIVED","line":4,"column":11},
		{"type":"CONDITIONALS_NEGATION","status":"KILLED","line":4,"column":11},
		{"type":"ARITHMETIC_BASE","status":"LIVED","line":7,"column":30},
		{"type":"ARITHMETIC_BASE","status":"NOT COVERED","line":7,"column":30},
		{"type":"INCREMENT_DECREMENT","status":"TIMED OUT","line":7,"column":30},
		{"type":"INVERT_NEGATIVES","status":"RUNNABLE","line":7,"column":30}]}]}`
	jp := filepath.Join(dir, "m.json")
	if err := os.WriteFile(jp, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	eq := "# equivalent\n\n| mutator | file | code | reason |\n|---|---|---|---|\n" +
		"| CONDITIONALS_BOUNDARY | x.go | `return a < b` | a == b never happens |\n" +
		"| ARITHMETIC_BASE | y.go | `gone` | stale |\n" +
		"| ARITHMETIC_BASE | x.go@29 | `func g(a int) int { return a + 1 }` | another column |\n"
	ep := filepath.Join(dir, "eq.md")
	if err := os.WriteFile(ep, []byte(eq), 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := run(&b, jp, dir, ep); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"killed 1, lived 2 (1 listed as equivalent), not covered 1, timed out 1",
		"not run 1: the run was cut short", "test efficacy 33.33%", "50.00% without the listed equivalent mutants",
		"lived mutants (1 not listed as equivalent)",
		"x.go:7:30  func g(a int) int { return a + 1 }\n      [NOT LISTED]",
		"[equivalent: a == b never happens]",
		"ARITHMETIC_BASE y.go `gone`",
		"ARITHMETIC_BASE x.go@29", // listed for another column: stale, and x.go:7:30 stays unlisted
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"| A | x.go | no backquotes | r |\n", "| A | x.go | `c` |  |\n", "| A | x.go |\n"} {
		if _, err := parseEquivalents("e.md", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := run(&b, "", dir, ""); err == nil {
		t.Error("no -json accepted")
	}
}
