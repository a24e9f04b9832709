package properties

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"

	"github.com/pbftsim/pbftsim/internal/pipeline"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// TestPipelinedCheckerSameVerdict runs checked, traced runs with the
// checker on its own goroutine (RunOptions.Pipeline) and the trace written
// in the background, and without: the outcome (violations, accusations,
// judgements, trace hash) and the trace's bytes are the same. Under -race
// (GOMAXPROCS >= 2) it is the check that the checker shares nothing with the
// run but what is safe to share: the replicas' ledger cache (SetConcurrent)
// and immutable messages and events. The runs cover PBFT, HotStuff,
// Byzantine replicas, a wiped replica and broken variants.
func TestPipelinedCheckerSameVerdict(t *testing.T) {
	if n := runtime.GOMAXPROCS(0); n < 2 {
		runtime.GOMAXPROCS(2)
		defer runtime.GOMAXPROCS(n)
	}
	var cases []scenarios.Scenario
	for _, name := range []string{"fault-free", "equivocating-primary", "wiped-replica-catches-up", "hotstuff-equivocating-leader", "lossy-wan"} {
		sc, err := scenarios.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, *sc)
	}
	// Many batches: the checker's reference ledger and the replicas'
	// share the ledger cache while both run.
	long, err := scenarios.Builtin("fault-free")
	if err != nil {
		t.Fatal(err)
	}
	long.Name, long.Workload.Requests, long.Workload.Payments, long.Run.MaxTime = "fault-free-3000", 3000, 64, 0
	cases = append(cases, *long)
	for _, v := range []string{"commit-quorum-2f", "execute-on-prepared", "no-persist-signed"} {
		sc := Targeted(v)[0]
		sc.Protocol.Variant = v
		cases = append(cases, sc)
	}
	for _, sc := range cases {
		if sc.Seed == 0 {
			sc.Seed = 1
		}
		name := sc.Name + "/" + sc.Protocol.Variant
		run := func(pipelined bool) (string, []byte) {
			var buf bytes.Buffer
			var w interface {
				Write([]byte) (int, error)
			} = &buf
			var pw *pipeline.Writer
			if pipelined {
				pw = pipeline.NewWriter(&buf, 0)
				w = pw
			}
			bs := sim.NewBinarySink(w)
			o, err := RunScenario(sc, RunOptions{Liveness: true, Pipeline: pipelined, Sinks: []sim.Sink{bs}})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if err := bs.Flush(); err != nil {
				t.Fatal(err)
			}
			if pw != nil {
				if err := pw.Close(); err != nil {
					t.Fatal(err)
				}
			}
			return fmt.Sprintf("%s\n%v\n%+v\n%+v\n%v", o.Summary(), o.Verdict(), o.Violations, o.Judgements, o.Result.WithinFaultModel), buf.Bytes()
		}
		on, traceOn := run(true)
		off, traceOff := run(false)
		if on != off {
			t.Errorf("%s: the outcome differs with the pipeline:\n%s\nwithout:\n%s", name, on, off)
		}
		if !bytes.Equal(traceOn, traceOff) {
			t.Errorf("%s: the trace differs with the pipeline (%d bytes, %d without)", name, len(traceOn), len(traceOff))
		}
		t.Logf("%s: %s", name, firstLine(off))
	}
}

func firstLine(s string) string {
	if i := bytes.IndexByte([]byte(s), '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// TestPipelinedCheckerSharesLedger: with the checker on its own goroutine
// its reference ledger still shares the replicas' trie (no second copy of
// the payments), also in a batched run, where 2,048 records are thousands
// of operations: the checker must not lag the replicas by more versions
// than their cache keeps (pipeline.Sink.Weigh). It fails when batches are
// handed over by records alone.
func TestPipelinedCheckerSharesLedger(t *testing.T) {
	for _, c := range []struct{ batch, clients int }{{1, 4}, {16, 32}} {
		cfg := scaleConfig(6000, 0)
		cfg.Batch, cfg.Clients = c.batch, c.clients
		cfg = cfg.WithDefaults()
		chk, pipe := attachPipelined(&cfg, RunOptions{Liveness: true})
		cl, err := cluster.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cl.Run()
		pipe.Close()
		if !cl.Result().Completed {
			t.Fatalf("batch %d: the run did not complete", c.batch)
		}
		for i := 0; i < cfg.N; i++ {
			if !chk.ref.Shares(cl.Ledger(i)) {
				t.Errorf("batch %d, %d clients: the checker's reference ledger does not share replica %d's trie", c.batch, c.clients, i)
			}
		}
	}
}
