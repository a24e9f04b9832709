package cluster

import (
	"encoding/json"
	"maps"
	"testing"

	"github.com/pbftsim/pbftsim/sim/workload"
)

// TestPaymentStates: the compact states answer and encode as the map
// from id to state they replace (encoding/json's object, keys in order),
// for the workload's ids at widths 3 and 4, every state and one outside
// the known ones; the zero value encodes as a nil map does.
func TestPaymentStates(t *testing.T) {
	all := append(stateNames[:], "invalid")
	for _, n := range []int{0, 1, 7, 1200} {
		p := newPaymentStates(n)
		want := map[string]string{}
		for i := range n {
			s := all[(i*5)%len(all)]
			p.set(i, s)
			want[workload.PaymentID(i+1, n)] = s
		}
		if got := maps.Collect(p.All()); !maps.Equal(got, want) || p.Len() != n {
			t.Fatalf("n=%d: All gives %d states, Len %d; want %d", n, len(got), p.Len(), len(want))
		}
		prev := ""
		for id := range p.All() {
			if id <= prev {
				t.Fatalf("n=%d: %s after %s: not in order", n, id, prev)
			}
			prev = id
		}
		c := 0
		for _, s := range want {
			if s == StateDiverged {
				c++
			}
		}
		if p.Count(StateDiverged) != c {
			t.Errorf("n=%d: Count(diverged) = %d, want %d", n, p.Count(StateDiverged), c)
		}
		got, err := json.Marshal(struct{ P PaymentStates }{p})
		wantJSON, _ := json.Marshal(struct{ P map[string]string }{want})
		if err != nil || string(got) != string(wantJSON) {
			t.Fatalf("n=%d: JSON %.80s (err %v), want %.80s", n, got, err, wantJSON)
		}
	}
	got, _ := json.Marshal(PaymentStates{})
	if want, _ := json.Marshal(map[string]string(nil)); string(got) != string(want) {
		t.Errorf("zero value: %s, want %s", got, want)
	}
}
