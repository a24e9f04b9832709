package pbft

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/pbftsim/pbftsim/sim"
)

// Wire-size model (Size methods). Every message pays a fixed header of
// sizeHeader bytes (type, length, sender routing); then each uint64 field
// costs 8 bytes, a NodeID 4, a Digest 32, a signature (Sig) 64 (the size of
// an Ed25519 signature, although the simulation uses a cheaper keyed hash), a
// string or byte slice 4 + its length, and a list 4 + the sum of its elements.
// Certificates (VIEW-CHANGE, NEW-VIEW) therefore sum the sizes of the signed
// messages they carry, which is what makes a view change cost Θ(n³) bytes.
// A REPLY carries no Sig field but is authenticated on the wire (a MAC or a
// signature), modelled as sizeSig bytes as well.
const (
	sizeHeader = 16
	sizeU64    = 8
	sizeID     = 4
	sizeDigest = 32
	sizeSig    = 64
	sizeLen    = 4
)

func appendU64(b []byte, v uint64) []byte  { return binary.BigEndian.AppendUint64(b, v) }
func appendNode(b []byte, id int32) []byte { return binary.BigEndian.AppendUint32(b, uint32(id)) }
func appendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}
func appendBytes(b []byte, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}
func appendLen(b []byte, n int) []byte { return binary.BigEndian.AppendUint32(b, uint32(n)) }
func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// BatchDigest is D(m) for a PRE-PREPARE: SHA-256 over the canonical encoding
// of the batch (a count followed by each request's canonical encoding,
// signatures included). The empty batch is the null request.
func BatchDigest(batch []*Request) Digest {
	var arr [512]byte
	b := appendBatch(arr[:0], batch)
	return sha256.Sum256(b)
}

// batchDigestBuf is BatchDigest reusing a scratch buffer.
func batchDigestBuf(buf []byte, batch []*Request) (Digest, []byte) {
	buf = appendBatch(buf[:0], batch)
	return sha256.Sum256(buf), buf
}

func appendBatch(b []byte, batch []*Request) []byte {
	b = appendLen(b, len(batch))
	for _, r := range batch {
		b = r.AppendCanonical(b)
	}
	return b
}

// ---- Request ----

// Type implements sim.Message.
func (m *Request) Type() sim.MsgType { return TypeRequest }

// Size implements sim.Message.
func (m *Request) Size() int { return sizeHeader + sizeLen + len(m.Op) + sizeU64 + sizeID + sizeSig }

// AppendBody appends the canonical encoding without the signature.
func (m *Request) AppendBody(b []byte) []byte {
	b = append(b, tagRequest)
	b = appendStr(b, m.Op)
	b = appendU64(b, m.Timestamp)
	return appendNode(b, int32(m.Client))
}

// AppendCanonical implements sim.Message.
func (m *Request) AppendCanonical(b []byte) []byte { return appendU64(m.AppendBody(b), uint64(m.Sig)) }

// Author is the node whose key must have signed the request (the client).
func (m *Request) Author() sim.NodeID { return m.Client }

// Signature returns the request's signature.
func (m *Request) Signature() Sig { return m.Sig }

// ---- PrePrepare ----

// Type implements sim.Message.
func (m *PrePrepare) Type() sim.MsgType { return TypePrePrepare }

// Size implements sim.Message.
func (m *PrePrepare) Size() int {
	s := sizeHeader + 2*sizeU64 + sizeDigest + sizeID + sizeSig + sizeLen
	for _, r := range m.Batch {
		s += r.Size() - sizeHeader
	}
	return s
}

// AppendBody appends the signed part: as in the paper,
// <PRE-PREPARE, v, n, d> signed by the primary, with the batch piggybacked
// outside the signature and bound to it by the digest d (every receiver
// checks the batch against d).
func (m *PrePrepare) AppendBody(b []byte) []byte {
	b = append(b, tagPrePrepare)
	b = appendU64(b, m.View)
	b = appendU64(b, m.Seq)
	b = append(b, m.Digest[:]...)
	return appendNode(b, int32(m.Replica))
}

// AppendCanonical implements sim.Message: the signed part, the signature
// and the batch.
func (m *PrePrepare) AppendCanonical(b []byte) []byte {
	return appendBatch(m.appendSigned(b), m.Batch)
}

// appendSigned appends the signed part and the signature: how a
// PRE-PREPARE is encoded inside a certificate (VIEW-CHANGE) or NEW-VIEW,
// whose signatures cover d, not the batch.
func (m *PrePrepare) appendSigned(b []byte) []byte {
	return appendU64(m.AppendBody(b), uint64(m.Sig))
}

// Author is the replica that must have signed the message.
func (m *PrePrepare) Author() sim.NodeID { return m.Replica }

// Signature returns the message's signature.
func (m *PrePrepare) Signature() Sig { return m.Sig }

// ---- Prepare ----

// Type implements sim.Message.
func (m *Prepare) Type() sim.MsgType { return TypePrepare }

// Size implements sim.Message.
func (m *Prepare) Size() int { return sizeHeader + 2*sizeU64 + sizeDigest + sizeID + sizeSig }

// AppendBody appends the canonical encoding without the signature.
func (m *Prepare) AppendBody(b []byte) []byte {
	b = append(b, tagPrepare)
	b = appendU64(b, m.View)
	b = appendU64(b, m.Seq)
	b = append(b, m.Digest[:]...)
	return appendNode(b, int32(m.Replica))
}

// AppendCanonical implements sim.Message.
func (m *Prepare) AppendCanonical(b []byte) []byte { return appendU64(m.AppendBody(b), uint64(m.Sig)) }

// Author is the replica that must have signed the message.
func (m *Prepare) Author() sim.NodeID { return m.Replica }

// Signature returns the message's signature.
func (m *Prepare) Signature() Sig { return m.Sig }

// ---- Commit ----

// Type implements sim.Message.
func (m *Commit) Type() sim.MsgType { return TypeCommit }

// Size implements sim.Message.
func (m *Commit) Size() int { return sizeHeader + 2*sizeU64 + sizeDigest + sizeID + sizeSig }

// AppendBody appends the canonical encoding without the signature.
func (m *Commit) AppendBody(b []byte) []byte {
	b = append(b, tagCommit)
	b = appendU64(b, m.View)
	b = appendU64(b, m.Seq)
	b = append(b, m.Digest[:]...)
	return appendNode(b, int32(m.Replica))
}

// AppendCanonical implements sim.Message.
func (m *Commit) AppendCanonical(b []byte) []byte { return appendU64(m.AppendBody(b), uint64(m.Sig)) }

// Author is the replica that must have signed the message.
func (m *Commit) Author() sim.NodeID { return m.Replica }

// Signature returns the message's signature.
func (m *Commit) Signature() Sig { return m.Sig }

// ---- Reply ----

// Type implements sim.Message.
func (m *Reply) Type() sim.MsgType { return TypeReply }

// Size implements sim.Message.
func (m *Reply) Size() int {
	return sizeHeader + 2*sizeU64 + 2*sizeID + sizeLen + len(m.Result) + sizeSig
}

// AppendCanonical implements sim.Message.
func (m *Reply) AppendCanonical(b []byte) []byte {
	b = append(b, tagReply)
	b = appendU64(b, m.View)
	b = appendU64(b, m.Timestamp)
	b = appendNode(b, int32(m.Client))
	b = appendNode(b, int32(m.Replica))
	return appendStr(b, m.Result)
}

// ---- Checkpoint ----

// Type implements sim.Message.
func (m *Checkpoint) Type() sim.MsgType { return TypeCheckpoint }

// Size implements sim.Message.
func (m *Checkpoint) Size() int { return sizeHeader + sizeU64 + sizeDigest + sizeID + sizeSig }

// AppendBody appends the canonical encoding without the signature.
func (m *Checkpoint) AppendBody(b []byte) []byte {
	b = append(b, tagCheckpoint)
	b = appendU64(b, m.Seq)
	b = append(b, m.StateDigest[:]...)
	return appendNode(b, int32(m.Replica))
}

// AppendCanonical implements sim.Message.
func (m *Checkpoint) AppendCanonical(b []byte) []byte {
	return appendU64(m.AppendBody(b), uint64(m.Sig))
}

// Author is the replica that must have signed the message.
func (m *Checkpoint) Author() sim.NodeID { return m.Replica }

// Signature returns the message's signature.
func (m *Checkpoint) Signature() Sig { return m.Sig }

// ---- ViewChange ----

// Type implements sim.Message.
func (m *ViewChange) Type() sim.MsgType { return TypeViewChange }

// Size implements sim.Message: the fixed fields plus every checkpoint and
// prepared certificate it carries (each PRE-PREPARE and PREPARE at full size
// minus its header).
func (m *ViewChange) Size() int {
	s := sizeHeader + 2*sizeU64 + sizeID + sizeSig + 2*sizeLen
	for _, c := range m.Checkpoints {
		s += c.Size() - sizeHeader
	}
	for _, pc := range m.Prepared {
		s += pc.size()
	}
	return s
}

func (pc *PreparedCert) size() int {
	s := sizeLen
	if pc.PrePrepare != nil {
		s += pc.PrePrepare.Size() - sizeHeader
	}
	for _, p := range pc.Prepares {
		s += p.Size() - sizeHeader
	}
	return s
}

// AppendBody appends the canonical encoding without the signature: the
// checkpoint proof and the PREPAREs of each certificate by reference (see
// appendRef), each PRE-PREPARE by its signed part and signature.
func (m *ViewChange) AppendBody(b []byte) []byte {
	b = append(b, tagViewChange)
	b = appendU64(b, m.NewView)
	b = appendU64(b, m.StableSeq)
	b = appendNode(b, int32(m.Replica))
	b = appendLen(b, len(m.Checkpoints))
	for _, c := range m.Checkpoints {
		if b = appendBool(b, c != nil); c != nil {
			b = appendRef(b, c.Replica, c.Sig)
		}
	}
	b = appendLen(b, len(m.Prepared))
	for _, pc := range m.Prepared {
		b = appendBool(b, pc.PrePrepare != nil)
		if pc.PrePrepare != nil {
			b = pc.PrePrepare.appendSigned(b)
		}
		b = appendLen(b, len(pc.Prepares))
		for _, p := range pc.Prepares {
			if b = appendBool(b, p != nil); p != nil {
				b = appendRef(b, p.Replica, p.Sig)
			}
		}
	}
	return b
}

// appendRef encodes a signed message nested in another by its signer and
// signature, which identify it: receivers verify nested messages
// themselves, so the outer signature need not cover their bytes again.
func appendRef(b []byte, signer sim.NodeID, sig Sig) []byte {
	return appendU64(appendNode(b, int32(signer)), uint64(sig))
}

// AppendCanonical implements sim.Message.
func (m *ViewChange) AppendCanonical(b []byte) []byte {
	return appendU64(m.AppendBody(b), uint64(m.Sig))
}

// Author is the replica that must have signed the message.
func (m *ViewChange) Author() sim.NodeID { return m.Replica }

// Signature returns the message's signature.
func (m *ViewChange) Signature() Sig { return m.Sig }

// ---- NewView ----

// Type implements sim.Message.
func (m *NewView) Type() sim.MsgType { return TypeNewView }

// Size implements sim.Message: fixed fields plus V and O at full size.
func (m *NewView) Size() int {
	s := sizeHeader + sizeU64 + sizeID + sizeSig + 2*sizeLen
	for _, vc := range m.ViewChanges {
		s += vc.Size() - sizeHeader
	}
	for _, pp := range m.PrePrepares {
		s += pp.Size() - sizeHeader
	}
	return s
}

// AppendBody appends the canonical encoding without the signature. Each
// VIEW-CHANGE of V is encoded by its sender and signature, which identify
// it: it is signed itself, and every receiver verifies it before it trusts
// the NEW-VIEW. (Encoding V in full made a NEW-VIEW's signature cost as
// much as all its VIEW-CHANGEs' together, at every check.)
func (m *NewView) AppendBody(b []byte) []byte {
	b = append(b, tagNewView)
	b = appendU64(b, m.View)
	b = appendNode(b, int32(m.Replica))
	b = appendLen(b, len(m.ViewChanges))
	for _, vc := range m.ViewChanges {
		if b = appendBool(b, vc != nil); vc != nil {
			b = appendRef(b, vc.Replica, vc.Sig)
		}
	}
	b = appendLen(b, len(m.PrePrepares))
	for _, pp := range m.PrePrepares {
		b = pp.appendSigned(b)
	}
	return b
}

// AppendCanonical implements sim.Message.
func (m *NewView) AppendCanonical(b []byte) []byte {
	return appendU64(m.AppendBody(b), uint64(m.Sig))
}

// Author is the replica that must have signed the message.
func (m *NewView) Author() sim.NodeID { return m.Replica }

// Signature returns the message's signature.
func (m *NewView) Signature() Sig { return m.Sig }

// ---- FetchState ----

// Type implements sim.Message.
func (m *FetchState) Type() sim.MsgType { return TypeFetchState }

// Size implements sim.Message.
func (m *FetchState) Size() int { return sizeHeader + 2*sizeU64 + sizeID }

// AppendCanonical implements sim.Message.
func (m *FetchState) AppendCanonical(b []byte) []byte {
	b = append(b, tagFetchState)
	b = appendU64(b, m.Seq)
	b = appendU64(b, m.View)
	return appendNode(b, int32(m.Replica))
}

// ---- State ----

// Type implements sim.Message.
func (m *State) Type() sim.MsgType { return TypeState }

// Size implements sim.Message: the snapshot bytes plus the reply table.
func (m *State) Size() int {
	s := sizeHeader + sizeU64 + sizeDigest + sizeID + 2*sizeLen + len(m.Snapshot)
	for i := range m.LastReplies {
		s += m.LastReplies[i].Size() - sizeHeader - sizeSig
	}
	s += sizeLen + 1
	for _, c := range m.Proof {
		s += c.Size() - sizeHeader
	}
	if m.NewView != nil {
		s += m.NewView.Size() - sizeHeader
	}
	return s
}

// AppendCanonical implements sim.Message.
func (m *State) AppendCanonical(b []byte) []byte {
	b = append(b, tagState)
	b = appendU64(b, m.Seq)
	b = append(b, m.StateDigest[:]...)
	b = appendNode(b, int32(m.Replica))
	b = appendBytes(b, m.Snapshot)
	b = appendLen(b, len(m.LastReplies))
	for i := range m.LastReplies {
		b = m.LastReplies[i].AppendCanonical(b)
	}
	b = appendLen(b, len(m.Proof))
	for _, c := range m.Proof {
		b = c.AppendCanonical(b)
	}
	b = appendBool(b, m.NewView != nil)
	if m.NewView != nil {
		b = m.NewView.AppendCanonical(b)
	}
	return b
}
