package main

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"
)

func TestRewrite(t *testing.T) {
	src := `package x

const k = 1 << 3

func f(a, b int, s string) (bool, int, string) {
	a++
	return a < b+1, -a, " " + s
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	if _, err := (&types.Config{Importer: importer.Default()}).Check("x", fset, []*ast.File{f}, info); err != nil {
		t.Fatal(err)
	}
	ms := []*mutation{
		{Type: "ARITHMETIC_BASE", Line: 3, Column: 13},       // in a const: not viable
		{Type: "INCREMENT_DECREMENT", Line: 6, Column: 3},    // a++
		{Type: "CONDITIONALS_BOUNDARY", Line: 7, Column: 11}, // a < b+1
		{Type: "CONDITIONALS_NEGATION", Line: 7, Column: 11}, // same site
		{Type: "ARITHMETIC_BASE", Line: 7, Column: 14},       // b+1, nested in the comparison
		{Type: "INVERT_NEGATIVES", Line: 7, Column: 18},      // -a
		{Type: "ARITHMETIC_BASE", Line: 7, Column: 26},       // string concatenation: not viable
	}
	var sites []site
	for i, m := range ms {
		m.Status = "RUNNABLE"
		sites = append(sites, site{"x.go", m, i + 1})
	}
	out, err := rewrite(fset, f, info, []byte(src), sites)
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	for _, want := range []string{
		"const k = 1 << 3",
		"a = mutantSwitch(2, a+1, a-1)",
		"mutantSwitch(4, mutantSwitch(3, (a < mutantSwitch(5, (b+1), (b) - (1))), (a) <= (mutantSwitch(5, (b+1), (b) - (1)))), (a) >= (mutantSwitch(5, (b+1), (b) - (1))))",
		"mutantSwitch(6, (-a), +(a))",
		`" " + s`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rewritten source lacks %q:\n%s", want, got)
		}
	}
	if _, err := parser.ParseFile(token.NewFileSet(), "out.go", out, 0); err != nil {
		t.Errorf("rewritten source does not parse: %v\n%s", err, got)
	}
	for i, want := range []string{"NOT VIABLE", "RUNNABLE", "RUNNABLE", "RUNNABLE", "RUNNABLE", "RUNNABLE", "NOT VIABLE"} {
		if ms[i].Status != want {
			t.Errorf("mutant %d (%s): %s, want %s", i+1, ms[i].Type, ms[i].Status, want)
		}
	}
}

// A multiplication's mutant divides: it must divide only when switched on,
// or the unmutated run panics where the divisor is zero.
func TestRewriteDivisionIsLazy(t *testing.T) {
	src := "package x\n\nfunc g(a, b int) int {\n\treturn a * b\n}\n"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	if _, err := (&types.Config{Importer: importer.Default()}).Check("x", fset, []*ast.File{f}, info); err != nil {
		t.Fatal(err)
	}
	m := &mutation{Type: "ARITHMETIC_BASE", Line: 4, Column: 11, Status: "RUNNABLE"}
	out, err := rewrite(fset, f, info, []byte(src), []site{{"x.go", m, 7}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "return mutantQuo(7, (a * b), a, b)"; !strings.Contains(string(out), want) {
		t.Errorf("rewritten source lacks %q:\n%s", want, out)
	}
	if !strings.Contains(switchFile, "func mutantQuo[") {
		t.Error("the switch file does not define mutantQuo")
	}
}
