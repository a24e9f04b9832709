package sim_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

func TestParseBandwidth(t *testing.T) {
	for _, c := range []struct {
		in   string
		want sim.Bandwidth
	}{
		{"100Mbit", 100e6}, {"100mbit/s", 100e6}, {"1Gbit", 1e9}, {"1.5Gbit/s", 1.5e9},
		{"500Kbit", 500e3}, {"8000bit", 8000}, {" 10 Mbit ", 10e6},
	} {
		got, err := sim.ParseBandwidth(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseBandwidth(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
		if back, err := sim.ParseBandwidth(got.String()); err != nil || back != got {
			t.Errorf("round trip of %q via %q = %v, %v", c.in, got.String(), back, err)
		}
	}
	for _, bad := range []string{"", "0Mbit", "-5Mbit", "100", "100MB", "fastMbit", "NaNMbit", "InfGbit", "0.1bit", "Mbit", "1e20Gbit"} {
		_, err := sim.ParseBandwidth(bad)
		if err == nil {
			t.Errorf("ParseBandwidth(%q) accepted", bad)
			continue
		}
		if !strings.Contains(err.Error(), "100Mbit") {
			t.Errorf("ParseBandwidth(%q) error %q does not show the allowed format", bad, err)
		}
	}
}

func TestTxTime(t *testing.T) {
	for _, c := range []struct {
		b    sim.Bandwidth
		size int
		want time.Duration
	}{
		{0, 1000, 0},
		{8e6, 1000, time.Millisecond}, // 8000 bits at 8 Mbit/s
		{100e6, 1500, 120 * time.Microsecond},
		{3, 1, 2666666667},                   // ceil(8/3 s)
		{1, 1 << 40, time.Duration(1 << 61)}, // clamped
	} {
		if got := c.b.TxTime(c.size); got != c.want {
			t.Errorf("%v.TxTime(%d) = %v, want %v", c.b, c.size, got, c.want)
		}
	}
}

// sized is a test message of a given size.
type sized struct {
	id   int
	size int
}

func (*sized) Type() sim.MsgType                 { return typeNote }
func (s *sized) Size() int                       { return s.size }
func (s *sized) AppendCanonical(b []byte) []byte { return fmt.Appendf(b, "%d/%d", s.id, s.size) }

// burst returns a Start that sends k messages of size bytes from node from
// to node to at once (ids from*1000+i, so every message is distinct).
func burst(from, to sim.NodeID, k, size int) func(sim.Time, *sim.Output) {
	return func(_ sim.Time, out *sim.Output) {
		for i := 0; i < k; i++ {
			out.Send(to, &sized{id: int(from)*1000 + i, size: size})
		}
	}
}

// TestBandwidthQueue sends k back-to-back messages of size s from node 0 at
// rate b over a link with a random delay in [lat, lat+jitter]: the i-th
// (1-based) leaves the sender exactly at i*s/b and arrives within the
// delay's range after that, so the k-th arrives at >= k*s/b + lat. Messages
// sent later queue behind earlier ones (FIFO), and two senders do not share
// a queue.
func TestBandwidthQueue(t *testing.T) {
	const k, s = 50, 12500 // 100 kbit each
	const b = sim.Bandwidth(10e6)
	tx := b.TxTime(s) // 10ms
	if tx != 10*time.Millisecond {
		t.Fatalf("TxTime = %v", tx)
	}
	lat, jitter := 5*time.Millisecond, 3*time.Millisecond
	for _, limited := range []bool{true, false} {
		sink := &collect{}
		cfg := sim.Config{Seed: 3, Sinks: []sim.Sink{sink},
			Nodes:   []sim.Node{&script{start: burst(0, 2, k, s)}, &script{start: burst(1, 2, k, s)}, &script{}},
			Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: mustDelay(t, fmt.Sprintf("uniform:%v:%v", lat, lat+jitter))}}}
		if limited {
			cfg.Network.Bandwidth = b
		}
		_, st := mustRun(t, cfg)
		// message i (1-based) of each sender waits (i-1)*tx before it starts
		wantWait, wantMax := 2*tx*k*(k-1)/2, tx*(k-1)
		if !limited {
			wantWait, wantMax = 0, 0
		}
		if st.QueueWait != wantWait || st.MaxQueueWait != wantMax {
			t.Errorf("limited=%v: queue wait %v (max %v), want %v (max %v)", limited, st.QueueWait, st.MaxQueueWait, wantWait, wantMax)
		}
		trs := sink.transits(t)
		if len(trs) != 2*k {
			t.Fatalf("%d transits, want %d", len(trs), 2*k)
		}
		var last sim.Time
		idx := map[sim.NodeID]int{}
		for _, tr := range trs {
			idx[tr.from]++
			i := idx[tr.from]
			if len(tr.delivered) != 1 {
				t.Fatalf("message %d of %d delivered %d times", i, tr.from, len(tr.delivered))
			}
			at := tr.delivered[0]
			dep := sim.Time(0)
			if limited {
				dep = sim.Time(time.Duration(i) * tx)
			}
			if at < dep+sim.Time(lat) || at > dep+sim.Time(lat+jitter) {
				t.Errorf("limited=%v: message %d of node %d arrived at %v, want in [%v, %v]", limited, i, tr.from, at, dep+sim.Time(lat), dep+sim.Time(lat+jitter))
			}
			last = max(last, at)
		}
		kth := sim.Time(time.Duration(k)*tx + lat)
		if limited && last < kth {
			t.Errorf("last arrival %v < k*s/b + latency = %v", last, kth)
		}
		if !limited && last >= kth {
			t.Errorf("unlimited: last arrival %v, want < %v (the check must tell the two apart)", last, kth)
		}
	}
}

// TestBandwidthUtilisation: with periodic sends at utilisation
// below 1 there is no queueing beyond one transmission; above 1, the queue
// grows by (tx - interval) per message. The measured mean delay matches.
func TestBandwidthUtilisation(t *testing.T) {
	const s = 1250 // 10 kbit
	const b = sim.Bandwidth(1e6)
	tx := b.TxTime(s) // 10ms
	for _, c := range []struct {
		interval time.Duration
		n        int
	}{{20 * time.Millisecond, 100}, {5 * time.Millisecond, 100}} {
		sink := &collect{}
		i := 0
		var sender *script
		sender = &script{
			start: func(_ sim.Time, out *sim.Output) { out.SetTimer(1, 0) },
			step: func(_ sim.Time, in sim.Input, out *sim.Output) {
				if in.Kind == sim.InputTimer && i < c.n {
					out.Send(1, &sized{id: i, size: s})
					i++
					out.SetTimer(1, c.interval)
				}
			},
		}
		cfg := sim.Config{Seed: 1, Sinks: []sim.Sink{sink}, Nodes: []sim.Node{sender, &script{}},
			Network: sim.NetworkConfig{Bandwidth: b, Default: sim.LinkConfig{Delay: mustDelay(t, "const:1ms")}}}
		mustRun(t, cfg)
		var sum time.Duration
		trs := sink.transits(t)
		for _, tr := range trs {
			sum += time.Duration(tr.delivered[0] - tr.sent)
		}
		mean := sum / time.Duration(len(trs))
		want := tx + time.Millisecond // no queueing
		if c.interval < tx {
			// message j waits j*(tx-interval): mean (n-1)/2*(tx-interval)
			want += time.Duration(c.n-1) * (tx - c.interval) / 2
		}
		if mean != want {
			t.Errorf("interval %v: mean delay %v, want %v", c.interval, mean, want)
		}
	}
}

func TestBandwidthValidate(t *testing.T) {
	nodes := []sim.Node{&script{}, &script{}}
	for _, nc := range []sim.NetworkConfig{
		{Bandwidth: -1},
		{NodeBandwidth: []sim.Bandwidth{1, -1}},
		{NodeBandwidth: []sim.Bandwidth{1, 1, 1}},
	} {
		if _, err := sim.New(sim.Config{Nodes: nodes, Network: nc}); err == nil {
			t.Errorf("%+v accepted", nc)
		}
	}
}

func TestSlowestRate(t *testing.T) {
	for _, c := range []struct {
		nc     sim.NetworkConfig
		n      int
		eg, in sim.Bandwidth
	}{
		{sim.NetworkConfig{}, 4, 0, 0},
		{sim.NetworkConfig{Bandwidth: 100e6}, 4, 100e6, 0},
		{sim.NetworkConfig{Bandwidth: 100e6, NodeBandwidth: []sim.Bandwidth{0, 0, 10e6}}, 4, 10e6, 0},
		{sim.NetworkConfig{Bandwidth: 100e6, NodeBandwidth: []sim.Bandwidth{0, 0, 10e6}}, 2, 100e6, 0}, // node 2 beyond n
		{sim.NetworkConfig{NodeBandwidth: []sim.Bandwidth{0, 5e6}, IngressBandwidth: 1e9, NodeIngress: []sim.Bandwidth{2e9}}, 4, 5e6, 1e9},
	} {
		if eg, in := c.nc.SlowestEgress(c.n), c.nc.SlowestIngress(c.n); eg != c.eg || in != c.in {
			t.Errorf("%+v n=%d: slowest egress %v ingress %v, want %v %v", c.nc, c.n, eg, in, c.eg, c.in)
		}
	}
}
