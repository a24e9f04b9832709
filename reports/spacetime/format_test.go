package spacetime

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// writeTraces runs one lossy PBFT cluster (drops, a crash, timers, view
// changes) with a TraceWriter per format and returns the files by extension.
func writeTraces(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	var writers []*TraceWriter
	var sinks []sim.Sink
	for _, f := range TraceFormats {
		path := filepath.Join(dir, "t"+f.Ext)
		tw, err := CreateTrace(path)
		if err != nil {
			t.Fatal(err)
		}
		files[f.Ext] = path
		writers = append(writers, tw)
		sinks = append(sinks, tw)
	}
	cfg := cluster.Config{
		Seed: 7, N: 4, Requests: 12,
		Network: sim.NetworkConfig{Default: sim.LinkConfig{
			Delay: sim.Delay{Kind: sim.DelayUniform, Min: time.Millisecond, Max: 4 * time.Millisecond},
			Drop:  0.05, Duplicate: 0.05,
		}},
		Crashes: []sim.Crash{{Node: 0, At: sim.Time(40 * time.Millisecond)}},
		MaxTime: sim.Time(5 * time.Second),
		Sinks:   sinks,
	}
	if _, err := cluster.Run(cfg); err != nil {
		t.Fatalf("cluster.Run: %v", err)
	}
	for _, tw := range writers {
		if err := tw.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func readTrace(t *testing.T, path string) ([]*Record, error) {
	t.Helper()
	rd, err := OpenTrace(path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	var out []*Record
	for {
		r, err := rd.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
}

// TestTraceFormatsRoundTrip: every format reads back as the same records,
// and the compact ones are smaller than JSON Lines.
func TestTraceFormatsRoundTrip(t *testing.T) {
	files := writeTraces(t, t.TempDir())
	want, err := readTrace(t, files[".jsonl"])
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 1000 {
		t.Fatalf("only %d records", len(want))
	}
	kinds := map[Kind]int{}
	for _, r := range want {
		kinds[r.Kind]++
	}
	for _, k := range []Kind{KindSend, KindDeliver, KindDrop, KindDuplicate, KindTimer, KindEvent, KindCrash} {
		if kinds[k] == 0 {
			t.Errorf("the run has no %s record; the round trip does not cover it", k)
		}
	}
	size := map[string]int64{}
	for ext, path := range files {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		size[ext] = st.Size()
		got, err := readTrace(t, path)
		if err != nil {
			t.Fatalf("%s: %v", ext, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d records, JSONL has %d", ext, len(got), len(want))
		}
		for i := range want {
			w, g := *want[i], *got[i]
			w.Line, g.Line = 0, 0
			if !reflect.DeepEqual(w, g) {
				t.Fatalf("%s record %d:\n got %+v\nwant %+v", ext, i, g, w)
			}
		}
	}
	t.Logf("bytes per record: jsonl %.1f, jsonl.zst %.1f, pbt %.1f, pbt.zst %.1f", float64(size[".jsonl"])/float64(len(want)),
		float64(size[".jsonl.zst"])/float64(len(want)), float64(size[".pbt"])/float64(len(want)), float64(size[".pbt.zst"])/float64(len(want)))
	if !(size[".pbt.zst"] < size[".pbt"] && size[".pbt"] < size[".jsonl"] && size[".jsonl.zst"] < size[".jsonl"]) {
		t.Errorf("sizes %v: want compressed < binary < JSON Lines", size)
	}
}

// TestTraceFormatsDamaged: a truncated or corrupt file of every format gives
// FILE: record N: problem (a *ParseError), never a panic or a silent end.
func TestTraceFormatsDamaged(t *testing.T) {
	dir := t.TempDir()
	files := writeTraces(t, dir)
	for ext, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		full, err := readTrace(t, path)
		if err != nil {
			t.Fatal(err)
		}
		for _, cut := range []int{len(data) / 3, len(data)/2 + 1, len(data) - 3} {
			bad := filepath.Join(dir, "cut"+ext)
			if err := os.WriteFile(bad, data[:cut], 0o644); err != nil {
				t.Fatal(err)
			}
			recs, err := readTrace(t, bad)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("%s cut at %d of %d bytes: err %v (%d records), want a *ParseError", ext, cut, len(data), err, len(recs))
			}
			if pe.Record != len(recs)+1 || pe.File != bad || !strings.HasPrefix(err.Error(), bad+": record ") {
				t.Errorf("%s cut at %d: %q after %d records", ext, cut, err, len(recs))
			}
			if len(recs) >= len(full) {
				t.Errorf("%s cut at %d: read all %d records", ext, cut, len(recs))
			}
		}
		// Corrupt bytes in the middle: an error or, for a flipped digit in
		// JSON, possibly a record that still parses; never a panic.
		for _, off := range []int{len(sim.BinaryMagic), len(data) / 2, len(data) - 10} {
			c := bytes.Clone(data)
			c[off] ^= 0xa5
			bad := filepath.Join(dir, "corrupt"+ext)
			if err := os.WriteFile(bad, c, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := readTrace(t, bad); err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) || !strings.Contains(err.Error(), ": record ") {
					t.Errorf("%s corrupt at %d: %v, want a *ParseError", ext, off, err)
				}
			}
		}
	}
	// A compressed name on a plain file, and garbage under a binary name.
	plain := filepath.Join(dir, "plain.jsonl.zst")
	data := mustRead(t, files[".jsonl"])
	if err := os.WriteFile(plain, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readTrace(t, plain); err == nil || !strings.Contains(err.Error(), plain+": record 1: not a zstd stream") {
		t.Errorf("plain JSONL named .zst: %v", err)
	}
	garbage := filepath.Join(dir, "g.pbt")
	if err := os.WriteFile(garbage, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readTrace(t, garbage); err == nil || !strings.Contains(err.Error(), garbage+": record 1: not a pbftsim binary trace") {
		t.Errorf("JSONL named .pbt: %v", err)
	}
	// A file of a later format version is named as such, not as garbage.
	future := filepath.Join(dir, "future.pbt")
	if err := os.WriteFile(future, []byte(sim.BinaryMagic[:7]+"\x09rest"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readTrace(t, future); err == nil || !strings.Contains(err.Error(), future+": record 1: binary trace version 9 is not supported") {
		t.Errorf("future version: %v", err)
	}
}

func TestTraceFormatUnknownExtension(t *testing.T) {
	for _, name := range []string{"t.json", "t", "t.zst", "t.pbt.gz"} {
		_, err := FormatOf(name)
		if err == nil || !strings.Contains(err.Error(), "supported: .jsonl.zst") || !strings.Contains(err.Error(), ".pbt.zst") {
			t.Errorf("FormatOf(%q) = %v, want the list of supported extensions", name, err)
		}
		if _, err := CreateTrace(filepath.Join(t.TempDir(), name)); err == nil {
			t.Errorf("CreateTrace(%q) accepted an unknown extension", name)
		}
		if _, err := OpenTrace(name); !IsInputError(err) {
			t.Errorf("OpenTrace(%q) = %v, want an input error", name, err)
		}
	}
	if f, err := FormatOf("RUN.PBT.ZST"); err != nil || !f.Binary || !f.Compressed {
		t.Errorf("FormatOf(RUN.PBT.ZST) = %+v, %v", f, err)
	}
}

// FuzzBinaryReader: no input makes the binary reader panic or loop.
func FuzzBinaryReader(f *testing.F) {
	var buf bytes.Buffer
	s := sim.NewBinarySink(&buf)
	s.Record(&sim.Record{Kind: sim.RecCrash, From: 2, Time: 5})
	s.Record(&sim.Record{Seq: 1, Kind: sim.RecTimer, To: 1, Timer: 3, Time: 9})
	if err := s.Flush(); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(sim.BinaryMagic + "\x11\x00\x00\x00\x00\x05"))
	f.Add([]byte(sim.BinaryMagic + "\x41\x00\x00\x00\x00\x05\x21\x00\x02\xf0"))
	f.Add([]byte(sim.BinaryMagicV2 + "\x11\x00\x00\x00\x00\x05"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := NewBinaryReader(bytes.NewReader(data), "f.pbt")
		for i := 0; i < 1000; i++ {
			if _, err := rd.Next(); err != nil {
				var pe *ParseError
				if err != io.EOF && !errors.As(err, &pe) {
					t.Fatalf("error %v is a %T", err, err)
				}
				return
			}
		}
	})
}

// TestBinarySeqSkips: a binary trace whose records skip seqs (a sink that
// takes only some kinds) reads back with every seq.
func TestBinarySeqSkips(t *testing.T) {
	seqs := []uint64{3, 4, 5, 9, 10, 1000, 1001, 70000}
	var recs []sim.Record
	for i, q := range seqs {
		recs = append(recs, sim.Record{Seq: q, Kind: sim.RecCrash, From: sim.NodeID(i), Time: sim.Time(10 * i)})
	}
	rd := writeBinary(t, recs, "s.pbt")
	for i, q := range seqs {
		r, err := rd.Next()
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if r.Seq != q || r.From != sim.NodeID(i) || r.T != sim.Time(10*i) {
			t.Fatalf("record %d: seq %d from %d t %d, want %d %d %d", i, r.Seq, r.From, r.T, q, i, 10*i)
		}
	}
	if _, err := rd.Next(); err != io.EOF {
		t.Fatalf("after the records: %v", err)
	}
}
