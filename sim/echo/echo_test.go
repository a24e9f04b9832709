package echo_test

import (
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/echo"
)

type events struct{ pongs []*echo.PongEvent }

func (e *events) Record(r *sim.Record) {
	if r.Kind == sim.RecEvent {
		e.pongs = append(e.pongs, r.Event.(*echo.PongEvent))
	}
}

func TestPingPong(t *testing.T) {
	tests := []struct {
		name   string
		peers  int
		rounds int
		delay  time.Duration
	}{
		{"one peer", 1, 10, time.Millisecond},
		{"three peers", 3, 7, 5 * time.Millisecond},
		{"zero rounds", 2, 0, time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			peers := make([]sim.NodeID, tc.peers)
			nodes := []sim.Node{nil}
			for i := range peers {
				peers[i] = sim.NodeID(i + 1)
				nodes = append(nodes, echo.NewPonger(peers[i]))
			}
			p := echo.NewPinger(0, peers, 20*time.Millisecond, tc.rounds)
			nodes[0] = p
			ev := &events{}
			k, err := sim.New(sim.Config{Nodes: nodes, Sinks: []sim.Sink{ev},
				Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: sim.Delay{Kind: sim.DelayConst, Min: tc.delay}}}})
			if err != nil {
				t.Fatal(err)
			}
			st := k.Run()
			want := tc.peers * tc.rounds
			if p.Sent() != want || p.Received() != want || len(ev.pongs) != want || p.Rounds() != tc.rounds {
				t.Fatalf("sent %d received %d events %d rounds %d, want %d, %d, %d, %d",
					p.Sent(), p.Received(), len(ev.pongs), p.Rounds(), want, want, want, tc.rounds)
			}
			if st.SentByType[echo.TypePing].Messages != uint64(want) || st.SentByType[echo.TypePong].Messages != uint64(want) {
				t.Errorf("PING/PONG counters %+v %+v, want %d each", st.SentByType[echo.TypePing], st.SentByType[echo.TypePong], want)
			}
			for _, e := range ev.pongs {
				if e.RTT != 2*tc.delay {
					t.Fatalf("RTT %v, want %v", e.RTT, 2*tc.delay)
				}
			}
			for i := range peers {
				if got := k.Node(peers[i]).(*echo.Ponger).Received(); got != tc.rounds {
					t.Errorf("ponger %d received %d, want %d", peers[i], got, tc.rounds)
				}
			}
		})
	}
}

func TestTypeNames(t *testing.T) {
	if echo.TypePing.String() != "PING" || echo.TypePong.String() != "PONG" {
		t.Errorf("types %q %q", echo.TypePing, echo.TypePong)
	}
}
