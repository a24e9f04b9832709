package sim

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// refHashBytes is hashBytes as first written (the tail word built byte by
// byte): the reference the word-load tail must match.
func refHashBytes(h uint64, b []byte) uint64 {
	h = mix(h, uint64(len(b)))
	for len(b) >= 16 {
		h = mum(h^binary.LittleEndian.Uint64(b)^0xa0761d6478bd642f, binary.LittleEndian.Uint64(b[8:])^0xe7037ed1a0b428db)
		b = b[16:]
	}
	if len(b) >= 8 {
		h = mix(h, binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	if len(b) > 0 {
		var w uint64
		for i := len(b) - 1; i >= 0; i-- {
			w = w<<8 | uint64(b[i])
		}
		h = mix(h, w)
	}
	return h
}

// TestHashBytesMatchesReference checks hashBytes against the byte-by-byte
// reference for every length up to 80, at several offsets into a buffer
// (so the bytes around the string differ from zero and must not leak in).
func TestHashBytesMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 128)
	for i := range buf {
		buf[i] = byte(r.Uint64()) | 1 // no zero bytes: padding must be zeros
	}
	cases := []struct {
		name string
		off  int
	}{{"start", 0}, {"offset 3", 3}, {"offset 13", 13}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for n := 0; n <= 80; n++ {
				b := buf[c.off : c.off+n]
				for _, h := range []uint64{hashInit, 0, ^uint64(0)} {
					if got, want := hashBytes(h, b), refHashBytes(h, b); got != want {
						t.Fatalf("len %d, h %#x: hashBytes %#x, reference %#x", n, h, got, want)
					}
				}
			}
		})
	}
}
