package serve

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pbftsim/pbftsim/experiment"
	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/scenarios"
	"github.com/pbftsim/pbftsim/sim"
	"github.com/pbftsim/pbftsim/sim/byzantine"
)

// Action is one step of the user's schedule: taken at a step, it takes
// effect 1ns after that step's time (after everything already due at that
// instant), so the run up to the step is unchanged. It is written into the
// scenario as an adversary rule (deliver_at, lose, duplicate_at matching
// the message's send: type, link, send time, view and sequence number, as
// the exhaustive explorer's counterexamples match theirs), a crash, a
// recovery or a timer fire; a fork is that scenario's replay file.
type Action struct {
	// Kind is deliver, drop, duplicate (Msg), fire (Node, Timer), crash,
	// recover (Node) or byzantine (Node, Strategy: the replica runs the
	// strategy from then on; the scenario's byzantine entry with the
	// strategy's "from" parameter).
	Kind     string  `json:"kind"`
	Msg      *uint64 `json:"msg,omitempty"`
	Node     *int    `json:"node,omitempty"`
	Timer    uint64  `json:"timer,omitempty"`
	Strategy string  `json:"strategy,omitempty"`
	// Set by the server:
	Step uint64 `json:"step"` // the step it was taken at
	At   int64  `json:"at"`   // virtual time it takes effect
	Text string `json:"text"` // what it does, in words

	apply  func(sc *scenarios.Scenario)
	effect func(r *Rec) bool // the record that shows it took effect
}

// strategies lists the Byzantine strategies (for the page).
func strategies() []string { return byzantine.Names() }

// markDriveable says which in-flight messages the adversary may move: not
// a duplicate copy (drive its original), not a message on a link between
// correct replicas sent after GST (synchronous), not one whose send the
// rule could not tell from another.
func (s *Session) markDriveable(fs []Flight) {
	cfg := s.st.Config()
	faulty := map[int]bool{}
	for _, id := range cfg.Network.Faulty {
		faulty[int(id)] = true
	}
	for i := range fs {
		f := &fs[i]
		rec := s.tl.recs[f.ID]
		switch {
		case rec.Kind != sim.RecSend.String():
			f.Why = "a duplicate copy: drive its original"
		case (cfg.Network.GST > 0 || cfg.Network.Delta > 0) && sim.Time(f.SentAt) >= cfg.Network.GST && !faulty[f.From] && !faulty[f.To]:
			f.Why = "sent after GST between correct nodes: the link is synchronous"
		}
		if f.Why == "" && s.sameSends(f) > 1 {
			f.Why = "another message of this type on this link was sent at the same time with the same view and sequence number: a rule cannot tell them apart"
		}
		f.Driveable = f.Why == ""
	}
}

// sameSends counts the sends a rule for f would match.
func (s *Session) sameSends(f *Flight) int {
	n := 0
	for i := range s.tl.recs {
		r := &s.tl.recs[i]
		if r.Kind == sim.RecSend.String() && r.T == f.SentAt && r.From == f.From && r.To == f.To && r.Type == f.Type {
			v, hv, q, hq := byzantine.ViewSeq(s.tl.msgs[i])
			if (f.View == nil) == !hv && (f.SeqNo == nil) == !hq && (f.View == nil || *f.View == v) && (f.SeqNo == nil || *f.SeqNo == q) {
				n++
			}
		}
		if r.T > f.SentAt {
			break
		}
	}
	return n
}

// compile checks a at the current step and fills in its effect.
func (s *Session) compile(a *Action) error {
	k := s.cur
	now := s.tl.timeAfter[k]
	a.Step, a.At = k, now+1
	at := time.Duration(a.At)
	if s.st == nil {
		if err := s.seek(k); err != nil {
			return err
		}
	}
	cfg := s.st.Config()
	nodes := cfg.N + cfg.Clients
	name := func(id int) string { return nodeName(id, cfg.N) }
	switch a.Kind {
	case "deliver", "drop", "duplicate":
		if a.Msg == nil {
			return fmt.Errorf("%s: want msg, the id of an in-flight message", a.Kind)
		}
		fs := s.tl.inFlight(k)
		s.markDriveable(fs)
		i := slices.IndexFunc(fs, func(f Flight) bool { return f.ID == *a.Msg })
		if i < 0 {
			return fmt.Errorf("%s: message %d is not in flight at step %d", a.Kind, *a.Msg, k)
		}
		f := fs[i]
		if !f.Driveable {
			return fmt.Errorf("%s: message %d (%s): %s", a.Kind, f.ID, f.Line, f.Why)
		}
		rule := scenarios.NetRule{Types: []string{f.Type}, From: []int{f.From}, To: []int{f.To},
			View: f.View, Seq: f.SeqNo, Start: time.Duration(f.SentAt), End: time.Duration(f.SentAt + 1)}
		switch a.Kind {
		case "deliver":
			rule.DeliverAt = at
			a.effect = func(r *Rec) bool {
				return r.Kind == "deliver" && r.T == a.At && r.From == f.From && r.To == f.To && r.Type == f.Type
			}
			a.Text = fmt.Sprintf("deliver %s %s -> %s (sent at %v) next, at %v", f.Type, name(f.From), name(f.To), sim.Time(f.SentAt), sim.Time(a.At))
		case "drop":
			rule.DeliverAt, rule.Lose = at, true
			a.effect = func(r *Rec) bool {
				return r.Kind == "drop" && r.T == a.At && r.From == f.From && r.To == f.To && r.Type == f.Type
			}
			a.Text = fmt.Sprintf("lose %s %s -> %s (sent at %v) at %v", f.Type, name(f.From), name(f.To), sim.Time(f.SentAt), sim.Time(a.At))
		case "duplicate":
			rule.DuplicateAt = at
			a.effect = func(r *Rec) bool {
				return r.Kind == "deliver" && r.T == a.At && r.From == f.From && r.To == f.To && r.Type == f.Type
			}
			a.Text = fmt.Sprintf("deliver a copy of %s %s -> %s (sent at %v) at %v", f.Type, name(f.From), name(f.To), sim.Time(f.SentAt), sim.Time(a.At))
		}
		a.apply = func(sc *scenarios.Scenario) { sc.Adversary = append(sc.Adversary, rule) }
	case "fire":
		if a.Node == nil || *a.Node < 0 || *a.Node >= nodes {
			return fmt.Errorf("fire: want node, a node id in 0..%d", nodes-1)
		}
		pending := false
		for _, t := range s.st.Kernel().Timers(sim.NodeID(*a.Node)) {
			pending = pending || uint64(t.ID) == a.Timer
		}
		if !pending {
			return fmt.Errorf("fire: %s has no pending timer %d at step %d", name(*a.Node), a.Timer, k)
		}
		node, timer := *a.Node, a.Timer
		a.apply = func(sc *scenarios.Scenario) {
			sc.TimerFires = append(sc.TimerFires, scenarios.TimerFire{Node: node, Timer: timer, At: at})
		}
		a.effect = func(r *Rec) bool { return r.Kind == "timer" && r.T == a.At && r.To == node }
		a.Text = fmt.Sprintf("fire %s's timer %d at %v", name(node), timer, sim.Time(a.At))
	case "crash", "recover":
		if a.Node == nil || *a.Node < 0 || *a.Node >= cfg.N {
			return fmt.Errorf("%s: want node, a replica id in 0..%d", a.Kind, cfg.N-1)
		}
		node := *a.Node
		down := s.st.Kernel().Down(sim.NodeID(node))
		if a.Kind == "crash" {
			if down {
				return fmt.Errorf("crash: %s is already down at step %d", name(node), k)
			}
			a.apply = func(sc *scenarios.Scenario) {
				sc.Crashes = append(sc.Crashes, scenarios.Crash{Node: node, At: at})
			}
			a.effect = func(r *Rec) bool { return r.Kind == "crash" && r.T == a.At && r.From == node }
			a.Text = fmt.Sprintf("crash %s at %v", name(node), sim.Time(a.At))
			break
		}
		if !down {
			return fmt.Errorf("recover: %s is up at step %d", name(node), k)
		}
		// The crash in effect: the last one of node at or before now.
		ci := -1
		for i, c := range s.rp.Scenario.Crashes {
			if c.Node == node && int64(c.At) <= now && (c.Recover == 0 || int64(c.Recover) > now) {
				ci = i
			}
		}
		if ci < 0 {
			return fmt.Errorf("recover: the crash of %s in effect is not in the scenario", name(node))
		}
		a.apply = func(sc *scenarios.Scenario) { sc.Crashes[ci].Recover = at }
		a.effect = func(r *Rec) bool { return r.Kind == "recover" && r.T == a.At && r.From == node }
		a.Text = fmt.Sprintf("recover %s at %v", name(node), sim.Time(a.At))
	case "byzantine":
		if a.Node == nil || *a.Node < 0 || *a.Node >= cfg.N {
			return fmt.Errorf("byzantine: want node, a replica id in 0..%d", cfg.N-1)
		}
		node := *a.Node
		for _, b := range s.rp.Scenario.Byzantine {
			if b.Replica == node {
				return fmt.Errorf("byzantine: %s already runs %s", name(node), b.Strategy)
			}
		}
		b := scenarios.Byzantine{Replica: node, Strategy: a.Strategy, Params: map[string]string{byzantine.FromParam: at.String()}}
		if err := byzantine.Check(b.Strategy, b.Params, sim.NodeID(node), cfg.N); err != nil {
			return fmt.Errorf("byzantine: %v (strategies: %s)", err, strings.Join(byzantine.Names(), ", "))
		}
		a.apply = func(sc *scenarios.Scenario) { sc.Byzantine = append(sc.Byzantine, b) }
		a.effect = nil // nothing to see at once: it changes what the replica sends from now on
		a.Text = fmt.Sprintf("%s runs %s from %v", name(node), a.Strategy, sim.Time(a.At))
	default:
		return fmt.Errorf("kind %q: want deliver, drop, duplicate, fire, crash, recover or byzantine", a.Kind)
	}
	return nil
}

func nodeName(id, n int) string {
	if id < n {
		return fmt.Sprintf("r%d", id)
	}
	return fmt.Sprintf("c%d", id)
}

// scheduled returns the base replay with the actions applied: a new run
// (no recorded hash or verdict: it ends at its first violation).
func (s *Session) scheduled(actions []Action) scenarios.Replay {
	rp := s.base
	if len(actions) == 0 {
		return rp
	}
	sc := rp.Scenario
	sc.Adversary = slices.Clone(sc.Adversary)
	sc.Crashes = slices.Clone(sc.Crashes)
	sc.TimerFires = slices.Clone(sc.TimerFires)
	if sc.Name != "" && !strings.HasSuffix(sc.Name, "-driven") {
		sc.Name += "-driven"
	}
	for _, a := range actions {
		a.apply(&sc)
	}
	rp.Scenario = sc
	rp.TraceHash, rp.Verdict, rp.Property = "", "", ""
	return rp
}

// act applies a at the current step: the run is rebuilt under the new
// schedule, checked to be the same up to the step, and moved to the step
// where the action shows.
func (s *Session) act(a Action) error {
	if s.Kind != "run" {
		return fmt.Errorf("session %s is a %s: only a run can be driven", s.ID, s.Kind)
	}
	if err := s.compile(&a); err != nil {
		return err
	}
	return s.take(a)
}

// take adds the compiled action a to the schedule and rebuilds the run,
// or leaves the session as it was and says why not.
func (s *Session) take(a Action) error {
	old, oldActions, oldRP, k := s.tl, s.actions, s.rp, s.cur
	s.actions = append(slices.Clone(s.actions), a)
	s.rp = s.scheduled(s.actions)
	revert := func() {
		s.tl, s.actions, s.rp, s.st, s.cur = old, oldActions, oldRP, nil, k
		_ = s.seek(k) // the run it was, stepped again (it was there before)
	}
	if err := s.rebuild(); err != nil {
		revert()
		return err
	}
	// The run up to the step must be the same. A duplication is recorded
	// at the send (in the past), so then the records are compared without
	// it; otherwise the trace hash after the step must be the same.
	same := s.tl.steps() >= k && s.tl.hashAfter[k] == old.hashAfter[k]
	if a.Kind == "duplicate" {
		same = samePrefix(old, s.tl, k)
	}
	if !same {
		revert()
		return fmt.Errorf("%s: the run under the new schedule differs before step %d: not applied", a.Kind, k)
	}
	if a.effect == nil {
		return s.seek(k)
	}
	for i := range s.tl.recs {
		r := &s.tl.recs[i]
		if r.T >= a.At && a.effect(r) {
			return s.seek(r.Step)
		}
		if r.T > a.At {
			break
		}
	}
	revert()
	return fmt.Errorf("%s: the run did not take it (the run ended first, or the network did not let the adversary touch the message): not applied", a.Text)
}

func (s *Server) postAct(w http.ResponseWriter, r *http.Request, sess *Session) {
	var a Action
	if !decode(w, r, &a) {
		return
	}
	if !needRun(w, sess, "driven") {
		return
	}
	if err := sess.act(a); err != nil {
		fail(w, http.StatusConflict, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, sess.state())
}

func (s *Server) postUndo(w http.ResponseWriter, _ *http.Request, sess *Session) {
	if len(sess.actions) == 0 {
		fail(w, http.StatusConflict, "nothing to undo: the schedule has no action")
		return
	}
	last := sess.actions[len(sess.actions)-1]
	sess.actions = sess.actions[:len(sess.actions)-1]
	sess.rp = sess.scheduled(sess.actions)
	if err := sess.rebuild(); err != nil {
		fail(w, http.StatusInternalServerError, "%v", err)
		return
	}
	if err := sess.seek(last.Step); err != nil {
		fail(w, http.StatusInternalServerError, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, sess.state())
}

// ForkRequest names the replay file a fork writes (in the output folder).
type ForkRequest struct {
	Name string `json:"name"`
}

// ForkReply says what a fork wrote.
type ForkReply struct {
	File      string `json:"file"` // the name, in the output folder
	Path      string `json:"path"`
	TraceHash string `json:"trace_hash"`
	Verdict   string `json:"verdict"`
	Property  string `json:"property,omitempty"`
	Command   string `json:"command"`
}

func (s *Server) postFork(w http.ResponseWriter, r *http.Request, sess *Session) {
	var req ForkRequest
	if !decode(w, r, &req) {
		return
	}
	if !needRun(w, sess, "forked") {
		return
	}
	name := strings.TrimSuffix(req.Name, ".replay.yaml")
	if !safeName.MatchString(name) || strings.Contains(name, "..") || len(name) > 100 {
		fail(w, http.StatusBadRequest, "name %q: want letters, digits, '.', '-' and '_' (no path), e.g. my-fork", req.Name)
		return
	}
	sc := sess.rp.Scenario
	sc.Seed = sess.rp.Seed
	if sc.Protocol.Variant == "" && sess.rp.Variant != "" {
		sc.Protocol.Variant = sess.rp.Variant
	}
	o, err := properties.RunScenario(sc, properties.RunOptions{Liveness: true, StopOnViolation: true})
	if err != nil {
		fail(w, http.StatusBadRequest, "running the forked schedule: %v", err)
		return
	}
	if len(sess.actions) > 0 && o.TraceHash() != sess.tl.hash && !sess.tl.truncated {
		fail(w, http.StatusInternalServerError, "%v: the forked run has trace hash %s, the session's %s", experiment.ErrNotReproduced, o.TraceHash(), sess.tl.hash)
		return
	}
	file := name + ".replay.yaml"
	path := filepath.Join(s.opt.Out, file)
	if err := experiment.WriteReplay(o, path, s.opt.Version); err != nil {
		fail(w, http.StatusInternalServerError, "%v", err)
		return
	}
	writeJSON(w, http.StatusCreated, ForkReply{File: file, Path: path, TraceHash: o.TraceHash(), Verdict: o.Verdict(),
		Property: o.Property(), Command: "pbftsim replay " + path})
}

// needRun writes the error reply when sess is not a run (a trace or a
// sweep cannot be what); it reports whether sess is one.
func needRun(w http.ResponseWriter, sess *Session, what string) bool {
	if sess.Kind != "run" {
		fail(w, http.StatusBadRequest, "session %s is a %s: only a run can be %s", sess.ID, sess.Kind, what)
		return false
	}
	return true
}

// samePrefix reports whether the first k steps of two timelines emitted
// the same records, duplications aside (record numbers aside too: an
// added duplication shifts them).
func samePrefix(a, b *timeline, k uint64) bool {
	if a.steps() < k || b.steps() < k {
		return false
	}
	body := func(tl *timeline, end uint64) []string {
		var out []string
		for _, r := range tl.recs[:end] {
			if r.Kind != sim.RecDuplicate.String() {
				_, rest, _ := strings.Cut(r.Line, " ")
				out = append(out, fmt.Sprint(r.Step, " ", rest))
			}
		}
		return out
	}
	return slices.Equal(body(a, a.recAfter[k]), body(b, b.recAfter[k]))
}
