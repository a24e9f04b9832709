package scenarios

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ParseMatrixCSV parses a matrix of round-trip times in the format of
// scenarios/regions/rtt.csv: lines starting with '#' and blank lines are
// ignored; the first line is "region," then the region names; then one row
// per region, in the header's order, starting with its name and giving one
// round-trip time in milliseconds (a number >= 0) per region. The matrix
// must be square; it need not be symmetric. file names the source in
// errors, which give its line, the row and column and what was expected;
// every error is an *Error.
func ParseMatrixCSV(file string, data []byte) (*Matrix, error) {
	bad := func(line int, field, format string, args ...any) error {
		return &Error{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	m := &Matrix{}
	header := false
	last := 0 // the last line read
	for i, line := range strings.Split(string(data), "\n") {
		ln := i + 1
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		last = ln
		cells := strings.Split(line, ",")
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		if !header {
			header = true
			if len(cells) < 2 {
				return nil, bad(ln, "header", "%q: want \"region,\" and the region names, comma-separated", line)
			}
			for j, name := range cells[1:] {
				if name == "" || m.index(name) >= 0 {
					return nil, bad(ln, fmt.Sprintf("header column %d", j+2), "%q: want a distinct non-empty region name", name)
				}
				m.Names = append(m.Names, name)
			}
			continue
		}
		row := len(m.RTT)
		if row >= len(m.Names) {
			return nil, bad(ln, fmt.Sprintf("row %d", row+1), "%q: the header names %d regions: want a square matrix, one row per region", cells[0], len(m.Names))
		}
		if want := m.Names[row]; cells[0] != want {
			what := "an unknown region"
			if m.index(cells[0]) >= 0 {
				what = "out of order"
			}
			return nil, bad(ln, fmt.Sprintf("row %d", row+1), "%q is %s: want the row of %q (rows in the header's order)", cells[0], what, want)
		}
		if len(cells)-1 != len(m.Names) {
			return nil, bad(ln, fmt.Sprintf("row %q", cells[0]), "%d values for %d regions: want a square matrix, one value per region", len(cells)-1, len(m.Names))
		}
		vals := make([]time.Duration, len(m.Names))
		for j, c := range cells[1:] {
			ms, err := strconv.ParseFloat(c, 64)
			if err != nil || !(ms >= 0) || ms > float64(time.Hour/time.Millisecond) {
				return nil, bad(ln, fmt.Sprintf("row %q, column %q", cells[0], m.Names[j]), "%q: want a round-trip time in milliseconds, >= 0 (and at most an hour)", c)
			}
			vals[j] = time.Duration(math.Round(ms * float64(time.Millisecond)))
		}
		m.RTT = append(m.RTT, vals)
	}
	if !header {
		return nil, bad(0, "", "no header line: want \"region,\" and the region names, then one row per region")
	}
	if len(m.RTT) != len(m.Names) {
		return nil, bad(last, "", "the file ends after %d rows for %d regions: want a square matrix, one row per region (missing: %q)", len(m.RTT), len(m.Names), m.Names[len(m.RTT)])
	}
	return m, nil
}

// LoadMatrixFile reads and parses the matrix CSV file at path.
func LoadMatrixFile(path string) (*Matrix, error) {
	data, err := readLimited(path, "region matrix")
	if err != nil {
		return nil, err
	}
	return ParseMatrixCSV(path, data)
}

// loadMatrixFile reads network.regions.matrix_file of s, parsed from
// v.file, into network.regions.matrix (relative paths from v.file's
// directory); v reports the errors.
func loadMatrixFile(v *validator, s *Scenario) error {
	r := s.Network.Regions
	if r == nil || r.MatrixFile == "" {
		return nil
	}
	if r.Matrix != nil {
		return v.errf("network.regions.matrix_file", "set together with network.regions.matrix: want one of them")
	}
	path := r.MatrixFile
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(v.file), path)
	}
	m, err := LoadMatrixFile(path)
	if err != nil {
		return v.errf("network.regions.matrix_file", "%v", err)
	}
	r.Matrix, r.MatrixFile = m, ""
	return nil
}
