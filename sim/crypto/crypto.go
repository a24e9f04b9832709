// Package crypto models the authentication every protocol of the simulator
// shares: digests, a keyring with one secret per node, signers that sign
// only in their own node's name, and modelled signatures (a keyed hash,
// not cryptographically strong: it only has to make forgery impossible for
// code that plays by the simulation's rules). PBFT (sim/pbft) and HotStuff
// (sim/hotstuff) both import it; neither imports the other for it.
package crypto

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"sync"

	"github.com/pbftsim/pbftsim/sim"
)

// Digest is a SHA-256 digest over a canonical encoding.
type Digest [32]byte

// MarshalText encodes the digest as lowercase hex (so JSON shows it as a
// string).
func (d Digest) MarshalText() ([]byte, error) {
	out := make([]byte, hex.EncodedLen(len(d)))
	hex.Encode(out, d[:])
	return out, nil
}

// UnmarshalText parses a 64-digit hex digest.
func (d *Digest) UnmarshalText(b []byte) error {
	if len(b) != 2*len(d) {
		return fmt.Errorf("crypto: digest must be %d hex digits, got %d", 2*len(d), len(b))
	}
	if _, err := hex.Decode(d[:], b); err != nil {
		return fmt.Errorf("crypto: digest: %w", err)
	}
	return nil
}

// String returns the first 8 hex digits of the digest (for logs and tests).
func (d Digest) String() string { return hex.EncodeToString(d[:4]) }

// Sig is a modelled signature: a keyed hash that only the Keyring can check
// and only the signer's own Signer can make. It lets a certificate carry
// other replicas' messages without any node being able to forge them.
type Sig uint64

// Signable is a message that carries a modelled signature.
type Signable interface {
	// AppendBody appends the canonical encoding of the message without its
	// signature: the bytes that are signed.
	AppendBody(b []byte) []byte
	// Author is the node whose key must have produced the signature (the
	// message's Replica or Client field).
	Author() sim.NodeID
	// Signature returns the message's Sig field.
	Signature() Sig
}

// Keyring models public-key authentication. It holds one secret per node
// (replicas and clients); a Sig is a keyed 64-bit hash of the message's
// canonical encoding without the Sig field, under the author's secret. Only
// the Keyring can verify, and a node can only sign through its own Signer,
// so a Byzantine replica that is given its Signer cannot forge messages of
// other nodes. It is not cryptographically strong; it only has to make
// forgery impossible for code that plays by the simulation's rules.
type Keyring struct {
	secrets []uint64
}

// NewKeyring derives one secret per node (ids 0..nodes-1) from seed.
// nodes must cover replicas and clients.
func NewKeyring(seed uint64, nodes int) *Keyring {
	if nodes < 0 {
		nodes = 0
	}
	k := &Keyring{secrets: make([]uint64, nodes)}
	x := seed ^ 0x5851f42d4c957f2d
	for i := range k.secrets {
		x += 0x9e3779b97f4a7c15
		k.secrets[i] = mix64(x) | 1
	}
	return k
}

// Nodes returns how many nodes have keys.
func (k *Keyring) Nodes() int { return len(k.secrets) }

// Signer returns the signer of node id. A signer for an id outside the
// keyring produces signatures that never verify.
func (k *Keyring) Signer(id sim.NodeID) Signer { return Signer{k: k, id: id} }

// Verify reports whether m's signature was made by m.Author()'s Signer over
// m's current contents.
func (k *Keyring) Verify(m Signable) bool {
	bp := scratch.Get().(*[]byte)
	ok, b := k.VerifyBuf(*bp, m)
	*bp = b[:0]
	scratch.Put(bp)
	return ok
}

// scratch holds encoding buffers for Verify and Sign, which have no buffer
// of their own (replicas pass theirs to VerifyBuf and SignBuf): without it
// every call allocates its encoding. A pool keeps them safe for concurrent
// use (one Keyring may serve several goroutines).
var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// VerifyBuf is Verify encoding into buf (reused by a caller that verifies
// often); it returns the buffer for the next call.
func (k *Keyring) VerifyBuf(buf []byte, m Signable) (bool, []byte) {
	if k == nil {
		return false, buf
	}
	id := m.Author()
	if id < 0 || int(id) >= len(k.secrets) {
		return false, buf
	}
	buf = m.AppendBody(buf[:0])
	return Sig(keyedHash(k.secrets[id], buf)) == m.Signature(), buf
}

// Signer signs messages as one node.
type Signer struct {
	k  *Keyring
	id sim.NodeID
}

// ID is the node this signer signs for.
func (s Signer) ID() sim.NodeID { return s.id }

// Sign returns this node's signature over m's canonical body. The caller
// stores it in m's Sig field. It verifies only if m.Author() is this node.
func (s Signer) Sign(m Signable) Sig {
	bp := scratch.Get().(*[]byte)
	sig, b := s.SignBuf(*bp, m)
	*bp = b[:0]
	scratch.Put(bp)
	return sig
}

// SignBuf is Sign encoding into buf; it returns the buffer for the next
// call.
func (s Signer) SignBuf(buf []byte, m Signable) (Sig, []byte) {
	if s.k == nil || s.id < 0 || int(s.id) >= len(s.k.secrets) {
		return 0, buf
	}
	buf = m.AppendBody(buf[:0])
	return Sig(keyedHash(s.k.secrets[s.id], buf)), buf
}

func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// keyedHash is a keyed 64-bit hash processing 16 bytes per round with a
// 64x64->128-bit multiply folded to 64 bits (as in wyhash); mix64
// finalises. (A full mix64 per word made signature checks ~17% of a
// sweep's CPU, one multiply-xorshift per word still ~5% of a run.)
func keyedHash(key uint64, b []byte) uint64 {
	h := key ^ 0x9e3779b97f4a7c15 ^ uint64(len(b))
	for len(b) >= 16 {
		hi, lo := bits.Mul64(h^binary.LittleEndian.Uint64(b)^0xa0761d6478bd642f, binary.LittleEndian.Uint64(b[8:])^0xe7037ed1a0b428db)
		h = hi ^ lo
		b = b[16:]
	}
	var t [16]byte
	copy(t[:], b)
	hi, lo := bits.Mul64(h^binary.LittleEndian.Uint64(t[:])^0x8ebc6af09c88c6e3, binary.LittleEndian.Uint64(t[8:])^uint64(len(b))<<56^0x589965cc75374cc3)
	return mix64(hi ^ lo ^ key)
}
