package sweep

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pbftsim/pbftsim/internal/outfile"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
)

// SwarmScenario is the scenario name in the header of a swarm sweep.
const SwarmScenario = "swarm"

// DefaultScenario is the built-in scenario a sweep runs when none is named.
const DefaultScenario = "adversarial"

// Options configures a sweep.
type Options struct {
	// Scenario is run once per seed (its own seed is ignored).
	Scenario *scenarios.Scenario
	// ScenarioArg is how the scenario was named (a built-in name or a
	// path): it goes into the header and into replay commands.
	ScenarioArg string
	Seeds       Range
	// Shard selects a slice of Seeds; the zero value is the whole range.
	Shard Shard
	// Workers is the number of simulations run at once (0: GOMAXPROCS).
	// It never changes the output.
	Workers int
	// Version is the pbftsim version recorded in the header.
	Version string
	// Resume continues an interrupted RunFile from the complete records of
	// its partial file.
	Resume bool
	// Progress, if set, is called after each record is written, from the
	// goroutine that called Run.
	Progress func(Progress)
	// Swarm runs, for each seed, the swarm case of that seed
	// (properties.SwarmCase) instead of Scenario, and records its knobs.
	Swarm bool
}

// Progress is the state of a running sweep.
type Progress struct {
	Done, Total uint64
	Failures    uint64
	Elapsed     time.Duration // wall clock since the sweep started
}

// Rate returns seeds per wall-clock second.
func (p Progress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Done) / p.Elapsed.Seconds()
}

// ErrInterrupted is returned (wrapped) when the context ended a sweep
// before every seed ran; the records written are complete.
var ErrInterrupted = errors.New("sweep interrupted")

// ScenarioHash returns the SHA-256 (hex) of sc's YAML form with its seed
// cleared: the identity of a sweep's scenario.
func ScenarioHash(sc *scenarios.Scenario) (string, error) {
	c := *sc
	c.Seed = 0
	y, err := c.Marshal()
	if err != nil {
		return "", fmt.Errorf("encoding scenario %q: %w", sc.Name, err)
	}
	sum := sha256.Sum256(y)
	return hex.EncodeToString(sum[:]), nil
}

// header checks o and returns the header of its file.
func (o *Options) header() (Header, error) {
	if o.Swarm {
		sc := properties.SwarmCase(o.Seeds.From)
		o.Scenario, o.ScenarioArg = &sc, SwarmScenario
	}
	if o.Scenario == nil {
		return Header{}, errors.New("sweep: no scenario")
	}
	sh := o.Shard.norm()
	if err := sh.Validate(); err != nil {
		return Header{}, fmt.Errorf("--shard: %w", err)
	}
	if o.Workers < 0 {
		return Header{}, fmt.Errorf("--workers %d is out of range: want at least 1 (0: one per CPU)", o.Workers)
	}
	if o.Seeds.From > o.Seeds.To {
		return Header{}, fmt.Errorf("--seeds %s: want A <= B", o.Seeds)
	}
	// Bad scenarios fail here, once, rather than once per seed.
	sc := *o.Scenario
	sc.Seed = o.Seeds.From
	// The one check of pbftsim validate and run (Scenario.Check).
	if _, err := sc.Check(); err != nil {
		return Header{}, err
	}
	hash, err := ScenarioHash(o.Scenario)
	if err != nil {
		return Header{}, err
	}
	if o.Swarm {
		sum := sha256.Sum256([]byte(properties.SwarmVersion))
		hash = hex.EncodeToString(sum[:])
	}
	arg := o.ScenarioArg
	if arg == "" {
		arg = o.Scenario.Name
	}
	return Header{Kind: "header", Format: Format, Version: o.Version, Scenario: arg,
		ScenarioSHA256: hash, Seeds: o.Seeds, Shard: sh, Slicing: Slicing, Swarm: o.Swarm}, nil
}

// GOGC is the garbage collector percentage `pbftsim sweep` runs with unless
// the GOGC environment variable is set. A sweep's live heap is a few
// megabytes per worker (one run each) while it allocates hundreds of
// megabytes a second, and with two workers the collector's marking and
// write barriers compete with both for the cores: at 1600 two workers ran
// 1.7-2.1x one worker's seeds/s (at 400: 1.5-1.8x) and 10-25% more seeds/s;
// `pbftsim sweep` then peaks at ~80 MB resident with one worker and ~130 MB
// with two (at 400: ~45 MB with two).
const GOGC = 1600

// runSeed runs sc with seed under every safety checker and the liveness
// checker (when the scenario is within the fault model) and summarises it,
// reusing chk (when not nil) as the run's checker. The run is not stopped
// at the first violation, so its trace hash is the one
// `pbftsim run --scenario S --seed N` prints. stop, if set, is polled after
// every event; when it returns true the run is abandoned and ok is false. A
// panic in the simulation is reported as the verdict "panic". A nil sc is
// the seed's swarm case.
func runSeed(sc *scenarios.Scenario, seed uint64, stop func() bool, chk *properties.Checker) (rec Record, ok bool) {
	rec = Record{Seed: seed}
	var knobs map[string]string
	if sc == nil {
		swarm := properties.SwarmCase(seed)
		sc, knobs = &swarm, properties.ParseKnobs(swarm.Description).Map()
	}
	defer func() {
		if p := recover(); p != nil {
			rec = Record{Seed: seed, Verdict: VerdictPanic, Detail: fmt.Sprint(p)}
			ok = stop == nil || !stop()
		}
	}()
	s := *sc
	s.Seed = seed
	cfg, err := s.Config()
	if err != nil {
		return Record{Seed: seed, Verdict: VerdictError, Detail: err.Error()}, true
	}
	cfg.StopWhen = stop
	probes := properties.NewProbeCounter()
	o, err := properties.RunConfig(s, cfg, properties.RunOptions{Liveness: true, Reuse: chk, Sinks: []sim.Sink{probes}})
	if err != nil {
		return Record{Seed: seed, Verdict: VerdictError, Detail: err.Error()}, true
	}
	if stop != nil && stop() {
		return rec, false
	}
	res := o.Result
	rec = Record{
		Seed: seed, TraceHash: res.TraceHash, Verdict: VerdictOK,
		Completed: res.Completed, Committed: res.Requests.Committed,
		Messages: res.Messages.Total, Dropped: res.Messages.Dropped,
		LatencyP50Ns: res.LatencyNs.P50, LatencyP99Ns: res.LatencyNs.P99,
		ViewChanges: res.Views.Changes, FinalView: res.Views.Final,
		Events: res.Events, SimTimeNs: res.SimTimeNs, Knobs: knobs,
	}
	if len(probes.Hits) > 0 {
		rec.Probes = probes.Hits
	}
	for _, j := range o.NotJudged() {
		rec.NotJudged = append(rec.NotJudged, j.Property)
	}
	switch {
	case o.Failed():
		rec.Verdict = o.Property()
		rec.Detail = o.Violations[0].String()
		rec.OutsideFaultModel = !res.WithinFaultModel
	case o.BudgetExceeded() != "":
		rec.Verdict, rec.Detail = VerdictBudget, o.BudgetExceeded()
	}
	return rec, true
}

type result struct {
	k   uint64
	rec Record
	ok  bool
}

// Run runs the sweep described by o, writing the header, one record per
// seed in seed order and, when every seed ran, the trailer to w. Each
// record is written with one Write call as soon as the records of all the
// smaller seeds are written. When ctx ends first, Run stops the running
// simulations, writes no trailer and returns the aggregate of the records
// written with an error wrapping ErrInterrupted.
func Run(ctx context.Context, o Options, w io.Writer) (*Aggregate, error) {
	h, err := o.header()
	if err != nil {
		return nil, err
	}
	agg := NewAggregate(h)
	if _, err := w.Write(marshalLine(h)); err != nil {
		return agg, fmt.Errorf("writing the sweep header: %w", err)
	}
	return run(ctx, o, h, agg, w)
}

// run runs the seeds of the sweep after the agg.Done already written to w
// (its header included) and writes the trailer.
func run(ctx context.Context, o Options, h Header, agg *Aggregate, w io.Writer) (*Aggregate, error) {
	total := agg.Planned
	first := agg.Done
	workers := o.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = int(min(uint64(workers), max(total, 1)))

	var stopped atomic.Bool
	stop := stopped.Load
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		stopped.Store(true)
	}()

	// A worker takes a slot before it takes the next seed and the writer
	// frees it once that seed's record is written, so at most window
	// records wait for a slower smaller seed.
	window := workers * 64
	slots := make(chan struct{}, window)
	results := make(chan result, window)
	var next atomic.Uint64
	next.Store(first)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			chk := properties.New(properties.Options{}) // reused run after run
			for {
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return
				}
				k := next.Add(1) - 1
				// ctx.Err, not stopped: stopped is set by a goroutine that a
				// loaded machine may not run before many more seeds are done
				if k >= total || ctx.Err() != nil {
					return
				}
				sc := o.Scenario
				if h.Swarm {
					sc = nil // the seed's swarm case
				}
				rec, ok := runSeed(sc, h.Shard.Seed(h.Seeds, k), stop, chk)
				results <- result{k: k, rec: rec, ok: ok}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	start := time.Now() // wall clock, outside the simulations: progress only
	pending := map[uint64]Record{}
	written := first
	gap := false // a seed was abandoned: nothing after it is written
	var werr error
	for r := range results {
		if !r.ok {
			gap = true
			continue
		}
		// Once interrupted, nothing more is written (the records already
		// computed are drained, not kept: --resume computes them again, to
		// the same bytes), so an interrupt stops the file where it came.
		if gap || werr != nil || ctx.Err() != nil {
			continue
		}
		pending[r.k] = r.rec
		for ctx.Err() == nil {
			rec, ok := pending[written]
			if !ok {
				break
			}
			delete(pending, written)
			if _, err := w.Write(marshalLine(&rec)); err != nil {
				werr = fmt.Errorf("writing the record of seed %d: %w", rec.Seed, err)
				cancel()
				break
			}
			agg.Add(&rec)
			written++
			<-slots
			if o.Progress != nil {
				o.Progress(Progress{Done: written, Total: total, Failures: agg.Unexpected(), Elapsed: time.Since(start)})
			}
		}
	}
	if werr != nil {
		return agg, werr
	}
	if written < total {
		agg.Interrupted = true
		return agg, fmt.Errorf("%w after %d of %d seeds", ErrInterrupted, written, total)
	}
	if _, err := w.Write(marshalLine(agg.trailer())); err != nil {
		return agg, fmt.Errorf("writing the sweep trailer: %w", err)
	}
	return agg, nil
}

// PartialSuffix is appended to a sweep's output path while it runs.
const PartialSuffix = ".partial"

// ErrPartialExists is returned (wrapped) by RunFile when an interrupted
// sweep left path+".partial" and Options.Resume is not set: the partial
// file is never deleted silently.
var ErrPartialExists = errors.New("an interrupted sweep left a partial file")

// RunFile runs the sweep into path: it writes path+".partial" and renames
// it to path once the trailer is written and synced. When interrupted, the
// complete records stay in path+".partial" (no trailer) and path is left as
// it was; the error wraps ErrInterrupted. A write error (a full disk)
// truncates the partial file to its last complete record and says which
// seeds it holds. While it runs, the sweep holds path's lock: a second
// sweep into the same path is refused.
//
// An existing path+".partial" is continued when o.Resume is set (its
// header must be the one this sweep writes; its complete records are kept
// and the next seed runs) and otherwise refused with ErrPartialExists.
// A path that is not a regular file (a FIFO, /dev/stdout) is written
// directly, without a partial file.
func RunFile(ctx context.Context, o Options, path string) (*Aggregate, error) {
	h, err := o.header()
	if err != nil {
		return nil, err
	}
	if !outfile.IsRegularOrMissing(path) {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("cannot write the sweep output: %w", err)
		}
		defer f.Close()
		return Run(ctx, o, f)
	}
	lock, err := outfile.Acquire(path)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	tmp := path + PartialSuffix
	f, agg, err := openPartial(tmp, h, o.Resume)
	if err != nil {
		return nil, err
	}
	lw := &lineWriter{f: f}
	if lw.off, err = f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", tmp, err)
	}
	if agg.Done == 0 && lw.off == 0 {
		if _, err := lw.Write(marshalLine(h)); err != nil {
			f.Close()
			return nil, fmt.Errorf("writing the sweep header to %s: %w", tmp, err)
		}
	}
	agg, runErr := run(ctx, o, h, agg, lw)
	syncErr := f.Sync()
	closeErr := f.Close()
	if runErr != nil {
		return agg, fmt.Errorf("%w; %s holds the complete records of %s (rerun with --resume to continue)", runErr, tmp, agg.doneSeeds())
	}
	if err := errors.Join(syncErr, closeErr); err != nil {
		return agg, fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return agg, fmt.Errorf("renaming %s to %s: %w", tmp, path, err)
	}
	return agg, nil
}

// doneSeeds describes the seeds whose records are written.
func (a *Aggregate) doneSeeds() string {
	if a.Done == 0 {
		return "no seed"
	}
	h := a.Header
	return fmt.Sprintf("%d seeds (%d..%d of shard %s)", a.Done, h.Shard.Seed(h.Seeds, 0), h.Shard.Seed(h.Seeds, a.Done-1), h.Shard.norm())
}

// openPartial opens the partial file tmp for a sweep with header h: a new
// one, or with resume an existing one whose complete records (aggregated
// into the returned aggregate) are kept and anything after them (a torn
// last line) cut off.
func openPartial(tmp string, h Header, resume bool) (*os.File, *Aggregate, error) {
	agg := NewAggregate(h)
	_, statErr := os.Stat(tmp)
	switch {
	case statErr != nil && resume:
		return nil, nil, fmt.Errorf("--resume: there is no %s to continue", tmp)
	case statErr != nil:
		f, err := outfile.CreateTemp(tmp) // a fresh name beside it, renamed below
		if err != nil {
			return nil, nil, fmt.Errorf("cannot write the sweep output: %w", err)
		}
		if err := os.Rename(f.Name(), tmp); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, nil, fmt.Errorf("cannot write the sweep output: %w", err)
		}
		return f, agg, nil
	case !resume:
		return nil, nil, fmt.Errorf("%w: %s (rerun with --resume to continue from its complete records, or delete it to start over)", ErrPartialExists, tmp)
	}
	f, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("--resume: %w", err)
	}
	keep, err := completeRecords(f, h, agg)
	if err == nil {
		err = f.Truncate(keep)
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("--resume %s: %w", tmp, err)
	}
	return f, agg, nil
}

// completeRecords reads a partial sweep file: its header must be want;
// each following complete line (ending in a newline) that is the record of
// the next seed is aggregated. It returns the length of the file up to the
// last such record; what follows (a torn line) is to be dropped.
func completeRecords(f *os.File, want Header, agg *Aggregate) (int64, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	var off int64
	wantHeader := marshalLine(want)
	for n := 0; ; n++ {
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if len(line) == 0 || line[len(line)-1] != '\n' {
			break // end of file, or a torn last line
		}
		if n == 0 {
			if !bytes.Equal(line, wantHeader) {
				return 0, fmt.Errorf("its header is not the one of this sweep (other scenario, seeds, shard or version): %s", bytes.TrimSpace(line))
			}
			off += int64(len(line))
			continue
		}
		kind, _, r, _, derr := decodeLine(line)
		if derr != nil || kind != "" || agg.Done >= agg.Planned || r.Seed != want.Shard.Seed(want.Seeds, agg.Done) {
			break // not the next record: drop it and the rest
		}
		agg.Add(r)
		off += int64(len(line))
	}
	if off == 0 {
		return 0, errors.New("no sweep header")
	}
	return off, nil
}

// lineWriter writes whole lines to a file: when a write fails (a full
// disk), it cuts the file back to the end of the last complete write, so
// that the file never ends in a torn line.
type lineWriter struct {
	f   truncater
	off int64
}

// truncater is the part of *os.File a lineWriter uses.
type truncater interface {
	io.WriteSeeker
	Truncate(size int64) error
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		if terr := w.f.Truncate(w.off); terr == nil {
			_, _ = w.f.Seek(w.off, io.SeekStart)
		}
		return 0, err
	}
	w.off += int64(n)
	return n, nil
}
