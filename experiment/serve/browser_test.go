package serve

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color/palette"
	"image/draw"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pbftsim/pbftsim/experiment"
	"github.com/pbftsim/pbftsim/internal/browser"
	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/scenarios"
)

// The browser tests drive the page in a real headless Chromium (chromedp).
// They run only with PBFTSIM_BROWSER_TESTS=1 (CI sets it); then a
// Chromium that cannot be found or installed fails them. Screenshots of
// each step are written to $PBFTSIM_ARTIFACTS/serve (default
// artifacts/ here, ignored by git).

// browse starts headless Chromium and returns a context for it.
func browse(t *testing.T) context.Context {
	t.Helper()
	if !browser.Wanted() {
		t.Skipf("browser test: set %s=1 to drive the page in headless Chromium (installs Debian's chromium with apt-get if missing)", browser.Env)
	}
	path, err := browser.Chromium()
	if err != nil {
		// Asked for and impossible: a failure, not a skip.
		t.Fatalf("%s=1 but chromium could not be found or installed: %v", browser.Env, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 900), chromedp.DisableGPU)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	// The first Run starts the browser (no timeout on it: it would stop
	// the browser); later steps get their own timeouts.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// do runs steps with a timeout.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// js evaluates expr in the page.
func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitFor waits until expr is truthy in the page.
func waitFor(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if _, err := chromedp.Run(c, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("status").textContent + " | " + document.getElementById("title").textContent + " | " + location.href`))
		t.Fatalf("waiting for %s: %v (page status: %q)", expr, err, status)
	}
}

// click clicks the element sel selects (in the page's own script).
func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	ok := js[bool](t, ctx, fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false; e.click(); return true; })()`, sel))
	if !ok {
		t.Fatalf("no element %s to click", sel)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return js[string](t, ctx, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel))
}

// shots saves numbered screenshots of one test.
type shots struct {
	t   *testing.T
	dir string
	n   int
}

func newShots(t *testing.T) *shots {
	dir := os.Getenv("PBFTSIM_ARTIFACTS")
	if dir == "" {
		dir = "artifacts"
	}
	dir = filepath.Join(dir, "serve", t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &shots{t: t, dir: dir}
}

func (s *shots) take(ctx context.Context, name string) {
	s.t.Helper()
	c, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	shot, err := chromedp.Run(c, chromedp.FullScreenshot(100))
	if err != nil {
		s.t.Fatalf("screenshot %s: %v", name, err)
	}
	s.n++
	if err := os.WriteFile(filepath.Join(s.dir, fmt.Sprintf("%02d-%s.png", s.n, name)), shot, 0o644); err != nil {
		s.t.Fatal(err)
	}
	// PBFTSIM_DOCS_SCREENSHOTS=DIR also writes a small copy (256 colours,
	// the top of the page) for the README: how docs/serve/ was made.
	if dir := os.Getenv("PBFTSIM_DOCS_SCREENSHOTS"); dir != "" {
		if err := smallPNG(shot, filepath.Join(dir, name+".png"), 1000); err != nil {
			s.t.Fatal(err)
		}
	}
}

// smallPNG writes the top maxH pixels of a PNG screenshot in 256 colours.
func smallPNG(data []byte, path string, maxH int) error {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return err
	}
	b := img.Bounds()
	if b.Dy() > maxH {
		b.Max.Y = b.Min.Y + maxH
	}
	pal := image.NewPaletted(image.Rect(0, 0, b.Dx(), b.Dy()), palette.Plan9)
	draw.FloydSteinberg.Draw(pal, pal.Bounds(), img, b.Min)
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, pal); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

var stepRE = regexp.MustCompile(`^step (\d+) / (\d+) · (\S+)`)

// where reads the step and time the page shows.
func where(t *testing.T, ctx context.Context) (step int, at string) {
	t.Helper()
	s := text(t, ctx, "#where")
	m := stepRE.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("#where %q", s)
	}
	n, _ := strconv.Atoi(m[1])
	return n, m[3]
}

// clickTo clicks sel and waits until the page shows step want.
func clickTo(t *testing.T, ctx context.Context, sel string, want int) {
	t.Helper()
	click(t, ctx, sel)
	waitFor(t, ctx, fmt.Sprintf(`document.getElementById("where").textContent.startsWith("step %d /")`, want))
}

// jump types into the jump box and waits for step want.
func jump(t *testing.T, ctx context.Context, to string, want int) {
	t.Helper()
	js[bool](t, ctx, fmt.Sprintf(`(document.getElementById("jump").value = %q, true)`, to))
	clickTo(t, ctx, "#jump-go", want)
}

// writeReplay writes the replay file of a built-in scenario's run.
func writeReplay(t *testing.T, name, path string) {
	t.Helper()
	sc, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	o, err := properties.RunScenario(*sc, properties.RunOptions{Liveness: true, StopOnViolation: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := experiment.WriteReplay(o, path, "test"); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserStepDriveFork opens a replay file, steps forward and back
// (the state panel is the same at a step whichever way it was reached),
// delivers a later message next (the diagram changes), forks, and checks
// that the fork replays to the same trace hash.
func TestBrowserStepDriveFork(t *testing.T) {
	ctx := browse(t)
	sh := newShots(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "lossy.replay.yaml")
	writeReplay(t, "lossy-wan", file)
	out := filepath.Join(dir, "out")
	c, _ := newTestServer(t, Options{File: file, Out: out, Version: "test"})
	do(t, ctx, "open the page", chromedp.Navigate(c.srv.URL+"/?open="+url.QueryEscape(file)))
	waitFor(t, ctx, `document.querySelectorAll("#replicas .replica").length == 4`)
	sh.take(ctx, "opened")
	if step, _ := where(t, ctx); step != 0 {
		t.Fatalf("opened at step %d", step)
	}
	panel := func() string { return text(t, ctx, "#replicas") }
	start := panel()
	for i := 1; i <= 3; i++ {
		clickTo(t, ctx, "#next", i)
	}
	at3 := panel()
	// Jump well into the run, where replicas have executed requests.
	jump(t, ctx, "step 120", 120)
	at120 := panel()
	sh.take(ctx, "step-120")
	if at120 == start || at120 == at3 || !strings.Contains(at120, "view") {
		t.Fatalf("the state panel did not change with the steps:\nstart %q\nstep 3 %q\nstep 120 %q", start, at3, at120)
	}
	clickTo(t, ctx, "#next", 121)
	clickTo(t, ctx, "#prev", 120)
	if got := panel(); got != at120 {
		t.Fatalf("step 120 reached back from 121 shows\n%q\nforward it showed\n%q", got, at120)
	}
	jump(t, ctx, "step 3", 3)
	if got := panel(); got != at3 {
		t.Fatalf("step 3 reached back from 120 shows\n%q\nforward it showed\n%q", got, at3)
	}
	sh.take(ctx, "back-to-3")

	// Pick a different delivery: the in-flight message that arrives last.
	jump(t, ctx, "step 60", 60)
	diagramBefore := js[string](t, ctx, `document.getElementById("diagram").innerHTML`)
	msgID := js[string](t, ctx, `(() => { let best = null, bt = -1;
		for (const f of S.st.in_flight) if (f.driveable && f.fate === "deliver" && f.arrives > bt) { best = f; bt = f.arrives; }
		return best ? String(best.id) : ""; })()`)
	if msgID == "" {
		t.Fatal("no driveable message in flight at step 60")
	}
	_, timeBefore := where(t, ctx)
	click(t, ctx, `#flights tr[data-msg="`+msgID+`"] .act-deliver`)
	waitFor(t, ctx, `document.querySelectorAll("#schedule li").length == 1`)
	sh.take(ctx, "delivered-next")
	diagramAfter := js[string](t, ctx, `document.getElementById("diagram").innerHTML`)
	stepText, sched := text(t, ctx, "#step-records"), text(t, ctx, "#schedule")
	if diagramAfter == diagramBefore {
		t.Fatal("the diagram did not change after choosing a different delivery")
	}
	if !strings.Contains(stepText, "deliver") || !strings.Contains(sched, "deliver") {
		t.Fatalf("after deliver-next the step shows %q, the schedule %q", stepText, sched)
	}
	if _, timeAfter := where(t, ctx); timeAfter == timeBefore {
		t.Fatalf("time did not move: %s", timeAfter)
	}

	// Fork: the replay file reproduces the session's run.
	js[bool](t, ctx, `(document.getElementById("fork-name").value = "browser-fork", true)`)
	click(t, ctx, "#fork")
	waitFor(t, ctx, `document.getElementById("fork-result").dataset.hash`)
	sh.take(ctx, "forked")
	hash := js[string](t, ctx, `document.getElementById("fork-result").dataset.hash`)
	rp, err := scenarios.LoadReplay(filepath.Join(out, "browser-fork.replay.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	o, check, err := experiment.Replay(rp, "test")
	if err != nil || !check.Reproduced || o.TraceHash() != hash {
		t.Fatalf("the fork does not reproduce: %v %+v, hash %s, page said %s", err, check, o.TraceHash(), hash)
	}
	// Filtering a message type out removes its lines.
	drawnAll := js[string](t, ctx, `document.getElementById("diagram").dataset.drawn`)
	click(t, ctx, `#type-filter input[data-label="PREPARE"]`)
	drawnFiltered := js[string](t, ctx, `document.getElementById("diagram").dataset.drawn`)
	if a, _ := strconv.Atoi(drawnAll); a == 0 || drawnFiltered == drawnAll {
		t.Fatalf("filtering PREPARE out: %s lines drawn before, %s after", drawnAll, drawnFiltered)
	}
}

// TestBrowserSweep opens a sweep's failing seeds, grouped, and one seed's
// run at its violation.
func TestBrowserSweep(t *testing.T) {
	ctx := browse(t)
	sh := newShots(t)
	dir := t.TempDir()
	sw := filepath.Join(dir, "sweep.jsonl")
	writeSweep(t, sw)
	c, _ := newTestServer(t, Options{File: sw})
	do(t, ctx, "open the sweep", chromedp.Navigate(c.srv.URL+"/?open="+url.QueryEscape(sw)))
	waitFor(t, ctx, `document.querySelectorAll("#sweep-groups .group").length > 0`)
	sh.take(ctx, "sweep")
	groups := js[int](t, ctx, `document.querySelectorAll("#sweep-groups .group").length`)
	seeds := js[int](t, ctx, `document.querySelectorAll("#sweep-groups .seed").length`)
	if groups != 1 || seeds != 2 {
		t.Fatalf("%d groups, %d seeds listed; want 1 group of 2", groups, seeds)
	}
	click(t, ctx, `#sweep-groups .seed[data-seed="3"]`)
	waitFor(t, ctx, `document.querySelectorAll("#violations .v").length > 0`)
	sh.take(ctx, "seed-3-violation")
	if v := text(t, ctx, "#violations"); !strings.Contains(v, "violated") {
		t.Fatalf("violation shown: %q", v)
	}
	click(t, ctx, "#back-to-sweep")
	waitFor(t, ctx, `!document.getElementById("sweep").hidden && document.querySelectorAll("#sweep-groups .group").length == 1`)
}

// TestBrowserHunt runs hunt from the page, with its progress, and opens
// the counterexample it found at its violation.
func TestBrowserHunt(t *testing.T) {
	ctx := browse(t)
	sh := newShots(t)
	c, _ := newTestServer(t, Options{})
	do(t, ctx, "open the page", chromedp.Navigate(c.srv.URL+"/"))
	waitFor(t, ctx, `document.getElementById("job-start")`)
	js[bool](t, ctx, `(document.getElementById("job-variant").value = "accept-second-preprepare", document.getElementById("job-budget").value = "120s", true)`)
	click(t, ctx, "#job-start")
	waitFor(t, ctx, `!document.getElementById("job-open").hidden`)
	sh.take(ctx, "hunt-found")
	if s := text(t, ctx, "#job-status"); !strings.Contains(s, "violated") {
		t.Fatalf("job status %q", s)
	}
	click(t, ctx, "#job-open")
	waitFor(t, ctx, `document.querySelectorAll("#violations .v").length > 0`)
	sh.take(ctx, "counterexample-at-violation")
	if n := js[int](t, ctx, `document.querySelectorAll("#diagram .violation").length`); n == 0 {
		t.Fatal("the violation is not marked in the diagram")
	}
}

// writeSweep writes a sweep file of the built-in beyond-f with two failing
// seeds of one signature and a passing one.
func writeSweep(t *testing.T, path string) {
	t.Helper()
	lines := []string{
		`{"kind":"header","format":"pbftsim-sweep/1","version":"t","scenario":"beyond-f","scenario_sha256":"x","seeds":{"from":1,"to":3},"shard":{"index":0,"count":1},"slicing":"mod"}`,
		`{"seed":1,"trace_hash":"a","verdict":"agreement","detail":"agreement violated (view 0, seq 1, nodes [2 3]): r2 decided d=ab12 r3 decided d=cd34","completed":false,"committed":0,"messages":1,"dropped":0,"latency_p50_ns":0,"latency_p99_ns":0,"view_changes":0,"final_view":0,"events":1,"sim_time_ns":1}`,
		`{"seed":2,"trace_hash":"b","verdict":"ok","completed":true,"committed":1,"messages":1,"dropped":0,"latency_p50_ns":0,"latency_p99_ns":0,"view_changes":0,"final_view":0,"events":1,"sim_time_ns":1}`,
		`{"seed":3,"trace_hash":"c","verdict":"agreement","detail":"agreement violated (view 0, seq 2, nodes [2 3]): r2 decided d=ef56 r3 decided d=ab78","completed":false,"committed":0,"messages":1,"dropped":0,"latency_p50_ns":0,"latency_p99_ns":0,"view_changes":0,"final_view":0,"events":1,"sim_time_ns":1}`,
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
