package hotstuff

import (
	"fmt"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/crypto"
)

// ClientConfig configures a closed-loop client.
type ClientConfig struct {
	ID       sim.NodeID      // >= N
	N, F     int             // replicas and tolerated faults
	Source   OpSource        // the operations, by index (see workload.Plan)
	Interval time.Duration   // think time between an accepted reply and the next request
	Timeout  time.Duration   // retransmission timeout, > 0
	Keyring  *crypto.Keyring // signs the requests
}

// OpSource supplies a client's operations by index (the same interface as
// pbft.OpSource, which workload.Plan implements). Op(i) must return the
// same text for the same i.
type OpSource interface {
	Len() int        // number of operations
	Op(i int) string // operation i, 0 <= i < Len()
}

// Validate reports the first out-of-range field.
func (c ClientConfig) Validate() error {
	switch {
	case c.N < 4 || c.F < 1 || c.N < 3*c.F+1:
		return fmt.Errorf("hotstuff: ClientConfig N = %d, F = %d: need N >= 3F+1, F >= 1", c.N, c.F)
	case int(c.ID) < c.N:
		return fmt.Errorf("hotstuff: ClientConfig.ID = %d: client ids follow the replicas (>= %d)", c.ID, c.N)
	case c.Source == nil:
		return fmt.Errorf("hotstuff: ClientConfig.Source is nil")
	case c.Interval < 0 || c.Timeout <= 0:
		return fmt.Errorf("hotstuff: ClientConfig Interval = %v, Timeout = %v: want >= 0 and > 0", c.Interval, c.Timeout)
	case c.Keyring == nil || int(c.ID) >= c.Keyring.Nodes():
		return fmt.Errorf("hotstuff: ClientConfig.Keyring has no key for client %d", c.ID)
	}
	return nil
}

const (
	clientTimerRetry sim.TimerID = 1
	clientTimerNext  sim.TimerID = 2
)

// Client is a closed-loop client (sim.Node): one outstanding request sent
// to every replica (any of them may lead the view that orders it),
// accepted after f+1 matching replies from distinct replicas, sent again to
// every replica after Timeout.
type Client struct {
	cfg     ClientConfig
	signer  crypto.Signer
	next    int
	ts      uint64
	cur     *Request
	subAt   sim.Time
	replies []*Reply
	done    int
}

// NewClient validates c and returns a client.
func NewClient(c ClientConfig) (*Client, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &Client{cfg: c, signer: c.Keyring.Signer(c.ID), replies: make([]*Reply, c.N)}, nil
}

// Completed returns the number of accepted operations.
func (c *Client) Completed() int { return c.done }

// Start implements sim.Node.
func (c *Client) Start(now sim.Time, out *sim.Output) {
	if c.cfg.Source.Len() > 0 {
		c.submit(now, out)
	}
}

// Step implements sim.Node.
func (c *Client) Step(now sim.Time, in sim.Input, out *sim.Output) {
	switch in.Kind {
	case sim.InputMessage:
		if rep, ok := in.Msg.(*Reply); ok {
			c.onReply(now, in.From, rep, out)
		}
	case sim.InputTimer:
		switch {
		case in.Timer == clientTimerRetry && c.cur != nil:
			c.broadcast(out)
		case in.Timer == clientTimerNext && c.cur == nil && c.next < c.cfg.Source.Len():
			c.submit(now, out)
		}
	case sim.InputRecover:
		if c.cur != nil {
			out.SetTimer(clientTimerRetry, 0)
		} else if c.next < c.cfg.Source.Len() {
			out.SetTimer(clientTimerNext, c.cfg.Interval)
		}
	}
}

func (c *Client) broadcast(out *sim.Output) {
	for i := 0; i < c.cfg.N; i++ {
		out.Send(sim.NodeID(i), c.cur)
	}
	out.SetTimer(clientTimerRetry, c.cfg.Timeout)
}

func (c *Client) submit(now sim.Time, out *sim.Output) {
	c.ts++
	q := &Request{Op: c.cfg.Source.Op(c.next), Timestamp: c.ts, Client: c.cfg.ID}
	q.Sig = c.signer.Sign(q)
	c.next++
	c.cur, c.subAt = q, now
	clear(c.replies)
	c.broadcast(out)
	out.Report(&Submitted{Client: c.cfg.ID, Timestamp: q.Timestamp, Op: q.Op, At: now})
}

func (c *Client) onReply(now sim.Time, from sim.NodeID, rep *Reply, out *sim.Output) {
	if c.cur == nil || from < 0 || int(from) >= c.cfg.N || rep.Replica != from || rep.Client != c.cfg.ID || rep.Timestamp != c.cur.Timestamp {
		return
	}
	c.replies[from] = rep
	var who []sim.NodeID
	for i, o := range c.replies {
		if o != nil && o.Result == rep.Result {
			who = append(who, sim.NodeID(i))
		}
	}
	if len(who) < c.cfg.F+1 {
		return
	}
	q := c.cur
	c.cur = nil
	c.done++
	out.CancelTimer(clientTimerRetry)
	out.Report(&Accepted{Client: c.cfg.ID, Timestamp: q.Timestamp, Op: q.Op, Result: rep.Result,
		SubmittedAt: c.subAt, At: now, Latency: time.Duration(now - c.subAt), Replicas: who})
	if c.next < c.cfg.Source.Len() {
		if c.cfg.Interval > 0 {
			out.SetTimer(clientTimerNext, c.cfg.Interval)
		} else {
			c.submit(now, out)
		}
	}
}
