package serve

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/pbftsim/pbftsim/experiment"
	"github.com/pbftsim/pbftsim/properties"
	"github.com/pbftsim/pbftsim/scenarios"
)

// maxJobs caps the check/hunt jobs running at once (each is CPU-bound).
const maxJobs = 2

// maxFinishedJobs is how many finished jobs the server remembers.
const maxFinishedJobs = 16

// JobRequest starts a search: Kind "check" (the correct protocol over
// generated scenarios, Runs cases) or "hunt" (a broken Variant); both stop
// at Budget (a duration, default 30s) or their first violation.
type JobRequest struct {
	Kind    string `json:"kind"`
	Variant string `json:"variant,omitempty"`
	Runs    int    `json:"runs,omitempty"`
	Budget  string `json:"budget,omitempty"`
	Seed    uint64 `json:"seed,omitempty"`
}

// Job is a running or finished search.
type Job struct {
	ID     string
	req    JobRequest
	budget time.Duration
	cancel context.CancelFunc
	start  time.Time

	mu      sync.Mutex
	done    bool
	cases   int
	err     string
	result  string
	replay  *scenarios.Replay
	path    string
	elapsed time.Duration
}

// JobStatus is what GET /api/jobs/ID returns.
type JobStatus struct {
	ID       string  `json:"id"`
	Kind     string  `json:"kind"`
	Done     bool    `json:"done"`
	Cases    int     `json:"cases"`
	Progress float64 `json:"progress"` // 0..1 of the budget or the runs
	Elapsed  string  `json:"elapsed"`
	Result   string  `json:"result,omitempty"`
	Error    string  `json:"error,omitempty"`
	Found    bool    `json:"found"`
	Replay   string  `json:"replay,omitempty"` // file name in the output folder
}

func (j *Job) status() JobStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	el := j.elapsed
	if !j.done {
		el = time.Since(j.start)
	}
	st := JobStatus{ID: j.ID, Kind: j.req.Kind, Done: j.done, Cases: j.cases, Elapsed: el.Round(time.Millisecond).String(),
		Result: j.result, Error: j.err, Found: j.replay != nil}
	if j.replay != nil {
		st.Replay = filepath.Base(j.path)
	}
	switch {
	case j.done:
		st.Progress = 1
	case j.req.Kind == "check" && j.req.Runs > 0:
		st.Progress = min(1, float64(j.cases)/float64(j.req.Runs))
	case j.budget > 0:
		st.Progress = min(1, float64(el)/float64(j.budget))
	}
	return st
}

// found returns the counterexample's replay and its file.
func (j *Job) found() (*scenarios.Replay, string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.replay, j.path
}

func (s *Server) job(id string) *Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jobs[id]
}

func (s *Server) createJob(w http.ResponseWriter, r *http.Request) {
	var req JobRequest
	if !decode(w, r, &req) {
		return
	}
	budget := 30 * time.Second
	if req.Budget != "" {
		d, err := time.ParseDuration(req.Budget)
		if err != nil || d <= 0 || d > time.Hour {
			fail(w, http.StatusBadRequest, "budget %q: want a duration in (0, 1h], e.g. 20s", req.Budget)
			return
		}
		budget = d
	}
	switch req.Kind {
	case "check":
		if req.Runs < 0 || req.Runs > 1000000 {
			fail(w, http.StatusBadRequest, "runs %d: want 0 (budget only) .. 1000000", req.Runs)
			return
		}
	case "hunt":
		if req.Variant == "" {
			fail(w, http.StatusBadRequest, "hunt: want variant, a broken protocol variant")
			return
		}
	default:
		fail(w, http.StatusBadRequest, "kind %q: want check or hunt", req.Kind)
		return
	}
	s.mu.Lock()
	running := 0
	for _, j := range s.jobs {
		if !j.status().Done {
			running++
		}
	}
	if running >= maxJobs {
		s.mu.Unlock()
		fail(w, http.StatusTooManyRequests, "%d searches are running, the most at once: wait or cancel one", running)
		return
	}
	// Forget finished jobs beyond the most recent few (their replay files
	// stay in the output folder).
	var finished []*Job
	for _, j := range s.jobs {
		if j.status().Done {
			finished = append(finished, j)
		}
	}
	sort.Slice(finished, func(a, b int) bool { return finished[a].start.Before(finished[b].start) })
	for len(finished) > maxFinishedJobs {
		delete(s.jobs, finished[0].ID)
		finished = finished[1:]
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget+time.Minute)
	j := &Job{ID: newID(), req: req, budget: budget, cancel: cancel, start: time.Now()}
	s.jobs[j.ID] = j
	s.mu.Unlock()
	go s.runJob(ctx, j)
	writeJSON(w, http.StatusCreated, j.status())
}

// runJob runs the search and writes its counterexample into the output
// folder.
func (s *Server) runJob(ctx context.Context, j *Job) {
	defer j.cancel()
	var (
		o      *properties.Outcome
		result string
		err    error
	)
	switch j.req.Kind {
	case "check":
		var rep *properties.SearchReport
		rep, err = properties.Search(ctx, properties.SearchOptions{Runs: j.req.Runs, Budget: j.budget, Seed: j.req.Seed,
			Gen: properties.SearchConfig(), Workers: 1,
			Progress: func(done int, _ time.Duration) { j.mu.Lock(); j.cases = done; j.mu.Unlock() }})
		if err == nil {
			result = fmt.Sprintf("%d cases: %s", rep.Cases, rep.JudgedSummary())
			if rep.Failure != nil {
				o = rep.Failure.Outcome
				result = fmt.Sprintf("%d cases: %s violated", rep.Cases, rep.Failure.Property)
			}
		}
	case "hunt":
		var f *properties.Finding
		f, err = properties.HuntWith(ctx, properties.HuntSpec{Variant: j.req.Variant, Budget: j.budget, Seed: j.req.Seed})
		if err == nil {
			j.mu.Lock()
			j.cases = f.Cases
			j.mu.Unlock()
			result = fmt.Sprintf("%d cases: no violation found within the budget", f.Cases)
			if f.Found {
				o = f.Outcome
				result = fmt.Sprintf("%d cases: %s violated", f.Cases, f.Property)
			}
		}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.done, j.elapsed, j.result = true, time.Since(j.start), result
	if err != nil {
		j.err = err.Error()
		return
	}
	if o != nil {
		path := filepath.Join(s.opt.Out, fmt.Sprintf("%s-%s-%s.replay.yaml", j.req.Kind, o.Property(), j.ID[:6]))
		if werr := experiment.WriteReplay(o, path, s.opt.Version); werr != nil {
			j.err = werr.Error()
			return
		}
		rp := o.Replay()
		rp.Version = s.opt.Version
		j.replay, j.path = rp, path
	}
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	j := s.job(r.PathValue("id"))
	if j == nil {
		fail(w, http.StatusNotFound, "job %q: no such job", r.PathValue("id"))
		return
	}
	writeJSON(w, http.StatusOK, j.status())
}

func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) {
	j := s.job(r.PathValue("id"))
	if j == nil {
		fail(w, http.StatusNotFound, "job %q: no such job", r.PathValue("id"))
		return
	}
	j.cancel()
	w.WriteHeader(http.StatusNoContent)
}
