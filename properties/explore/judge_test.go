package explore

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/sim"

	"github.com/pbftsim/pbftsim/sim/cluster"
	engine "github.com/pbftsim/pbftsim/sim/explore"
)

// crossJudge replaces newJudge with judges that judge every state both
// incrementally and by check (the whole path's records on a reset
// checker), keeping the first disagreement; restore puts newJudge back.
type crossJudge struct {
	mu     sync.Mutex
	bad    string
	judges []*incJudge
	found  []string // the properties the judges reported
	// bound, if set, is a liveness bound for the checkers (off in an
	// exploration): the judges then report no violation to the search,
	// so that it goes on through states whose verdicts Finish decides.
	bound time.Duration
}

func (x *crossJudge) install() (restore func()) {
	old := newJudge
	newJudge = func(opts properties.Options) engine.Judge {
		if x.bound > 0 {
			opts.LivenessBound = x.bound
		}
		j, full := newIncJudgeWith(opts), checkWith(opts)
		x.mu.Lock()
		x.judges = append(x.judges, j)
		x.mu.Unlock()
		var buf []engine.Record
		return func(w *engine.World, t engine.Trace) (string, string) {
			p, d := j.judge(w, t)
			buf = t.Records(buf)
			fp, fd := full(w, buf)
			// The checker's faulty replicas are check's: the configured
			// ones and those crashed on the path.
			var crashed []sim.NodeID
			for _, r := range buf {
				if r.Kind == sim.RecCrash {
					crashed = append(crashed, r.From)
				}
			}
			if want := faultyWith(opts.Faulty, crashed); !slices.Equal(j.faulty, want) && len(j.faulty)+len(want) > 0 {
				x.mu.Lock()
				if x.bad == "" {
					x.bad = fmt.Sprintf("a state %d transitions deep: the checker's faulty replicas are %v, want %v", w.Depth, j.faulty, want)
				}
				x.mu.Unlock()
			}
			if p != fp || d != fd || p != "" {
				x.mu.Lock()
				if x.bad == "" && (p != fp || d != fd) {
					x.bad = fmt.Sprintf("a state %d transitions deep: incrementally %q (%s), by the whole path %q (%s)", w.Depth, p, d, fp, fd)
				}
				x.found = append(x.found, p)
				x.mu.Unlock()
			}
			if x.bound > 0 {
				return "", "" // keep exploring: the liveness bound is the test's
			}
			return p, d
		}
	}
	return func() { newJudge = old }
}

// counts returns the incremental and the whole-path judgements.
func (x *crossJudge) counts() (incs, fulls int) {
	for _, j := range x.judges {
		incs += j.incs
		fulls += j.fulls
	}
	return incs, fulls
}

// judgeConfigs are the spaces TestIncrementalJudgeSame explores: the
// one-pass depth-first search (timed and asynchronous timers, symmetry,
// crashes, duplicates, broken variants that it finds, 1 and 2 workers) and
// iterative deepening, at small bounds.
func judgeConfigs() []Config {
	equiv := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	onePass := func(c Config) Config {
		c.Nodes, c.Requests, c.DFS, c.TimerLimit = 4, 1, true, true
		return c
	}
	cs := []Config{
		onePass(Config{Drops: 1, Views: 1, Timers: 1, Inert: true, Byzantine: equiv, Symmetry: true, MaxStates: 8_000}),
		onePass(Config{Drops: 1, Views: 1, Timers: 1, Inert: true, Byzantine: equiv, Symmetry: true, AsyncTimers: true, MaxStates: 8_000}),
		onePass(Config{Crashes: 1, Views: 1, Timers: 1, MaxStates: 5_000}),
		onePass(Config{Crashes: 1, Duplicates: 1, Views: 1, Timers: 1, AsyncTimers: true, Inert: true, MaxStates: 5_000}),
		{Nodes: 4, Requests: 1, Drops: 1, Views: 1, Depth: 5, DFS: true, MaxStates: 5_000},
		{Nodes: 4, Requests: 1, Crashes: 1, Views: 1, Depth: 4, DFS: true, AsyncTimers: true, MaxStates: 5_000},
	}
	// Found after 3 to 61 states.
	variants := []string{"commit-quorum-2f", "execute-on-prepared", "no-timestamp-check", "prepare-2f-minus-1"}
	if testing.Short() {
		// no-timestamp-check's counterexample is shortened breadth-first
		// over many states: not under -race -short.
		variants = variants[:2]
	}
	if testing.Short() {
		// Under -race -short (make test) a quarter of the states: every
		// state is judged twice.
		cs = cs[:3]
		for i := range cs {
			cs[i].MaxStates /= 4
		}
	}
	for _, v := range variants {
		// Two workers too: a violation found is repeated on one.
		c := onePass(Config{Drops: 1, Crashes: 1, Views: 1, Timers: 1, Variant: v, MaxStates: 5_000})
		cs = append(cs, c)
		c.Workers = 2
		cs = append(cs, c)
	}
	return cs
}

// TestIncrementalJudgeSame: the incremental judge of the depth-first
// searches gives check's verdict on every judged state of many spaces
// (each state is judged both ways), and Explore's result (verdict, detail,
// counterexample, counters) is the one it gives with check alone. Both
// kinds of judgement must occur, and some violations must be found.
func TestIncrementalJudgeSame(t *testing.T) {
	var x crossJudge
	totalInc, totalFull, found := 0, 0, 0
	for _, c := range judgeConfigs() {
		name := fmt.Sprintf("drops=%d dups=%d crashes=%d timers=%d depth=%d async=%v symmetry=%v variant=%q workers=%d",
			c.Drops, c.Duplicates, c.Crashes, c.Timers, c.Depth, c.AsyncTimers, c.Symmetry, c.Variant, c.Workers)
		x.judges, x.found = nil, nil
		restore := x.install()
		inc, err := Explore(c)
		restore()
		if err != nil {
			t.Fatal(err)
		}
		if x.bad != "" {
			t.Fatalf("%s: %s", name, x.bad)
		}
		i, f := x.counts()
		totalInc, totalFull = totalInc+i, totalFull+f
		old := newJudge
		newJudge = func(properties.Options) engine.Judge { return nil }
		full, err := Explore(c)
		newJudge = old
		if err != nil {
			t.Fatal(err)
		}
		sum := func(r *Result) string {
			s := fmt.Sprintf("found %q %q path %v", r.Property, r.Detail, r.Path)
			if c.Workers <= 1 || r.Found() {
				s += fmt.Sprintf(" complete %v states %d transitions %d revisits %d pruned %d", r.Complete, r.States, r.Transitions, r.Revisits, r.Pruned)
			}
			return s
		}
		if a, b := sum(inc), sum(full); a != b {
			t.Fatalf("%s:\nincremental judge: %s\ncheck:             %s", name, a, b)
		}
		if inc.Found() {
			found++
		}
		t.Logf("%s: %d states, found %q; judged %d incrementally, %d by the whole path", name, inc.States, inc.Property, i, f)
		if c.DFS && c.Depth == 0 && i == 0 {
			t.Errorf("%s: no state judged incrementally", name)
		}
	}
	if totalInc == 0 || totalFull == 0 || found == 0 {
		t.Fatalf("judged %d incrementally, %d by the whole path, %d violations found: want all three", totalInc, totalFull, found)
	}
}

// TestIncrementalJudgePDFS: the one-pass depth-first search on 2 workers
// (with steals, after which a worker's first state is judged by the whole
// path) reaches the one-worker search's states and counters with every
// state judged both ways, agreeing.
func TestIncrementalJudgePDFS(t *testing.T) {
	equiv := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	var x crossJudge
	restore := x.install()
	defer restore()
	c := Config{Nodes: 4, Requests: 1, Byzantine: equiv, Views: 1, Timers: 1, Inert: true}
	counters := func(r *engine.Result) string {
		return fmt.Sprintf("complete %v, found %q, %d states, %d transitions, %d revisits, %d pruned", r.Complete, r.Property, r.States, r.Transitions, r.Revisits, r.Pruned)
	}
	var want string
	for _, workers := range []int{1, 2} {
		r, err := prunedOnePass(c, 4, workers)
		if err != nil {
			t.Fatal(err)
		}
		if x.bad != "" {
			t.Fatalf("%d workers: %s", workers, x.bad)
		}
		if workers == 1 {
			want = counters(r)
			if !r.Complete || r.States < 200 {
				t.Fatalf("one worker: %s: want complete, at least 200 states", want)
			}
		} else if got := counters(r); got != want {
			t.Fatalf("2 workers: %s\none worker: %s", got, want)
		}
	}
	if incs, fulls := x.counts(); incs == 0 || fulls == 0 {
		t.Fatalf("judged %d incrementally, %d by the whole path: want both", incs, fulls)
	}
}

// TestIncrementalJudgeFinishVerdicts: with a liveness bound of 300 ms
// (the explorer sets none) Finish decides the verdicts: a request pending
// longer than the bound at a state's last record breaks liveness there,
// so that along a path the verdict turns from none to a violation as time
// passes, and the incremental judge must restore what each Finish changed
// (its end time, its done mark) to agree with check on every state. The
// search goes on past violations (the judges report none to it).
func TestIncrementalJudgeFinishVerdicts(t *testing.T) {
	x := crossJudge{bound: 300 * time.Millisecond}
	restore := x.install()
	defer restore()
	equiv := []cluster.ByzantineSpec{{Replica: 0, Strategy: "equivocate"}}
	for _, c := range []Config{
		{Nodes: 4, Requests: 1, Drops: 1, Views: 1, TimerLimit: true, Timers: 2, DFS: true, Byzantine: equiv, Inert: true, Symmetry: true, MaxStates: 6_000},
		{Nodes: 4, Requests: 1, Drops: 1, Crashes: 1, Views: 1, TimerLimit: true, Timers: 2, DFS: true, AsyncTimers: true, MaxStates: 6_000},
		// A recovered replica that forgot what it signed signs again: its
		// conflicting votes accuse it unless its crash made it faulty.
		{Nodes: 4, Requests: 1, Crashes: 1, Views: 1, TimerLimit: true, Timers: 1, DFS: true, Variant: "recovery-forgets-signed", MaxStates: 20_000},
	} {
		if _, err := Explore(c); err != nil {
			t.Fatal(err)
		}
		if x.bad != "" {
			t.Fatalf("async=%v: %s", c.AsyncTimers, x.bad)
		}
	}
	incs, fulls := x.counts()
	violated := 0
	for _, p := range x.found {
		if p == properties.Liveness {
			violated++
		}
	}
	t.Logf("judged %d incrementally, %d by the whole path; %d judgements break liveness", incs, fulls, violated)
	if incs == 0 || violated == 0 || len(x.found) == incs+fulls {
		t.Fatalf("judged %d incrementally, %d of %d states with a violation (%d liveness): want some incrementally, some states with and some without", incs, len(x.found), incs+fulls, violated)
	}
}
