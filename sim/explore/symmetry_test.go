package explore

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/echo"
)

// echo2 is one pinger (node 0) pinging two pongers (1 and 2) once; with sym
// the pongers are interchangeable (the pinger's peers are a set).
func echo2(sym bool, pinger func() sim.Node) *Model {
	m := &Model{
		New: func() ([]sim.Node, error) {
			return []sim.Node{pinger(), echo.NewPonger(1), echo.NewPonger(2)}, nil
		},
	}
	if sym {
		m.Symmetry = &Symmetry{Perms: [][]sim.NodeID{{0, 2, 1}}, Sets: map[string]bool{"Pinger.peers": true}}
	}
	return m
}

func newPinger() sim.Node { return echo.NewPinger(0, []sim.NodeID{1, 2}, time.Millisecond, 1) }

// TestSymmetryEchoHandCounted: each ponger's exchange is in one of 3
// states (PING in flight, PONG in flight, done), or with a drop 5 (PING
// lost, PONG lost), at most one lost: 3x3 = 9 worlds, and 5x5-2x2 = 21
// pairs with one drop, of which (done, PONG lost) and (PONG lost, done)
// are one world (both pongers answered, the pinger counts one pong): 20.
// Swapping the pongers identifies (a, b) with (b, a): 6 orbits (3 on the
// diagonal, 6/2 off it), and 12 with one drop (3 + 18/2).
func TestSymmetryEchoHandCounted(t *testing.T) {
	for _, tc := range []struct {
		name       string
		b          Bounds
		plain, sym int
	}{
		{"fault-free", Bounds{}, 9, 6},
		{"drops=1", Bounds{Drops: 1}, 20, 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, dfs := range []bool{false, true} {
				for _, sym := range []bool{false, true} {
					res, err := Run(echo2(sym, newPinger), Options{Bounds: tc.b, DFS: dfs})
					if err != nil {
						t.Fatal(err)
					}
					want := tc.plain
					if sym {
						want = tc.sym
						if len(res.Symmetry) != 2 {
							t.Errorf("group %v, want the identity and the swap", res.Symmetry)
						}
					}
					if !res.Complete || res.States != want {
						t.Errorf("dfs %v, symmetry %v: complete %v, %d states, want %d", dfs, sym, res.Complete, res.States, want)
					}
				}
			}
		})
	}
}

// TestSymmetryDropsBrokenPerms: with the peers an ordered list (not
// declared a set) the swap does not fix the initial world, so it is
// dropped and nothing is identified.
func TestSymmetryDropsBrokenPerms(t *testing.T) {
	m := echo2(true, newPinger)
	m.Symmetry.Sets = nil
	res, err := Run(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Symmetry) != 1 || res.States != 9 {
		t.Fatalf("group %v, %d states; want the identity only and 9 states", res.Symmetry, res.States)
	}
}

// firstPinger remembers which ponger answered first, as a plain int: a
// field holding an id that renaming does not see.
type firstPinger struct {
	P     *echo.Pinger
	First int
}

func (p *firstPinger) Start(now sim.Time, out *sim.Output) { p.P.Start(now, out) }
func (p *firstPinger) Step(now sim.Time, in sim.Input, out *sim.Output) {
	if _, ok := in.Msg.(*echo.Pong); ok && p.First == 0 {
		p.First = int(in.From)
	}
	p.P.Step(now, in, out)
}

// TestVerifySymmetry: the echo nodes are equivariant; a node with an id in
// a plain int is not, and the side-by-side check says so (while the
// initial world, where the field is 0, does not show it).
func TestVerifySymmetry(t *testing.T) {
	if err := VerifySymmetry(echo2(true, newPinger), Bounds{Drops: 1, Duplicates: 1}, 50, 6, 1); err != nil {
		t.Fatal(err)
	}
	bad := echo2(true, func() sim.Node { return &firstPinger{P: newPinger().(*echo.Pinger)} })
	err := VerifySymmetry(bad, Bounds{Drops: 1}, 50, 6, 1)
	if err == nil || !strings.Contains(err.Error(), "differs") {
		t.Fatalf("VerifySymmetry on a node that keeps an id in an int: %v, want a difference", err)
	}
	// And the reduced exploration of it identifies worlds it must not:
	// its state count is not that of the plain one divided by the orbits.
	plain, _ := Run(echo2(false, func() sim.Node { return &firstPinger{P: newPinger().(*echo.Pinger)} }), Options{})
	red, _ := Run(bad, Options{})
	t.Logf("non-equivariant node: %d states plain, %d with the (wrong) symmetry", plain.States, red.States)
}

// TestSymmetryNotWithSleep: sleep sets and DPOR are refused.
func TestSymmetryNotWithSleep(t *testing.T) {
	for _, o := range []Options{{Sleep: true}, {DPOR: true, Bounds: Bounds{Depth: 3}}} {
		if _, err := Run(echo2(true, newPinger), o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

// BenchmarkSymmetryKey measures the canonical hash of a world (the renamed
// hashes of every node under every permutation, then the key) against
// the plain hash.
func BenchmarkSymmetryKey(b *testing.B) {
	m := echo2(true, newPinger)
	e := NewEngine(m)
	w, _, err := e.Initial()
	if err != nil {
		b.Fatal(err)
	}
	s := e.symHasher(w.sg)
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			for i := range w.Nodes {
				w.nh[i] = e.cp.Hash(w.Nodes[i])
			}
			_ = w.Hash()
		}
	})
	b.Run("canonical", func(b *testing.B) {
		for b.Loop() {
			for i := range w.Nodes {
				s.nodes(w, i)
			}
			s.key(w)
		}
	})
}

// TestTimerOrderHashed: the state hash, plain and canonical under
// symmetry, holds the pending timers in firing order (deadline, then
// arming order), whatever their order in World.Timers; with asynchronous
// timers it holds them as a set, so the deadlines do not count.
func TestTimerOrderHashed(t *testing.T) {
	a := Timer{Node: 1, ID: 7, At: 5 * Unit, Seq: 1}
	b := Timer{Node: 2, ID: 9, At: 6 * Unit, Seq: 2}
	late := a
	late.At = 7 * Unit // fires after b
	tie := a
	tie.At, tie.Seq = b.At, 3 // same deadline as b, armed after it
	for _, tc := range []struct {
		name  string
		other []Timer
		same  [2]bool // same hash as {a, b}: timed, async
	}{
		{"listed in the other order", []Timer{b, a}, [2]bool{true, true}},
		{"a fires after b", []Timer{late, b}, [2]bool{false, true}},
		{"a ties with b, armed after it", []Timer{tie, b}, [2]bool{false, true}},
	} {
		for i, async := range []bool{false, true} {
			for _, sym := range []bool{false, true} {
				e := NewEngine(echo2(sym, newPinger))
				w0, _, err := e.Initial()
				if err != nil {
					t.Fatal(err)
				}
				hash := func(ts []Timer) uint64 {
					w := *w0
					w.Timers, w.async, w.snh = ts, async, slices.Clone(w0.snh)
					if sym {
						e.symHasher(w.sg).key(&w)
					}
					return w.Hash()
				}
				if same := hash([]Timer{a, b}) == hash(tc.other); same != tc.same[i] {
					t.Errorf("%s (async %v, symmetry %v): same hash %v, want %v", tc.name, async, sym, same, tc.same[i])
				}
			}
		}
	}
}

// symKeyDiff walks random paths over the symmetric echo2 with drops,
// duplicates and a crash, and returns the first world whose canonical hash
// (key: the in-flight messages' terms of every permutation from one cache
// look-up) is not the least of its renamed hashes computed one permutation
// at a time (world), and how many worlds were compared.
func symKeyDiff(t *testing.T) (string, int) {
	t.Helper()
	m := echo2(true, newPinger)
	m.Crashable = []sim.NodeID{1}
	e := NewEngine(m)
	w0, _, err := e.Initial()
	if err != nil {
		t.Fatal(err)
	}
	diff, n := "", 0
	walkChoices(e, w0, Bounds{Drops: 1, Duplicates: 2, Crashes: 1}, 60, func(walk, step int, _ *World, _ []Choice, c Choice, next *World, _ string) {
		s := e.symHasher(next.sg)
		s.sortTimers(next)
		want := s.world(next, 0)
		for k := 1; k < len(s.g.perms); k++ {
			want = min(want, s.world(next, k))
		}
		if got := next.Hash(); got != want && diff == "" {
			diff = fmt.Sprintf("walk %d step %d (%v): key %x, least renamed hash %x", walk, step, c.Kind, got, want)
		}
		n++
	})
	return diff, n
}

// TestSymmetryKeySameAsWorld: the canonical hash that Apply sets equals the
// least renamed hash computed permutation by permutation, on every world
// of random walks (Apply updates the flight's terms by the messages that
// changed: keyFrom); a term cache whose key leaves out whether a message
// was duplicated, and a keyFrom that misses a duplication (the broken
// variants) are caught.
func TestSymmetryKeySameAsWorld(t *testing.T) {
	diff, n := symKeyDiff(t)
	if diff != "" {
		t.Fatal(diff)
	}
	if n < 100 {
		t.Fatalf("%d worlds compared: the walks are too short to show anything", n)
	}
	brokenFlightKey = true
	defer func() { brokenFlightKey = false }()
	if diff, _ := symKeyDiff(t); diff == "" {
		t.Error("a term cache keyed without the duplicated bit gives the same hashes: the comparison cannot fail")
	}
	brokenFlightKey, brokenKeyFrom = false, true
	defer func() { brokenKeyFrom = false }()
	if diff, _ := symKeyDiff(t); diff == "" {
		t.Error("keyFrom missing a duplicated message gives the same hashes: the comparison cannot fail")
	}
}
