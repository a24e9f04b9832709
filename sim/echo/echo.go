// Package echo is a tiny ping/pong protocol on the sim kernel, for tests,
// examples and benchmarks. A Pinger sends PING to each of its peers every
// interval for a number of rounds; a Ponger answers each PING with a PONG;
// the Pinger reports a "pong" event with the round-trip time.
package echo

import (
	"encoding/binary"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// Protocol is the echo protocol's message-type namespace.
var Protocol = sim.NewProtocol("echo")

// Message types.
var (
	TypePing = Protocol.MsgType("PING")
	TypePong = Protocol.MsgType("PONG")
)

// Ping asks the receiver for a Pong. Sent is the pinger's virtual send time.
type Ping struct {
	Round int
	Sent  sim.Time
}

// Type implements sim.Message.
func (*Ping) Type() sim.MsgType { return TypePing }

// Size implements sim.Message: a 16-byte body.
func (*Ping) Size() int { return 16 }

// AppendCanonical implements sim.Message.
func (p *Ping) AppendCanonical(b []byte) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(p.Round))
	return binary.LittleEndian.AppendUint64(b, uint64(p.Sent))
}

// Pong answers a Ping, echoing its round and send time.
type Pong struct {
	Round int
	Sent  sim.Time
}

// Type implements sim.Message.
func (*Pong) Type() sim.MsgType { return TypePong }

// Size implements sim.Message: a 16-byte body.
func (*Pong) Size() int { return 16 }

// AppendCanonical implements sim.Message.
func (p *Pong) AppendCanonical(b []byte) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(p.Round))
	return binary.LittleEndian.AppendUint64(b, uint64(p.Sent))
}

// PongEvent is reported by a Pinger for every Pong it receives.
type PongEvent struct {
	Peer  sim.NodeID
	Round int
	RTT   time.Duration
}

// Name implements sim.Event: "pong".
func (*PongEvent) Name() string { return "pong" }

// AppendCanonical implements sim.Event.
func (e *PongEvent) AppendCanonical(b []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(e.Peer))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.Round))
	return binary.LittleEndian.AppendUint64(b, uint64(e.RTT))
}

// roundTimer is the Pinger's only timer.
const roundTimer sim.TimerID = 1

// Pinger pings its peers every interval for count rounds (round 0 at Start).
type Pinger struct {
	id       sim.NodeID
	peers    []sim.NodeID
	interval time.Duration
	count    int

	next     int // next round to send
	sent     int // pings sent
	received int // pongs received
	recovers int
}

// NewPinger returns a pinger with id id that pings peers count times, every
// interval, starting at time 0.
func NewPinger(id sim.NodeID, peers []sim.NodeID, interval time.Duration, count int) *Pinger {
	return &Pinger{id: id, peers: append([]sim.NodeID(nil), peers...), interval: interval, count: count}
}

// Start implements sim.Node: it sends round 0.
func (p *Pinger) Start(now sim.Time, out *sim.Output) { p.round(now, out) }

// round sends the next round and arms the timer for the one after.
func (p *Pinger) round(now sim.Time, out *sim.Output) {
	if p.next >= p.count {
		return
	}
	for _, to := range p.peers {
		out.Send(to, &Ping{Round: p.next, Sent: now})
		p.sent++
	}
	p.next++
	if p.next < p.count {
		out.SetTimer(roundTimer, p.interval)
	}
}

// Step implements sim.Node.
func (p *Pinger) Step(now sim.Time, in sim.Input, out *sim.Output) {
	switch in.Kind {
	case sim.InputTimer:
		if in.Timer == roundTimer {
			p.round(now, out)
		}
	case sim.InputMessage:
		switch m := in.Msg.(type) {
		case *Pong:
			p.received++
			out.Report(&PongEvent{Peer: in.From, Round: m.Round, RTT: (now - m.Sent).Duration()})
		case *Ping: // pingers answer too, so pingers can ping each other
			out.Send(in.From, &Pong{Round: m.Round, Sent: m.Sent})
		}
	case sim.InputRecover:
		p.recovers++
		if p.next < p.count {
			out.SetTimer(roundTimer, p.interval)
		}
	}
}

// Sent returns the number of pings sent.
func (p *Pinger) Sent() int { return p.sent }

// Received returns the number of pongs received.
func (p *Pinger) Received() int { return p.received }

// Rounds returns the number of rounds sent so far.
func (p *Pinger) Rounds() int { return p.next }

// Recovers returns how many times the pinger got InputRecover.
func (p *Pinger) Recovers() int { return p.recovers }

// Ponger answers every Ping with a Pong.
type Ponger struct {
	id       sim.NodeID
	received int
	recovers int
}

// NewPonger returns a ponger with id id.
func NewPonger(id sim.NodeID) *Ponger { return &Ponger{id: id} }

// Start implements sim.Node; a ponger does nothing until pinged.
func (p *Ponger) Start(sim.Time, *sim.Output) {}

// Step implements sim.Node.
func (p *Ponger) Step(now sim.Time, in sim.Input, out *sim.Output) {
	switch in.Kind {
	case sim.InputMessage:
		if m, ok := in.Msg.(*Ping); ok {
			p.received++
			out.Send(in.From, &Pong{Round: m.Round, Sent: m.Sent})
		}
	case sim.InputRecover:
		p.recovers++
	}
}

// Received returns the number of pings received.
func (p *Ponger) Received() int { return p.received }

// Recovers returns how many times the ponger got InputRecover.
func (p *Ponger) Recovers() int { return p.recovers }
