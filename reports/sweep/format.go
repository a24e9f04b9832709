// Package sweep runs one scenario over a range of seeds in parallel and
// writes one JSON Lines record per seed, in seed order, so that a sweep's
// output does not depend on the number of workers, on sharding or on the
// machine.
//
// # File format
//
// A sweep file (format "pbftsim-sweep/1") is JSON Lines:
//
//	{"kind":"header","format":"pbftsim-sweep/1","version":...,"scenario":...,"scenario_sha256":...,"seeds":{"from":A,"to":B},"shard":{"index":I,"count":N},"slicing":"mod"}
//	{"seed":A,"trace_hash":...,"verdict":"ok",...}     one Record per seed, in increasing seed order
//	...
//	{"kind":"trailer","records":R,"verdicts":{"ok":R}}
//
// The trailer is written only when every seed of the file ran: a file with
// no trailer is incomplete (interrupted or still running) and Merge rejects
// it. Records carry no "kind" key.
//
// # Shards
//
// Shard I/N (0 <= I < N) holds exactly the seeds s of the range with
// (s - from) mod N == I, round-robin, so that shards get similar work. An
// unsharded sweep is shard 0/1; Merge of the N shard files writes the
// header of shard 0/1, the records interleaved back in seed order and the
// trailer recomputed from them, which is byte for byte the file an
// unsharded sweep writes.
package sweep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Format names the file format version in the header.
const Format = "pbftsim-sweep/1"

// Slicing names the way shards split the seed range (see the package doc).
const Slicing = "mod"

// Range is an inclusive range of seeds.
type Range struct {
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
}

// ParseRange parses a --seeds value: "A..B" (inclusive, A <= B) or a
// single number "N", which means the N seeds 1..N (so "--seeds 100" runs
// 100 seeds, as in every pbftsim command).
func ParseRange(s string) (Range, error) {
	want := fmt.Sprintf("want A..B with A <= B seeds in [0, %d] (e.g. 1..1000), or N >= 1 for the seeds 1..N", uint64(math.MaxUint64))
	a, b, ok := strings.Cut(s, "..")
	if !ok {
		n, err := strconv.ParseUint(strings.TrimSpace(a), 10, 64)
		if err != nil || n == 0 {
			return Range{}, fmt.Errorf("--seeds %q: %s", s, want)
		}
		return Range{From: 1, To: n}, nil
	}
	from, err1 := strconv.ParseUint(strings.TrimSpace(a), 10, 64)
	to, err2 := strconv.ParseUint(strings.TrimSpace(b), 10, 64)
	if err1 != nil || err2 != nil {
		return Range{}, fmt.Errorf("--seeds %q: %s", s, want)
	}
	if from > to {
		return Range{}, fmt.Errorf("--seeds %q: the first seed %d is larger than the last %d: want A <= B", s, from, to)
	}
	return Range{From: from, To: to}, nil
}

// String formats r as "A..B".
func (r Range) String() string { return fmt.Sprintf("%d..%d", r.From, r.To) }

// Shard is the Index-th of Count slices of a seed range. The zero value
// means the whole range (shard 0/1).
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// Whole is the unsharded shard 0/1.
var Whole = Shard{Index: 0, Count: 1}

// ParseShard parses "I/N" with 0 <= I < N.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("--shard %q: want I/N, the I-th of N shards with 0 <= I < N, e.g. 0/8", s)
	}
	sh := Shard{Index: i, Count: n}
	if err := sh.Validate(); err != nil {
		return Shard{}, fmt.Errorf("--shard %q: %w", s, err)
	}
	return sh, nil
}

// Validate reports a shard out of range.
func (s Shard) Validate() error {
	if s.Count < 1 || s.Count > 1<<30 {
		return fmt.Errorf("shard count %d is out of range: want N in [1, %d]", s.Count, 1<<30)
	}
	if s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("shard index %d is out of range: want I in [0, %d]", s.Index, s.Count-1)
	}
	return nil
}

func (s Shard) norm() Shard {
	if s.Count == 0 {
		return Whole
	}
	return s
}

// String formats s as "I/N".
func (s Shard) String() string { s = s.norm(); return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Len returns the number of seeds of r in shard s.
func (s Shard) Len(r Range) uint64 {
	s = s.norm()
	span := r.To - r.From // number of seeds minus one
	if uint64(s.Index) > span {
		return 0
	}
	return (span-uint64(s.Index))/uint64(s.Count) + 1
}

// Seed returns the k-th seed (k < s.Len(r)) of shard s of r.
func (s Shard) Seed(r Range, k uint64) uint64 {
	s = s.norm()
	return r.From + uint64(s.Index) + k*uint64(s.Count)
}

// Header is a sweep file's first line.
type Header struct {
	Kind     string `json:"kind"` // "header"
	Format   string `json:"format"`
	Version  string `json:"version"`
	Scenario string `json:"scenario"` // as named on the command line
	// ScenarioSHA256 is the SHA-256 of the scenario's YAML form with its
	// seed cleared: parts of one sweep must agree on it.
	ScenarioSHA256 string `json:"scenario_sha256"`
	Seeds          Range  `json:"seeds"`
	Shard          Shard  `json:"shard"`
	Slicing        string `json:"slicing"`
	// Swarm is true when each seed ran its own swarm case
	// (properties.SwarmCase); records then carry the knobs drawn.
	Swarm bool `json:"swarm,omitempty"`
}

// Record is the outcome of one seed.
type Record struct {
	Seed      uint64 `json:"seed"`
	TraceHash string `json:"trace_hash"`
	// Verdict is "ok", the first violated property (see properties),
	// "budget-exceeded", or "error" / "panic" when the run could not finish.
	Verdict      string `json:"verdict"`
	Detail       string `json:"detail,omitempty"` // the violation or error
	Completed    bool   `json:"completed"`        // every request accepted
	Committed    int    `json:"committed"`
	Messages     uint64 `json:"messages"`
	Dropped      uint64 `json:"dropped"`
	LatencyP50Ns int64  `json:"latency_p50_ns"`
	LatencyP99Ns int64  `json:"latency_p99_ns"`
	ViewChanges  int    `json:"view_changes"`
	FinalView    uint64 `json:"final_view"`
	Events       uint64 `json:"events"`
	SimTimeNs    int64  `json:"sim_time_ns"`
	// Knobs are the swarm knobs of the seed's case (swarm sweeps only).
	Knobs map[string]string `json:"knobs,omitempty"`
	// Probes counts the coverage probes the replicas reported (pbft.Probe),
	// by probe (absent when none was hit).
	Probes map[string]uint64 `json:"probes,omitempty"`
	// OutsideFaultModel is set on a violation in a run outside the fault
	// model (more than f faulty replicas, ...), where it is expected: like
	// pbftsim run, a sweep exits 1 only for violations within it.
	OutsideFaultModel bool `json:"outside_fault_model,omitempty"`
	// NotJudged names the properties the run could not judge (see
	// properties.Judgement), e.g. liveness outside the fault model or when
	// the run ended before the bound.
	NotJudged []string `json:"not_judged,omitempty"`
}

// Failed reports whether the seed's verdict is not "ok".
func (r *Record) Failed() bool { return r.Verdict != VerdictOK }

// Unexpected reports whether the seed failed in a way that makes a sweep
// exit 1: a violation within the fault model, an error or a panic.
func (r *Record) Unexpected() bool { return r.Failed() && !r.OutsideFaultModel }

// Verdicts of a Record besides property names.
const (
	VerdictOK     = "ok"
	VerdictError  = "error"
	VerdictPanic  = "panic"
	VerdictBudget = "budget-exceeded" // the run exceeded its event or memory budget
)

// Trailer is a complete sweep file's last line.
type Trailer struct {
	Kind     string            `json:"kind"` // "trailer"
	Records  uint64            `json:"records"`
	Verdicts map[string]uint64 `json:"verdicts"`
}

// line is any line of a sweep file, for decoding.
type line struct {
	Kind string `json:"kind"`
}

func marshalLine(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only plain structs, strings, numbers and map[string]uint64 are
		// encoded: they cannot fail.
		panic(fmt.Sprintf("sweep: encoding %T: %v", v, err))
	}
	return append(b, '\n')
}

// decodeLine decodes one line into the header, trailer or record it holds.
func decodeLine(b []byte) (kind string, h *Header, r *Record, t *Trailer, err error) {
	var l line
	if err := json.Unmarshal(b, &l); err != nil {
		return "", nil, nil, nil, err
	}
	dec := func(v any) error {
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		return d.Decode(v)
	}
	switch l.Kind {
	case "header":
		h = new(Header)
		err = dec(h)
	case "trailer":
		t = new(Trailer)
		err = dec(t)
	case "":
		r = new(Record)
		err = dec(r)
	default:
		err = fmt.Errorf("unknown line kind %q", l.Kind)
	}
	return l.Kind, h, r, t, err
}
