package spacetime

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/cluster"
)

// realTrace runs a small lossy PBFT cluster whose primary crashes, and
// returns its JSON Lines trace as written by sim.NewJSONLSink.
func realTrace(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	sink := sim.NewJSONLSink(&buf)
	cfg := cluster.Config{
		Seed:     7,
		N:        4,
		Requests: 12,
		Network: sim.NetworkConfig{Default: sim.LinkConfig{
			Delay: sim.Delay{Kind: sim.DelayUniform, Min: time.Millisecond, Max: 4 * time.Millisecond},
			Drop:  0.05,
		}},
		Crashes: []sim.Crash{{Node: 0, At: sim.Time(40 * time.Millisecond)}},
		MaxTime: sim.Time(5 * time.Second),
		Sinks:   []sim.Sink{sink},
	}
	if _, err := cluster.Run(cfg); err != nil {
		t.Fatalf("cluster.Run: %v", err)
	}
	if err := sink.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRealRunTrace renders the trace of a real run: one arrow per network
// send, a cross per drop, and exports that validate.
func TestRealRunTrace(t *testing.T) {
	data := realTrace(t)
	sends := bytes.Count(data, []byte(`"kind":"send"`))
	drops := bytes.Count(data, []byte(`"kind":"drop"`))
	if sends == 0 || drops == 0 {
		t.Fatalf("trace has %d sends and %d drops; the scenario should have both", sends, drops)
	}
	d, p, s := renderAll(t, data, Options{MaxArrows: sends})
	st := d.Stats()
	if st.Arrows != sends || st.Dropped != drops || st.Capped || st.Replicas != 4 || st.Lanes < 5 {
		t.Errorf("stats %+v; want %d arrows, %d dropped, 4 replicas, clients after", st, sends, drops)
	}
	svg := svgOf(t, d)
	if n := strings.Count(svg, `<g class="msg`); n != sends {
		t.Errorf("%d arrows in the SVG, want %d", n, sends)
	}
	if n := strings.Count(svg, `<g class="mark ev-crash"`); n != 1 {
		t.Errorf("%d crash marks, want 1", n)
	}
	_, flows, _ := validatePerfetto(t, p)
	delivered := bytes.Count(data, []byte(`"kind":"deliver"`))
	if flows != delivered {
		t.Errorf("%d flows, want one per delivery (%d)", flows, delivered)
	}
	checkShiViz(t, s)
}
