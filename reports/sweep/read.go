package sweep

import (
	"bufio"
	"fmt"
	"os"
)

// ReadFailing reads a sweep file (complete, merged or the .partial of an
// interrupted sweep) and returns its header and its failing records, in
// file order.
func ReadFailing(path string) (Header, []Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return Header{}, nil, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var h Header
	var out []Record
	n := 0
	for sc.Scan() {
		n++
		kind, hh, r, _, err := decodeLine(sc.Bytes())
		if err != nil {
			return h, nil, fmt.Errorf("%s:%d: not a sweep line: %v", path, n, err)
		}
		switch {
		case n == 1 && kind != "header":
			return h, nil, fmt.Errorf("%s:1: not a sweep file: the first line is not a %s header", path, Format)
		case n == 1:
			h = *hh
		case r != nil && r.Failed():
			out = append(out, *r)
		}
	}
	if err := sc.Err(); err != nil {
		return h, nil, fmt.Errorf("%s: %w", path, err)
	}
	if n == 0 {
		return h, nil, fmt.Errorf("%s: empty file: not a sweep file", path)
	}
	return h, out, nil
}
