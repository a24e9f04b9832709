package sweep

import (
	"bufio"
	"fmt"
	"github.com/pbftsim/pbftsim/internal/outfile"
	"io"
	"os"
	"slices"
	"strings"
)

// maxLine bounds a sweep file's line (a record with a long detail).
const maxLine = 1 << 20

// MergeError lists every reason a set of parts cannot be merged.
type MergeError struct {
	Problems []string
}

func (e *MergeError) Error() string {
	return "cannot merge the sweep parts:\n  " + strings.Join(e.Problems, "\n  ")
}

// Part is a checked shard file.
type Part struct {
	Path    string
	Header  Header
	Records uint64
}

// ReadPart reads and checks a complete shard file: a header, the records
// of exactly the shard's seeds in order, and a trailer that matches them.
func ReadPart(path string) (*Part, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	p := &Part{Path: path}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	n := 0
	var agg *Aggregate
	var trailer *Trailer
	for sc.Scan() {
		n++
		kind, h, r, t, err := decodeLine(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%s:%d: not a sweep line: %v", path, n, err)
		}
		switch {
		case n == 1 && kind != "header":
			return nil, fmt.Errorf("%s:1: not a sweep file: the first line is not a %s header", path, Format)
		case n == 1:
			if h.Format != Format {
				return nil, fmt.Errorf("%s: format %q: want %q", path, h.Format, Format)
			}
			if err := h.Shard.Validate(); err != nil {
				return nil, fmt.Errorf("%s: header: %w", path, err)
			}
			if h.Seeds.From > h.Seeds.To {
				return nil, fmt.Errorf("%s: header: seed range %s is empty", path, h.Seeds)
			}
			p.Header = *h
			agg = NewAggregate(*h)
		case trailer != nil:
			return nil, fmt.Errorf("%s:%d: a line after the trailer", path, n)
		case kind == "header":
			return nil, fmt.Errorf("%s:%d: a second header", path, n)
		case kind == "trailer":
			trailer = t
		default:
			if agg.Done >= agg.Planned {
				return nil, fmt.Errorf("%s:%d: more records than the %d seeds of shard %s", path, n, agg.Planned, p.Header.Shard)
			}
			if want := p.Header.Shard.Seed(p.Header.Seeds, agg.Done); r.Seed != want {
				return nil, fmt.Errorf("%s:%d: record of seed %d where shard %s of %s has seed %d", path, n, r.Seed, p.Header.Shard, p.Header.Seeds, want)
			}
			agg.Add(r)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: empty file, not a sweep file", path)
	}
	if trailer == nil {
		return nil, fmt.Errorf("%s: shard %s is incomplete (%d of %d records, no trailer): it was interrupted or is still running; rerun it", path, p.Header.Shard, agg.Done, agg.Planned)
	}
	want := agg.trailer()
	if trailer.Records != want.Records || agg.Done != agg.Planned || !mapsEqual(trailer.Verdicts, want.Verdicts) {
		return nil, fmt.Errorf("%s: the trailer (%d records) does not match the %d records of the %d seeds of shard %s", path, trailer.Records, agg.Done, agg.Planned, p.Header.Shard)
	}
	p.Records = agg.Done
	return p, nil
}

func mapsEqual(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// CheckParts verifies that parts are exactly the shards 0..N-1 of one
// sweep: same format, version, scenario and seed range, one part per
// shard. It returns them ordered by shard index.
func CheckParts(parts []*Part) ([]*Part, error) {
	if len(parts) == 0 {
		return nil, &MergeError{Problems: []string{"no parts given"}}
	}
	var probs []string
	ref := parts[0]
	rh := ref.Header
	for _, p := range parts[1:] {
		h := p.Header
		diff := func(field, a, b string) {
			probs = append(probs, fmt.Sprintf("%s: %s %s differs from %s in %s", p.Path, field, b, a, ref.Path))
		}
		if h.Version != rh.Version {
			diff("version", rh.Version, h.Version)
		}
		// Scenarios are compared by content: the same file named by a
		// relative and an absolute path (or a copy of it) is the same
		// scenario; the merged header names it as the first part does.
		if h.ScenarioSHA256 != rh.ScenarioSHA256 {
			diff("scenario content (sha256)", rh.ScenarioSHA256[:min(12, len(rh.ScenarioSHA256))], h.ScenarioSHA256[:min(12, len(h.ScenarioSHA256))])
		}
		if h.Seeds != rh.Seeds {
			diff("seed range", rh.Seeds.String(), h.Seeds.String())
		}
		if h.Shard.Count != rh.Shard.Count {
			diff("shard count", fmt.Sprint(rh.Shard.Count), fmt.Sprint(h.Shard.Count))
		}
		if h.Slicing != rh.Slicing {
			diff("slicing", rh.Slicing, h.Slicing)
		}
	}
	if len(probs) > 0 {
		return nil, &MergeError{Problems: probs}
	}
	count := rh.Shard.Count
	byIndex := make([][]string, count)
	for _, p := range parts {
		byIndex[p.Header.Shard.Index] = append(byIndex[p.Header.Shard.Index], p.Path)
	}
	var missing, dup []string
	for i, paths := range byIndex {
		switch {
		case len(paths) == 0:
			missing = append(missing, fmt.Sprint(i))
		case len(paths) > 1:
			dup = append(dup, fmt.Sprintf("%d (%s)", i, strings.Join(paths, ", ")))
		}
	}
	if len(missing) > 0 {
		probs = append(probs, fmt.Sprintf("missing shards of %d (numbered 0..%d): %s", count, count-1, strings.Join(missing, ", ")))
	}
	if len(dup) > 0 {
		probs = append(probs, fmt.Sprintf("duplicated shards: %s", strings.Join(dup, "; ")))
	}
	if len(probs) > 0 {
		return nil, &MergeError{Problems: probs}
	}
	out := slices.Clone(parts)
	slices.SortFunc(out, func(a, b *Part) int { return a.Header.Shard.Index - b.Header.Shard.Index })
	return out, nil
}

// Merge checks the shard files paths and writes to out the file an
// unsharded sweep of the same range writes, byte for byte, atomically (a
// temporary file renamed into place: out is never left half-written).
// It returns the aggregate of the merged records. Parts that are
// incomplete, inconsistent, missing or duplicated are refused with a
// *MergeError naming every problem, and out is not touched.
func Merge(out string, paths []string) (*Aggregate, error) {
	var parts []*Part
	var probs []string
	for _, p := range paths {
		part, err := ReadPart(p)
		if err != nil {
			probs = append(probs, err.Error())
			continue
		}
		parts = append(parts, part)
	}
	if len(probs) > 0 {
		return nil, &MergeError{Problems: probs}
	}
	parts, err := CheckParts(parts)
	if err != nil {
		return nil, err
	}
	h := parts[0].Header
	h.Shard = Whole
	agg := NewAggregate(h)

	f, err := outfile.Create(out, paths...)
	if err != nil {
		return nil, err
	}
	defer f.Abort()
	if err := mergeInto(f, parts, h, agg); err != nil {
		return nil, err
	}
	if _, err := f.Write(marshalLine(agg.trailer())); err != nil {
		return nil, fmt.Errorf("writing %s: %w", out, err)
	}
	if err := f.Commit(); err != nil {
		return nil, err
	}
	return agg, nil
}

// mergeInto writes the merged header and records: seed k of the range is
// record k/N of shard k mod N.
func mergeInto(w io.Writer, parts []*Part, h Header, agg *Aggregate) error {
	if _, err := w.Write(marshalLine(h)); err != nil {
		return err
	}
	scanners := make([]*bufio.Scanner, len(parts))
	for i, p := range parts {
		f, err := os.Open(p.Path)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Path, err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64<<10), maxLine)
		if !sc.Scan() { // the header, checked by ReadPart
			return fmt.Errorf("%s: changed while merging", p.Path)
		}
		scanners[i] = sc
	}
	total := Whole.Len(h.Seeds)
	for k := uint64(0); k < total; k++ {
		i := int(k % uint64(len(parts)))
		sc := scanners[i]
		if !sc.Scan() {
			return fmt.Errorf("%s: changed while merging: %v", parts[i].Path, sc.Err())
		}
		line := sc.Bytes()
		_, _, r, _, err := decodeLine(line)
		if err != nil || r == nil || r.Seed != h.Seeds.From+k {
			return fmt.Errorf("%s: changed while merging (seed %d)", parts[i].Path, h.Seeds.From+k)
		}
		agg.Add(r)
		// Re-encoding gives the bytes an unsharded sweep writes even if a
		// part was reformatted; for files written by sweep it is the line.
		if _, err := w.Write(marshalLine(r)); err != nil {
			return err
		}
	}
	return nil
}
