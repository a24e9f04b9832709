package hotstuff

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/crypto"
)

// Protocol is HotStuff's message-type namespace (see sim.Protocol): its
// PREPARE and COMMIT are not PBFT's.
var Protocol = sim.NewProtocol("hotstuff")

// Message types of Basic HotStuff, as they appear in counters and traces.
// The leader's phase messages carry the paper's names; a replica's vote
// for phase X is X-VOTE.
var (
	TypeRequest       = Protocol.MsgType("REQUEST")
	TypeNewView       = Protocol.MsgType("NEW-VIEW")
	TypeTimeout       = Protocol.MsgType("TIMEOUT")
	TypePrepare       = Protocol.MsgType("PREPARE")
	TypePrepareVote   = Protocol.MsgType("PREPARE-VOTE")
	TypePreCommit     = Protocol.MsgType("PRE-COMMIT")
	TypePreCommitVote = Protocol.MsgType("PRE-COMMIT-VOTE")
	TypeCommit        = Protocol.MsgType("COMMIT")
	TypeCommitVote    = Protocol.MsgType("COMMIT-VOTE")
	TypeDecide        = Protocol.MsgType("DECIDE")
	TypeReply         = Protocol.MsgType("REPLY")
	TypeFetchBlock    = Protocol.MsgType("FETCH-BLOCK")
	TypeBlock         = Protocol.MsgType("BLOCK")
)

// Phase is the phase a vote or a quorum certificate belongs to.
type Phase uint8

// The three voting phases of Basic HotStuff (DECIDE has no votes).
const (
	PhasePrepare Phase = iota + 1
	PhasePreCommit
	PhaseCommit
)

// String returns the phase's name.
func (p Phase) String() string {
	switch p {
	case PhasePrepare:
		return "prepare"
	case PhasePreCommit:
		return "pre-commit"
	case PhaseCommit:
		return "commit"
	}
	return "phase?"
}

// Digest is a block hash (SHA-256 of the block's canonical encoding). It is
// crypto.Digest so that the checkers' agreement judges both protocols.
type Digest = crypto.Digest

// Sig is a modelled signature (see crypto.Keyring).
type Sig = crypto.Sig

// Wire-size model (Size methods), the same as PBFT's (see sim/pbft
// encoding.go) for the common parts: a header of sizeHeader bytes per
// message, 8 bytes per uint64, 4 per node id, 32 per digest, 64 per
// signature, 4 + length per string or list. A quorum certificate carries a
// threshold signature of sizeThresholdSig bytes (a BLS signature, 96 bytes
// on BLS12-381 G2) and a phase byte, view and block hash: its size does not
// depend on n. A vote carries a partial signature (sizeSig).
const (
	sizeHeader       = 16
	sizeU64          = 8
	sizeID           = 4
	sizeDigest       = 32
	sizeSig          = 64
	sizeLen          = 4
	sizeThresholdSig = 96
	// SizeQC is the modelled wire size of a quorum certificate.
	SizeQC = 1 + sizeU64 + sizeDigest + sizeThresholdSig
)

func appendU64(b []byte, v uint64) []byte       { return binary.BigEndian.AppendUint64(b, v) }
func appendNode(b []byte, id sim.NodeID) []byte { return binary.BigEndian.AppendUint32(b, uint32(id)) }
func appendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// Request is a client operation ⟨REQUEST, o, t, c⟩, signed by the client.
type Request struct {
	Op        string
	Timestamp uint64
	Client    sim.NodeID
	Sig       Sig
}

// Type implements sim.Message.
func (m *Request) Type() sim.MsgType { return TypeRequest }

// Size implements sim.Message.
func (m *Request) Size() int { return sizeHeader + sizeLen + len(m.Op) + sizeU64 + sizeID + sizeSig }

// AppendBody appends the signed bytes (crypto.Signable).
func (m *Request) AppendBody(b []byte) []byte {
	b = append(b, 'R')
	b = appendStr(b, m.Op)
	b = appendU64(b, m.Timestamp)
	return appendNode(b, m.Client)
}

// AppendCanonical implements sim.Message.
func (m *Request) AppendCanonical(b []byte) []byte { return appendU64(m.AppendBody(b), uint64(m.Sig)) }

// Author implements crypto.Signable.
func (m *Request) Author() sim.NodeID { return m.Client }

// Signature implements crypto.Signable.
func (m *Request) Signature() Sig { return m.Sig }

// Block is a node of the HotStuff tree: a batch of requests extending its
// parent. Height is the parent's height + 1 (the genesis block has height 0)
// and is the sequence number its requests execute at. In chained HotStuff
// a block carries the QC of its parent (Justify, the paper's b.justify),
// which is part of its hash; Basic HotStuff's blocks have none.
type Block struct {
	Parent  Digest
	Height  uint64
	View    uint64 // the view it was proposed in
	Cmds    []*Request
	Justify *QC    // chained HotStuff: the QC of Parent (nil in Basic HotStuff)
	Hash    Digest // hash of the fields above (set by NewBlock)
}

// NewBlock returns a block with its hash computed.
func NewBlock(parent Digest, height, view uint64, cmds []*Request) *Block {
	return newBlockQC(parent, height, view, cmds, nil)
}

// newBlockQC returns a block carrying justify (chained HotStuff).
func newBlockQC(parent Digest, height, view uint64, cmds []*Request, justify *QC) *Block {
	b := &Block{Parent: parent, Height: height, View: view, Cmds: cmds, Justify: justify}
	b.Hash = sha256.Sum256(b.appendBody(nil))
	return b
}

func (b *Block) appendBody(buf []byte) []byte {
	buf = append(buf, 'B')
	buf = append(buf, b.Parent[:]...)
	buf = appendU64(buf, b.Height)
	buf = appendU64(buf, b.View)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(b.Cmds)))
	for _, q := range b.Cmds {
		buf = q.AppendCanonical(buf)
	}
	if b.Justify != nil {
		buf = b.Justify.appendCanonical(buf)
	}
	return buf
}

// valid reports whether b's hash matches its contents.
func (b *Block) valid() bool { return b != nil && sha256.Sum256(b.appendBody(nil)) == b.Hash }

func (b *Block) size() int {
	s := sizeDigest + 2*sizeU64 + sizeDigest + sizeLen
	for _, q := range b.Cmds {
		s += q.Size() - sizeHeader
	}
	if b.Justify != nil {
		s += SizeQC
	}
	return s
}

// QC is a quorum certificate: n−f votes of one phase for one block in one
// view, combined (modelled) into a threshold signature of SizeQC bytes.
// The simulation keeps the votes themselves so that any node can verify the
// certificate with the keyring; the votes are not counted on the wire.
type QC struct {
	Phase Phase
	View  uint64
	Block Digest
	Votes []*Vote // the combined partial signatures (not on the wire)
}

func (q *QC) appendCanonical(b []byte) []byte {
	if q == nil {
		return append(b, 0)
	}
	b = append(b, byte(q.Phase))
	b = appendU64(b, q.View)
	b = append(b, q.Block[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(q.Votes)))
	for _, v := range q.Votes {
		b = appendNode(b, v.Replica)
	}
	return b
}

// Vote is ⟨VOTE, phase, view, block⟩ signed by Replica (a partial
// signature of the threshold scheme).
type Vote struct {
	Phase   Phase
	View    uint64
	Block   Digest
	Replica sim.NodeID
	Sig     Sig
}

// Type implements sim.Message.
func (m *Vote) Type() sim.MsgType {
	switch m.Phase {
	case PhasePrepare:
		return TypePrepareVote
	case PhasePreCommit:
		return TypePreCommitVote
	}
	return TypeCommitVote
}

// Size implements sim.Message.
func (m *Vote) Size() int { return sizeHeader + 1 + sizeU64 + sizeDigest + sizeID + sizeSig }

// AppendBody appends the signed bytes (crypto.Signable).
func (m *Vote) AppendBody(b []byte) []byte {
	b = append(b, 'V', byte(m.Phase))
	b = appendU64(b, m.View)
	b = append(b, m.Block[:]...)
	return appendNode(b, m.Replica)
}

// AppendCanonical implements sim.Message.
func (m *Vote) AppendCanonical(b []byte) []byte { return appendU64(m.AppendBody(b), uint64(m.Sig)) }

// Author implements crypto.Signable.
func (m *Vote) Author() sim.NodeID { return m.Replica }

// Signature implements crypto.Signable.
func (m *Vote) Signature() Sig { return m.Sig }

// NewView is ⟨NEW-VIEW, view, prepareQC⟩: Replica enters View and hands
// its highest prepareQC to the view's leader, and to it alone. With Timeout
// set it is counted as TIMEOUT: Replica entered View because its timer of
// the view before expired (the pacemaker's view change), not after a
// decision. The leader of View combines n−f of them into a ViewCert.
type NewView struct {
	View      uint64
	PrepareQC *QC
	Replica   sim.NodeID
	Timeout   bool
	Sig       Sig
}

// Type implements sim.Message: NEW-VIEW, or TIMEOUT.
func (m *NewView) Type() sim.MsgType {
	if m.Timeout {
		return TypeTimeout
	}
	return TypeNewView
}

// Size implements sim.Message.
func (m *NewView) Size() int { return sizeHeader + sizeU64 + SizeQC + sizeID + sizeSig }

// AppendBody appends the signed bytes (crypto.Signable).
func (m *NewView) AppendBody(b []byte) []byte {
	if m.Timeout {
		b = append(b, 'T')
	} else {
		b = append(b, 'N')
	}
	b = appendU64(b, m.View)
	b = m.PrepareQC.appendCanonical(b)
	return appendNode(b, m.Replica)
}

// AppendCanonical implements sim.Message.
func (m *NewView) AppendCanonical(b []byte) []byte { return appendU64(m.AppendBody(b), uint64(m.Sig)) }

// Author implements crypto.Signable.
func (m *NewView) Author() sim.NodeID { return m.Replica }

// Signature implements crypto.Signable.
func (m *NewView) Signature() Sig { return m.Sig }

// ViewCert proves that n−f replicas entered View: their NEW-VIEW (or
// TIMEOUT) messages for it, combined (modelled) into one aggregate
// signature of sizeThresholdSig bytes, so its size does not depend on n.
// As with QC, the simulation keeps the messages themselves for
// verification; they are not counted on the wire.
type ViewCert struct {
	View     uint64
	NewViews []*NewView
}

// SizeViewCert is the modelled wire size of a view certificate.
const SizeViewCert = sizeU64 + sizeThresholdSig

func (c *ViewCert) appendCanonical(b []byte) []byte {
	if c == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	b = appendU64(b, c.View)
	b = binary.BigEndian.AppendUint32(b, uint32(len(c.NewViews)))
	for _, m := range c.NewViews {
		b = appendNode(b, m.Replica)
	}
	return b
}

// Proposal is the leader's ⟨PREPARE, view, block, highQC⟩: a new block
// extending the block of Justify (the highest prepareQC it collected).
// Cert (nil in view 1) proves that n−f replicas entered View: a replica
// still in a lower view follows it there (the pacemaker's synchronisation,
// see Replica.onMessage).
type Proposal struct {
	View    uint64
	Block   *Block
	Justify *QC
	Cert    *ViewCert
	Leader  sim.NodeID
}

// Type implements sim.Message.
func (m *Proposal) Type() sim.MsgType { return TypePrepare }

// Size implements sim.Message. A chained block carries its justify QC
// itself: it is counted once.
func (m *Proposal) Size() int {
	s := sizeHeader + sizeU64 + m.Block.size() + sizeID
	if m.Block.Justify == nil {
		s += SizeQC
	}
	if m.Cert != nil {
		s += SizeViewCert
	}
	return s
}

// AppendCanonical implements sim.Message.
func (m *Proposal) AppendCanonical(b []byte) []byte {
	b = appendU64(b, m.View)
	b = m.Block.appendBody(b)
	b = m.Justify.appendCanonical(b)
	b = m.Cert.appendCanonical(b)
	return appendNode(b, m.Leader)
}

// PhaseMsg is the leader's PRE-COMMIT (carrying the prepareQC), COMMIT
// (the precommitQC) or DECIDE (the commitQC) of a view.
type PhaseMsg struct {
	View   uint64
	QC     *QC
	Leader sim.NodeID
}

// Type implements sim.Message: the phase the QC starts.
func (m *PhaseMsg) Type() sim.MsgType {
	switch m.QC.Phase {
	case PhasePrepare:
		return TypePreCommit
	case PhasePreCommit:
		return TypeCommit
	}
	return TypeDecide
}

// Size implements sim.Message.
func (m *PhaseMsg) Size() int { return sizeHeader + sizeU64 + SizeQC + sizeID }

// AppendCanonical implements sim.Message.
func (m *PhaseMsg) AppendCanonical(b []byte) []byte {
	b = appendU64(b, m.View)
	b = m.QC.appendCanonical(b)
	return appendNode(b, m.Leader)
}

// Reply is ⟨REPLY, view, t, c, i, r⟩.
type Reply struct {
	View      uint64
	Timestamp uint64
	Client    sim.NodeID
	Replica   sim.NodeID
	Result    string
}

// Type implements sim.Message.
func (m *Reply) Type() sim.MsgType { return TypeReply }

// Size implements sim.Message: authenticated like PBFT's (sizeSig).
func (m *Reply) Size() int {
	return sizeHeader + 2*sizeU64 + 2*sizeID + sizeLen + len(m.Result) + sizeSig
}

// AppendCanonical implements sim.Message.
func (m *Reply) AppendCanonical(b []byte) []byte {
	b = appendU64(b, m.View)
	b = appendU64(b, m.Timestamp)
	b = appendNode(b, m.Client)
	b = appendNode(b, m.Replica)
	return appendStr(b, m.Result)
}

// FetchBlock asks for the block with hash Hash (a replica that has a QC
// or a child of a block it never received).
type FetchBlock struct {
	Hash    Digest
	Replica sim.NodeID
}

// Type implements sim.Message.
func (m *FetchBlock) Type() sim.MsgType { return TypeFetchBlock }

// Size implements sim.Message.
func (m *FetchBlock) Size() int { return sizeHeader + sizeDigest + sizeID }

// AppendCanonical implements sim.Message.
func (m *FetchBlock) AppendCanonical(b []byte) []byte {
	b = append(b, m.Hash[:]...)
	return appendNode(b, m.Replica)
}

// BlockMsg answers FetchBlock (the receiver checks the hash).
type BlockMsg struct {
	Block *Block
}

// Type implements sim.Message.
func (m *BlockMsg) Type() sim.MsgType { return TypeBlock }

// Size implements sim.Message.
func (m *BlockMsg) Size() int { return sizeHeader + m.Block.size() }

// AppendCanonical implements sim.Message.
func (m *BlockMsg) AppendCanonical(b []byte) []byte { return m.Block.appendBody(b) }
