package pbft

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pbftsim/pbftsim/sim"
)

// ReplicaState is a read-only snapshot of one replica's protocol state, as
// returned by Replica.Inspect for debuggers (pbftsim replay --state) and
// tests. It holds no pointers into the replica, every slice is sorted, and
// its JSON form is deterministic.
type ReplicaState struct {
	ID           sim.NodeID `json:"id"`
	View         uint64     `json:"view"`
	InViewChange bool       `json:"in_view_change"`
	Primary      sim.NodeID `json:"primary"`
	// Low and High are the watermarks h (the last stable checkpoint) and
	// H = h + L: the sequence numbers the replica accepts are h < n <= H.
	Low  uint64 `json:"h"`
	High uint64 `json:"H"`
	// LastExecuted is the highest sequence number executed (or installed by
	// state transfer). LastAssigned is the highest sequence number the
	// replica assigned as primary (or moved to from a stable checkpoint or a
	// NEW-VIEW): the primary's next PRE-PREPARE gets LastAssigned+1. A backup
	// does not track it.
	LastExecuted uint64 `json:"last_executed"`
	LastAssigned uint64 `json:"last_assigned"`
	// StableCheckpoint is h, with its state digest and the replicas whose
	// CHECKPOINTs prove it (empty at 0).
	StableCheckpoint uint64       `json:"stable_checkpoint"`
	StableDigest     string       `json:"stable_digest,omitempty"`
	StableProof      []sim.NodeID `json:"stable_proof,omitempty"`
	// Log is the log entries held, sorted by (view, seq).
	Log []EntryState `json:"log"`
	// Checkpoints are the checkpoints above h not yet stable (and the
	// replica's own at h), sorted by seq.
	Checkpoints []CheckpointState `json:"checkpoints,omitempty"`
	// ViewChanges are the VIEW-CHANGE messages held, grouped by the view
	// they ask for, sorted by view.
	ViewChanges []ViewChangeVotes `json:"view_changes,omitempty"`
	// LastNewView is the view of the last NEW-VIEW accepted or sent (with
	// HasNewView false, none yet).
	LastNewView uint64 `json:"last_new_view"`
	HasNewView  bool   `json:"has_new_view"`
	// Replies is the last reply sent to each client, sorted by client.
	Replies []ReplyState `json:"replies,omitempty"`
	// PendingRequests are client requests received and not yet executed,
	// Queued those the primary holds for a sequence number, Buffered the
	// normal-case messages of views not yet entered.
	PendingRequests int `json:"pending_requests"`
	Queued          int `json:"queued"`
	Buffered        int `json:"buffered"`
	// Fetching is true during state transfer (up to FetchSeq at least).
	Fetching bool   `json:"fetching"`
	FetchSeq uint64 `json:"fetch_seq,omitempty"`
}

// EntryState is one log entry of a ReplicaState.
type EntryState struct {
	View uint64 `json:"view"`
	Seq  uint64 `json:"seq"`
	// Digest is the short hex digest of the PRE-PREPARE's batch ("" when no
	// PRE-PREPARE is held); Null marks the null request.
	Digest      string         `json:"digest,omitempty"`
	Null        bool           `json:"null,omitempty"`
	Requests    []RequestState `json:"requests,omitempty"`
	PrePrepared bool           `json:"pre_prepared"`
	Prepared    bool           `json:"prepared"`
	Committed   bool           `json:"committed"`
	Executed    bool           `json:"executed"`
	// Prepares and Commits are the replicas whose PREPAREs and COMMITs of
	// View the entry holds that match Digest (every one held when there is
	// no PRE-PREPARE yet). ConflictingPrepares and ConflictingCommits hold
	// a different digest.
	Prepares            []sim.NodeID `json:"prepares"`
	Commits             []sim.NodeID `json:"commits"`
	ConflictingPrepares []sim.NodeID `json:"conflicting_prepares,omitempty"`
	ConflictingCommits  []sim.NodeID `json:"conflicting_commits,omitempty"`
	// Certificate is the prepared certificate the replica keeps for Seq
	// (the one a VIEW-CHANGE carries); it may be of an earlier view.
	Certificate *CertState `json:"certificate,omitempty"`
}

// RequestState is one client request of a batch.
type RequestState struct {
	Client    sim.NodeID `json:"client"`
	Timestamp uint64     `json:"timestamp"`
	Op        string     `json:"op"`
}

// CertState is a prepared certificate: a PRE-PREPARE of View with Digest
// and the PREPAREs of the listed replicas.
type CertState struct {
	View     uint64       `json:"view"`
	Digest   string       `json:"digest"`
	Prepares []sim.NodeID `json:"prepares"`
}

// CheckpointState is what a replica holds about the checkpoint at Seq.
type CheckpointState struct {
	Seq uint64 `json:"seq"`
	// Mine is true when the replica took this checkpoint itself, with
	// state digest Digest.
	Mine   bool   `json:"mine"`
	Digest string `json:"digest,omitempty"`
	// Votes groups the CHECKPOINTs received (the replica's own included)
	// by state digest, sorted by digest.
	Votes []DigestVotes `json:"votes"`
}

// DigestVotes are the replicas that sent one state digest.
type DigestVotes struct {
	Digest   string       `json:"digest"`
	Replicas []sim.NodeID `json:"replicas"`
}

// ViewChangeVotes are the replicas whose VIEW-CHANGE for View is held.
type ViewChangeVotes struct {
	View     uint64       `json:"view"`
	Replicas []sim.NodeID `json:"replicas"`
}

// ReplyState is the last reply a replica sent to a client.
type ReplyState struct {
	Client    sim.NodeID `json:"client"`
	Timestamp uint64     `json:"timestamp"`
	View      uint64     `json:"view"`
	Result    string     `json:"result"`
}

// EventNames returns the names of the events replicas and clients report
// (sim.Event.Name), sorted.
func EventNames() []string {
	evs := []sim.Event{&Prepared{}, &Committed{}, &Executed{}, &SentPrepare{}, &StableCheckpoint{},
		&ViewChangeStarted{}, &NewViewEntered{}, &StateTransferred{}, &BadState{}, &Submitted{}, &Accepted{}}
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Name()
	}
	slices.Sort(out)
	return out
}

// Inspect returns a snapshot of the replica's state. It does not change the
// replica (call it between kernel steps, never from inside Step).
func (r *Replica) Inspect() ReplicaState {
	s := ReplicaState{
		ID: r.id, View: r.view, InViewChange: !r.active, Primary: r.primary(r.view),
		Low: r.h, High: r.h + r.l, LastExecuted: r.lastExec, LastAssigned: r.seq,
		StableCheckpoint: r.h,
		PendingRequests:  len(r.pending), Queued: len(r.queue), Buffered: len(r.future),
		Fetching: r.fetching,
	}
	if r.fetching {
		s.FetchSeq = r.fetchSeq
	}
	if r.h > 0 {
		s.StableDigest = r.stableD.String()
		for _, c := range r.proof {
			if c != nil {
				s.StableProof = append(s.StableProof, c.Replica)
			}
		}
		slices.Sort(s.StableProof)
	}
	s.Log = make([]EntryState, 0, r.log.len())
	for _, e := range r.log.all() {
		s.Log = append(s.Log, r.inspectEntry(e))
	}
	slices.SortFunc(s.Log, func(a, b EntryState) int {
		if a.View != b.View {
			return inspectCmp(a.View, b.View)
		}
		return inspectCmp(a.Seq, b.Seq)
	})
	for seq, cs := range r.ckpts {
		if seq < r.h {
			continue
		}
		c := CheckpointState{Seq: seq, Mine: cs.mine, Votes: []DigestVotes{}}
		if cs.mine {
			c.Digest = cs.digest.String()
		}
		byDigest := map[string][]sim.NodeID{}
		for i, v := range cs.votes {
			if v != nil {
				d := v.StateDigest.String()
				byDigest[d] = append(byDigest[d], sim.NodeID(i))
			}
		}
		for d, ids := range byDigest {
			c.Votes = append(c.Votes, DigestVotes{Digest: d, Replicas: ids})
		}
		slices.SortFunc(c.Votes, func(a, b DigestVotes) int { return strings.Compare(a.Digest, b.Digest) })
		s.Checkpoints = append(s.Checkpoints, c)
	}
	slices.SortFunc(s.Checkpoints, func(a, b CheckpointState) int { return inspectCmp(a.Seq, b.Seq) })
	byView := map[uint64][]sim.NodeID{}
	for i, vc := range r.vcs {
		if vc != nil {
			byView[vc.NewView] = append(byView[vc.NewView], sim.NodeID(i))
		}
	}
	for v, ids := range byView {
		s.ViewChanges = append(s.ViewChanges, ViewChangeVotes{View: v, Replicas: ids})
	}
	slices.SortFunc(s.ViewChanges, func(a, b ViewChangeVotes) int { return inspectCmp(a.View, b.View) })
	if r.lastNewView != nil {
		s.LastNewView, s.HasNewView = r.lastNewView.View, true
	}
	for _, c := range r.replyClients {
		if rep := r.lastReply[c]; rep != nil {
			s.Replies = append(s.Replies, ReplyState{Client: c, Timestamp: rep.Timestamp, View: rep.View, Result: rep.Result})
		}
	}
	return s
}

func (r *Replica) inspectEntry(e *entry) EntryState {
	es := EntryState{View: e.view, Seq: e.seq, PrePrepared: e.pp != nil, Prepared: e.prepared,
		Committed: e.committed, Executed: e.executed, Prepares: []sim.NodeID{}, Commits: []sim.NodeID{}}
	if e.pp != nil {
		es.Digest = e.pp.Digest.String()
		es.Null = len(e.pp.Batch) == 0
		for _, q := range e.pp.Batch {
			es.Requests = append(es.Requests, RequestState{Client: q.Client, Timestamp: q.Timestamp, Op: q.Op})
		}
	}
	for i, p := range e.prepares {
		switch {
		case p == nil:
		case e.pp == nil || r.rules.prepareMatches(p.Digest, e.pp.Digest):
			es.Prepares = append(es.Prepares, sim.NodeID(i))
		default:
			es.ConflictingPrepares = append(es.ConflictingPrepares, sim.NodeID(i))
		}
	}
	for i, c := range e.commits {
		switch {
		case c == nil:
		case e.pp == nil || c.Digest == e.pp.Digest:
			es.Commits = append(es.Commits, sim.NodeID(i))
		default:
			es.ConflictingCommits = append(es.ConflictingCommits, sim.NodeID(i))
		}
	}
	if e.cert != nil && e.cert.PrePrepare != nil {
		c := &CertState{View: e.cert.PrePrepare.View, Digest: e.cert.PrePrepare.Digest.String(), Prepares: []sim.NodeID{}}
		for _, p := range e.cert.Prepares {
			if p != nil {
				c.Prepares = append(c.Prepares, p.Replica)
			}
		}
		slices.Sort(c.Prepares)
		es.Certificate = c
	}
	return es
}

func inspectCmp(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Format writes s as an indented text block, one line per fact.
func (s ReplicaState) Format(w io.Writer) error {
	var b bytes.Buffer
	status := "active"
	if s.InViewChange {
		status = "VIEW CHANGE in progress"
	}
	fmt.Fprintf(&b, "replica r%d: view %d (primary r%d), %s\n", s.ID, s.View, s.Primary, status)
	fmt.Fprintf(&b, "  watermarks h=%d H=%d, last executed %d", s.Low, s.High, s.LastExecuted)
	if s.ID == s.Primary {
		fmt.Fprintf(&b, ", last assigned %d", s.LastAssigned)
	}
	b.WriteByte('\n')
	if s.StableCheckpoint > 0 {
		fmt.Fprintf(&b, "  stable checkpoint %d digest %s proven by %s\n", s.StableCheckpoint, s.StableDigest, inspectNodes(s.StableProof))
	} else {
		fmt.Fprintf(&b, "  stable checkpoint 0 (initial state)\n")
	}
	fmt.Fprintf(&b, "  pending requests %d, queued %d, buffered future-view messages %d", s.PendingRequests, s.Queued, s.Buffered)
	if s.Fetching {
		fmt.Fprintf(&b, ", fetching state up to %d", s.FetchSeq)
	}
	b.WriteByte('\n')
	if s.HasNewView {
		fmt.Fprintf(&b, "  last NEW-VIEW: view %d\n", s.LastNewView)
	}
	fmt.Fprintf(&b, "  log: %d entries\n", len(s.Log))
	for _, e := range s.Log {
		fmt.Fprintf(&b, "    v%d n%d", e.View, e.Seq)
		switch {
		case e.Null:
			fmt.Fprintf(&b, " d=%s (null request)", e.Digest)
		case e.PrePrepared:
			fmt.Fprintf(&b, " d=%s", e.Digest)
		default:
			b.WriteString(" (no PRE-PREPARE)")
		}
		for _, f := range []struct {
			on   bool
			name string
		}{{e.PrePrepared, "pre-prepared"}, {e.Prepared, "prepared"}, {e.Committed, "committed"}, {e.Executed, "executed"}} {
			if f.on {
				b.WriteString(" " + f.name)
			}
		}
		b.WriteByte('\n')
		for _, q := range e.Requests {
			fmt.Fprintf(&b, "      request c%d t%d %q\n", q.Client, q.Timestamp, q.Op)
		}
		fmt.Fprintf(&b, "      PREPAREs from %s, COMMITs from %s\n", inspectNodes(e.Prepares), inspectNodes(e.Commits))
		if len(e.ConflictingPrepares)+len(e.ConflictingCommits) > 0 {
			fmt.Fprintf(&b, "      conflicting digest: PREPAREs from %s, COMMITs from %s\n", inspectNodes(e.ConflictingPrepares), inspectNodes(e.ConflictingCommits))
		}
		if c := e.Certificate; c != nil {
			fmt.Fprintf(&b, "      prepared certificate: v%d d=%s PREPAREs from %s\n", c.View, c.Digest, inspectNodes(c.Prepares))
		}
	}
	if len(s.Checkpoints) > 0 {
		b.WriteString("  checkpoints:\n")
		for _, c := range s.Checkpoints {
			fmt.Fprintf(&b, "    n%d", c.Seq)
			if c.Mine {
				fmt.Fprintf(&b, " mine d=%s", c.Digest)
			}
			for _, v := range c.Votes {
				fmt.Fprintf(&b, " | d=%s from %s", v.Digest, inspectNodes(v.Replicas))
			}
			b.WriteByte('\n')
		}
	}
	if len(s.ViewChanges) > 0 {
		b.WriteString("  VIEW-CHANGEs held:\n")
		for _, v := range s.ViewChanges {
			fmt.Fprintf(&b, "    to view %d from %s\n", v.View, inspectNodes(v.Replicas))
		}
	}
	if len(s.Replies) > 0 {
		b.WriteString("  last replies:\n")
		for _, rep := range s.Replies {
			fmt.Fprintf(&b, "    c%d t%d v%d %q\n", rep.Client, rep.Timestamp, rep.View, rep.Result)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// String returns the Format text block.
func (s ReplicaState) String() string {
	var b strings.Builder
	_ = s.Format(&b)
	return b.String()
}

// inspectNodes formats replica ids as "[r0 r2 r3]".
func inspectNodes(l []sim.NodeID) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, id := range l {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "r%d", id)
	}
	b.WriteByte(']')
	return b.String()
}
