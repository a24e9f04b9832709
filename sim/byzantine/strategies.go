package byzantine

import (
	"strconv"
	"strings"

	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

// This file holds every strategy but twins (twins.go). Each one registers its
// description (what `pbftsim scenarios` and scenario validation show) next to
// its implementation.

var splitParam = Param{Name: "split", Doc: `which other replicas get the alternative (equivocate: the other PRE-PREPARE; conflicting-votes mode=split: the made-up digest): "half" (default: the upper half of the other replicas by id), "alternate" (every second one), or a comma list of replica ids`}

// splitSet resolves a split parameter to the replicas that get the alternative.
func splitSet(p params, env *Env) (nodeSet, error) {
	v, ok := p.vals["split"]
	others := replicasExcept(env.N, env.ID)
	s := nodeSet{}
	switch {
	case !ok || v == "half":
		for _, id := range others[len(others)/2:] {
			s[id] = true
		}
	case v == "alternate":
		for i, id := range others {
			if i%2 == 1 {
				s[id] = true
			}
		}
	default:
		ids, err := parseNodes(v)
		if err != nil {
			return nil, p.errf("split", `want "half", "alternate" or %v`, err)
		}
		for _, id := range ids {
			if int(id) >= env.N || id == env.ID {
				return nil, p.errf("split", "replica %d is not another replica in [0,%d)", id, env.N)
			}
			s[id] = true
		}
	}
	return s, nil
}

// ---- silent -------------------------------------------------------------

func init() {
	strategy(Info{Name: "silent", Doc: "crash-like: the replica runs but sends nothing to anyone"}, func(p params, env *Env) (rewriter, error) {
		return silent{}, nil
	})
}

type silent struct{}

func (silent) rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send {
	for _, s := range sends {
		if s.To == c.env.ID {
			out = append(out, s)
		}
	}
	return out
}

// ---- selective-silent ---------------------------------------------------

func init() {
	strategy(Info{
		Name: "selective-silent",
		Doc:  "withholds the sends that match both filters (an absent filter matches all; at least one is required)",
		Params: []Param{
			{Name: "to", Doc: "comma list of receiver node ids (replicas or clients) to withhold from"},
			{Name: "types", Doc: "comma list of message types to withhold (each one of Allowed)", Allowed: pbftTypeNames()},
		},
	}, newSelectiveSilent)
}

type selectiveSilent struct {
	to    nodeSet
	types map[string]bool
}

func newSelectiveSilent(p params, env *Env) (rewriter, error) {
	to, err := p.nodes("to")
	if err != nil {
		return nil, err
	}
	types, err := p.types("types", pbftTypeNames())
	if err != nil {
		return nil, err
	}
	if to == nil && types == nil {
		return nil, p.errf("to", `give "to" and/or "types" (to withhold everything use strategy "silent")`)
	}
	s := &selectiveSilent{types: types}
	if to != nil {
		s.to = setOf(to)
	}
	return s, nil
}

func (s *selectiveSilent) rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send {
	for _, x := range sends {
		hold := x.To != c.env.ID &&
			(s.to == nil || s.to[x.To]) &&
			(s.types == nil || s.types[typeName(x.Msg)])
		if !hold {
			out = append(out, x)
		}
	}
	return out
}

// ---- equivocate ---------------------------------------------------------

func init() {
	strategy(Info{
		Name: "equivocate",
		Role: RolePrimary,
		Doc: "as primary, sends a different PRE-PREPARE for the same (v, n) to part of the backups, " +
			"and keeps the lie consistent: its later PREPARE/COMMIT for (v, n) to them carry the alternative digest",
		Params: []Param{
			splitParam,
			{Name: "alt", Doc: `the alternative batch: "null" (default: the null request), "reorder" (the batch reversed; null if it has one request), "forge-op" (a request with an altered op that the replica issues in its own name as client: correct backups reject it, as only clients may issue requests, so it tests request validation; use "null" to make backups prepare a different batch)`,
				Allowed: []string{"null", "reorder", "forge-op"}},
		},
	}, newEquivocate)
}

type equivocate struct {
	alt   string
	split nodeSet
	pps   map[viewSeq]*pbft.PrePrepare // alternative per (v, n)
}

func newEquivocate(p params, env *Env) (rewriter, error) {
	alt, err := p.oneOf("alt", "null")
	if err != nil {
		return nil, err
	}
	split, err := splitSet(p, env)
	if err != nil {
		return nil, err
	}
	return &equivocate{alt: alt, split: split, pps: map[viewSeq]*pbft.PrePrepare{}}, nil
}

func (e *equivocate) altOf(env *Env, pp *pbft.PrePrepare) *pbft.PrePrepare {
	k := viewSeq{pp.View, pp.Seq}
	if a, ok := e.pps[k]; ok {
		return a
	}
	c := *pp
	switch {
	case e.alt == "reorder" && len(pp.Batch) >= 2:
		c.Batch = make([]*pbft.Request, len(pp.Batch))
		for i, r := range pp.Batch {
			c.Batch[len(pp.Batch)-1-i] = r
		}
	case e.alt == "forge-op" && len(pp.Batch) >= 1:
		r := pp.Batch[0]
		forged := &pbft.Request{Op: alterOp(r.Op), Timestamp: r.Timestamp, Client: env.ID}
		sign(env.Signer, forged)
		c.Batch = []*pbft.Request{forged}
	default:
		c.Batch = nil
	}
	c.Digest = batchDigest(c.Batch)
	if c.Digest == pp.Digest { // e.g. null for a null request: fall back to a forged op
		forged := &pbft.Request{Op: "forged", Timestamp: pp.Seq, Client: env.ID}
		sign(env.Signer, forged)
		c.Batch = []*pbft.Request{forged}
		c.Digest = batchDigest(c.Batch)
	}
	sign(env.Signer, &c)
	e.pps[k] = &c
	return &c
}

// alterOp changes an operation a little: its last numeric field plus one, or
// a marker appended.
func alterOp(op string) string {
	f := strings.Fields(op)
	if len(f) > 0 {
		if x, err := strconv.ParseUint(f[len(f)-1], 10, 63); err == nil {
			f[len(f)-1] = strconv.FormatUint(x+1, 10)
			return strings.Join(f, " ")
		}
	}
	return op + " #forged"
}

func (e *equivocate) rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send {
	for _, s := range sends {
		if s.To != c.env.ID && e.split[s.To] && own(s.Msg, c.env.ID) {
			switch m := any(s.Msg).(type) {
			case *pbft.PrePrepare:
				s.Msg = sim.Message(e.altOf(c.env, m))
			case *pbft.Prepare, *pbft.Commit:
				v, _ := voteOf(s.Msg)
				if a, ok := e.pps[viewSeq{v.v, v.n}]; ok && v.d != a.Digest {
					s.Msg = withDigest(c.env, s.Msg, a.Digest)
				}
			}
		}
		out = append(out, s)
	}
	return out
}

// ---- conflicting-votes --------------------------------------------------

func init() {
	strategy(Info{
		Name: "conflicting-votes",
		Doc:  "votes (PREPARE/COMMIT) for digests it never received, or for different digests for one (v, n) to different replicas",
		Params: []Param{
			{Name: "mode", Doc: `"fabricate" (default: every vote carries a made-up digest, one per (v, n)), ` +
				`"split" (the replicas picked by split get a made-up digest, the others the true one), ` +
				`"mirror" (collusion: to each replica it votes for the digest that replica voted for: its votes for (v, n) to a replica wait until that replica's PREPARE or COMMIT for (v, n) arrives, then it sends PREPARE and COMMIT with that digest; the primary of v gets its honest votes)`,
				Allowed: []string{"fabricate", "split", "mirror"}},
			{Name: "types", Doc: "comma list of the votes to alter (default both)", Allowed: []string{"PREPARE", "COMMIT"}},
			splitParam,
		},
	}, newConflictingVotes)
}

type conflictingVotes struct {
	mode  string
	types map[string]bool
	split nodeSet
	fakes map[viewSeq]pbft.Digest
	// mirror: the digest each replica voted for at (v, n), and the votes
	// already sent to it.
	theirs map[viewSeq]map[sim.NodeID]pbft.Digest
	sent   map[mirrorKey]bool
}

type mirrorKey struct {
	commit bool
	at     viewSeq
	to     sim.NodeID
}

func newConflictingVotes(p params, env *Env) (rewriter, error) {
	mode, err := p.oneOf("mode", "fabricate")
	if err != nil {
		return nil, err
	}
	types, err := p.types("types", []string{"PREPARE", "COMMIT"})
	if err != nil {
		return nil, err
	}
	if types == nil {
		types = map[string]bool{"PREPARE": true, "COMMIT": true}
	}
	if _, ok := p.vals["split"]; ok && mode != "split" {
		return nil, p.errf("split", `only used with mode=split`)
	}
	split, err := splitSet(p, env)
	if err != nil {
		return nil, err
	}
	return &conflictingVotes{mode: mode, types: types, split: split, fakes: map[viewSeq]pbft.Digest{},
		theirs: map[viewSeq]map[sim.NodeID]pbft.Digest{}, sent: map[mirrorKey]bool{}}, nil
}

func (cv *conflictingVotes) fake(env *Env, k viewSeq) pbft.Digest {
	d, ok := cv.fakes[k]
	if !ok {
		d = randDigest(env.Rand)
		cv.fakes[k] = d
	}
	return d
}

func voteType(commit bool) string {
	if commit {
		return pbft.TypeCommit.String()
	}
	return pbft.TypePrepare.String()
}

func (cv *conflictingVotes) rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send {
	env := c.env
	for _, s := range sends {
		v, isVote := voteOf(s.Msg)
		if !isVote || s.To == env.ID || !own(s.Msg, env.ID) || !cv.types[typeName(s.Msg)] {
			out = append(out, s)
			continue
		}
		switch cv.mode {
		case "fabricate":
			s.Msg = withDigest(env, s.Msg, cv.fake(env, viewSeq{v.v, v.n}))
		case "split":
			if cv.split[s.To] {
				s.Msg = withDigest(env, s.Msg, cv.fake(env, viewSeq{v.v, v.n}))
			}
		case "mirror":
			k := viewSeq{v.v, v.n}
			if s.To < 0 || int(s.To) >= env.N || s.To == sim.NodeID(v.v%uint64(env.N)) {
				break // not a voting replica: honest vote
			}
			d, known := cv.theirs[k][s.To]
			mk := mirrorKey{v.commit, k, s.To}
			if !known || cv.sent[mk] {
				continue // withheld until the replica votes, or already sent
			}
			cv.sent[mk] = true
			if d != v.d {
				s.Msg = withDigest(env, s.Msg, d)
			}
		}
		out = append(out, s)
	}
	if cv.mode == "mirror" && c.in != nil && c.in.Kind == sim.InputMessage {
		out = cv.mirror(env, c.in, out)
	}
	return out
}

// mirror learns what the sender of in voted for and votes the same to it.
func (cv *conflictingVotes) mirror(env *Env, in *sim.Input, out []sim.Send) []sim.Send {
	v, ok := voteOf(in.Msg)
	from, _ := claimedID(in.Msg)
	if !ok || from != in.From || from == env.ID || from < 0 || int(from) >= env.N {
		return out
	}
	k := viewSeq{v.v, v.n}
	if _, known := cv.theirs[k][from]; known {
		return out
	}
	if cv.theirs[k] == nil {
		cv.theirs[k] = map[sim.NodeID]pbft.Digest{}
	}
	cv.theirs[k][from] = v.d
	for _, commit := range []bool{false, true} {
		mk := mirrorKey{commit, k, from}
		if cv.sent[mk] || !cv.types[voteType(commit)] {
			continue
		}
		cv.sent[mk] = true
		out = append(out, sim.Send{To: from, Msg: newVote(env, vote{commit, k.v, k.n, v.d})})
	}
	return out
}

// ---- mutate -------------------------------------------------------------

var mutateKinds = []string{"view+1", "view-1", "seq+1", "seq-1", "digest", "replay"}

func init() {
	strategy(Info{
		Name: "mutate",
		Doc: "ByzzFuzz-style small-scope mutation: each of its own messages to another node is, with probability prob, " +
			"mutated (view or sequence number +-1, digest swapped for one it used elsewhere, or replaced by a stale message it sent before) and re-signed",
		Params: []Param{
			{Name: "kind", Doc: "mutation, or a comma list of them to draw one per mutated message (default view+1)", Allowed: mutateKinds},
			{Name: "prob", Doc: "probability in [0,1] that a message is mutated (default 0.5)"},
			{Name: "types", Doc: "comma list of the message types eligible (default all)", Allowed: pbftTypeNames()},
		},
	}, newMutate)
}

// mutateHistory is how many of its own past messages mutate keeps for replay.
const mutateHistory = 64

type mutate struct {
	kinds   []string
	prob    float64
	types   map[string]bool
	history []sim.Message // own past messages (for replay), oldest first
	digests []pbft.Digest // digests it used (for swaps)
}

func newMutate(p params, env *Env) (rewriter, error) {
	m := &mutate{kinds: []string{"view+1"}}
	if v, ok := p.vals["kind"]; ok {
		m.kinds = nil
		for _, k := range strings.Split(v, ",") {
			k = strings.TrimSpace(k)
			valid := false
			for _, a := range mutateKinds {
				valid = valid || a == k
			}
			if !valid {
				return nil, p.errf("kind", "unknown mutation %q; allowed: %s (or a comma list)", k, strings.Join(mutateKinds, ", "))
			}
			m.kinds = append(m.kinds, k)
		}
	}
	var err error
	if m.prob, err = p.prob("prob", 0.5); err != nil {
		return nil, err
	}
	if m.types, err = p.types("types", pbftTypeNames()); err != nil {
		return nil, err
	}
	return m, nil
}

func (mu *mutate) rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send {
	env := c.env
	var last sim.Message
	for _, s := range sends {
		orig := s.Msg
		if s.To != env.ID && own(orig, env.ID) && (mu.types == nil || mu.types[typeName(orig)]) {
			if env.Rand.Float64() < mu.prob {
				kind := mu.kinds[0]
				if len(mu.kinds) > 1 {
					kind = mu.kinds[env.Rand.IntN(len(mu.kinds))]
				}
				if m := mu.apply(env, kind, orig); m != nil {
					s.Msg = m
				}
			}
			if orig != last { // a multicast is one message
				mu.remember(orig)
				last = orig
			}
		}
		out = append(out, s)
	}
	return out
}

func (mu *mutate) remember(m sim.Message) {
	if len(mu.history) == mutateHistory {
		copy(mu.history, mu.history[1:])
		mu.history = mu.history[:mutateHistory-1]
	}
	mu.history = append(mu.history, m)
	if d, ok := digestOf(m); ok && (len(mu.digests) == 0 || mu.digests[len(mu.digests)-1] != d) {
		if len(mu.digests) == mutateHistory {
			copy(mu.digests, mu.digests[1:])
			mu.digests = mu.digests[:mutateHistory-1]
		}
		mu.digests = append(mu.digests, d)
	}
}

// digestOf returns the request or state digest a message carries.
func digestOf(m sim.Message) (pbft.Digest, bool) {
	switch m := any(m).(type) {
	case *pbft.PrePrepare:
		return m.Digest, true
	case *pbft.Prepare:
		return m.Digest, true
	case *pbft.Commit:
		return m.Digest, true
	case *pbft.Checkpoint:
		return m.StateDigest, true
	}
	return pbft.Digest{}, false
}

// apply returns the mutated message, or nil when kind does not apply to m.
func (mu *mutate) apply(env *Env, kind string, m sim.Message) sim.Message {
	switch kind {
	case "view+1", "view-1":
		d := int64(1)
		if kind == "view-1" {
			d = -1
		}
		return shiftView(env, m, d)
	case "seq+1", "seq-1":
		d := int64(1)
		if kind == "seq-1" {
			d = -1
		}
		return shiftSeq(env, m, d)
	case "digest":
		cur, ok := digestOf(m)
		if !ok {
			return nil
		}
		var cands []pbft.Digest
		for _, d := range mu.digests {
			if d != cur {
				cands = append(cands, d)
			}
		}
		d := randDigest(env.Rand)
		if len(cands) > 0 {
			d = cands[env.Rand.IntN(len(cands))]
		}
		return withDigest(env, m, d)
	case "replay":
		var cands []sim.Message
		for _, h := range mu.history {
			if h != m {
				cands = append(cands, h)
			}
		}
		if len(cands) == 0 {
			return nil
		}
		return cands[env.Rand.IntN(len(cands))]
	}
	return nil
}

func add(x uint64, d int64) (uint64, bool) {
	if d < 0 && x == 0 {
		return 0, false
	}
	return uint64(int64(x) + d), true
}

// shiftView returns a re-signed copy of m with its view moved by d.
func shiftView(env *Env, m sim.Message, d int64) sim.Message {
	switch m := any(m).(type) {
	case *pbft.PrePrepare:
		if v, ok := add(m.View, d); ok {
			c := *m
			c.View = v
			sign(env.Signer, &c)
			return sim.Message(&c)
		}
	case *pbft.Prepare:
		if v, ok := add(m.View, d); ok {
			c := *m
			c.View = v
			sign(env.Signer, &c)
			return sim.Message(&c)
		}
	case *pbft.Commit:
		if v, ok := add(m.View, d); ok {
			c := *m
			c.View = v
			sign(env.Signer, &c)
			return sim.Message(&c)
		}
	case *pbft.Reply:
		if v, ok := add(m.View, d); ok {
			c := *m
			c.View = v
			sign(env.Signer, &c)
			return sim.Message(&c)
		}
	case *pbft.ViewChange:
		if v, ok := add(m.NewView, d); ok {
			c := *m
			c.NewView = v
			sign(env.Signer, &c)
			return sim.Message(&c)
		}
	case *pbft.NewView:
		if v, ok := add(m.View, d); ok {
			c := *m
			c.View = v
			sign(env.Signer, &c)
			return sim.Message(&c)
		}
	}
	return nil
}

// shiftSeq returns a re-signed copy of m with its sequence number moved by d.
func shiftSeq(env *Env, m sim.Message, d int64) sim.Message {
	switch m := any(m).(type) {
	case *pbft.PrePrepare:
		if n, ok := add(m.Seq, d); ok {
			c := *m
			c.Seq = n
			sign(env.Signer, &c)
			return sim.Message(&c)
		}
	case *pbft.Prepare:
		if n, ok := add(m.Seq, d); ok {
			c := *m
			c.Seq = n
			sign(env.Signer, &c)
			return sim.Message(&c)
		}
	case *pbft.Commit:
		if n, ok := add(m.Seq, d); ok {
			c := *m
			c.Seq = n
			sign(env.Signer, &c)
			return sim.Message(&c)
		}
	case *pbft.Checkpoint:
		if n, ok := add(m.Seq, d); ok {
			c := *m
			c.Seq = n
			sign(env.Signer, &c)
			return sim.Message(&c)
		}
	case *pbft.ViewChange:
		if n, ok := add(m.StableSeq, d); ok {
			c := *m
			c.StableSeq = n
			sign(env.Signer, &c)
			return sim.Message(&c)
		}
	}
	return nil
}

// ---- vc-stale -----------------------------------------------------------

func init() {
	strategy(Info{
		Name: "vc-stale",
		Doc: "its VIEW-CHANGEs claim a stale stable checkpoint (sequence number 0, no checkpoint proof) " +
			"and/or omit its prepared certificates; as new primary its NEW-VIEW carries the altered VIEW-CHANGE",
		Params: []Param{
			{Name: "mode", Doc: `"both" (default), "stale" (stable checkpoint 0) or "no-prepared" (no prepared certificates)`,
				Allowed: []string{"both", "stale", "no-prepared"}},
		},
	}, func(p params, env *Env) (rewriter, error) {
		mode, err := p.oneOf("mode", "both")
		if err != nil {
			return nil, err
		}
		return &vcStale{mode: mode, done: map[*pbft.ViewChange]*pbft.ViewChange{}}, nil
	})
}

type vcStale struct {
	mode string
	done map[*pbft.ViewChange]*pbft.ViewChange // original -> altered (a NEW-VIEW reuses them)
}

func (vs *vcStale) alter(env *Env, m *pbft.ViewChange) *pbft.ViewChange {
	if a, ok := vs.done[m]; ok {
		return a
	}
	c := *m
	if vs.mode != "no-prepared" {
		c.StableSeq, c.Checkpoints = 0, nil
	}
	if vs.mode != "stale" {
		c.Prepared = nil
	}
	sign(env.Signer, &c)
	vs.done[m] = &c
	return &c
}

func (vs *vcStale) rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send {
	env := c.env
	for _, s := range sends {
		if s.To != env.ID && own(s.Msg, env.ID) {
			switch m := any(s.Msg).(type) {
			case *pbft.ViewChange:
				s.Msg = sim.Message(vs.alter(env, m))
			case *pbft.NewView:
				for i, v := range m.ViewChanges {
					if v.Replica == env.ID {
						nv := *m
						nv.ViewChanges = append([]*pbft.ViewChange(nil), m.ViewChanges...)
						nv.ViewChanges[i] = vs.alter(env, v)
						sign(env.Signer, &nv)
						s.Msg = sim.Message(&nv)
						break
					}
				}
			}
		}
		out = append(out, s)
	}
	return out
}

// ---- newview-drop -------------------------------------------------------

func init() {
	strategy(Info{
		Name: "newview-drop",
		Role: RoleNewPrimary,
		Doc:  "as new primary, sends a NEW-VIEW whose O drops the prepared requests, or replaces them with null requests, re-signed in its own name",
		Params: []Param{
			{Name: "mode", Doc: `"replace" (default: null requests instead) or "drop" (removed from O)`, Allowed: []string{"replace", "drop"}},
		},
	}, func(p params, env *Env) (rewriter, error) {
		mode, err := p.oneOf("mode", "replace")
		if err != nil {
			return nil, err
		}
		return &newviewDrop{mode: mode, done: map[*pbft.NewView]*pbft.NewView{}}, nil
	})
}

type newviewDrop struct {
	mode string
	done map[*pbft.NewView]*pbft.NewView
}

func (nd *newviewDrop) alter(env *Env, m *pbft.NewView) *pbft.NewView {
	if a, ok := nd.done[m]; ok {
		return a
	}
	c := *m
	c.PrePrepares = nil
	changed := false
	for _, pp := range m.PrePrepares {
		if len(pp.Batch) == 0 || pp.Replica != env.ID {
			c.PrePrepares = append(c.PrePrepares, pp)
			continue
		}
		changed = true
		if nd.mode == "replace" {
			c.PrePrepares = append(c.PrePrepares, nullPrePrepare(env, pp))
		}
	}
	if !changed { // nothing prepared to drop: send it as is
		nd.done[m] = m
		return m
	}
	sign(env.Signer, &c)
	nd.done[m] = &c
	return &c
}

func (nd *newviewDrop) rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send {
	for _, s := range sends {
		if m, ok := any(s.Msg).(*pbft.NewView); ok && s.To != c.env.ID && own(s.Msg, c.env.ID) {
			s.Msg = sim.Message(nd.alter(c.env, m))
		}
		out = append(out, s)
	}
	return out
}

// ---- lying-reply --------------------------------------------------------

func init() {
	strategy(Info{
		Name: "lying-reply",
		Doc:  "its REPLYs to clients carry a wrong result (colluding liars with the same parameters tell the same lie)",
		Params: []Param{
			{Name: "result", Doc: `the result to claim (default "lie:" + the true result); if it equals the true result, "!" is appended`},
			{Name: "clients", Doc: "comma list of client ids to lie to (default all)"},
		},
	}, func(p params, env *Env) (rewriter, error) {
		l := &lyingReply{}
		l.result, l.fixed = p.vals["result"]
		cl, err := p.nodes("clients")
		if err != nil {
			return nil, err
		}
		if cl != nil {
			l.clients = setOf(cl)
		}
		return l, nil
	})
}

type lyingReply struct {
	result  string
	fixed   bool
	clients nodeSet
}

func (l *lyingReply) rewrite(c *stepCtx, sends, out []sim.Send) []sim.Send {
	for _, s := range sends {
		if m, ok := any(s.Msg).(*pbft.Reply); ok && s.To != c.env.ID && m.Replica == c.env.ID &&
			(l.clients == nil || l.clients[m.Client]) {
			r := *m
			r.Result = "lie:" + m.Result
			if l.fixed {
				r.Result = l.result
			}
			if r.Result == m.Result {
				r.Result += "!"
			}
			sign(c.env.Signer, &r)
			s.Msg = sim.Message(&r)
		}
		out = append(out, s)
	}
	return out
}
