package crypto

import (
	"encoding/binary"
	"testing"

	"github.com/pbftsim/pbftsim/sim"
)

// msg is a minimal Signable: a body, an author and a signature.
type msg struct {
	body   uint64
	author sim.NodeID
	sig    Sig
}

func (m *msg) AppendBody(b []byte) []byte { return binary.BigEndian.AppendUint64(b, m.body) }
func (m *msg) Author() sim.NodeID         { return m.author }
func (m *msg) Signature() Sig             { return m.sig }

func TestKeyring(t *testing.T) {
	k := NewKeyring(7, 4)
	signed := func(body uint64, author, signer sim.NodeID) *msg {
		m := &msg{body: body, author: author}
		m.sig = k.Signer(signer).Sign(m)
		return m
	}
	tampered := signed(1, 2, 2)
	tampered.body = 3
	tests := []struct {
		name string
		m    *msg
		want bool
	}{
		{"own signature", signed(1, 2, 2), true},
		{"another node's signer", signed(1, 2, 3), false},
		{"body changed after signing", tampered, false},
		{"author outside the keyring", signed(1, 4, 4), false},
		{"negative author", signed(1, -1, -1), false},
	}
	for _, tc := range tests {
		if got := k.Verify(tc.m); got != tc.want {
			t.Errorf("%s: Verify = %v, want %v", tc.name, got, tc.want)
		}
		var buf []byte
		got, buf := k.VerifyBuf(buf, tc.m)
		if got != tc.want || len(buf) == 0 && tc.m.author >= 0 && tc.m.author < 4 {
			t.Errorf("%s: VerifyBuf = %v (buffer %d bytes), want %v", tc.name, got, len(buf), tc.want)
		}
	}
	if other := NewKeyring(8, 4); other.Verify(signed(1, 2, 2)) {
		t.Error("a keyring of another seed verifies the signature")
	}
	var nilRing *Keyring
	if nilRing.Verify(signed(1, 2, 2)) {
		t.Error("a nil keyring verifies")
	}
	m := &msg{body: 5, author: 1}
	s1 := k.Signer(1).Sign(m)
	s2, _ := k.Signer(1).SignBuf(nil, m)
	if s1 != s2 || s1 == 0 {
		t.Errorf("Sign = %x, SignBuf = %x: want equal and non-zero", s1, s2)
	}
}

func TestDigestText(t *testing.T) {
	var d Digest
	for i := range d {
		d[i] = byte(i * 7)
	}
	b, err := d.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	var back Digest
	if err := back.UnmarshalText(b); err != nil || back != d {
		t.Fatalf("round trip: %v, %x != %x", err, back, d)
	}
	if d.String() != string(b[:8]) {
		t.Errorf("String = %q, want %q", d.String(), b[:8])
	}
	for _, bad := range []string{"00", string(make([]byte, 64))} {
		if err := back.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("UnmarshalText(%q) accepted", bad)
		}
	}
}
