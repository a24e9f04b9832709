package properties

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestScratch(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	fails := 0
	for i := 0; i < 200; i++ {
		sc := Generate(r, uint64(i), GenConfig{})
		o, err := RunScenario(sc, RunOptions{Liveness: true})
		if err != nil {
			t.Logf("case %d: %v", i, err)
			continue
		}
		if o.Failed() {
			fails++
			if fails < 6 {
				y, _ := sc.Marshal()
				t.Logf("case %d: %s\n%s", i, o.Summary(), y)
			}
		}
	}
	t.Logf("200 cases in %v, %d failed", time.Since(start), fails)
}
