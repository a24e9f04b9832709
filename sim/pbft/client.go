package pbft

import (
	"fmt"
	"slices"
	"time"

	"github.com/pbftsim/pbftsim/sim"
)

// Client timer ids.
const (
	clientTimerRetry sim.TimerID = 1 // no accepted reply in time: multicast the request
	clientTimerNext  sim.TimerID = 2 // think time elapsed: send the next operation
)

// ClientConfig configures a closed-loop client.
type ClientConfig struct {
	ID       sim.NodeID    // the client's node id, >= N
	N, F     int           // replicas and tolerated faults (N >= 3F+1)
	Ops      []string      // operations to submit, in order (used when Source is nil)
	Source   OpSource      // if non-nil, supplies the operations instead of Ops (formatted on demand)
	Interval time.Duration // think time between an accepted reply and the next request, >= 0
	Timeout  time.Duration // retransmission timeout, > 0
	Variant  Variant       // "" for the correct protocol
	Keyring  *Keyring      // signs the client's requests; must hold a key for ID
	// DropSpentReplies makes the client forget what nothing reads again:
	// the replies to a request once it accepts it (they are read only
	// while a request is outstanding, and the next submission clears
	// them), and, once every operation is accepted, the views replicas
	// report (read only to address a later request). Its outputs are the
	// same; the exhaustive explorer then merges states that differ only in
	// them, and every REPLY to a finished client is inert.
	DropSpentReplies bool
}

// OpSource supplies a client's operations by index, so that a large
// workload need not be held as strings (see workload.Plan). Op(i) must
// return the same text for the same i.
type OpSource interface {
	Len() int        // number of operations
	Op(i int) string // operation i, 0 <= i < Len()
}

// Validate reports the first out-of-range field.
func (c ClientConfig) Validate() error {
	switch {
	case c.N < 4:
		return fmt.Errorf("pbft: ClientConfig.N = %d: need at least 4 replicas", c.N)
	case c.F < 1 || c.N < 3*c.F+1:
		return fmt.Errorf("pbft: ClientConfig.F = %d: need 1 <= F and N >= 3F+1 (N = %d)", c.F, c.N)
	case int(c.ID) < c.N:
		return fmt.Errorf("pbft: ClientConfig.ID = %d: client ids follow the replicas, must be >= N = %d", c.ID, c.N)
	case c.Interval < 0:
		return fmt.Errorf("pbft: ClientConfig.Interval = %v: must be >= 0", c.Interval)
	case c.Timeout <= 0:
		return fmt.Errorf("pbft: ClientConfig.Timeout = %v: must be > 0", c.Timeout)
	case c.Source != nil && len(c.Ops) > 0:
		return fmt.Errorf("pbft: ClientConfig.Ops and ClientConfig.Source are both set: give one of them")
	case c.Keyring == nil:
		return fmt.Errorf("pbft: ClientConfig.Keyring is nil: required to sign requests")
	case int(c.ID) >= c.Keyring.Nodes():
		return fmt.Errorf("pbft: ClientConfig.ID = %d: the keyring has keys for ids 0..%d only", c.ID, c.Keyring.Nodes()-1)
	}
	if _, err := ParseVariant(string(c.Variant)); err != nil {
		return fmt.Errorf("pbft: ClientConfig.Variant: %w", err)
	}
	return nil
}

// Client is a closed-loop PBFT client (sim.Node): one outstanding request,
// strictly increasing timestamps, accepted after f+1 matching replies.
type Client struct {
	cfg     ClientConfig
	rules   rules // clientReplies: the paper's f+1, or a broken variant's
	signer  Signer
	next    int
	ts      uint64
	view    uint64
	cur     *Request
	subAt   sim.Time
	replies []*Reply // indexed by replica, for cur
	done    int
	views   []uint64
	nops    int      // number of operations (len(Ops) or Source.Len())
	scratch []uint64 // reused to sort views
	buf     []byte   // reused to encode requests for signing
	allocs  clientAllocs
}

// clientAllocs carves a client's requests and events out of chunks (see
// slab).
type clientAllocs struct {
	request   slab[Request]
	submitted slab[Submitted]
	accepted  slab[Accepted]
	who       carve[sim.NodeID]
}

// NewClient validates c and returns a client.
func NewClient(c ClientConfig) (*Client, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	cl := &Client{cfg: c, rules: rulesOf(c.Variant), signer: c.Keyring.Signer(c.ID), replies: make([]*Reply, c.N), views: make([]uint64, c.N), nops: len(c.Ops)}
	if c.Source != nil {
		cl.nops = c.Source.Len()
	}
	return cl, nil
}

// ID returns the client's node id.
func (c *Client) ID() sim.NodeID { return c.cfg.ID }

// Done reports whether every operation was accepted.
func (c *Client) Done() bool { return c.done == c.nops }

// Completed returns the number of accepted operations.
func (c *Client) Completed() int { return c.done }

// View returns the view the client believes current (from replies).
func (c *Client) View() uint64 { return c.view }

// Start implements sim.Node: the first request is sent at once.
func (c *Client) Start(now sim.Time, out *sim.Output) {
	if c.nops > 0 {
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
		switch in.Timer {
		case clientTimerRetry:
			if c.cur != nil {
				for i := 0; i < c.cfg.N; i++ {
					out.Send(sim.NodeID(i), c.cur)
				}
				out.SetTimer(clientTimerRetry, c.cfg.Timeout)
			}
		case clientTimerNext:
			if c.cur == nil && c.next < c.nops {
				c.submit(now, out)
			}
		}
	case sim.InputRecover:
		if c.cur != nil {
			out.SetTimer(clientTimerRetry, 0)
		} else if c.next < c.nops {
			out.SetTimer(clientTimerNext, c.cfg.Interval)
		}
	}
}

// finished reports whether the client forgets what it will never read
// again (ClientConfig.DropSpentReplies): every operation accepted.
func (c *Client) finished() bool {
	return c.cfg.DropSpentReplies && c.cur == nil && c.next >= c.nops
}

func (c *Client) submit(now sim.Time, out *sim.Output) {
	c.ts++
	var op string
	if c.cfg.Source != nil {
		op = c.cfg.Source.Op(c.next)
	} else {
		op = c.cfg.Ops[c.next]
	}
	q := c.allocs.request.new()
	*q = Request{Op: op, Timestamp: c.ts, Client: c.cfg.ID}
	q.Sig, c.buf = c.signer.SignBuf(c.buf, q)
	c.next++
	c.cur, c.subAt = q, now
	clear(c.replies)
	out.Send(sim.NodeID(c.view%uint64(c.cfg.N)), q)
	out.SetTimer(clientTimerRetry, c.cfg.Timeout)
	sub := c.allocs.submitted.new()
	*sub = Submitted{Client: c.cfg.ID, Timestamp: q.Timestamp, Op: q.Op, At: now}
	out.Report(sub)
}

func (c *Client) onReply(now sim.Time, from sim.NodeID, rep *Reply, out *sim.Output) {
	if from < 0 || int(from) >= c.cfg.N || rep.Replica != from || rep.Client != c.cfg.ID {
		return
	}
	if c.finished() {
		return // nothing is sent again: the views are not read
	}
	if rep.View > c.views[from] {
		c.views[from] = rep.View
	}
	if c.cur == nil || rep.Timestamp != c.cur.Timestamp {
		return
	}
	c.replies[from] = rep
	need := c.rules.clientReplies(c.cfg.F)
	matching := 0
	for _, o := range c.replies {
		if o != nil && o.Result == rep.Result {
			matching++
		}
	}
	if matching < need {
		return
	}
	who := c.allocs.who.take(matching)[:0]
	for i, o := range c.replies {
		if o != nil && o.Result == rep.Result {
			who = append(who, sim.NodeID(i))
		}
	}
	// The view: the highest one that f+1 replicas have reported reaching.
	vs := append(c.scratch[:0], c.views...)
	c.scratch = vs
	slices.Sort(vs)
	if v := vs[len(vs)-(c.cfg.F+1)]; v > c.view {
		c.view = v
	}
	q := c.cur
	c.cur = nil
	c.done++
	if c.cfg.DropSpentReplies {
		clear(c.replies)
	}
	if c.finished() {
		clear(c.views)
	}
	out.CancelTimer(clientTimerRetry)
	acc := c.allocs.accepted.new()
	*acc = Accepted{Client: c.cfg.ID, Timestamp: q.Timestamp, Op: q.Op, Result: rep.Result,
		SubmittedAt: c.subAt, At: now, Latency: time.Duration(now - c.subAt), Replicas: who}
	out.Report(acc)
	if c.next < c.nops {
		if c.cfg.Interval > 0 {
			out.SetTimer(clientTimerNext, c.cfg.Interval)
		} else {
			c.submit(now, out)
		}
	}
}
