package pbft_test

// Transcript tests (etcd raft's interaction tests, on the real kernel): each
// file under testdata/transcripts scripts a run step by step and records,
// after every command, what the run printed. The test replays the script and
// compares; `go test ./sim/pbft -run Transcript -update` rewrites the
// expected output instead.
//
// File format (a small equivalent of cockroachdb/datadriven): a command line,
// a line "----", the expected output, then a blank line. Lines starting with
// '#' between commands are comments. Commands:
//
//	new [n=4] [k=4] [L=8] [clients=1] [timeout=100ms] [delay=1ms] [variant=NAME] [closed=OP,OP...]
//	    start a run: n real replicas (pbft.NewReplica) and scripted clients
//	    (ids n, n+1, ...) on sim.New with a constant link delay. With
//	    closed, client n is instead a real closed-loop pbft.Client (the
//	    variant's reply rule, retransmission after 4*timeout) submitting
//	    those ops from time 0; it prints what it accepts, and submit and
//	    replies are for the scripted clients only.
//	submit [client=ID] [to=ID|all] [ts=T] op=OP
//	    the client signs a REQUEST (timestamp T, by default the next one;
//	    an old T replays a timestamp) and sends it; the kernel
//	    runs until the send has been made.
//	deliver [FROM->TO] [TYPE]
//	    the kernel runs, in its own order, up to and including the next
//	    delivery matching the pattern ('*' is any node); with no pattern,
//	    until no network message is in flight. Timers that fall due on the
//	    way fire (and are printed).
//	drop [FROM->TO] [TYPE]   from now on the network drops matching sends
//	duplicate [FROM->TO] [TYPE]
//	                         from now on the network delivers matching sends
//	                         twice (the copy is printed "duplicated")
//	heal                     removes every drop and duplicate rule
//	crash ID [kind=K] | recover ID
//	                         the kernel crashes (recovers) node ID now; K is
//	                         a sim.CrashKind (keep, amnesia, lose-unsynced,
//	                         wipe), applied to the replica's pbft.Store
//	inject FROM->TO TYPE v=V n=N [op=OP[,OP...]] [d=OP2] [client=ID] [ts=T] [rev=1] [rep=1] [forge=1]
//	                         Byzantine replica FROM sends TO, signed with
//	                         its own key, a forged PRE-PREPARE, PREPARE or
//	                         COMMIT for (V, N), or a CHECKPOINT for N (V
//	                         unused), or relays a client's REQUEST (the
//	                         batch's one request; V and N unused). The batch is one request per OP
//	                         (signed by the client, timestamps from T, by
//	                         default the client's next) or, without op,
//	                         the null batch; d=OP2 puts the digest of the
//	                         batch [OP2] in its place (a PRE-PREPARE whose
//	                         digest lies; a CHECKPOINT's state digest);
//	                         rev=1 sends the batch reversed under the
//	                         digest of its order; rep=1 sends it with its
//	                         last request replaced by its first, under the
//	                         digest of the batch (the digest is the one
//	                         the run's variant computes); forge=1 alters the first
//	                         request's op after the client signed it.
//	                         Drop and duplicate rules do not apply to an
//	                         injected message.
//	inject FROM->TO VIEW-CHANGE v=V
//	                         replica FROM sends TO a VIEW-CHANGE for view V
//	                         with no stable checkpoint and no prepared
//	                         certificate, signed with its own key.
//	inject FROM->CLIENT REPLY ts=T result=R [v=V]
//	                         replica FROM sends the client a forged REPLY.
//	inject FROM->TO NEW-VIEW v=V o=N:OP,N:OP... [ts=T]
//	                         the primary of view V sends a NEW-VIEW whose V
//	                         is the first 2f+1 VIEW-CHANGEs for V sent in
//	                         the run and whose O is the given PRE-PREPAREs
//	                         (OP null: the null request; the requests are
//	                         the first client's, timestamps T, T+1, ...),
//	                         signed by FROM.
//	inject FROM->TO STATE n=N [ops=OP,OP...] [proof=self] [replies=TS:RESULT]
//	                         replica FROM sends a STATE for checkpoint N
//	                         whose digest and 2f+1 CHECKPOINT proof are
//	                         the true ones (CHECKPOINTs for N sent so far
//	                         in the run) but whose snapshot is that of a
//	                         state machine that executed ops (default:
//	                         forged): a lying state-transfer responder;
//	                         with proof=self, the digest is the forged
//	                         state's and the proof FROM's own CHECKPOINT
//	                         for it (all a lone faulty replica can sign);
//	                         replies=TS:RESULT (with the true proof)
//	                         gives it the last-reply table {first
//	                         client: TS, RESULT}.
//	advance DURATION         the kernel runs until virtual time now+DURATION
//	state [ID...]            each replica's view, h, lastExec, view change, log
//	replies [client=ID]      the REPLYs the client received
//	expect ID key=value...   asserts replica fields (view, h, lastExec, vc,
//	                         log, state=DIGEST, digest-equal=ID,
//	                         digest-differs=ID) or, for the closed-loop
//	                         client, accepted=R1,R2... (the results it
//	                         accepted, in order, or none); a mismatch fails the
//	                         test even under -update
//
// The kernel offers no way to inject an input into a run in progress (a
// crash or a client send must be in its schedule when it is built). So a
// command that adds one (submit, crash, recover) rebuilds the run with the
// extended schedule (the new input 1ns after the current time) and replays
// it silently to the same number of events; the test checks that the
// replayed trace hash equals the original's, so the rebuild cannot hide a
// divergence. Drop rules are keyed by event count for the same reason.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

var txUpdate = flag.Bool("update", false, "rewrite the expected output of the transcripts under testdata/transcripts")

func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/transcripts/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no transcripts under testdata/transcripts")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) { txRunFile(t, f) })
	}
}

// TestTranscriptsCoverVariants checks that every broken variant has a
// transcript, variant_NAME.txt (dashes as underscores), that runs it.
func TestTranscriptsCoverVariants(t *testing.T) {
	for _, v := range pbft.Variants() {
		path := filepath.Join("testdata", "transcripts", "variant_"+strings.ReplaceAll(string(v.Name), "-", "_")+".txt")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("variant %s has no transcript: %v", v.Name, err)
			continue
		}
		if !bytes.Contains(b, []byte("variant="+string(v.Name)+"\n")) {
			t.Errorf("%s does not run variant=%s", path, v.Name)
		}
	}
}

// ---- the datadriven equivalent ----

// txCase is one command of a transcript with its expected output.
type txCase struct {
	pre      []string // comment and blank lines before the command
	line     int
	cmd      string
	expected string
}

func txParse(path string) ([]txCase, []string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	var cases []txCase
	var pre []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			pre = append(pre, l)
			continue
		}
		c := txCase{pre: pre, line: i + 1, cmd: l}
		pre = nil
		if i+1 >= len(lines) || lines[i+1] != "----" {
			return nil, nil, fmt.Errorf("%s:%d: command %q must be followed by a line \"----\"", path, i+1, l)
		}
		i += 2
		var out []string
		for ; i < len(lines) && lines[i] != ""; i++ {
			out = append(out, lines[i])
		}
		c.expected = strings.Join(out, "\n")
		cases = append(cases, c)
	}
	return cases, pre, nil
}

func txRunFile(t *testing.T, path string) {
	cases, trailer, err := txParse(path)
	if err != nil {
		t.Fatal(err)
	}
	x := &txRig{t: t}
	var rewritten bytes.Buffer
	for _, c := range cases {
		got, err := x.exec(c.cmd)
		if err != nil {
			t.Fatalf("%s:%d: %s: %v", path, c.line, c.cmd, err)
		}
		got = strings.TrimRight(got, "\n")
		if got == "" {
			got = "(no output)"
		}
		for _, p := range c.pre {
			rewritten.WriteString(p + "\n")
		}
		fmt.Fprintf(&rewritten, "%s\n----\n%s\n\n", c.cmd, got)
		if !*txUpdate && got != c.expected {
			t.Errorf("%s:%d: %s: output differs\n--- expected\n%s\n--- got\n%s", path, c.line, c.cmd, c.expected, got)
		}
	}
	for _, p := range trailer {
		if strings.TrimSpace(p) != "" {
			rewritten.WriteString(p + "\n")
		}
	}
	if *txUpdate {
		out := bytes.TrimRight(rewritten.Bytes(), "\n")
		out = append(out, '\n')
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, out, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
}

// txArgs splits "k=v" arguments from positional ones.
func txArgs(fields []string) (map[string]string, []string) {
	kv := map[string]string{}
	var pos []string
	for _, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok {
			kv[k] = v
		} else {
			pos = append(pos, f)
		}
	}
	return kv, pos
}

// ---- the rig: real replicas, scripted clients, the real kernel ----

// txSM is a tiny deterministic state machine: a hash chain over the ops.
type txSM struct {
	n     uint64
	chain [32]byte
}

func (s *txSM) Execute(op string) string {
	s.n++
	s.chain = sha256.Sum256(append(s.chain[:], op...))
	return fmt.Sprintf("%s#%d", op, s.n)
}
func (s *txSM) Digest() [32]byte         { return s.chain }
func (s *txSM) Freeze() pbft.Frozen      { return pbft.EncodedState(s.Snapshot()) }
func (s *txSM) Thaw(f pbft.Frozen) error { return s.Restore(f.Encode()) }
func (s *txSM) Snapshot() []byte {
	return append(binary.BigEndian.AppendUint64(nil, s.n), s.chain[:]...)
}
func (s *txSM) Restore(b []byte) error {
	if len(b) != 40 {
		return fmt.Errorf("txSM: snapshot of %d bytes, want 40", len(b))
	}
	s.n = binary.BigEndian.Uint64(b)
	copy(s.chain[:], b[8:])
	return nil
}

// txClient is a scripted client: at each scheduled time it sends a signed
// REQUEST; it records the REPLYs it receives.
type txClient struct {
	sends   []txSend
	replies []*pbft.Reply
}

type txSend struct {
	at  sim.Time
	to  []sim.NodeID
	req *pbft.Request
}

func (c *txClient) Start(now sim.Time, out *sim.Output) {
	for i, s := range c.sends {
		out.SetTimer(sim.TimerID(i+1), time.Duration(s.at-now))
	}
}

func (c *txClient) Step(now sim.Time, in sim.Input, out *sim.Output) {
	switch in.Kind {
	case sim.InputTimer:
		s := c.sends[in.Timer-1]
		for _, to := range s.to {
			out.Send(to, s.req)
		}
	case sim.InputMessage:
		if r, ok := in.Msg.(*pbft.Reply); ok {
			c.replies = append(c.replies, r)
		}
	}
}

// txDrop is a drop (or duplicate) rule, live for sends made while the kernel processes
// events after..until (until 0: not healed).
type txDrop struct {
	from, to    sim.NodeID // -1: any
	typ         string     // "": any
	after, upto uint64
}

func (d *txDrop) match(from, to sim.NodeID, m sim.Message) bool {
	return (d.from < 0 || d.from == from) && (d.to < 0 || d.to == to) && (d.typ == "" || d.typ == m.Type().String())
}

type txRig struct {
	t       *testing.T
	n, f    int
	clients int
	k, l    int
	timeout time.Duration
	delay   time.Duration
	variant pbft.Variant
	kr      *pbft.Keyring
	closed  []string // ops of the closed-loop client (nil: none)

	pcl      *pbft.Client
	accepted []string           // results the closed-loop client accepted
	ckpts    []*pbft.Checkpoint // CHECKPOINTs sent in the run, in order
	vcs      []*pbft.ViewChange // VIEW-CHANGEs sent in the run, in order

	// the schedule: what a rebuild must reproduce
	crashes []sim.Crash
	csends  [][]txSend // per client
	drops   []txDrop
	dups    []txDrop
	injects [][]txInject // per replica
	nextTS  []uint64

	kern     *sim.Kernel
	reps     []*pbft.Replica
	cls      []*txClient
	clock    sim.Time // the virtual time the transcript has reached
	replay   bool     // rebuilding: records are not printed
	out      *strings.Builder
	inFlight int
	matched  func(r *sim.Record) bool
	hit      bool
}

// Filter implements sim.Filter with the drop rules.
func (x *txRig) Filter(now sim.Time, from, to sim.NodeID, m sim.Message) sim.Verdict {
	if x.injected(from, m) {
		return sim.Verdict{}
	}
	ev := x.kern.Stats().Events
	for i := range x.drops {
		d := &x.drops[i]
		if ev > d.after && (d.upto == 0 || ev <= d.upto) && d.match(from, to, m) {
			return sim.Verdict{Drop: true}
		}
	}
	for i := range x.dups {
		d := &x.dups[i]
		if ev > d.after && (d.upto == 0 || ev <= d.upto) && d.match(from, to, m) {
			return sim.Verdict{Duplicate: true}
		}
	}
	return sim.Verdict{}
}

// Record implements sim.Sink: it prints deliveries, drops, timers, events,
// crashes and recoveries, and counts network messages in flight.
func (x *txRig) Record(r *sim.Record) {
	switch r.Kind {
	case sim.RecSend, sim.RecDuplicate:
		x.inFlight++
	case sim.RecDeliver:
		x.inFlight--
	case sim.RecDrop:
		if r.From != r.To { // a dropped local message was never in flight
			x.inFlight--
		}
	}
	if x.matched != nil && x.matched(r) {
		x.hit = true
	}
	if a, ok := r.Event.(*pbft.Accepted); ok && r.Kind == sim.RecEvent {
		x.accepted = append(x.accepted, a.Result)
	}
	if c, ok := r.Msg.(*pbft.Checkpoint); ok && r.Kind == sim.RecSend {
		x.ckpts = append(x.ckpts, c)
	}
	if c, ok := r.Msg.(*pbft.ViewChange); ok && r.Kind == sim.RecSend {
		x.vcs = append(x.vcs, c)
	}
	if x.replay || x.out == nil {
		return
	}
	at := fmt.Sprintf("%-10s", r.Time.Duration().String())
	switch r.Kind {
	case sim.RecDeliver, sim.RecLocal:
		fmt.Fprintf(x.out, "%s %s->%s %s\n", at, x.name(r.From), x.name(r.To), txMsg(r.Msg))
	case sim.RecDrop:
		why := map[sim.DropReason]string{sim.DropFilter: "dropped", sim.DropCrashed: "dropped (receiver down)",
			sim.DropPartition: "dropped (partition)", sim.DropRandom: "dropped (random)"}[r.Reason]
		fmt.Fprintf(x.out, "%s %s->%s %s %s\n", at, x.name(r.From), x.name(r.To), txMsg(r.Msg), why)
	case sim.RecDuplicate:
		fmt.Fprintf(x.out, "%s %s->%s %s duplicated\n", at, x.name(r.From), x.name(r.To), txMsg(r.Msg))
	case sim.RecTimer:
		if int(r.To) < x.n && r.Timer < txInjectTimer {
			fmt.Fprintf(x.out, "%s %s timer %d fired\n", at, x.name(r.To), r.Timer)
		}
	case sim.RecEvent:
		if s := txEvent(r.Event); s != "" {
			fmt.Fprintf(x.out, "%s %s %s\n", at, x.name(r.From), s)
		}
	case sim.RecCrash:
		fmt.Fprintf(x.out, "%s %s crashed\n", at, x.name(r.From))
	case sim.RecRecover:
		fmt.Fprintf(x.out, "%s %s recovered\n", at, x.name(r.From))
	}
}

func (x *txRig) name(id sim.NodeID) string {
	if int(id) < x.n {
		return fmt.Sprintf("r%d", id)
	}
	return fmt.Sprintf("c%d", id)
}

func txMsg(m sim.Message) string {
	switch m := m.(type) {
	case *pbft.Request:
		return fmt.Sprintf("REQUEST c%d ts=%d op=%s", m.Client, m.Timestamp, m.Op)
	case *pbft.PrePrepare:
		ops := make([]string, len(m.Batch))
		for i, q := range m.Batch {
			ops[i] = q.Op
		}
		b := "null"
		if len(ops) > 0 {
			b = strings.Join(ops, ",")
		}
		return fmt.Sprintf("PRE-PREPARE v=%d n=%d d=%v [%s]", m.View, m.Seq, m.Digest, b)
	case *pbft.Prepare:
		return fmt.Sprintf("PREPARE v=%d n=%d d=%v", m.View, m.Seq, m.Digest)
	case *pbft.Commit:
		return fmt.Sprintf("COMMIT v=%d n=%d d=%v", m.View, m.Seq, m.Digest)
	case *pbft.Reply:
		return fmt.Sprintf("REPLY v=%d ts=%d result=%s", m.View, m.Timestamp, m.Result)
	case *pbft.Checkpoint:
		return fmt.Sprintf("CHECKPOINT n=%d d=%v", m.Seq, m.StateDigest)
	case *pbft.ViewChange:
		var p []string
		for _, c := range m.Prepared {
			if c.PrePrepare != nil {
				p = append(p, fmt.Sprintf("%d@v%d", c.PrePrepare.Seq, c.PrePrepare.View))
			}
		}
		return fmt.Sprintf("VIEW-CHANGE v=%d h=%d P=[%s]", m.NewView, m.StableSeq, strings.Join(p, " "))
	case *pbft.NewView:
		var o []string
		for _, pp := range m.PrePrepares {
			s := "null"
			if len(pp.Batch) > 0 {
				s = pp.Batch[0].Op
			}
			o = append(o, fmt.Sprintf("%d:%s", pp.Seq, s))
		}
		return fmt.Sprintf("NEW-VIEW v=%d |V|=%d O=[%s]", m.View, len(m.ViewChanges), strings.Join(o, " "))
	case *pbft.FetchState:
		return fmt.Sprintf("FETCH-STATE n=%d v=%d", m.Seq, m.View)
	case *pbft.State:
		return fmt.Sprintf("STATE n=%d d=%v", m.Seq, m.StateDigest)
	}
	return m.Type().String()
}

func txEvent(e sim.Event) string {
	switch e := e.(type) {
	case *pbft.Executed:
		if e.Null {
			return fmt.Sprintf("executed n=%d null", e.Seq)
		}
		return fmt.Sprintf("executed n=%d op=%s result=%s", e.Seq, e.Op, e.Result)
	case *pbft.StableCheckpoint:
		return fmt.Sprintf("checkpoint n=%d stable", e.Seq)
	case *pbft.ViewChangeStarted:
		return fmt.Sprintf("view change %d->%d", e.From, e.To)
	case *pbft.NewViewEntered:
		return fmt.Sprintf("entered view %d", e.View)
	case *pbft.StateTransferred:
		return fmt.Sprintf("state transferred n=%d", e.Seq)
	case *pbft.BadState:
		return fmt.Sprintf("bad STATE from r%d n=%d", e.From, e.Seq)
	case *pbft.Accepted:
		return fmt.Sprintf("accepted ts=%d op=%s result=%s from %v", e.Timestamp, e.Op, e.Result, e.Replicas)
	}
	return "" // prepared, committed, probes: visible in the messages
}

func (x *txRig) node(s string) (sim.NodeID, error) {
	s = strings.TrimLeft(s, "rc")
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 || v >= x.n+x.clients {
		return 0, fmt.Errorf("node %q: want an id in 0..%d", s, x.n+x.clients-1)
	}
	return sim.NodeID(v), nil
}

// build makes a fresh run from the schedule and replays it to events
// events, checking that it reaches the same trace hash.
func (x *txRig) build(events uint64, hash uint64) error {
	x.reps = nil
	x.cls = nil
	nodes := make([]sim.Node, 0, x.n+x.clients)
	for i := 0; i < x.n; i++ {
		r, err := pbft.NewReplica(pbft.Config{ID: sim.NodeID(i), N: x.n, F: x.f, CheckpointInterval: x.k,
			Window: x.l, Batch: 1, ViewChangeTimeout: x.timeout, Keyring: x.kr, SM: &txSM{}, Variant: x.variant,
			Store: pbft.NewStore()})
		if err != nil {
			return err
		}
		x.reps = append(x.reps, r)
		nodes = append(nodes, &txByz{Node: r, sends: x.injects[i]})
	}
	x.pcl, x.accepted, x.ckpts, x.vcs = nil, nil, nil, nil
	for c := 0; c < x.clients; c++ {
		cl := &txClient{sends: x.csends[c]}
		x.cls = append(x.cls, cl)
		if c == 0 && x.closed != nil {
			pc, err := pbft.NewClient(pbft.ClientConfig{ID: sim.NodeID(x.n), N: x.n, F: x.f, Ops: x.closed,
				Timeout: 4 * x.timeout, Variant: x.variant, Keyring: x.kr})
			if err != nil {
				return err
			}
			x.pcl = pc
			nodes = append(nodes, pc)
			continue
		}
		nodes = append(nodes, cl)
	}
	k, err := sim.New(sim.Config{Seed: 1, Nodes: nodes, Crashes: x.crashes,
		Network: sim.NetworkConfig{Default: sim.LinkConfig{Delay: sim.Delay{Kind: sim.DelayConst, Min: x.delay}},
			Filters: []sim.Filter{x}},
		Sinks: []sim.Sink{x}})
	if err != nil {
		return err
	}
	x.kern = k
	x.inFlight = 0
	x.replay = true
	for k.Stats().Events < events && k.Step() {
	}
	x.replay = false
	if events > 0 && (k.Stats().Events != events || k.Stats().TraceHash != hash) {
		return fmt.Errorf("rebuild diverged: %d events hash %x, want %d events hash %x",
			k.Stats().Events, k.Stats().TraceHash, events, hash)
	}
	return nil
}

// rebuild replays the run with the current schedule.
func (x *txRig) rebuild() error {
	return x.build(x.kern.Stats().Events, x.kern.Stats().TraceHash)
}

// stepUntil runs the kernel until done (checked after every event) or
// until the next event lies beyond limit.
func (x *txRig) stepUntil(limit sim.Time, done func() bool) bool {
	x.kern.SetMaxTime(limit)
	defer x.kern.SetMaxTime(0)
	for x.kern.Step() {
		x.clock = max(x.clock, x.kern.Now())
		if done() {
			return true
		}
	}
	if err := x.kern.Err(); err != nil {
		x.t.Fatal(err)
	}
	return false
}

func (x *txRig) exec(cmd string) (string, error) {
	fields := strings.Fields(cmd)
	kv, pos := txArgs(fields[1:])
	var b strings.Builder
	x.out = &b
	defer func() { x.out = nil }()
	if fields[0] != "new" && x.kern == nil {
		return "", fmt.Errorf("no run: start with \"new\"")
	}
	switch fields[0] {
	case "new":
		return x.cmdNew(kv)
	case "submit":
		return x.cmdSubmit(kv, &b)
	case "deliver":
		return x.cmdDeliver(pos, &b)
	case "drop":
		from, to, typ, err := x.pattern(pos)
		if err != nil {
			return "", err
		}
		x.drops = append(x.drops, txDrop{from: from, to: to, typ: typ, after: x.kern.Stats().Events})
		return "", nil
	case "duplicate":
		from, to, typ, err := x.pattern(pos)
		if err != nil {
			return "", err
		}
		x.dups = append(x.dups, txDrop{from: from, to: to, typ: typ, after: x.kern.Stats().Events})
		return "", nil
	case "heal":
		for _, rules := range [][]txDrop{x.drops, x.dups} {
			for i := range rules {
				if rules[i].upto == 0 {
					rules[i].upto = x.kern.Stats().Events
				}
			}
		}
		return "", nil
	case "inject":
		return x.cmdInject(pos, kv, &b)
	case "crash", "recover":
		if len(pos) != 1 {
			return "", fmt.Errorf("%s: want one node id", fields[0])
		}
		id, err := x.node(pos[0])
		if err != nil {
			return "", err
		}
		at := x.clock + 1
		kind := sim.RecCrash
		if fields[0] == "crash" {
			ck, err := sim.ParseCrashKind("kind", kv["kind"])
			if err != nil {
				return "", fmt.Errorf("crash: %v", err)
			}
			if ck != sim.CrashKeep && int(id) >= x.n {
				return "", fmt.Errorf("crash: kind=%s needs a replica (clients have no store)", ck)
			}
			x.crashes = append(x.crashes, sim.Crash{Node: id, At: at, Kind: ck})
		} else {
			i := slices.IndexFunc(x.crashes, func(c sim.Crash) bool { return c.Node == id && c.Recover == 0 })
			if i < 0 {
				return "", fmt.Errorf("recover: node %d is not crashed", id)
			}
			x.crashes[i].Recover = at
			kind = sim.RecRecover
		}
		if err := x.rebuild(); err != nil {
			return "", err
		}
		x.hit = false
		x.matched = func(r *sim.Record) bool { return r.Kind == kind && r.From == id }
		defer func() { x.matched = nil }()
		if !x.stepUntil(0, func() bool { return x.hit }) {
			return "", fmt.Errorf("%s %d did not happen", fields[0], id)
		}
		return b.String(), nil
	case "advance":
		if len(pos) != 1 {
			return "", fmt.Errorf("advance: want a duration")
		}
		d, err := time.ParseDuration(pos[0])
		if err != nil {
			return "", fmt.Errorf("advance: %v", err)
		}
		x.clock += sim.Time(d)
		x.stepUntil(x.clock, func() bool { return false })
		return b.String(), nil
	case "state":
		ids := pos
		if len(ids) == 0 {
			for i := 0; i < x.n; i++ {
				ids = append(ids, strconv.Itoa(i))
			}
		}
		for _, s := range ids {
			id, err := x.node(s)
			if err != nil || int(id) >= x.n {
				return "", fmt.Errorf("state: %q is not a replica", s)
			}
			b.WriteString(x.stateLine(id) + "\n")
		}
		return b.String(), nil
	case "replies":
		for c, cl := range x.cls {
			for _, r := range cl.replies {
				fmt.Fprintf(&b, "c%d <- r%d v=%d ts=%d result=%s\n", x.n+c, r.Replica, r.View, r.Timestamp, r.Result)
			}
		}
		return b.String(), nil
	case "expect":
		return x.cmdExpect(pos, kv)
	}
	return "", fmt.Errorf("unknown command %q", fields[0])
}

func (x *txRig) stateLine(id sim.NodeID) string {
	r := x.reps[id]
	s := fmt.Sprintf("r%d: view=%d h=%d lastExec=%d vc=%v log=%d state=%v", id, r.View(), r.StableCheckpoint(),
		r.LastExecuted(), r.InViewChange(), r.LogSize(), r.StateDigest())
	if x.kern.Down(id) {
		s += " DOWN"
	}
	return s
}

func (x *txRig) cmdNew(kv map[string]string) (string, error) {
	*x = txRig{t: x.t, n: 4, clients: 1, k: 4, timeout: 100 * time.Millisecond, delay: time.Millisecond}
	for key, v := range kv {
		var err error
		switch key {
		case "n":
			x.n, err = strconv.Atoi(v)
		case "clients":
			x.clients, err = strconv.Atoi(v)
		case "k":
			x.k, err = strconv.Atoi(v)
		case "L":
			x.l, err = strconv.Atoi(v)
		case "timeout":
			x.timeout, err = time.ParseDuration(v)
		case "delay":
			x.delay, err = time.ParseDuration(v)
		case "variant":
			x.variant, err = pbft.ParseVariant(v)
		case "closed":
			x.closed = strings.Split(v, ",")
		default:
			err = fmt.Errorf("unknown argument (want n, clients, k, L, timeout, delay, variant, closed)")
		}
		if err != nil {
			return "", fmt.Errorf("new: %s=%s: %v", key, v, err)
		}
	}
	if x.l == 0 {
		x.l = 2 * x.k
	}
	x.f = (x.n - 1) / 3
	x.kr = pbft.NewKeyring(7, x.n+x.clients)
	x.csends = make([][]txSend, x.clients)
	x.nextTS = make([]uint64, x.clients)
	x.injects = make([][]txInject, x.n)
	if err := x.build(0, 0); err != nil {
		return "", err
	}
	v := string(x.variant)
	if v == "" {
		v = "correct"
	}
	s := fmt.Sprintf("n=%d f=%d k=%d L=%d clients=%d timeout=%v delay=%v variant=%s",
		x.n, x.f, x.k, x.l, x.clients, x.timeout, x.delay, v)
	if x.closed != nil {
		s += fmt.Sprintf(" closed=c%d:%s", x.n, strings.Join(x.closed, ","))
	}
	return s, nil
}

func (x *txRig) cmdSubmit(kv map[string]string, b *strings.Builder) (string, error) {
	c := sim.NodeID(x.n)
	if s, ok := kv["client"]; ok {
		id, err := x.node(s)
		if err != nil || int(id) < x.n {
			return "", fmt.Errorf("submit: client=%s is not a client id", s)
		}
		c = id
	}
	op, ok := kv["op"]
	if !ok {
		return "", fmt.Errorf("submit: want op=OP")
	}
	var to []sim.NodeID
	switch s := kv["to"]; s {
	case "all":
		for i := 0; i < x.n; i++ {
			to = append(to, sim.NodeID(i))
		}
	case "":
		to = []sim.NodeID{0}
	default:
		id, err := x.node(s)
		if err != nil || int(id) >= x.n {
			return "", fmt.Errorf("submit: to=%s is not a replica or all", s)
		}
		to = []sim.NodeID{id}
	}
	ci := int(c) - x.n
	if ci == 0 && x.pcl != nil {
		return "", fmt.Errorf("submit: c%d is the closed-loop client (closed=...): it submits its own ops", c)
	}
	ts := x.nextTS[ci] + 1
	if v, ok := kv["ts"]; ok {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			return "", fmt.Errorf("submit: ts=%s: want a timestamp above 0", v)
		}
		ts = n
	}
	x.nextTS[ci] = max(x.nextTS[ci], ts)
	q := &pbft.Request{Op: op, Timestamp: ts, Client: c}
	q.Sig = x.kr.Signer(c).Sign(q)
	x.csends[ci] = append(x.csends[ci], txSend{at: x.clock + 1, to: to, req: q})
	if err := x.rebuild(); err != nil {
		return "", err
	}
	id := sim.TimerID(len(x.csends[ci]))
	x.hit = false
	x.matched = func(r *sim.Record) bool { return r.Kind == sim.RecTimer && r.To == c && r.Timer == id }
	defer func() { x.matched = nil }()
	if !x.stepUntil(0, func() bool { return x.hit }) {
		return "", fmt.Errorf("submit: the client's send did not happen")
	}
	fmt.Fprintf(b, "%-10s c%d sent REQUEST ts=%d op=%s to %v\n", x.kern.Now().Duration().String(), c, q.Timestamp, op, to)
	return b.String(), nil
}

// pattern parses [FROM->TO] [TYPE].
func (x *txRig) pattern(pos []string) (from, to sim.NodeID, typ string, err error) {
	from, to = -1, -1
	for _, p := range pos {
		if a, c, ok := strings.Cut(p, "->"); ok {
			if a != "*" {
				if from, err = x.node(a); err != nil {
					return
				}
			}
			if c != "*" {
				if to, err = x.node(c); err != nil {
					return
				}
			}
			continue
		}
		if _, ok := pbft.Protocol.Lookup(p); !ok {
			err = fmt.Errorf("message type %q: want one of %v", p, pbft.Protocol.Types())
			return
		}
		typ = p
	}
	return
}

func (x *txRig) cmdDeliver(pos []string, b *strings.Builder) (string, error) {
	if len(pos) == 0 {
		if x.inFlight == 0 {
			return "(nothing in flight)", nil
		}
		if !x.stepUntil(0, func() bool { return x.inFlight == 0 }) {
			return "", fmt.Errorf("deliver: the run ended with %d messages in flight", x.inFlight)
		}
		return b.String(), nil
	}
	from, to, typ, err := x.pattern(pos)
	if err != nil {
		return "", err
	}
	d := txDrop{from: from, to: to, typ: typ}
	x.hit = false
	x.matched = func(r *sim.Record) bool {
		return (r.Kind == sim.RecDeliver || r.Kind == sim.RecLocal) && d.match(r.From, r.To, r.Msg)
	}
	defer func() { x.matched = nil }()
	// A matching message is at most one link delay away unless it is yet
	// to be sent; a second of virtual time bounds the search.
	if !x.stepUntil(x.clock+sim.Time(time.Second), func() bool { return x.hit }) {
		return "", fmt.Errorf("deliver: no matching delivery within 1s of virtual time; printed so far:\n%s", b.String())
	}
	return b.String(), nil
}

func (x *txRig) cmdExpect(pos []string, kv map[string]string) (string, error) {
	if len(pos) != 1 {
		return "", fmt.Errorf("expect: want one replica id")
	}
	id, err := x.node(pos[0])
	if err == nil && int(id) == x.n && x.pcl != nil {
		got := strings.Join(x.accepted, ",")
		if got == "" {
			got = "none"
		}
		if len(kv) != 1 || kv["accepted"] == "" {
			return "", fmt.Errorf("expect: for the closed-loop client c%d want accepted=R1,R2... or accepted=none", id)
		}
		if got != kv["accepted"] {
			x.t.Errorf("expect c%d: accepted: got %s, want %s", id, got, kv["accepted"])
			return fmt.Sprintf("MISMATCH c%d: accepted: got %s, want %s", id, got, kv["accepted"]), nil
		}
		return fmt.Sprintf("checked c%d: accepted", id), nil
	}
	if err != nil || int(id) >= x.n {
		return "", fmt.Errorf("expect: %q is not a replica", pos[0])
	}
	r := x.reps[id]
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var bad []string
	for _, key := range keys {
		want := kv[key]
		var got string
		switch key {
		case "view":
			got = strconv.FormatUint(r.View(), 10)
		case "h":
			got = strconv.FormatUint(r.StableCheckpoint(), 10)
		case "lastExec":
			got = strconv.FormatUint(r.LastExecuted(), 10)
		case "vc":
			got = strconv.FormatBool(r.InViewChange())
		case "log":
			got = strconv.Itoa(r.LogSize())
		case "state":
			got = r.StateDigest().String()
		case "digest-equal", "digest-differs":
			o, err := x.node(want)
			if err != nil || int(o) >= x.n {
				return "", fmt.Errorf("expect: %s=%s is not a replica", key, want)
			}
			eq := r.StateDigest() == x.reps[o].StateDigest()
			got, want = strconv.FormatBool(eq), strconv.FormatBool(key == "digest-equal")
		default:
			return "", fmt.Errorf("expect: unknown field %q (want view, h, lastExec, vc, log, state, digest-equal, digest-differs)", key)
		}
		if got != want {
			bad = append(bad, fmt.Sprintf("%s: got %s, want %s", key, got, want))
		}
	}
	if len(bad) > 0 {
		x.t.Errorf("expect r%d: %s", id, strings.Join(bad, "; "))
		return "MISMATCH r" + strconv.Itoa(int(id)) + ": " + strings.Join(bad, "; "), nil
	}
	return fmt.Sprintf("checked r%d: %s", id, strings.Join(keys, " ")), nil
}

// TestTranscriptRebuildCheck shows that the replay check of a rebuild can
// fail: a schedule changed in the past (a crash at 1ns, before events the
// run already processed) does not reach the recorded trace hash.
func TestTranscriptRebuildCheck(t *testing.T) {
	x := &txRig{t: t}
	for _, c := range []string{"new n=4", "submit op=a", "deliver"} {
		if _, err := x.exec(c); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
	}
	if err := x.rebuild(); err != nil {
		t.Fatalf("an unchanged schedule must replay: %v", err)
	}
	x.crashes = append(x.crashes, sim.Crash{Node: 1, At: 1})
	err := x.rebuild()
	if err == nil || !strings.Contains(err.Error(), "rebuild diverged") {
		t.Fatalf("a schedule changed in the past replayed without error (err %v)", err)
	}
}

// txInjectTimer is the first timer id of a txByz's own sends, far above
// any timer id a replica uses.
const txInjectTimer sim.TimerID = 1 << 48

// txInject is a message a Byzantine replica sends at a scheduled time.
type txInject struct {
	at sim.Time
	to sim.NodeID
	m  sim.Message
}

// txByz wraps a replica: it forwards every input to it and, at the times
// of its scheduled sends, sends a forged message in the replica's name.
type txByz struct {
	sim.Node
	sends []txInject
}

func (b *txByz) Start(now sim.Time, out *sim.Output) {
	b.Node.Start(now, out)
	for i, s := range b.sends {
		if s.at < now {
			continue
		}
		out.SetTimer(txInjectTimer+sim.TimerID(i), time.Duration(s.at-now))
	}
}

func (b *txByz) Step(now sim.Time, in sim.Input, out *sim.Output) {
	if in.Kind == sim.InputTimer && in.Timer >= txInjectTimer {
		s := b.sends[in.Timer-txInjectTimer]
		out.Send(s.to, s.m)
		return
	}
	b.Node.Step(now, in, out)
}

func (x *txRig) cmdInject(pos []string, kv map[string]string, b *strings.Builder) (string, error) {
	if len(pos) != 2 || !strings.Contains(pos[0], "->") {
		return "", fmt.Errorf("inject: want FROM->TO TYPE v=V n=N [op=OP] [d=OP2] [client=ID] [ts=T]")
	}
	from, to, typ, err := x.pattern(pos)
	if err != nil {
		return "", err
	}
	if from < 0 || to < 0 || int(from) >= x.n {
		return "", fmt.Errorf("inject: %s: want a replica sender and one receiver (no '*')", pos[0])
	}
	if typ != "REPLY" && int(to) >= x.n {
		return "", fmt.Errorf("inject: a %s goes to a replica, not c%d", typ, to)
	}
	if typ == "REPLY" {
		return x.injectReply(from, to, kv, b)
	}
	if typ == "STATE" {
		return x.injectState(from, to, kv, b)
	}
	if typ == "NEW-VIEW" {
		return x.injectNewView(from, to, kv, b)
	}
	if typ == "VIEW-CHANGE" {
		v, err := strconv.ParseUint(kv["v"], 10, 64)
		if err != nil {
			return "", fmt.Errorf("inject: VIEW-CHANGE wants v=NUMBER (got %q)", kv["v"])
		}
		vc := &pbft.ViewChange{NewView: v, Replica: from}
		vc.Sig = x.kr.Signer(from).Sign(vc)
		return x.injectSend(from, to, vc, b)
	}
	num := func(key string) (uint64, error) {
		v, ok := kv[key]
		if !ok {
			return 0, fmt.Errorf("inject: want %s=NUMBER", key)
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("inject: %s=%s: want a number", key, v)
		}
		return n, nil
	}
	view, err := num("v")
	if err != nil {
		return "", err
	}
	seq, err := num("n")
	if err != nil {
		return "", err
	}
	c := sim.NodeID(x.n)
	if s, ok := kv["client"]; ok {
		id, err := x.node(s)
		if err != nil || int(id) < x.n {
			return "", fmt.Errorf("inject: client=%s is not a client id", s)
		}
		c = id
	}
	ci := int(c) - x.n
	req := func(op string, ts uint64) *pbft.Request {
		q := &pbft.Request{Op: op, Timestamp: ts, Client: c}
		q.Sig = x.kr.Signer(c).Sign(q)
		return q
	}
	var batch []*pbft.Request
	if op, ok := kv["op"]; ok {
		ts := x.nextTS[ci] + 1
		if v, ok := kv["ts"]; ok {
			if ts, err = strconv.ParseUint(v, 10, 64); err != nil || ts == 0 {
				return "", fmt.Errorf("inject: ts=%s: want a timestamp above 0", v)
			}
		}
		for _, o := range strings.Split(op, ",") {
			batch = append(batch, req(o, ts))
			x.nextTS[ci] = max(x.nextTS[ci], ts)
			ts++
		}
	}
	if kv["forge"] == "1" && len(batch) > 0 {
		// the first request's op altered after the client signed it
		forged := *batch[0]
		forged.Op += "'"
		batch[0] = &forged
	}
	d := pbft.VariantBatchDigest(x.variant, batch)
	if kv["rev"] == "1" {
		// sent reversed under the digest of the batch in its order
		batch = slices.Clone(batch)
		slices.Reverse(batch)
	}
	if kv["rep"] == "1" && len(batch) > 1 {
		// sent with its last request replaced by its first
		batch = append(slices.Clone(batch[:len(batch)-1]), batch[0])
	}
	if op2, ok := kv["d"]; ok {
		ts := uint64(1)
		if len(batch) > 0 {
			ts = batch[0].Timestamp
		}
		d = pbft.VariantBatchDigest(x.variant, []*pbft.Request{req(op2, ts)})
	}
	signer := x.kr.Signer(from)
	var m sim.Message
	switch typ {
	case "PRE-PREPARE":
		pp := &pbft.PrePrepare{View: view, Seq: seq, Digest: d, Batch: batch, Replica: from}
		pp.Sig = signer.Sign(pp)
		m = pp
	case "PREPARE":
		p := &pbft.Prepare{View: view, Seq: seq, Digest: d, Replica: from}
		p.Sig = signer.Sign(p)
		m = p
	case "COMMIT":
		p := &pbft.Commit{View: view, Seq: seq, Digest: d, Replica: from}
		p.Sig = signer.Sign(p)
		m = p
	case "CHECKPOINT":
		p := &pbft.Checkpoint{Seq: seq, StateDigest: d, Replica: from}
		p.Sig = signer.Sign(p)
		m = p
	case "REQUEST":
		if len(batch) != 1 {
			return "", fmt.Errorf("inject: a REQUEST relays one op (got %d)", len(batch))
		}
		m = batch[0]
	default:
		return "", fmt.Errorf("inject: type %q: want PRE-PREPARE, PREPARE, COMMIT, CHECKPOINT or REQUEST", typ)
	}
	return x.injectSend(from, to, m, b)
}

func (x *txRig) injectReply(from, to sim.NodeID, kv map[string]string, b *strings.Builder) (string, error) {
	if int(to) < x.n {
		return "", fmt.Errorf("inject: a REPLY goes to a client, not r%d", to)
	}
	ts, err := strconv.ParseUint(kv["ts"], 10, 64)
	if err != nil {
		return "", fmt.Errorf("inject: REPLY wants ts=NUMBER (got %q)", kv["ts"])
	}
	res, ok := kv["result"]
	if !ok {
		return "", fmt.Errorf("inject: REPLY wants result=R")
	}
	var view uint64
	if v, ok := kv["v"]; ok {
		if view, err = strconv.ParseUint(v, 10, 64); err != nil {
			return "", fmt.Errorf("inject: v=%s: want a number", v)
		}
	}
	return x.injectSend(from, to, &pbft.Reply{View: view, Timestamp: ts, Client: to, Replica: from, Result: res}, b)
}

// injected reports whether m is a message a txByz sends for replica from.
func (x *txRig) injected(from sim.NodeID, m sim.Message) bool {
	if int(from) >= x.n {
		return false
	}
	for _, s := range x.injects[from] {
		if s.m == m {
			return true
		}
	}
	return false
}

func (x *txRig) injectNewView(from, to sim.NodeID, kv map[string]string, b *strings.Builder) (string, error) {
	view, err := strconv.ParseUint(kv["v"], 10, 64)
	if err != nil {
		return "", fmt.Errorf("inject: NEW-VIEW wants v=NUMBER (got %q)", kv["v"])
	}
	if view%uint64(x.n) != uint64(from) {
		return "", fmt.Errorf("inject: r%d is not the primary of view %d", from, view)
	}
	nv := &pbft.NewView{View: view, Replica: from}
	for _, vc := range x.vcs {
		if vc.NewView == view && len(nv.ViewChanges) < 2*x.f+1 &&
			!slices.ContainsFunc(nv.ViewChanges, func(o *pbft.ViewChange) bool { return o.Replica == vc.Replica }) {
			nv.ViewChanges = append(nv.ViewChanges, vc)
		}
	}
	if len(nv.ViewChanges) < 2*x.f+1 {
		return "", fmt.Errorf("inject: NEW-VIEW v=%d: the run has sent VIEW-CHANGEs of %d replicas for it, want %d", view, len(nv.ViewChanges), 2*x.f+1)
	}
	c := sim.NodeID(x.n)
	signer := x.kr.Signer(from)
	var ts uint64 // 0: the client's next timestamps
	if v, ok := kv["ts"]; ok {
		if ts, err = strconv.ParseUint(v, 10, 64); err != nil || ts == 0 {
			return "", fmt.Errorf("inject: ts=%s: want a timestamp above 0", v)
		}
	}
	if o := kv["o"]; o != "" {
		for _, e := range strings.Split(o, ",") {
			ns, op, ok := strings.Cut(e, ":")
			seq, err := strconv.ParseUint(ns, 10, 64)
			if !ok || err != nil {
				return "", fmt.Errorf("inject: o=%s: want N:OP,N:OP...", o)
			}
			var batch []*pbft.Request
			if op != "null" {
				if ts == 0 {
					x.nextTS[0]++
					ts = x.nextTS[0]
				} else {
					x.nextTS[0] = max(x.nextTS[0], ts)
				}
				q := &pbft.Request{Op: op, Timestamp: ts, Client: c}
				ts++
				q.Sig = x.kr.Signer(c).Sign(q)
				batch = []*pbft.Request{q}
			}
			pp := &pbft.PrePrepare{View: view, Seq: seq, Digest: pbft.BatchDigest(batch), Batch: batch, Replica: from}
			pp.Sig = signer.Sign(pp)
			nv.PrePrepares = append(nv.PrePrepares, pp)
		}
	}
	nv.Sig = signer.Sign(nv)
	return x.injectSend(from, to, nv, b)
}

func (x *txRig) injectState(from, to sim.NodeID, kv map[string]string, b *strings.Builder) (string, error) {
	seq, err := strconv.ParseUint(kv["n"], 10, 64)
	if err != nil {
		return "", fmt.Errorf("inject: STATE wants n=NUMBER (got %q)", kv["n"])
	}
	ops := []string{"forged"}
	if v, ok := kv["ops"]; ok {
		ops = strings.Split(v, ",")
	}
	sm := &txSM{}
	for _, op := range ops {
		sm.Execute(op)
	}
	if p, ok := kv["proof"]; ok {
		if p != "self" {
			return "", fmt.Errorf("inject: STATE proof=%s: want proof=self", p)
		}
		d := pbft.StateDigestOf(sm, nil)
		own := &pbft.Checkpoint{Seq: seq, StateDigest: d, Replica: from}
		own.Sig = x.kr.Signer(from).Sign(own)
		st := &pbft.State{Seq: seq, StateDigest: d, Snapshot: sm.Snapshot(), Proof: []*pbft.Checkpoint{own}, Replica: from}
		return x.injectSend(from, to, st, b)
	}
	// the proof: the first 2f+1 CHECKPOINTs for seq, from distinct
	// replicas, with the digest of the first one sent
	var proof []*pbft.Checkpoint
	for _, c := range x.ckpts {
		if c.Seq != seq || (len(proof) > 0 && c.StateDigest != proof[0].StateDigest) ||
			slices.ContainsFunc(proof, func(o *pbft.Checkpoint) bool { return o.Replica == c.Replica }) {
			continue
		}
		proof = append(proof, c)
	}
	if len(proof) < 2*x.f+1 {
		return "", fmt.Errorf("inject: STATE n=%d: the run has sent %d matching CHECKPOINTs for it, want %d", seq, len(proof), 2*x.f+1)
	}
	proof = proof[:2*x.f+1]
	st := &pbft.State{Seq: seq, StateDigest: proof[0].StateDigest, Snapshot: sm.Snapshot(), Proof: proof, Replica: from}
	if v, ok := kv["replies"]; ok {
		// a last-reply table of the first client: TS:RESULT
		tsText, result, ok := strings.Cut(v, ":")
		ts, err := strconv.ParseUint(tsText, 10, 64)
		if !ok || err != nil {
			return "", fmt.Errorf("inject: STATE replies=%s: want TS:RESULT", v)
		}
		st.LastReplies = []pbft.Reply{{Timestamp: ts, Client: sim.NodeID(x.n), Replica: from, Result: result}}
	}
	return x.injectSend(from, to, st, b)
}

// injectSend schedules replica from's send of m to to now, rebuilds and
// runs until it is made.
func (x *txRig) injectSend(from, to sim.NodeID, m sim.Message, b *strings.Builder) (string, error) {
	x.injects[from] = append(x.injects[from], txInject{at: x.clock + 1, to: to, m: m})
	if err := x.rebuild(); err != nil {
		return "", err
	}
	id := txInjectTimer + sim.TimerID(len(x.injects[from])-1)
	x.hit = false
	x.matched = func(r *sim.Record) bool { return r.Kind == sim.RecTimer && r.To == from && r.Timer == id }
	defer func() { x.matched = nil }()
	if !x.stepUntil(0, func() bool { return x.hit }) {
		return "", fmt.Errorf("inject: the send did not happen (is %s down?)", x.name(from))
	}
	fmt.Fprintf(b, "%-10s %s injected %s to %s\n", x.kern.Now().Duration().String(), x.name(from), txMsg(m), x.name(to))
	return b.String(), nil
}
