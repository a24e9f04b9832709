package spacetime

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pbftsim/pbftsim/sim"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// tinyOutputs renders testdata/tiny.jsonl with opts through every renderer.
func tinyOutputs(t testing.TB, opts Options) (d *Diagram, perfetto, shiviz []byte) {
	t.Helper()
	data, err := os.ReadFile("testdata/tiny.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	return renderAll(t, data, opts)
}

func renderAll(t testing.TB, data []byte, opts Options) (d *Diagram, perfetto, shiviz []byte) {
	t.Helper()
	var pb, sb bytes.Buffer
	d = NewDiagram(opts)
	p := NewPerfettoWriter(&pb, opts)
	s := NewShiVizWriter(&sb, opts)
	if err := Process(NewReader(bytes.NewReader(data), "trace"), d, p, s); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return d, pb.Bytes(), sb.Bytes()
}

func svgOf(t testing.TB, d *Diagram) string {
	t.Helper()
	var b bytes.Buffer
	if err := d.WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func htmlOf(t testing.TB, d *Diagram) string {
	t.Helper()
	var b bytes.Buffer
	if err := d.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run go test -update after checking the change)", name)
	}
}

var arrowRE = regexp.MustCompile(`<g class="(msg[^"]*)" data-type="([^"]*)" data-from="(\d+)" data-to="(\d+)"[^>]*><title>[^<]*</title>(?:<line class="halo"[^>]*/>)?<line x1="([\d.-]+)" y1="([\d.-]+)" x2="([\d.-]+)" y2="([\d.-]+)"`)

type drawnArrow struct {
	class, typ     string
	from, to       int
	x1, y1, x2, y2 float64
}

func parseArrows(t testing.TB, svg string) []drawnArrow {
	t.Helper()
	var out []drawnArrow
	for _, m := range arrowRE.FindAllStringSubmatch(svg, -1) {
		a := drawnArrow{class: m[1], typ: m[2]}
		a.from, _ = strconv.Atoi(m[3])
		a.to, _ = strconv.Atoi(m[4])
		a.x1, _ = strconv.ParseFloat(m[5], 64)
		a.y1, _ = strconv.ParseFloat(m[6], 64)
		a.x2, _ = strconv.ParseFloat(m[7], 64)
		a.y2, _ = strconv.ParseFloat(m[8], 64)
		out = append(out, a)
	}
	return out
}

func TestSVGGoldenTiny(t *testing.T) {
	d, _, _ := tinyOutputs(t, Options{Title: "tiny"})
	svg := svgOf(t, d)
	golden(t, "tiny.svg", svg)

	if n := strings.Count(svg, `<g class="msg`); n != 12 {
		t.Errorf("%d arrow groups, want 12 (one per message send)", n)
	}
	arrows := parseArrows(t, svg)
	if len(arrows) != 12 {
		t.Fatalf("parsed %d arrows, want 12", len(arrows))
	}
	// Window 0..8ms (the trace's end) over the plot width; lanes 36px apart.
	x := func(ms float64) float64 { return marginLeft + ms/8*plotWidth }
	near := func(a, b float64) bool { return math.Abs(a-b) <= 0.051 }
	req := arrows[0]
	if req.typ != "REQUEST" || req.from != 4 || req.to != 0 || !near(req.x1, x(0)) || !near(req.x2, x(1)) || !near(req.y1-req.y2, 4*laneHeight) {
		t.Errorf("first arrow %+v, want REQUEST c4->r0 from x=%.1f to x=%.1f, 4 lanes up", req, x(0), x(1))
	}
	counts := map[string]int{}
	dropped, inflight, byz := 0, 0, 0
	for _, a := range arrows {
		counts[a.typ]++
		if strings.Contains(a.class, "dropped") {
			dropped++
		}
		if strings.Contains(a.class, "inflight") {
			inflight++
		}
		if strings.Contains(a.class, "byz") {
			byz++
		}
		if a.x2 < a.x1 {
			t.Errorf("arrow %+v goes back in time", a)
		}
	}
	want := map[string]int{"REQUEST": 1, "PRE-PREPARE": 3, "PREPARE": 4, "COMMIT": 1, "VIEW-CHANGE": 2, "REPLY": 1}
	for ty, n := range want {
		if counts[ty] != n {
			t.Errorf("%d %s arrows, want %d", counts[ty], ty, n)
		}
	}
	// PRE-PREPARE r0->r3 (random loss) and VIEW-CHANGE r3->r2 (receiver crashed).
	if dropped != 2 || strings.Count(svg, `class="cross"`) != 3 { // 2 + the legend's
		t.Errorf("%d dropped arrows and %d crosses, want 2 and 3", dropped, strings.Count(svg, `class="cross"`))
	}
	if inflight != 1 {
		t.Errorf("%d in-flight arrows, want 1 (VIEW-CHANGE r3->r0)", inflight)
	}
	// Replica 3 is declared faulty by its altered PREPARE: its 3 sends glow.
	if byz != 3 || !strings.Contains(svg, "r3 (Byzantine)") {
		t.Errorf("%d Byzantine arrows (want 3) or lane label missing", byz)
	}
	for _, ev := range []string{"committed", "executed", "view-change", "stable-checkpoint", "crash", "recover", "accepted"} {
		if n := strings.Count(svg, `<g class="mark ev-`+ev+`"`); n != 1 {
			t.Errorf("%d %s marks, want 1", n, ev)
		}
	}
	// The crashed-receiver drop ends on r2's lane at 6ms.
	for _, a := range arrows {
		if a.typ == "VIEW-CHANGE" && a.to == 2 {
			if !near(a.x2, x(6)) || !near(a.y2-a.y1, -1*laneHeight) {
				t.Errorf("VIEW-CHANGE r3->r2 ends at (%.1f, %.1f), want x=%.1f on r2's lane", a.x2, a.y2, x(6))
			}
		}
	}
}

func TestSVGDeterministic(t *testing.T) {
	d1, p1, s1 := tinyOutputs(t, Options{})
	d2, p2, s2 := tinyOutputs(t, Options{})
	if svgOf(t, d1) != svgOf(t, d2) || htmlOf(t, d1) != htmlOf(t, d2) || !bytes.Equal(p1, p2) || !bytes.Equal(s1, s2) {
		t.Fatal("two renderings of the same trace differ")
	}
}

func TestDiagramWindowTypesAndCap(t *testing.T) {
	ms := sim.Time(1_000_000)
	tests := []struct {
		name        string
		opts        Options
		arrows      int
		inWindow    int
		capped      bool
		from, to    sim.Time
		wantTypesIn []string
	}{
		{"all", Options{}, 12, 12, false, 0, 8 * ms, nil},
		{"types", Options{Types: []string{"PREPARE", "COMMIT"}}, 5, 5, false, 0, 8 * ms, []string{"PREPARE", "COMMIT"}},
		// Flights meeting [3ms, 4ms]: PREPARE r1->r0 (2..6), r1->r2 (2..3), r2->r1 (2.5..3.5), r3->r1 (3..4), COMMIT (3.5..4.5).
		{"window", Options{From: 3 * ms, To: 4 * ms, HasFrom: true, HasTo: true}, 5, 5, false, 3 * ms, 4 * ms, nil},
		{"cap", Options{MaxArrows: 3}, 3, 12, true, 0, 1 * ms, nil},
		{"cap with to", Options{MaxArrows: 3, To: 8 * ms, HasTo: true}, 3, 12, true, 0, 8 * ms, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, _, _ := tinyOutputs(t, tc.opts)
			st := d.Stats()
			if st.Arrows != tc.arrows || st.InWindow != tc.inWindow || st.Capped != tc.capped || st.From != tc.from || st.To != tc.to {
				t.Errorf("stats %+v, want %d arrows of %d, capped %v, window %v..%v", st, tc.arrows, tc.inWindow, tc.capped, tc.from, tc.to)
			}
			svg := svgOf(t, d)
			if n := strings.Count(svg, `<g class="msg`); n != tc.arrows {
				t.Errorf("%d arrows in the SVG, want %d", n, tc.arrows)
			}
			if tc.capped != strings.Contains(svg, "max-arrows") {
				t.Errorf("cap note present = %v, want %v", !tc.capped, tc.capped)
			}
			for _, a := range d.Arrows() {
				if tc.wantTypesIn != nil && !strings.Contains(strings.Join(tc.wantTypesIn, ","), a.Type) {
					t.Errorf("arrow of type %s drawn, want only %v", a.Type, tc.wantTypesIn)
				}
			}
		})
	}
}

func TestHTMLSelfContained(t *testing.T) {
	d, _, _ := tinyOutputs(t, Options{Faulty: []sim.NodeID{1}})
	html := htmlOf(t, d)
	if n := strings.Count(html, `<g class="msg`); n != 12 {
		t.Errorf("%d arrows in the HTML, want 12", n)
	}
	for _, bad := range []string{"http://", "https://", "<link", "src="} {
		if strings.Contains(html, bad) {
			t.Errorf("HTML contains %q: it must not load anything", bad)
		}
	}
	for _, want := range []string{`<input type="checkbox" class="ty" value="PREPARE" checked>`, `id="seqmin"`, `id="view"`, `<option value="3">r3</option>`,
		`<option value="4">c4</option>`, `data-seq="1" data-view="0"`, "<script>", "r1 (Byzantine)", `<span id="shown">12</span>`} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %s", want)
		}
	}
}

// validatePerfetto checks b against the trace-event format: the fields each
// phase requires, numeric timestamps, flows that pair up and bind to a
// slice on their thread, and slices that never overlap on a thread.
func validatePerfetto(t testing.TB, b []byte) (slices, flows, instants int) {
	t.Helper()
	var doc struct {
		TraceEvents []map[string]any `json:"traceEvents"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if doc.TraceEvents == nil {
		t.Fatal("no traceEvents array")
	}
	num := func(e map[string]any, k string) (float64, bool) {
		n, ok := e[k].(json.Number)
		if !ok {
			return 0, false
		}
		f, err := n.Float64()
		return f, err == nil
	}
	type thread struct{ pid, tid float64 }
	type iv struct{ a, b float64 }
	sl := map[thread][]iv{}
	named := map[thread]bool{}
	type fl struct {
		s, f   int
		ts, tf float64
		ths    [2]thread
	}
	fs := map[string]*fl{}
	for i, e := range doc.TraceEvents {
		name, _ := e["name"].(string)
		ph, _ := e["ph"].(string)
		pid, ok1 := num(e, "pid")
		tid, ok2 := num(e, "tid")
		if name == "" || !ok1 || !ok2 {
			t.Fatalf("event %d %v lacks name, pid or tid", i, e)
		}
		th := thread{pid, tid}
		ts, hasTS := num(e, "ts")
		if ph != "M" && (!hasTS || ts < 0) {
			t.Fatalf("event %d %v: ts missing or not a number", i, e)
		}
		switch ph {
		case "X":
			dur, ok := num(e, "dur")
			if !ok || dur <= 0 {
				t.Fatalf("event %d %v: X needs a positive dur", i, e)
			}
			sl[th] = append(sl[th], iv{ts, ts + dur})
			slices++
		case "i":
			if s, _ := e["s"].(string); s != "t" && s != "p" && s != "g" {
				t.Fatalf("event %d %v: instant scope must be t, p or g", i, e)
			}
			instants++
		case "s", "f":
			id := fmt.Sprint(e["id"])
			if e["id"] == nil || e["cat"] == nil {
				t.Fatalf("event %d %v: flow needs id and cat", i, e)
			}
			if fs[id] == nil {
				fs[id] = &fl{}
			}
			if ph == "s" {
				fs[id].s++
				fs[id].ts, fs[id].ths[0] = ts, th
			} else {
				if e["bp"] != "e" {
					t.Fatalf("event %d %v: f must bind to its enclosing slice (bp e)", i, e)
				}
				fs[id].f++
				fs[id].tf, fs[id].ths[1] = ts, th
			}
		case "M":
			if name == "thread_name" {
				named[th] = true
			}
		default:
			t.Fatalf("event %d: ph %q is not one of X, i, s, f, M", i, ph)
		}
	}
	for th, ivs := range sl {
		if !named[th] {
			t.Errorf("thread %v has no thread_name", th)
		}
		for i := 1; i < len(ivs); i++ {
			if ivs[i].a < ivs[i-1].b-1e-9 { // also catches slices out of time order
				t.Errorf("thread %v: slice at %.3f overlaps the one ending at %.3f", th, ivs[i].a, ivs[i-1].b)
			}
		}
	}
	// Slices of a thread are in time order (checked above): binary search.
	inSlice := func(th thread, ts float64) bool {
		ivs := sl[th]
		i := sort.Search(len(ivs), func(i int) bool { return ivs[i].b > ts })
		return i < len(ivs) && ivs[i].a <= ts
	}
	for id, f := range fs {
		if f.s != 1 || f.f != 1 || f.tf < f.ts {
			t.Errorf("flow %s: %d starts, %d ends, %.3f -> %.3f", id, f.s, f.f, f.ts, f.tf)
		}
		if !inSlice(f.ths[0], f.ts) || !inSlice(f.ths[1], f.tf) {
			t.Errorf("flow %s does not bind to slices at both ends", id)
		}
		flows++
	}
	return slices, flows, instants
}

func TestPerfettoValid(t *testing.T) {
	_, p, _ := tinyOutputs(t, Options{Replicas: 4})
	_, flows, instants := validatePerfetto(t, p)
	// 12 sends: 9 delivered, 2 dropped, 1 in flight.
	if flows != 9 {
		t.Errorf("%d flows, want 9 (one per delivered message)", flows)
	}
	// 2 drops + 6 events (prepared, view-change, committed, executed, accepted,
	// stable-checkpoint) + crash + recover.
	if instants != 10 {
		t.Errorf("%d instant events, want 10", instants)
	}
	for _, want := range []string{`"name":"r3 (Byzantine)"`, `"name":"c4"`, `"name":"clients"`, `"ts":1000.000`} {
		if !bytes.Contains(p, []byte(want)) {
			t.Errorf("Perfetto output lacks %s", want)
		}
	}
}

var shivizRE = regexp.MustCompile(ShiVizRegexGo)

// checkShiViz parses a ShiViz log with its regular expression and checks
// the vector clocks: a host's own entry grows by one per event, no entry
// ever decreases. It returns the events per host.
func checkShiViz(t testing.TB, log []byte) map[string][]map[string]uint64 {
	t.Helper()
	text := string(log)
	ms := shivizRE.FindAllStringSubmatch(text, -1)
	if lines := strings.Count(text, "\n"); len(ms)*2 != lines {
		t.Fatalf("regex matched %d events in %d lines", len(ms), lines)
	}
	byHost := map[string][]map[string]uint64{}
	for i, m := range ms {
		host, clockText := m[2], m[3]
		var vc map[string]uint64
		if err := json.Unmarshal([]byte(clockText), &vc); err != nil {
			t.Fatalf("event %d (%q): clock %q: %v", i, m[1], clockText, err)
		}
		prev := map[string]uint64{}
		if h := byHost[host]; len(h) > 0 {
			prev = h[len(h)-1]
		}
		if vc[host] != prev[host]+1 {
			t.Fatalf("event %d (%q) at %s: own clock %d after %d, want +1", i, m[1], host, vc[host], prev[host])
		}
		for k, v := range prev {
			if vc[k] < v {
				t.Fatalf("event %d at %s: entry %s went back from %d to %d", i, host, k, v, vc[k])
			}
		}
		byHost[host] = append(byHost[host], vc)
	}
	return byHost
}

func TestShiVizParsesAndClocksAreMonotone(t *testing.T) {
	_, _, s := tinyOutputs(t, Options{Replicas: 4})
	byHost := checkShiViz(t, s)
	total := 0
	for _, evs := range byHost {
		total += len(evs)
	}
	// 32 records minus the duplicate-free ones that are not node steps: none.
	if total != 32 {
		t.Errorf("%d ShiViz events, want 32 (one per record)", total)
	}
	// r1 received r3's PREPARE (r3's first event) at 4ms: r1's clock knows r3.
	found := false
	for _, line := range strings.Split(string(s), "\n") {
		if strings.HasPrefix(line, "recv PREPARE from r3") {
			found = true
		}
	}
	if !found {
		t.Fatal("no event for r1 receiving r3's PREPARE")
	}
	last := byHost["r1"][len(byHost["r1"])-1]
	if last["r3"] < 1 || last["c4"] < 1 || last["r0"] < 1 {
		t.Errorf("r1's final clock %v does not reflect r3, c4 and r0", last)
	}
	if _, ok := byHost["c4"]; !ok {
		t.Error("client 4 is not named c4")
	}
}

func TestAtomicWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.svg")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := CreateAtomic(path)
	if err != nil {
		t.Fatal(err)
	}
	a.WriteString("new")
	if b := mustRead(t, path); string(b) != "old" {
		t.Fatalf("file changed before Commit: %q", b)
	}
	a.Abort()
	if b := mustRead(t, path); string(b) != "old" {
		t.Fatalf("Abort changed the file: %q", b)
	}
	if a, err = CreateAtomic(path); err != nil {
		t.Fatal(err)
	}
	a.WriteString("new")
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if b := mustRead(t, path); string(b) != "new" {
		t.Fatalf("after Commit: %q, want new", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files left in the directory, want 1 (no temporaries)", len(entries))
	}
	if _, err := CreateAtomic(filepath.Join(dir, "missing", "x")); err == nil {
		t.Error("no error creating a file in a missing directory")
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"to before from", Options{From: 5, To: 3, HasFrom: true, HasTo: true}, "before from"},
		{"max arrows", Options{MaxArrows: -1}, "max-arrows"},
		{"faulty", Options{Faulty: []sim.NodeID{-1}}, "faulty"},
		{"replicas", Options{Replicas: 1 << 20}, "replicas"},
		{"ok", Options{MaxArrows: 10}, ""},
	}
	for _, tc := range tests {
		err := tc.opts.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: Validate() = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestEquivocationAndAnnotations(t *testing.T) {
	d1, d2 := strings.Repeat("11", 32), strings.Repeat("22", 32)
	trace := strings.Join([]string{
		`{"t":0,"kind":"send","from":0,"to":1,"type":"PRE-PREPARE","msg":{"View":0,"Seq":1,"Digest":"` + d1 + `","Replica":0}}`,
		`{"t":0,"kind":"send","from":0,"to":2,"type":"PRE-PREPARE","msg":{"View":0,"Seq":1,"Digest":"` + d2 + `","Replica":0}}`,
		`{"t":0,"kind":"send","from":0,"to":3,"type":"PRE-PREPARE","msg":{"View":0,"Seq":2,"Digest":"` + d2 + `","Replica":0}}`,
		`{"t":5,"kind":"deliver","from":0,"to":1,"type":"PRE-PREPARE","msg":{"View":0,"Seq":1,"Digest":"` + d1 + `","Replica":0}}`,
		`{"t":6,"kind":"deliver","from":0,"to":2,"type":"PRE-PREPARE","msg":{"View":0,"Seq":1,"Digest":"` + d2 + `","Replica":0}}`,
		`{"t":7,"kind":"deliver","from":0,"to":3,"type":"PRE-PREPARE","msg":{"View":0,"Seq":2,"Digest":"` + d2 + `","Replica":0}}`,
	}, "\n")
	opts := Options{Annotations: []Annotation{{T: 6, Node: 2, Text: "agreement violated: r1 and r2 <disagree>"}, {T: 100, Node: -1, Text: "outside"}}}
	d, _, _ := renderAll(t, []byte(trace), opts)
	eq := 0
	for _, a := range d.Arrows() {
		if a.Equivocation {
			eq++
			if a.Fields.Seq != 1 || !a.Altered {
				t.Errorf("arrow %+v flagged, want only seq 1", a)
			}
		}
	}
	if eq != 2 {
		t.Errorf("%d equivocating arrows, want 2", eq)
	}
	svg := svgOf(t, d)
	if n := strings.Count(svg, `class="msg t-PRE-PREPARE byz altered"`); n != 2 {
		t.Errorf("%d highlighted arrows, want the 2 conflicting PRE-PREPAREs", n)
	}
	if !strings.Contains(svg, "r0 (Byzantine)") || strings.Count(svg, `class="msg t-PRE-PREPARE byz`) != 3 {
		t.Error("the equivocating primary's lane is not highlighted")
	}
	if strings.Count(svg, `<g class="annotation">`) != 1 || !strings.Contains(svg, "agreement violated: r1 and r2 &lt;disagree&gt;") {
		t.Error("annotation in the window missing, escaped wrongly, or the one outside drawn")
	}
}

func TestMicrosecondsAndTicks(t *testing.T) {
	for _, tc := range []struct {
		ns   sim.Time
		want string
	}{{0, "0.000"}, {5, "0.005"}, {42, "0.042"}, {999, "0.999"}, {1000, "1.000"}, {1_234_567, "1234.567"}} {
		if got := us(tc.ns); got != tc.want {
			t.Errorf("us(%d) = %s, want %s", tc.ns, got, tc.want)
		}
	}
	for _, tc := range []struct{ approx, want int64 }{{0, 1}, {1, 1}, {3, 5}, {7, 10}, {11, 20}, {1_100_000, 2_000_000}, {math.MaxInt64 / 8, 2_000_000_000_000_000_000}} {
		if got := niceStep(tc.approx); got != tc.want {
			t.Errorf("niceStep(%d) = %d, want %d", tc.approx, got, tc.want)
		}
	}
}

func TestShiVizHeader(t *testing.T) {
	var b bytes.Buffer
	s := NewShiVizWriter(&b, Options{})
	s.WriteHeader()
	data := mustRead(t, "testdata/tiny.jsonl")
	if err := Process(NewReader(bytes.NewReader(data), "tiny"), s); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	head, log, ok := strings.Cut(b.String(), "\n\n")
	if !ok || head != ShiVizRegex {
		t.Fatalf("header %q, want the regex then an empty line", head)
	}
	checkShiViz(t, []byte(log))
}

func TestRenderFile(t *testing.T) {
	dir := t.TempDir()
	out := Outputs{SVG: filepath.Join(dir, "d.svg"), HTML: filepath.Join(dir, "d.html"),
		Perfetto: filepath.Join(dir, "d.json"), ShiViz: filepath.Join(dir, "d.log")}
	res, err := RenderFile("testdata/tiny.jsonl", Options{Title: "tiny"}, out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Replicas != 4 || res.Diagram.Arrows != 12 || res.ShiVizEvents != 32 || res.Info.Records != 32 {
		t.Errorf("rendered %+v, want 4 replicas, 12 arrows, 32 ShiViz events", res)
	}
	svg := mustRead(t, out.SVG)
	golden := mustRead(t, "testdata/tiny.svg")
	if !bytes.Equal(svg, golden) {
		t.Error("RenderFile's SVG differs from the golden tiny.svg")
	}
	pj := mustRead(t, out.Perfetto)
	validatePerfetto(t, pj)
	sl := mustRead(t, out.ShiViz)
	checkShiViz(t, sl)
	if entries, _ := os.ReadDir(dir); len(entries) != 4 {
		t.Errorf("%d files in the output directory, want the 4 outputs and no temporaries", len(entries))
	}

	malformed := filepath.Join(t.TempDir(), "malformed.jsonl")
	if src, err := os.ReadFile("render_test.go"); err != nil || os.WriteFile(malformed, src, 0o644) != nil {
		t.Fatal("cannot write the malformed trace", err)
	}
	bad := []struct {
		name  string
		path  string
		opts  Options
		out   Outputs
		parse bool
	}{
		{"no outputs", "testdata/tiny.jsonl", Options{}, Outputs{}, false},
		{"missing trace", filepath.Join(dir, "none.jsonl"), Options{}, Outputs{SVG: out.SVG}, false},
		{"missing out dir", "testdata/tiny.jsonl", Options{}, Outputs{SVG: filepath.Join(dir, "no", "x.svg")}, false},
		{"unknown type", "testdata/tiny.jsonl", Options{Types: []string{"PING"}}, Outputs{SVG: out.SVG}, false},
		{"bad option", "testdata/tiny.jsonl", Options{MaxArrows: -3}, Outputs{SVG: out.SVG}, false},
		{"unknown extension", "testdata/../render_test.go", Options{}, Outputs{SVG: filepath.Join(dir, "new.svg")}, false},
		{"malformed trace", malformed, Options{}, Outputs{SVG: filepath.Join(dir, "new.svg")}, true},
	}
	for _, tc := range bad {
		_, err := RenderFile(tc.path, tc.opts, tc.out)
		var pe *ParseError
		if err == nil || !IsInputError(err) || tc.parse != errors.As(err, &pe) {
			t.Errorf("%s: error %v, want an input error (parse error: %v)", tc.name, err, tc.parse)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "new.svg")); !os.IsNotExist(err) {
		t.Error("a failed render left an output behind")
	}
}

// mustRead returns the contents of path, failing the test if it cannot be
// read (two missing files must not compare equal).
func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
