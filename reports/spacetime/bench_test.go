package spacetime

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
)

// synthTrace builds a PBFT-shaped trace of about records lines: n=4
// replicas, 2 clients, normal-case rounds (REQUEST, PRE-PREPARE, PREPARE,
// COMMIT, REPLY) with random delays and 1% random loss, overlapping in time.
func synthTrace(records int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	type rec struct {
		t int64
		s string
	}
	var rs []rec
	add := func(t int64, s string) { rs = append(rs, rec{t, s}) }
	msg := func(t int64, from, to int, typ, body string) int64 {
		head := fmt.Sprintf(`"from":%d,"to":%d,"type":%q,"msg":%s`, from, to, typ, body)
		add(t, fmt.Sprintf(`"t":%d,"kind":"send",%s`, t, head))
		if rng.IntN(100) == 0 {
			add(t, fmt.Sprintf(`"t":%d,"kind":"drop",%s,"reason":"random"`, t, head))
			return -1
		}
		d := t + 100_000 + rng.Int64N(900_000)
		add(d, fmt.Sprintf(`"t":%d,"kind":"deliver",%s`, d, head))
		return d
	}
	digest := strings.Repeat("ab", 32)
	for i := 0; len(rs) < records; i++ {
		seq, c, t0 := i+1, 4+i%2, int64(i)*300_000
		req := fmt.Sprintf(`{"Op":"authorize P%d 100","Timestamp":%d,"Client":%d,"Sig":%d}`, seq, seq, c, seq)
		tp := msg(t0, c, 0, "REQUEST", req)
		if tp < 0 {
			continue
		}
		pp := fmt.Sprintf(`{"View":0,"Seq":%d,"Digest":%q,"Batch":[%s],"Replica":0,"Sig":1}`, seq, digest, req)
		tpp := [4]int64{tp, -1, -1, -1}
		for r := 1; r < 4; r++ {
			tpp[r] = msg(tp, 0, r, "PRE-PREPARE", pp)
		}
		var ready [4]int64
		for r := 1; r < 4; r++ {
			if tpp[r] < 0 {
				continue
			}
			body := fmt.Sprintf(`{"View":0,"Seq":%d,"Digest":%q,"Replica":%d,"Sig":2}`, seq, digest, r)
			for o := 0; o < 4; o++ {
				if o != r {
					ready[o] = max(ready[o], tpp[r], msg(tpp[r], r, o, "PREPARE", body))
				}
			}
		}
		var done [4]int64
		for r := 0; r < 4; r++ {
			tc := max(ready[r], tpp[r])
			add(tc, fmt.Sprintf(`"t":%d,"kind":"event","from":%d,"event":"prepared","data":{"Replica":%d,"View":0,"Seq":%d}`, tc, r, r, seq))
			body := fmt.Sprintf(`{"View":0,"Seq":%d,"Digest":%q,"Replica":%d,"Sig":3}`, seq, digest, r)
			for o := 0; o < 4; o++ {
				if o != r {
					done[o] = max(done[o], tc, msg(tc, r, o, "COMMIT", body))
				}
			}
		}
		for r := 0; r < 4; r++ {
			te := done[r]
			add(te, fmt.Sprintf(`"t":%d,"kind":"event","from":%d,"event":"committed","data":{"Replica":%d,"View":0,"Seq":%d}`, te, r, r, seq))
			add(te, fmt.Sprintf(`"t":%d,"kind":"event","from":%d,"event":"executed","data":{"Replica":%d,"View":0,"Seq":%d,"Client":%d}`, te, r, r, seq, c))
			msg(te, r, c, "REPLY", fmt.Sprintf(`{"View":0,"Timestamp":%d,"Client":%d,"Replica":%d,"Result":"ok"}`, seq, c, r))
		}
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].t < rs[j].t })
	var b bytes.Buffer
	for i, r := range rs {
		fmt.Fprintf(&b, "{\"seq\":%d,%s}\n", i, r.s)
	}
	return b.Bytes()
}

// TestLargeTraceOutputsValid renders a synthetic trace with losses through
// every renderer and validates the exports at scale.
func TestLargeTraceOutputsValid(t *testing.T) {
	data := synthTrace(10_000)
	d, p, s := renderAll(t, data, Options{MaxArrows: 500})
	st := d.Stats()
	if !st.Capped || st.Arrows != 500 || st.InWindow < 3000 {
		t.Errorf("stats %+v, want 500 arrows drawn of thousands, capped", st)
	}
	svg := svgOf(t, d)
	if n := strings.Count(svg, `<g class="msg`); n != 500 {
		t.Errorf("%d arrows drawn, want 500", n)
	}
	if !strings.Contains(svg, "window cut at") || strings.Count(svg, `class="bucket"`) < OverviewBuckets/2 {
		t.Error("capped diagram lacks the cut note or the overview density strip")
	}
	_, flows, _ := validatePerfetto(t, p)
	if flows < 3000 {
		t.Errorf("%d flows, want thousands", flows)
	}
	checkShiViz(t, s)
}

var (
	bench100k     []byte
	bench100kOnce sync.Once
)

// benchRecords builds the 100,000-record trace once, outside the timer.
func benchRecords(b *testing.B) {
	bench100kOnce.Do(func() { bench100k = synthTrace(100_000) })
	b.ResetTimer()
	b.SetBytes(int64(len(bench100k)))
	b.ReportMetric(float64(bytes.Count(bench100k, []byte("\n"))), "records")
}

// BenchmarkRead100k: decode a 100,000-record trace.
func BenchmarkRead100k(b *testing.B) {
	benchRecords(b)
	for b.Loop() {
		if err := Process(NewReader(bytes.NewReader(bench100k), "bench")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDiagram100k: read a 100,000-record trace and render SVG and HTML
// (overview plus the default arrow cap).
func BenchmarkDiagram100k(b *testing.B) {
	benchRecords(b)
	for b.Loop() {
		d := NewDiagram(Options{})
		if err := Process(NewReader(bytes.NewReader(bench100k), "bench"), d); err != nil {
			b.Fatal(err)
		}
		if err := d.WriteSVG(io.Discard); err != nil {
			b.Fatal(err)
		}
		if err := d.WriteHTML(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPerfetto100k: export a 100,000-record trace to trace-event JSON.
func BenchmarkPerfetto100k(b *testing.B) {
	benchRecords(b)
	for b.Loop() {
		p := NewPerfettoWriter(io.Discard, Options{Replicas: 4})
		if err := Process(NewReader(bytes.NewReader(bench100k), "bench"), p); err != nil {
			b.Fatal(err)
		}
		if err := p.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkShiViz100k: export a 100,000-record trace to a ShiViz log.
func BenchmarkShiViz100k(b *testing.B) {
	benchRecords(b)
	for b.Loop() {
		s := NewShiVizWriter(io.Discard, Options{Replicas: 4})
		if err := Process(NewReader(bytes.NewReader(bench100k), "bench"), s); err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
