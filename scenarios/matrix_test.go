package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

func TestParseMatrixCSV(t *testing.T) {
	m, err := ParseMatrixCSV("m.csv", []byte("# comment\nregion, a, b\na,1,20.5\n\nb,22,1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(m.Names, ",") != "a,b" || m.RTT[0][1] != 20500*time.Microsecond || m.RTT[1][0] != 22*time.Millisecond {
		t.Fatalf("parsed %+v", m)
	}
	for _, c := range []struct {
		name, csv string
		line      int
		field     string
		want      string
	}{
		{"empty", "# nothing\n", 0, "", "no header line"},
		{"header only name", "region\n", 1, "header", "region names"},
		{"duplicate region", "region,a,a\n", 1, "header column 3", "distinct"},
		{"not square: short row", "region,a,b\na,1,2\nb,1\n", 3, `row "b"`, "1 values for 2 regions: want a square matrix"},
		{"not square: long row", "region,a,b\na,1,2,3\n", 2, `row "a"`, "3 values for 2 regions"},
		{"not square: missing row", "region,a,b\na,1,2\n", 2, "", `the file ends after 1 rows for 2 regions: want a square matrix, one row per region (missing: "b")`},
		{"not square: extra row", "region,a\na,1\nb,1\n", 3, "row 2", "want a square matrix"},
		{"negative", "region,a,b\na,1,2\nb,-3,1\n", 3, `row "b", column "a"`, `"-3": want a round-trip time in milliseconds, >= 0`},
		{"not a number", "region,a,b\na,1,fast\nb,2,1\n", 2, `row "a", column "b"`, `"fast"`},
		{"NaN", "region,a\na,NaN\n", 2, `row "a", column "a"`, "milliseconds"},
		{"unknown region", "region,a,b\nzz,1,2\nb,2,1\n", 2, "row 1", `"zz" is an unknown region: want the row of "a"`},
		{"rows out of order", "region,a,b\nb,1,2\na,2,1\n", 2, "row 1", `"b" is out of order: want the row of "a"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseMatrixCSV("m.csv", []byte(c.csv))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v, want an *Error", err)
			}
			if e.File != "m.csv" || e.Line != c.line || e.Field != c.field || !strings.Contains(e.Msg, c.want) {
				t.Fatalf("error %q (line %d, field %q), want line %d, field %q, containing %q", err, e.Line, e.Field, c.line, c.field, c.want)
			}
		})
	}
}

// TestMatrixFile: network.regions.matrix_file is read relative to the
// scenario file, replaces the built-in matrix (its regions are then the
// only ones known) and is inlined, so the scenario written back is
// self-contained; errors name the scenario field and the CSV's line.
func TestMatrixFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("rtt.csv", "region,x,y\nx,1,200\ny,200,1\n")
	write("bad.csv", "region,x,y\nx,1,200\ny,-1,1\n")
	scen := func(matrix, regions string) string {
		return "n: 4\nnetwork:\n  regions:\n    replicas: [" + regions + "]\n    matrix_file: " + matrix + "\n"
	}
	s, err := LoadFile(write("ok.yaml", scen("rtt.csv", "x, y")))
	if err != nil {
		t.Fatal(err)
	}
	r := s.Network.Regions
	if r.MatrixFile != "" || r.Matrix == nil || r.Matrix.RTT[0][1] != 200*time.Millisecond {
		t.Fatalf("matrix file not inlined: %+v", r)
	}
	c, err := s.Config()
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Network.Links[sim.Link{From: 0, To: 1}].Delay.Min; d != 100*time.Millisecond {
		t.Fatalf("link 0->1 delay %v, want RTT/2 = 100ms", d)
	}
	for _, b := range []struct{ name, text, want string }{
		{"bad.yaml", scen("bad.csv", "x"), `network.regions.matrix_file: ` + filepath.Join(dir, "bad.csv") + `:3: row "y", column "x": "-1"`},
		{"missing.yaml", scen("nope.csv", "x"), "network.regions.matrix_file: " + filepath.Join(dir, "nope.csv") + ": cannot read the region matrix"},
		{"unknown.yaml", scen("rtt.csv", "eastus"), `unknown region "eastus": want one of x, y`},
		{"both.yaml", scen("rtt.csv", "x") + "    matrix: {names: [x], rtt: [[1ms]]}\n", "set together with network.regions.matrix"},
	} {
		_, err := LoadFile(write(b.name, b.text))
		if err == nil || !strings.Contains(err.Error(), b.want) || !strings.Contains(err.Error(), b.name) {
			t.Errorf("%s: error %v, want it to name the scenario file and contain %q", b.name, err, b.want)
		}
	}
	// a scenario built in code must not carry an unread file
	s.Network.Regions.MatrixFile = "rtt.csv"
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "was not read") {
		t.Errorf("unread matrix_file: %v", err)
	}
}
