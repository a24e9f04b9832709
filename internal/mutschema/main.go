// Command mutschema evaluates the mutants gremlins finds with one build of
// the test binary instead of one build per mutant (mutant schemata): it
// reads the mutants of a `gremlins unleash --dry-run -o FILE` run, rewrites
// a copy of the package so that every runnable mutant is compiled in behind
// a switch (the environment variable PBFTSIM_MUTANT), builds the package's
// test binary once, and runs it once per mutant (-test.failfast). It writes
// the results in gremlins' output format, so internal/mutreport reads them.
//
// The rewriting evaluates both the original and the mutated expression
// (a < b becomes mut(id, a < b, a <= b)), which is only a difference when an
// operand has side effects; a mutant inside a constant declaration cannot be
// switched and is reported NOT VIABLE. On a busy 2-core machine this is what
// makes a mutation run take minutes rather than hours.
//
// Usage (from the module root):
//
//	go run ./internal/mutschema -dry bench/mutation-dry.json -pkg sim/pbft -o bench/mutation.json
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/build"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

type mutation struct {
	Type   string `json:"type"`
	Status string `json:"status"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

type file struct {
	Name      string     `json:"file_name"`
	Mutations []mutation `json:"mutations"`
}

type output struct {
	GoModule          string  `json:"go_module"`
	Files             []file  `json:"files"`
	TestEfficacy      float64 `json:"test_efficacy"`
	MutationsCoverage float64 `json:"mutations_coverage"`
	MutantsTotal      int     `json:"mutants_total"`
	MutantsKilled     int     `json:"mutants_killed"`
	MutantsLived      int     `json:"mutants_lived"`
	MutantsNotViable  int     `json:"mutants_not_viable"`
	MutantsNotCovered int     `json:"mutants_not_covered"`
	ElapsedTime       float64 `json:"elapsed_time"`
}

// opposite gives the mutated operator of each mutator, as gremlins does.
var (
	boundary = map[token.Token]token.Token{token.LSS: token.LEQ, token.LEQ: token.LSS, token.GTR: token.GEQ, token.GEQ: token.GTR}
	negation = map[token.Token]token.Token{token.EQL: token.NEQ, token.NEQ: token.EQL, token.LSS: token.GEQ,
		token.GEQ: token.LSS, token.GTR: token.LEQ, token.LEQ: token.GTR}
	arith = map[token.Token]token.Token{token.ADD: token.SUB, token.SUB: token.ADD, token.MUL: token.QUO,
		token.QUO: token.MUL, token.REM: token.MUL}
)

// edit replaces src[start:end] with what build returns; build renders
// sub-expressions through r, so that edits nested inside it apply too.
type edit struct {
	start, end int
	build      func(r func(ast.Node) string) string
}

// site is one mutant and where it is switched in.
type site struct {
	file string
	m    *mutation
	id   int
}

// rewrite returns src with the mutants of sites switched in, and marks the
// ones it cannot switch NOT VIABLE.
func rewrite(fset *token.FileSet, f *ast.File, info *types.Info, src []byte, sites []site) ([]byte, error) {
	// a string concatenation has no arithmetic mutant, and an expression of
	// constants only cannot go through a generic switch without changing
	// its type: not viable
	unswitchable := func(n ast.Expr) bool {
		tv, ok := info.Types[n]
		if !ok {
			return true
		}
		if tv.Value != nil {
			return true
		}
		if b, ok := tv.Type.Underlying().(*types.Basic); ok && b.Info()&types.IsString != 0 {
			if be, ok := n.(*ast.BinaryExpr); ok && be.Op == token.ADD {
				return true
			}
		}
		return false
	}
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	at := map[[2]int][]site{}
	for _, s := range sites {
		k := [2]int{s.m.Line, s.m.Column}
		at[k] = append(at[k], s)
	}
	var edits []edit
	var consts []ast.Node
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
			consts = append(consts, g)
		}
	}
	inConst := func(p token.Pos) bool {
		for _, c := range consts {
			if p >= c.Pos() && p < c.End() {
				return true
			}
		}
		return false
	}
	done := map[*mutation]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		var pos token.Pos
		switch n := n.(type) {
		case *ast.BinaryExpr:
			pos = n.OpPos
		case *ast.UnaryExpr:
			pos = n.OpPos
		case *ast.IncDecStmt:
			pos = n.TokPos
		default:
			return true
		}
		p := fset.Position(pos)
		ss := at[[2]int{p.Line, p.Column}]
		if len(ss) == 0 {
			return true
		}
		type alt struct {
			id    int
			build func(r func(ast.Node) string) string
			// quo is the expression whose operator the mutant turns into a
			// division: switched in by mutantQuo, which divides only when
			// the mutant is on (an eager x / y would panic on a zero y in
			// the unmutated run)
			quo *ast.BinaryExpr
		}
		var alts []alt
		for _, s := range ss {
			if inConst(pos) {
				continue
			}
			if e, ok := n.(ast.Expr); ok && unswitchable(e) {
				continue
			}
			switch n := n.(type) {
			case *ast.BinaryExpr:
				var tab map[token.Token]token.Token
				switch s.m.Type {
				case "CONDITIONALS_BOUNDARY":
					tab = boundary
				case "CONDITIONALS_NEGATION":
					tab = negation
				case "ARITHMETIC_BASE":
					tab = arith
				}
				if s.m.Type == "INVERT_NEGATIVES" && n.Op == token.SUB {
					tab = map[token.Token]token.Token{token.SUB: token.ADD} // gremlins turns any '-' into '+'
				}
				op, ok := tab[n.Op]
				if !ok {
					continue
				}
				a := alt{id: s.id, build: func(r func(ast.Node) string) string {
					return "(" + r(n.X) + ") " + op.String() + " (" + r(n.Y) + ")"
				}}
				if op == token.QUO {
					a.quo = n
				}
				alts = append(alts, a)
			case *ast.UnaryExpr:
				if s.m.Type != "INVERT_NEGATIVES" || n.Op != token.SUB {
					continue
				}
				alts = append(alts, alt{id: s.id, build: func(r func(ast.Node) string) string { return "+(" + r(n.X) + ")" }})
			case *ast.IncDecStmt:
				if s.m.Type != "INCREMENT_DECREMENT" {
					continue
				}
				a, b := "+1", "-1"
				if n.Tok == token.DEC {
					a, b = b, a
				}
				id := s.id
				edits = append(edits, edit{off(n.Pos()), off(n.End()), func(r func(ast.Node) string) string {
					x := r(n.X)
					return fmt.Sprintf("%s = mutantSwitch(%d, %s%s, %s%s)", x, id, x, a, x, b)
				}})
			default:
				continue
			}
			done[s.m] = true
		}
		if len(alts) > 0 {
			node := n
			edits = append(edits, edit{off(n.Pos()), off(n.End()), func(r func(ast.Node) string) string {
				// the original with its inner edits: render the node's range
				// without this edit (r skips the edit of exactly this range)
				expr := "(" + r(nil) + ")"
				for _, a := range alts {
					if a.quo != nil {
						expr = fmt.Sprintf("mutantQuo(%d, %s, %s, %s)", a.id, expr, r(a.quo.X), r(a.quo.Y))
						continue
					}
					expr = fmt.Sprintf("mutantSwitch(%d, %s, %s)", a.id, expr, a.build(r))
				}
				_ = node
				return expr
			}})
		}
		return true
	})
	for _, s := range sites {
		if !done[s.m] {
			s.m.Status = "NOT VIABLE"
		}
	}
	sort.Slice(edits, func(i, j int) bool {
		if edits[i].start != edits[j].start {
			return edits[i].start < edits[j].start
		}
		return edits[i].end > edits[j].end // outer first
	})
	// render returns src[start:end] with the edits inside it applied; skip
	// is the edit being built (its own range renders as the original).
	var render func(start, end int, skip int) string
	render = func(start, end int, skip int) string {
		var b strings.Builder
		pos := start
		for i := 0; i < len(edits); i++ {
			e := edits[i]
			if i == skip || e.start < pos || e.end > end || e.start < start {
				continue
			}
			b.Write(src[pos:e.start])
			ei := i
			b.WriteString(e.build(func(n ast.Node) string {
				if n == nil {
					return render(edits[ei].start, edits[ei].end, ei)
				}
				return render(off(n.Pos()), off(n.End()), -1)
			}))
			pos = e.end
		}
		b.Write(src[pos:end])
		return b.String()
	}
	out := []byte(render(0, len(src), -1))
	return out, nil
}

const switchFile = `package %s

import (
	"os"
	"strconv"
)

// mutantID is the mutant switched on (PBFTSIM_MUTANT), 0 for none.
var mutantID = func() int {
	v, _ := strconv.Atoi(os.Getenv("PBFTSIM_MUTANT"))
	return v
}()

func mutantSwitch[T any](id int, orig, alt T) T {
	if id == mutantID {
		return alt
	}
	return orig
}

type mutantNumber interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr | ~float32 | ~float64
}

// mutantQuo is x / y when mutant id is on, else orig: the division happens
// only then, so a zero y cannot panic in the other runs.
func mutantQuo[T mutantNumber](id int, orig, x, y T) T {
	if id == mutantID {
		return x / y
	}
	return orig
}
`

// testShort passes -test.short to every test run (the -short flag).
var testShort bool

func main() {
	dry := flag.String("dry", "", "gremlins --dry-run output (-o) listing the mutants")
	pkg := flag.String("pkg", "", "package directory, relative to the module root (e.g. sim/pbft)")
	out := flag.String("o", "", "where to write the results (gremlins' format)")
	workers := flag.Int("workers", 2, "test binaries run at once")
	shuffle := flag.Bool("shuffle", false, "run the mutants in a random (seeded) order, so that a partial run is a fair sample")
	timeout := flag.Duration("timeout", 3*time.Minute, "per-mutant test timeout")
	short := flag.Bool("short", false, "run the tests with -test.short (the long searches skip): for packages whose full tests take minutes")
	flag.Parse()
	testShort = *short
	if err := run(*dry, *pkg, *out, *workers, *shuffle, *timeout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mutschema:", err)
		os.Exit(2)
	}
}

func run(dryPath, pkg, outPath string, workers int, shuffle bool, timeout time.Duration, log io.Writer) error {
	if dryPath == "" || pkg == "" || outPath == "" {
		return errors.New("-dry, -pkg and -o are required")
	}
	start := time.Now()
	data, err := os.ReadFile(dryPath)
	if err != nil {
		return err
	}
	var res output
	if err := json.Unmarshal(data, &res); err != nil {
		return fmt.Errorf("%s: %w", dryPath, err)
	}
	// a copy of the module with the package rewritten
	tmp, err := os.MkdirTemp("", "mutschema-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := copyModule(".", tmp); err != nil {
		return err
	}
	bySite := map[string][]site{}
	var all []site
	id := 0
	skipped := 0
	for fi := range res.Files {
		f := &res.Files[fi]
		if strings.ContainsRune(filepath.ToSlash(f.Name), '/') {
			skipped += len(f.Mutations) // a subpackage's file (gremlins lists ./pkg/...): not this package's tests
			continue
		}
		for mi := range f.Mutations {
			m := &f.Mutations[mi]
			if m.Status != "RUNNABLE" {
				continue
			}
			id++
			s := site{f.Name, m, id}
			bySite[f.Name] = append(bySite[f.Name], s)
			all = append(all, s)
		}
	}
	// type-check the package (its non-test files) to know operand types
	fset := token.NewFileSet()
	dir := filepath.Join(tmp, pkg)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	parsed := map[string]*ast.File{}
	srcs := map[string][]byte{}
	var files []*ast.File
	for _, e := range entries {
		n := e.Name()
		if !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		if ok, err := build.Default.MatchFile(dir, n); err != nil || !ok {
			continue // excluded by its build constraints
		}
		src, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), src, parser.ParseComments)
		if err != nil {
			return err
		}
		parsed[n], srcs[n] = f, src
		files = append(files, f)
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	if _, err := conf.Check(pkg, fset, files, info); err != nil {
		return fmt.Errorf("type-checking %s: %w", pkg, err)
	}
	pkgName := ""
	for name, ss := range bySite {
		f := parsed[name]
		if f == nil {
			return fmt.Errorf("%s: no such file in %s", name, pkg)
		}
		out, err := rewrite(fset, f, info, srcs[name], ss)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), out, 0o644); err != nil {
			return err
		}
		pkgName = f.Name.Name
	}
	if err := os.WriteFile(filepath.Join(tmp, pkg, "zz_mutant_switch.go"), []byte(fmt.Sprintf(switchFile, pkgName)), 0o644); err != nil {
		return err
	}
	bin := filepath.Join(tmp, "pkg.test")
	build := exec.Command("go", "test", "-c", "-o", bin, "./"+pkg)
	build.Dir = tmp
	if b, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the switched package: %v\n%s", err, b)
	}
	fmt.Fprintf(log, "built %s with %d mutants switched in (%v)\n", pkg, len(all), time.Since(start).Round(time.Second))
	if skipped > 0 {
		fmt.Fprintf(log, "left out %d mutants of its subpackages (mutate each package on its own)\n", skipped)
	}
	var baseline string // the output of the run with no mutant, for its error
	runOne := func(id int) string {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		args := []string{"-test.failfast", "-test.count=1"}
		if testShort {
			args = append(args, "-test.short")
		}
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = filepath.Join(tmp, pkg)
		cmd.Env = append(os.Environ(), fmt.Sprintf("PBFTSIM_MUTANT=%d", id))
		var b bytes.Buffer
		cmd.Stdout, cmd.Stderr = &b, &b
		err := cmd.Run()
		if id == 0 {
			baseline = lastLines(b.String(), 30)
		}
		switch {
		case ctx.Err() != nil:
			return "TIMED OUT"
		case err != nil:
			return "KILLED"
		}
		return "LIVED"
	}
	if shuffle {
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	}
	if st := runOne(0); st != "LIVED" {
		return fmt.Errorf("the tests fail with no mutant switched on (%s):\n%s", st, baseline)
	}
	var mu sync.Mutex
	next, finished := 0, 0
	var wg sync.WaitGroup
	for w := 0; w < max(workers, 1); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next >= len(all) {
					mu.Unlock()
					return
				}
				s := all[next]
				next++
				mu.Unlock()
				if s.m.Status == "NOT VIABLE" {
					continue
				}
				st := runOne(s.id)
				mu.Lock()
				s.m.Status = st
				finished++
				fmt.Fprintf(log, "%10s %s at %s:%d:%d (%d/%d)\n", st, s.m.Type, s.file, s.m.Line, s.m.Column, finished, len(all))
				if finished%25 == 0 { // a partial result survives an interrupted run
					if err := writeResult(res, outPath, start); err != nil {
						fmt.Fprintln(log, "mutschema:", err)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return writeResult(res, outPath, start)
}

// writeResult writes res (its counts recomputed; mutants not run yet stay
// RUNNABLE) to path.
func writeResult(res output, path string, start time.Time) error {
	res.MutantsTotal, res.MutantsKilled, res.MutantsLived, res.MutantsNotViable, res.MutantsNotCovered = 0, 0, 0, 0, 0
	for _, f := range res.Files {
		for _, m := range f.Mutations {
			res.MutantsTotal++
			switch m.Status {
			case "KILLED":
				res.MutantsKilled++
			case "LIVED":
				res.MutantsLived++
			case "NOT VIABLE":
				res.MutantsNotViable++
			case "NOT COVERED":
				res.MutantsNotCovered++
			}
		}
	}
	res.TestEfficacy = 0
	if k, l := res.MutantsKilled, res.MutantsLived; k+l > 0 {
		res.TestEfficacy = 100 * float64(k) / float64(k+l)
	}
	res.ElapsedTime = time.Since(start).Seconds()
	b, err := json.MarshalIndent(res, "", " ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// copyModule copies the Go module at src (its go.mod, go.sum and .go files,
// and testdata folders) to dst.
func copyModule(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if n := d.Name(); rel != "." && (strings.HasPrefix(n, ".") || n == "bin" || n == "bench") {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}
