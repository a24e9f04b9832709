// Package serve is pbftsim's interactive run explorer (pbftsim serve): an
// HTTP server with a JSON API and one embedded page that shows a run as a
// space-time diagram and the replicas' state at any step, steps it forward
// and back (back is an exact replay of the prefix), drives it (which
// in-flight message goes next, drops, duplicates, early timers, crashes,
// Byzantine strategies) and forks the schedule so far as a replay file.
//
// The server uses goroutines (it is outside any run), but every session's
// run is a deterministic replay of its scenario and schedule. Sessions
// share no state; they are capped in number and expire when idle. Files
// are read only when named on the command line, built in, or written by
// the server itself into its output folder; the server writes nothing
// outside that folder.
package serve

import (
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pbftsim/pbftsim/experiment"
	"github.com/pbftsim/pbftsim/sim/pbft"
)

//go:embed static
var static embed.FS

// Options configure a Server.
type Options struct {
	// File is the file opened at start ("" none): a scenario, a replay
	// file, a trace or a sweep's JSON Lines. The page may reopen it.
	File string
	// Out is the output folder: forks and found counterexamples are
	// written there and nowhere else (created on the first write).
	Out string
	// Version is recorded in the replay files written.
	Version string
	// MaxSessions caps the open sessions (default 16); IdleTimeout
	// expires a session not used for that long (default 30 minutes).
	MaxSessions int
	IdleTimeout time.Duration
	// MaxRecords caps the trace records a session records (default
	// 100000; the page draws them all).
	MaxRecords int
	// Now is the wall clock (for idle expiry only; default time.Now).
	Now func() time.Time
}

// Server is the explorer's HTTP server.
type Server struct {
	opt      Options
	mu       sync.Mutex
	sessions map[string]*Session
	jobs     map[string]*Job
	mux      *http.ServeMux
}

// New returns a server for opt. It does not open opt.File: the page
// does, through the API, so that a bad file is reported where it is seen.
func New(opt Options) *Server {
	if opt.MaxSessions <= 0 {
		opt.MaxSessions = 16
	}
	if opt.IdleTimeout <= 0 {
		opt.IdleTimeout = 30 * time.Minute
	}
	if opt.MaxRecords <= 0 {
		opt.MaxRecords = 100000
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Out == "" {
		opt.Out = "serve-out"
	}
	s := &Server{opt: opt, sessions: map[string]*Session{}, jobs: map[string]*Job{}, mux: http.NewServeMux()}
	sub, _ := fs.Sub(static, "static")
	s.mux.Handle("GET /", http.FileServer(http.FS(sub)))
	s.mux.HandleFunc("GET /api/info", s.info)
	s.mux.HandleFunc("POST /api/sessions", s.create)
	s.mux.HandleFunc("GET /api/sessions/{id}", s.withSession(s.getSummary))
	s.mux.HandleFunc("DELETE /api/sessions/{id}", s.remove)
	s.mux.HandleFunc("GET /api/sessions/{id}/timeline", s.withSession(s.getTimeline))
	s.mux.HandleFunc("GET /api/sessions/{id}/state", s.withSession(s.getState))
	s.mux.HandleFunc("POST /api/sessions/{id}/goto", s.withSession(s.postGoto))
	s.mux.HandleFunc("POST /api/sessions/{id}/act", s.withSession(s.postAct))
	s.mux.HandleFunc("POST /api/sessions/{id}/undo", s.withSession(s.postUndo))
	s.mux.HandleFunc("POST /api/sessions/{id}/fork", s.withSession(s.postFork))
	s.mux.HandleFunc("POST /api/jobs", s.createJob)
	s.mux.HandleFunc("GET /api/jobs/{id}", s.getJob)
	s.mux.HandleFunc("DELETE /api/jobs/{id}", s.cancelJob)
	return s
}

// CheckFile opens the server's file once, as the page will, and returns
// the error a bad file gives (for the CLI to refuse it at start).
func (s *Server) CheckFile() error {
	if s.opt.File == "" {
		return nil
	}
	_, err := openFile(s.opt.File, s.opt.MaxRecords)
	return err
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	// The page loads nothing from elsewhere; say so to the browser too.
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
	s.mux.ServeHTTP(w, r)
}

// apiError is a JSON error reply.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func fail(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, apiError{Error: fmt.Sprintf(format, args...)})
}

// decode reads a JSON request body into v, rejecting unknown fields.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 4<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		fail(w, http.StatusBadRequest, "request body: %v", err)
		return false
	}
	return true
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Info is what GET /api/info returns.
type Info struct {
	File    string   `json:"file"`
	Out     string   `json:"out"`
	Version string   `json:"version"`
	Forks   []string `json:"forks"` // replay files in the output folder
}

func (s *Server) info(w http.ResponseWriter, _ *http.Request) {
	inf := Info{File: s.opt.File, Out: s.opt.Out, Version: s.opt.Version, Forks: []string{}}
	if ents, err := os.ReadDir(s.opt.Out); err == nil {
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".replay.yaml") {
				inf.Forks = append(inf.Forks, e.Name())
			}
		}
	}
	writeJSON(w, http.StatusOK, inf)
}

// CreateRequest opens a session: exactly one of File (the file given on
// the command line, or a replay file in the output folder by its name),
// Builtin (a built-in scenario's name), YAML (a scenario or replay file's
// text), Sweep+Seed (a failing seed of an open sweep session) or Job (the
// counterexample a check/hunt job found).
type CreateRequest struct {
	File    string  `json:"file,omitempty"`
	Builtin string  `json:"builtin,omitempty"`
	YAML    string  `json:"yaml,omitempty"`
	Sweep   string  `json:"sweep,omitempty"`
	Seed    *uint64 `json:"seed,omitempty"`
	Job     string  `json:"job,omitempty"`
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var req CreateRequest
	if !decode(w, r, &req) {
		return
	}
	given := 0
	for _, set := range []bool{req.File != "", req.Builtin != "", req.YAML != "", req.Sweep != "", req.Job != ""} {
		if set {
			given++
		}
	}
	if given != 1 {
		fail(w, http.StatusBadRequest, "want exactly one of file, builtin, yaml, sweep (with seed) or job")
		return
	}
	var (
		op   *opened
		name string
		err  error
	)
	switch {
	case req.File != "":
		path, ok := s.readable(req.File)
		if !ok {
			fail(w, http.StatusForbidden, "file %q: the server opens only the file it was started with (%q) and replay files in its output folder %s, by name", req.File, s.opt.File, s.opt.Out)
			return
		}
		name = filepath.Base(req.File)
		op, err = openFile(path, s.opt.MaxRecords)
	case req.Builtin != "":
		if strings.ContainsAny(req.Builtin, `/\.`) {
			fail(w, http.StatusBadRequest, "builtin %q: want a built-in scenario's name", req.Builtin)
			return
		}
		name = req.Builtin
		op, err = openFile(req.Builtin, s.opt.MaxRecords)
	case req.YAML != "":
		name = "uploaded.yaml"
		op, err = parseYAML(name, []byte(req.YAML))
	case req.Sweep != "":
		if req.Seed == nil {
			fail(w, http.StatusBadRequest, "sweep %s: want the failing seed to open (seed)", req.Sweep)
			return
		}
		ss := s.session(req.Sweep)
		if ss == nil || ss.sweep == nil {
			fail(w, http.StatusNotFound, "sweep session %q: no such open sweep", req.Sweep)
			return
		}
		sc, serr := ss.sweep.scenarioOf(*req.Seed)
		if serr != nil {
			fail(w, http.StatusBadRequest, "%v", serr)
			return
		}
		name = fmt.Sprintf("%s seed %d", ss.sweep.File, *req.Seed)
		op = &opened{kind: "run", rp: replayOf(&sc)}
	case req.Job != "":
		j := s.job(req.Job)
		if j == nil {
			fail(w, http.StatusNotFound, "job %q: no such job", req.Job)
			return
		}
		rp, path := j.found()
		if rp == nil {
			fail(w, http.StatusConflict, "job %s found no counterexample (yet)", req.Job)
			return
		}
		name = filepath.Base(path)
		op = &opened{kind: "run", rp: rp}
	}
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	id := newID()
	var sess *Session
	switch op.kind {
	case "run":
		sess, err = newRunSession(id, name, op.rp, s.opt.MaxRecords)
		if err != nil {
			fail(w, http.StatusBadRequest, "%s: %v", name, err)
			return
		}
	case "trace":
		sess = &Session{ID: id, Kind: "trace", Name: name, tl: op.tl}
	case "sweep":
		sess = &Session{ID: id, Kind: "sweep", Name: name, sweep: op.sweep}
	}
	if !s.add(sess) {
		fail(w, http.StatusTooManyRequests, "%d sessions are open, the most this server keeps: close one (DELETE /api/sessions/ID) or wait %v for an idle one to expire", s.opt.MaxSessions, s.opt.IdleTimeout)
		return
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	writeJSON(w, http.StatusCreated, sess.summary())
}

// readable maps a requested file to a path the server may read.
func (s *Server) readable(file string) (string, bool) {
	if file == s.opt.File && file != "" {
		return file, true
	}
	if safeName.MatchString(file) && strings.HasSuffix(file, ".replay.yaml") {
		return filepath.Join(s.opt.Out, file), true
	}
	return "", false
}

// add registers sess after expiring idle sessions; false at the cap.
func (s *Server) add(sess *Session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opt.Now()
	for id, o := range s.sessions {
		o.mu.Lock()
		idle := now.Sub(o.last) > s.opt.IdleTimeout
		o.mu.Unlock()
		if idle {
			delete(s.sessions, id)
		}
	}
	if len(s.sessions) >= s.opt.MaxSessions {
		return false
	}
	sess.last = now
	s.sessions[sess.ID] = sess
	return true
}

func (s *Server) session(id string) *Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[id]
	if sess != nil && s.opt.Now().Sub(sess.lastUse()) > s.opt.IdleTimeout {
		delete(s.sessions, id)
		return nil
	}
	return sess
}

func (sess *Session) lastUse() time.Time {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	return sess.last
}

// Sessions returns the number of open sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

func (s *Server) remove(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	_, ok := s.sessions[r.PathValue("id")]
	delete(s.sessions, r.PathValue("id"))
	s.mu.Unlock()
	if !ok {
		fail(w, http.StatusNotFound, "session %q: no such session (closed or expired)", r.PathValue("id"))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// withSession looks the session up, locks it and marks it used.
func (s *Server) withSession(h func(http.ResponseWriter, *http.Request, *Session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := s.session(r.PathValue("id"))
		if sess == nil {
			fail(w, http.StatusNotFound, "session %q: no such session (closed or expired)", r.PathValue("id"))
			return
		}
		sess.mu.Lock()
		defer sess.mu.Unlock()
		sess.last = s.opt.Now()
		h(w, r, sess)
	}
}

func (s *Server) getSummary(w http.ResponseWriter, _ *http.Request, sess *Session) {
	writeJSON(w, http.StatusOK, sess.summary())
}

// Timeline is the whole recorded run.
type Timeline struct {
	Records   []Rec       `json:"records"`
	StepTimes []int64     `json:"step_times"` // virtual time after each step (index 0: the start)
	Viol      []Violation `json:"violations"`
	Ended     string      `json:"ended"`
	Truncated bool        `json:"truncated"`
}

func (s *Server) getTimeline(w http.ResponseWriter, _ *http.Request, sess *Session) {
	if !needSteps(w, sess, "timeline") {
		return
	}
	writeJSON(w, http.StatusOK, Timeline{Records: sess.tl.recs, StepTimes: sess.tl.timeAfter, Viol: sess.tl.viol,
		Ended: sess.tl.ended, Truncated: sess.tl.truncated})
}

func (s *Server) getState(w http.ResponseWriter, r *http.Request, sess *Session) {
	if !needSteps(w, sess, "steps") {
		return
	}
	if q := r.URL.Query().Get("step"); q != "" {
		k, err := strconv.ParseUint(q, 10, 64)
		if err != nil {
			fail(w, http.StatusBadRequest, "step %q: want a step number 0..%d", q, sess.tl.steps())
			return
		}
		if !s.seekTo(w, sess, k) {
			return
		}
	}
	writeJSON(w, http.StatusOK, sess.state())
}

// seekTo moves the session to step k, writing the error reply if it fails.
func (s *Server) seekTo(w http.ResponseWriter, sess *Session, k uint64) bool {
	if k > sess.tl.steps() {
		fail(w, http.StatusBadRequest, "step %d: out of range: the run has steps 0..%d", k, sess.tl.steps())
		return false
	}
	if sess.Kind != "run" {
		sess.cur = k
		return true
	}
	if err := sess.seek(k); err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, experiment.ErrNotDeterministic) {
			code = http.StatusConflict
		}
		fail(w, code, "%v", err)
		return false
	}
	return true
}

// GotoRequest moves the cursor. To is one of: "next", "prev", "start",
// "end", "step" (Step), "time" (Time, a duration like 120ms), "record"
// (Record, a trace record number), "violation" (the next step at which a
// violation is found), "view-change" (the next view-change or new-view
// event), "event" (the next record of node event Event, or "crash" or
// "recover", at Node if given).
type GotoRequest struct {
	To     string `json:"to"`
	Step   uint64 `json:"step,omitempty"`
	Time   string `json:"time,omitempty"`
	Record uint64 `json:"record,omitempty"`
	Event  string `json:"event,omitempty"`
	Node   *int   `json:"node,omitempty"`
}

func (s *Server) postGoto(w http.ResponseWriter, r *http.Request, sess *Session) {
	if !needSteps(w, sess, "steps") {
		return
	}
	var req GotoRequest
	if !decode(w, r, &req) {
		return
	}
	tl := sess.tl
	k := sess.cur
	switch req.To {
	case "next":
		if k < tl.steps() {
			k++
		}
	case "prev":
		if k > 0 {
			k--
		}
	case "start":
		k = 0
	case "end":
		k = tl.steps()
	case "step":
		k = req.Step
	case "time":
		d, err := time.ParseDuration(req.Time)
		if err != nil || d < 0 {
			fail(w, http.StatusBadRequest, "time %q: want a non-negative duration like 120ms or 1.5s", req.Time)
			return
		}
		k = tl.stepAtTime(int64(d))
	case "record":
		if req.Record >= uint64(len(tl.recs)) {
			fail(w, http.StatusBadRequest, "record #%d: out of range: the run has records #0..#%d", req.Record, len(tl.recs)-1)
			return
		}
		k = tl.stepOfRecord(req.Record)
	case "violation":
		next, ok := tl.nextViolation(k)
		if !ok {
			fail(w, http.StatusNotFound, "no violation after step %d (the run has %d violations in all)", k, len(tl.viol))
			return
		}
		k = next
	case "view-change":
		next, ok := tl.nextEvent(k, "view-change", "new-view")
		if !ok {
			fail(w, http.StatusNotFound, "no view change after step %d", k)
			return
		}
		k = next
	case "event":
		names := append(pbft.EventNames(), "crash", "recover")
		if !slices.Contains(names, req.Event) {
			fail(w, http.StatusBadRequest, "event %q: want one of %s", req.Event, strings.Join(names, ", "))
			return
		}
		next, ok := tl.nextRecord(k, func(r *Rec) bool {
			return (r.Event == req.Event || r.Kind == req.Event) && (req.Node == nil || r.From == *req.Node)
		})
		if !ok {
			fail(w, http.StatusNotFound, "no %s event after step %d", req.Event, k)
			return
		}
		k = next
	default:
		fail(w, http.StatusBadRequest, "to %q: want next, prev, start, end, step, time, record, violation, view-change or event", req.To)
		return
	}
	if !s.seekTo(w, sess, k) {
		return
	}
	writeJSON(w, http.StatusOK, sess.state())
}

// needSteps writes the error reply when sess has no timeline (a sweep);
// it reports whether it has one.
func needSteps(w http.ResponseWriter, sess *Session, what string) bool {
	if sess.tl == nil {
		fail(w, http.StatusBadRequest, "session %s is a %s: it has no %s", sess.ID, sess.Kind, what)
		return false
	}
	return true
}
