package properties

import (
	"encoding/binary"
	"math/rand/v2"

	"github.com/leanovate/gopter"

	"github.com/pbftsim/pbftsim/scenarios"
)

// ScenarioGen is a gopter generator of scenarios drawn by Generate with g,
// shrinking with Shrinks (smaller n, fewer faults and requests, shorter
// runs).
func ScenarioGen(g GenConfig) gopter.Gen {
	return func(p *gopter.GenParameters) *gopter.GenResult {
		seed := p.NextUint64()
		sc := Generate(rand.New(rand.NewPCG(seed, 0x5ce7a210)), seed, g)
		return gopter.NewGenResult(sc, ScenarioShrinker)
	}
}

// ScenarioShrinker is the gopter shrinker of scenarios (see Shrinks).
func ScenarioShrinker(v interface{}) gopter.Shrink {
	cands := Shrinks(v.(scenarios.Scenario))
	i := 0
	return func() (interface{}, bool) {
		if i >= len(cands) {
			return nil, false
		}
		i++
		return cands[i-1], true
	}
}

// byteSource is a rand.Source that replays fuzzer bytes, then a fixed PCG.
type byteSource struct {
	data []byte
	rest *rand.PCG
}

// Uint64 implements rand.Source.
func (b *byteSource) Uint64() uint64 {
	if len(b.data) >= 8 {
		v := binary.LittleEndian.Uint64(b.data)
		b.data = b.data[8:]
		return v
	}
	if len(b.data) > 0 {
		var buf [8]byte
		copy(buf[:], b.data)
		b.data = nil
		return binary.LittleEndian.Uint64(buf[:])
	}
	return b.rest.Uint64()
}

// DecodeScenario turns arbitrary bytes (a fuzzer's input) into a scenario
// within the fault model: the first 8 bytes are the seed, the rest drive
// the generator's choices.
func DecodeScenario(data []byte, g GenConfig) scenarios.Scenario {
	var seed uint64
	if len(data) >= 8 {
		seed = binary.LittleEndian.Uint64(data)
		data = data[8:]
	}
	src := &byteSource{data: data, rest: rand.NewPCG(seed, 0xf022)}
	return Generate(rand.New(src), seed, g)
}
