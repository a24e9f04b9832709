package pbft

import "github.com/pbftsim/pbftsim/sim/crypto"

// The keys, signatures and digests are protocol-neutral (sim/crypto); these
// aliases keep PBFT's names.
type (
	// Digest is a SHA-256 digest over a canonical encoding (crypto.Digest).
	Digest = crypto.Digest
	// Sig is a modelled signature (crypto.Sig).
	Sig = crypto.Sig
	// Signable is a message that carries a modelled signature
	// (crypto.Signable).
	Signable = crypto.Signable
	// Keyring models public-key authentication (crypto.Keyring).
	Keyring = crypto.Keyring
	// Signer signs messages as one node (crypto.Signer).
	Signer = crypto.Signer
)

// NewKeyring derives one secret per node (ids 0..nodes-1) from seed
// (crypto.NewKeyring).
func NewKeyring(seed uint64, nodes int) *Keyring { return crypto.NewKeyring(seed, nodes) }
