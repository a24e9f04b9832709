package sim

import (
	"fmt"
	"testing"
)

// TestLinkStreamsAreNamedStreams: the per-link streams the network builds
// without formatting names are exactly Streams.Stream of the documented
// names, so runs reproduce across versions.
func TestLinkStreamsAreNamedStreams(t *testing.T) {
	var nw network
	nw.init(42, 1200, &NetworkConfig{})
	for _, l := range [][2]NodeID{{0, 1}, {1, 0}, {3, 3}, {7, 11}, {99, 100}, {1199, 1024}} {
		r := nw.newLinkRNG(l[0], l[1])
		got := map[string]uint64{"drop": r.drop.Uint64(), "dup": r.dup.Uint64(), "delay": r.delay.Uint64(), "dupdelay": r.dupDelay.Uint64()}
		for purpose, v := range got {
			want := nw.streams.Stream(fmt.Sprintf("network/%s/%d>%d", purpose, l[0], l[1])).Uint64()
			if v != want {
				t.Errorf("link %d>%d %s: first draw %d, want %d from the named stream", l[0], l[1], purpose, v, want)
			}
		}
		if r.drop.Uint64() == r.dup.Uint64() {
			t.Errorf("link %d>%d: drop and dup streams coincide", l[0], l[1])
		}
	}
}
